// The `mlp` network: layer and loss names, parameter layout, Glorot initialisation, and the batch
// forward/backward passes (one Eigen matrix product per layer and direction, the first layer's
// through the SIMD kernels of input_layer.h for float).
#include "network.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <type_traits>

#include "cltv/error.h"
#include "cltv/generate/random.h"
#include "input_layer.h"

namespace cltv::models::mlp {
namespace {

constexpr Eigen::Index kMaxUnits = 4096;
constexpr const char* kHiddenHint =
    "expected comma-separated UNITS:ACTIVATION layers, e.g. 4:relu,8:relu,8:tanh,8:tanh "
    "(activations: relu, tanh, sigmoid, linear)";

template <typename Block>
void activate(Block&& values, Activation activation) {
  switch (activation) {
    case Activation::relu:
      values = values.cwiseMax(0);
      break;
    case Activation::tanh:
      values = values.array().tanh();
      break;
    case Activation::sigmoid:
      values = values.array().logistic();
      break;
    case Activation::linear:
      break;
  }
}

// DELTA *= f'(z), written through the activation A = f(z).
template <typename Delta, typename Activations>
void multiply_by_derivative(Delta&& delta, const Activations& a, Activation activation) {
  using S = typename std::decay_t<Delta>::Scalar;
  switch (activation) {
    case Activation::relu:
      delta = (a.array() > S(0)).select(delta, S(0));
      break;
    case Activation::tanh:
      delta.array() *= S(1) - a.array().square();
      break;
    case Activation::sigmoid:
      delta.array() *= a.array() * (S(1) - a.array());
      break;
    case Activation::linear:
      break;
  }
}

}  // namespace

std::string_view activation_name(Activation activation) {
  switch (activation) {
    case Activation::relu:
      return "relu";
    case Activation::tanh:
      return "tanh";
    case Activation::sigmoid:
      return "sigmoid";
    case Activation::linear:
      return "linear";
  }
  return "linear";
}

Activation parse_activation(std::string_view name, std::string_view where) {
  for (const Activation a : {Activation::relu, Activation::tanh, Activation::sigmoid, Activation::linear}) {
    if (activation_name(a) == name) return a;
  }
  throw_config(fmt::format("{}: '{}' is not an activation", where, name), "expected relu, tanh, sigmoid or linear");
}

std::string_view loss_name(Loss loss) {
  switch (loss) {
    case Loss::mae:
      return "mae";
    case Loss::mse:
      return "mse";
    case Loss::huber:
      return "huber";
  }
  return "mae";
}

Loss parse_loss(std::string_view name, std::string_view where) {
  for (const Loss l : {Loss::mae, Loss::mse, Loss::huber}) {
    if (loss_name(l) == name) return l;
  }
  throw_config(fmt::format("{}: '{}' is not a loss", where, name), "expected mae, mse or huber");
}

std::vector<LayerSpec> parse_hidden(std::string_view text) {
  if (text.empty()) throw_config("--hidden is empty", kHiddenHint);
  std::vector<LayerSpec> layers;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = std::min(text.find(',', start), text.size());
    const std::string_view token = text.substr(start, comma - start);
    const size_t colon = token.find(':');
    if (colon == std::string_view::npos) {
      throw_config(fmt::format("--hidden: layer '{}' is not UNITS:ACTIVATION", token), kHiddenHint);
    }
    const std::string_view units_text = token.substr(0, colon);
    LayerSpec layer;
    const auto [ptr, ec] = std::from_chars(units_text.data(), units_text.data() + units_text.size(), layer.units);
    if (units_text.empty() || ec != std::errc() || ptr != units_text.data() + units_text.size() || layer.units < 1 ||
        layer.units > kMaxUnits) {
      throw_config(fmt::format("--hidden: layer '{}' has an invalid unit count '{}'", token, units_text),
                   fmt::format("units are whole numbers from 1 to {}; {}", kMaxUnits, kHiddenHint));
    }
    layer.activation = parse_activation(token.substr(colon + 1), fmt::format("--hidden layer '{}'", token));
    layers.push_back(layer);
    start = comma + 1;
  }
  return layers;
}

std::string format_hidden(const std::vector<LayerSpec>& hidden) {
  std::string text;
  for (const LayerSpec& layer : hidden) {
    if (!text.empty()) text += ',';
    text += fmt::format("{}:{}", layer.units, activation_name(layer.activation));
  }
  return text;
}

Layout::Layout(Eigen::Index inputs, const std::vector<LayerSpec>& hidden) : inputs_(inputs), layers_(hidden) {
  layers_.push_back({1, Activation::linear});
  for (size_t layer = 0; layer < layers_.size(); ++layer) {
    offsets_.push_back(offsets_.back() + (layer_inputs(layer) + 1) * layers_[layer].units);
  }
}

template <typename S>
double LossFunction<S>::sum(const Eigen::Ref<const Eigen::Array<S, Eigen::Dynamic, 1>>& output,
                            const Eigen::Ref<const Eigen::Array<S, Eigen::Dynamic, 1>>& target) const {
  const auto diff = output - target;
  switch (loss) {
    case Loss::mae:
      return static_cast<double>(diff.abs().sum());
    case Loss::mse:
      return static_cast<double>(diff.square().sum());
    case Loss::huber: {
      const S delta = huber_delta;
      return static_cast<double>(
          (diff.abs() <= delta).select(S(0.5) * diff.square(), delta * (diff.abs() - S(0.5) * delta)).sum());
    }
  }
  return 0;
}

template <typename S>
void LossFunction<S>::gradient(const Eigen::Ref<const Eigen::Array<S, Eigen::Dynamic, 1>>& output,
                               const Eigen::Ref<const Eigen::Array<S, Eigen::Dynamic, 1>>& target,
                               Eigen::Ref<Eigen::Array<S, Eigen::Dynamic, 1>> gradient) const {
  const S inverse_rows = S(1) / static_cast<S>(output.size());
  const auto diff = output - target;
  switch (loss) {
    case Loss::mae:
      gradient = diff.sign() * inverse_rows;
      break;
    case Loss::mse:
      gradient = diff * (S(2) * inverse_rows);
      break;
    case Loss::huber:
      gradient = diff.min(huber_delta).max(-huber_delta) * inverse_rows;
      break;
  }
}

template <typename S>
Network<S>::Network(const Layout& layout, Eigen::Index max_batch)
    : layout_(layout), max_batch_(max_batch), input_units_(padded(layout.layers()[0].units, kInputUnitBlock)) {
  for (size_t layer = 0; layer < layout_.layers().size(); ++layer) {
    const Eigen::Index units = layer == 0 ? input_units_ : layout_.layers()[layer].units;
    activations_.emplace_back(static_cast<size_t>(max_batch * units));
    deltas_.emplace_back(static_cast<size_t>(max_batch * units));
  }
  if constexpr (std::is_same_v<S, float>) {
    const auto weights = static_cast<size_t>(input_units_ * padded(layout_.inputs(), kInputColumnBlock));
    input_weights_.assign(weights, 0);
    input_gradient_.assign(weights, 0);
    input_bias_.assign(static_cast<size_t>(input_units_), 0);
  } else {
    gathered_.resize(static_cast<size_t>(max_batch * layout_.inputs()));
  }
}

template <typename S>
typename Network<S>::Vector Network<S>::initial_parameters(const Layout& layout, uint64_t seed) {
  generate::Rng rng(seed);
  Vector params = Vector::Zero(layout.parameter_count());
  for (size_t layer = 0; layer < layout.layers().size(); ++layer) {
    const Eigen::Index fan_in = layout.layer_inputs(layer);
    const Eigen::Index fan_out = layout.layers()[layer].units;
    const double limit = std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
    S* kernel = params.data() + layout.kernel_offset(layer);
    for (Eigen::Index i = 0; i < fan_in * fan_out; ++i) kernel[i] = static_cast<S>((2 * rng.uniform() - 1) * limit);
  }
  return params;
}

template <typename S>
void Network<S>::input_forward(const S* input, Eigen::Index input_stride, const Eigen::Index* index, Eigen::Index rows,
                               const Vector& params) {
  const Eigen::Index in = layout_.inputs();
  const Eigen::Index units = layout_.layers()[0].units;
  const S* kernel = params.data() + layout_.kernel_offset(0);
  if constexpr (std::is_same_v<S, float>) {
    if (input_stride != padded(in, kInputColumnBlock)) throw_internal("mlp: float input rows are not padded");
    // Column j of the column-major kernel is row j of the transposed one; padding stays zero.
    for (Eigen::Index j = 0; j < units; ++j) {
      std::copy_n(kernel + j * in, in, input_weights_.data() + j * input_stride);
    }
    std::copy_n(params.data() + layout_.bias_offset(0), units, input_bias_.data());
    input_layer_kernels().forward(input, index, rows, input_stride, input_weights_.data(), input_bias_.data(),
                                  input_units_, activations_[0].data());
  } else {
    for (Eigen::Index r = 0; r < rows; ++r) {
      std::copy_n(input + (index != nullptr ? index[r] : r) * input_stride, in, gathered_.data() + r * in);
    }
    auto a = activations(0, rows);
    a.noalias() = Eigen::Map<const RowMatrix>(gathered_.data(), rows, in) * Eigen::Map<const Matrix>(kernel, in, units);
    a.rowwise() += Eigen::Map<const Eigen::Matrix<S, 1, Eigen::Dynamic>>(params.data() + layout_.bias_offset(0), units);
  }
}

template <typename S>
void Network<S>::input_kernel_gradient(const S* input, Eigen::Index input_stride, const Eigen::Index* index,
                                       Eigen::Index rows, Vector& gradient) {
  const Eigen::Index in = layout_.inputs();
  const Eigen::Index units = layout_.layers()[0].units;
  S* kernel_gradient = gradient.data() + layout_.kernel_offset(0);
  if constexpr (std::is_same_v<S, float>) {
    // The padding units' deltas must be zero: this batch's rows may differ from the last one's.
    std::fill(deltas_[0].data() + units * rows, deltas_[0].data() + input_units_ * rows, S(0));
    input_layer_kernels().kernel_gradient(input, index, rows, input_stride, deltas_[0].data(), input_units_,
                                          input_gradient_.data());
    for (Eigen::Index j = 0; j < units; ++j) {
      std::copy_n(input_gradient_.data() + j * input_stride, in, kernel_gradient + j * in);
    }
  } else {
    // gathered_ still holds this batch's rows from the forward pass.
    Eigen::Map<Matrix>(kernel_gradient, in, units).noalias() =
        Eigen::Map<const RowMatrix>(gathered_.data(), rows, in).transpose() * deltas(0, rows);
  }
}

template <typename S>
Eigen::Map<const typename Network<S>::Column> Network<S>::forward(const S* input, Eigen::Index input_stride,
                                                                  const Eigen::Index* index, Eigen::Index rows,
                                                                  const Vector& params) {
  const auto& layers = layout_.layers();
  for (size_t layer = 0; layer < layers.size(); ++layer) {
    auto a = activations(layer, rows);
    if (layer == 0) {
      input_forward(input, input_stride, index, rows, params);
    } else {
      const Eigen::Index in = layout_.layer_inputs(layer);
      const Eigen::Index out = layers[layer].units;
      const Eigen::Map<const Matrix> kernel(params.data() + layout_.kernel_offset(layer), in, out);
      a.noalias() = Eigen::Map<const Matrix>(activations_[layer - 1].data(), rows, in) * kernel;
      a.rowwise() +=
          Eigen::Map<const Eigen::Matrix<S, 1, Eigen::Dynamic>>(params.data() + layout_.bias_offset(layer), out);
    }
    activate(a, layers[layer].activation);
  }
  return {activations_.back().data(), rows};
}

template <typename S>
double Network<S>::loss_and_gradient(const S* input, Eigen::Index input_stride, const Eigen::Index* index,
                                     const S* target, Eigen::Index rows, const Vector& params,
                                     const LossFunction<S>& loss, Vector& gradient) {
  const auto output = forward(input, input_stride, index, rows, params);
  const Eigen::Map<const Column> target_column(target, rows);
  const double loss_sum = loss.sum(output, target_column);
  gradient.resize(layout_.parameter_count());

  const auto& layers = layout_.layers();
  const size_t last = layers.size() - 1;
  loss.gradient(output, target_column, Eigen::Map<Column>(deltas_[last].data(), rows));
  for (size_t layer = last + 1; layer-- > 0;) {
    const Eigen::Index in = layout_.layer_inputs(layer);
    const Eigen::Index out = layers[layer].units;
    const auto delta = deltas(layer, rows);
    if (layer == 0) {
      input_kernel_gradient(input, input_stride, index, rows, gradient);
    } else {
      Eigen::Map<Matrix>(gradient.data() + layout_.kernel_offset(layer), in, out).noalias() =
          Eigen::Map<const Matrix>(activations_[layer - 1].data(), rows, in).transpose() * delta;
    }
    Eigen::Map<Eigen::Matrix<S, 1, Eigen::Dynamic>>(gradient.data() + layout_.bias_offset(layer), out).noalias() =
        delta.colwise().sum();
    if (layer > 0) {
      const Eigen::Map<const Matrix> kernel(params.data() + layout_.kernel_offset(layer), in, out);
      auto previous = deltas(layer - 1, rows);
      previous.noalias() = delta * kernel.transpose();
      multiply_by_derivative(previous, activations(layer - 1, rows), layers[layer - 1].activation);
    }
  }
  return loss_sum / static_cast<double>(rows);
}

template class Network<float>;
template class Network<double>;
template struct LossFunction<float>;
template struct LossFunction<double>;

}  // namespace cltv::models::mlp
