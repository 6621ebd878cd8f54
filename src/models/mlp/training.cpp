// The `mlp` training loop. Every buffer (batch targets, gradient, Adam moments, best weights) is
// allocated before the first epoch; an epoch is a shuffle of the row index, then per batch one
// forward/backward pass that reads the rows in place through the index, and one vectorised Adam
// step over the flat parameter vector.
#include "training.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "cltv/error.h"
#include "cltv/generate/random.h"
#include "cltv/progress.h"

namespace cltv::models::mlp {
namespace {

// Keras's Adam defaults (epsilon as in tf.keras, not the paper's 1e-8).
constexpr double kBeta1 = 0.9;
constexpr double kBeta2 = 0.999;
constexpr float kEpsilon = 1e-7F;

constexpr uint64_t kInitStream = 0;
constexpr uint64_t kShuffleStream = 1;

class Adam {
 public:
  Adam(Eigen::Index size, double learning_rate)
      : learning_rate_(learning_rate), m_(Eigen::VectorXf::Zero(size)), v_(Eigen::VectorXf::Zero(size)) {}

  // tf.keras: m += (g - m)(1 - b1); v += (g^2 - v)(1 - b2); p -= alpha m / (sqrt(v) + eps),
  // alpha = lr sqrt(1 - b2^t) / (1 - b1^t).
  void step(Eigen::VectorXf& params, const Eigen::VectorXf& gradient) {
    beta1_power_ *= kBeta1;
    beta2_power_ *= kBeta2;
    const auto alpha = static_cast<float>(learning_rate_ * std::sqrt(1 - beta2_power_) / (1 - beta1_power_));
    m_.array() += (gradient.array() - m_.array()) * static_cast<float>(1 - kBeta1);
    v_.array() += (gradient.array().square() - v_.array()) * static_cast<float>(1 - kBeta2);
    params.array() -= (m_.array() * alpha) / (v_.array().sqrt() + kEpsilon);
  }

 private:
  double learning_rate_;
  double beta1_power_ = 1;
  double beta2_power_ = 1;
  Eigen::VectorXf m_, v_;
};

void fisher_yates(std::vector<Eigen::Index>& order, generate::Rng& rng) {
  for (size_t i = order.size(); i > 1; --i) {
    std::swap(order[i - 1], order[rng.below(i)]);
  }
}

[[noreturn]] void diverged(int epoch, std::string_view set, double loss) {
  throw_model(fmt::format("mlp: training diverged at epoch {}: the {} loss is {}", epoch, set, loss),
              "lower --learning-rate, or use --loss mae or huber, which are less sensitive to outliers");
}

}  // namespace

double mean_loss(Network<float>& network, const Eigen::VectorXf& params, const LossFunction<float>& loss,
                 const ScaledRows& data) {
  double sum = 0;
  for (Eigen::Index start = 0; start < data.rows; start += network.max_batch()) {
    const Eigen::Index rows = std::min(network.max_batch(), data.rows - start);
    const auto output = network.forward(data.features + start * data.stride, data.stride, nullptr, rows, params);
    sum += loss.sum(output, Eigen::Map<const Eigen::ArrayXf>(data.target + start, rows));
  }
  return sum / static_cast<double>(data.rows);
}

TrainedNetwork train_network(const Layout& layout, const TrainSettings& settings, const ScaledRows& train,
                             const ScaledRows& valid, uint64_t seed) {
  const Eigen::Index batch = std::min<Eigen::Index>(settings.batch_size, train.rows);
  const bool early_stopping = settings.patience > 0 && valid.rows > 0;

  Network<float> network(layout, batch);
  TrainedNetwork result;
  result.params = Network<float>::initial_parameters(layout, generate::stream_seed(seed, 0, kInitStream));
  Eigen::VectorXf gradient = Eigen::VectorXf::Zero(layout.parameter_count());
  Eigen::VectorXf best_params = result.params;
  Adam adam(layout.parameter_count(), settings.learning_rate);
  generate::Rng shuffle_rng(generate::stream_seed(seed, 0, kShuffleStream));
  std::vector<Eigen::Index> order(static_cast<size_t>(train.rows));
  std::iota(order.begin(), order.end(), Eigen::Index{0});
  std::vector<float> batch_target(static_cast<size_t>(batch));
  result.curve.reserve(static_cast<size_t>(settings.epochs));

  double best_valid = std::numeric_limits<double>::infinity();
  int64_t epochs_without_improvement = 0;
  result.best_epoch = static_cast<int>(settings.epochs);
  for (int epoch = 1; epoch <= settings.epochs; ++epoch) {
    fisher_yates(order, shuffle_rng);
    double loss_sum = 0;
    for (Eigen::Index start = 0; start < train.rows; start += batch) {
      const Eigen::Index rows = std::min(batch, train.rows - start);
      const Eigen::Index* index = order.data() + start;
      for (Eigen::Index r = 0; r < rows; ++r) batch_target[static_cast<size_t>(r)] = train.target[index[r]];
      loss_sum += static_cast<double>(rows) * network.loss_and_gradient(train.features, train.stride, index,
                                                                        batch_target.data(), rows, result.params,
                                                                        settings.loss, gradient);
      adam.step(result.params, gradient);
    }
    CurvePoint point{epoch, loss_sum / static_cast<double>(train.rows), std::numeric_limits<double>::quiet_NaN()};
    if (!std::isfinite(point.train_loss)) diverged(epoch, "training", point.train_loss);
    if (valid.rows > 0) {
      point.valid_loss = mean_loss(network, result.params, settings.loss, valid);
      if (!std::isfinite(point.valid_loss)) diverged(epoch, "validation", point.valid_loss);
    }
    result.curve.push_back(point);
    report_progress(settings.progress, "training", epoch, settings.epochs, "epochs");
    if (!early_stopping) continue;
    if (point.valid_loss < best_valid) {
      best_valid = point.valid_loss;
      best_params = result.params;
      result.best_epoch = epoch;
      epochs_without_improvement = 0;
    } else if (++epochs_without_improvement >= settings.patience) {
      break;
    }
  }
  if (early_stopping) result.params = best_params;
  return result;
}

}  // namespace cltv::models::mlp
