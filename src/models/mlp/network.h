// The feed-forward network of the `mlp` model: layer specifications, activations and losses, and
// the batch forward and backward passes over one flat parameter vector (Eigen matrix products on
// batch-major activations, SIMD kernels for the first layer, workspace allocated once).
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cltv::models::mlp {

enum class Activation { relu, tanh, sigmoid, linear };
enum class Loss { mae, mse, huber };

struct LayerSpec {
  Eigen::Index units = 0;
  Activation activation = Activation::linear;
  bool operator==(const LayerSpec&) const = default;
};

std::string_view activation_name(Activation activation);
// Throws config error (naming WHERE) for an unknown name.
Activation parse_activation(std::string_view name, std::string_view where);
std::string_view loss_name(Loss loss);
Loss parse_loss(std::string_view name, std::string_view where);

// "4:relu,8:relu,8:tanh,8:tanh" <-> hidden layers; parse_hidden throws config error naming --hidden.
std::vector<LayerSpec> parse_hidden(std::string_view text);
std::string format_hidden(const std::vector<LayerSpec>& hidden);

// Where each layer's parameters sit in the flat vector: layer by layer, the kernel (inputs x units,
// column-major, Keras's kernel shape) then the bias. The last layer is the 1-unit linear output.
class Layout {
 public:
  Layout() = default;
  Layout(Eigen::Index inputs, const std::vector<LayerSpec>& hidden);

  Eigen::Index inputs() const { return inputs_; }
  const std::vector<LayerSpec>& layers() const { return layers_; }  // hidden layers + output
  Eigen::Index layer_inputs(size_t layer) const { return layer == 0 ? inputs_ : layers_[layer - 1].units; }
  Eigen::Index kernel_offset(size_t layer) const { return offsets_[layer]; }
  Eigen::Index bias_offset(size_t layer) const { return offsets_[layer] + layer_inputs(layer) * layers_[layer].units; }
  Eigen::Index parameter_count() const { return offsets_.back(); }

 private:
  Eigen::Index inputs_ = 0;
  std::vector<LayerSpec> layers_;
  std::vector<Eigen::Index> offsets_{0};
};

// The loss of one batch and its gradient with respect to the outputs: mean over the rows of
// |d| (mae), d^2 (mse) or Huber(d; delta), d = output - target.
template <typename S>
struct LossFunction {
  Loss loss = Loss::mae;
  S huber_delta = 1;
  // Sum over the rows of the per-row loss (not the mean), for averaging over several batches.
  double sum(const Eigen::Ref<const Eigen::Array<S, Eigen::Dynamic, 1>>& output,
             const Eigen::Ref<const Eigen::Array<S, Eigen::Dynamic, 1>>& target) const;
  // GRADIENT = d(mean loss)/d(output), rows of OUTPUT.
  void gradient(const Eigen::Ref<const Eigen::Array<S, Eigen::Dynamic, 1>>& output,
                const Eigen::Ref<const Eigen::Array<S, Eigen::Dynamic, 1>>& target,
                Eigen::Ref<Eigen::Array<S, Eigen::Dynamic, 1>> gradient) const;
};

// Workspace for batches of up to MAX_BATCH rows of one Layout; the parameters are passed in, so one
// parameter vector can be evaluated by several workspaces (training, validation, prediction).
template <typename S>
class Network {
 public:
  using Matrix = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>;
  using RowMatrix = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using Vector = Eigen::Matrix<S, Eigen::Dynamic, 1>;
  using Column = Eigen::Array<S, Eigen::Dynamic, 1>;

  Network(const Layout& layout, Eigen::Index max_batch);

  const Layout& layout() const { return layout_; }
  Eigen::Index max_batch() const { return max_batch_; }

  // Glorot-uniform kernels and zero biases, drawn from a generator seeded with SEED.
  static Vector initial_parameters(const Layout& layout, uint64_t seed);

  // Outputs for ROWS rows of INPUT (row-major, already scaled, rows INPUT_STRIDE values apart):
  // row r is INPUT row INDEX[r], or row r when INDEX is null. For float, INPUT_STRIDE must be
  // padded(inputs, kInputColumnBlock) and the padding zero (the SIMD input-layer kernels). The
  // result lives in the workspace until the next call.
  Eigen::Map<const Column> forward(const S* input, Eigen::Index input_stride, const Eigen::Index* index,
                                   Eigen::Index rows, const Vector& params);

  // Forward, then the batch's mean loss (returned) and GRADIENT (resized to the parameter count).
  // TARGET holds the ROWS targets in batch order.
  double loss_and_gradient(const S* input, Eigen::Index input_stride, const Eigen::Index* index, const S* target,
                           Eigen::Index rows, const Vector& params, const LossFunction<S>& loss, Vector& gradient);

 private:
  Eigen::Map<Matrix> activations(size_t layer, Eigen::Index rows) {
    return {activations_[layer].data(), rows, layout_.layers()[layer].units};
  }
  Eigen::Map<Matrix> deltas(size_t layer, Eigen::Index rows) {
    return {deltas_[layer].data(), rows, layout_.layers()[layer].units};
  }
  // The first layer's pre-activations into activations_[0], and its kernel gradient.
  void input_forward(const S* input, Eigen::Index input_stride, const Eigen::Index* index, Eigen::Index rows,
                     const Vector& params);
  void input_kernel_gradient(const S* input, Eigen::Index input_stride, const Eigen::Index* index, Eigen::Index rows,
                             Vector& gradient);

  Layout layout_;
  Eigen::Index max_batch_;
  Eigen::Index input_units_;                 // the first layer's units padded to kInputUnitBlock
  std::vector<std::vector<S>> activations_;  // per layer, max_batch x units, column-major
  std::vector<std::vector<S>> deltas_;       // d(loss)/d(pre-activation), same shapes
  // float: the first layer's kernel transposed and padded, its bias, and its kernel gradient;
  // double: the batch's input rows gathered for Eigen.
  std::vector<S> input_weights_, input_bias_, input_gradient_, gathered_;
};

extern template class Network<float>;
extern template class Network<double>;
extern template struct LossFunction<float>;
extern template struct LossFunction<double>;

}  // namespace cltv::models::mlp
