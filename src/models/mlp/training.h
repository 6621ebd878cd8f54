// The `mlp` training loop: shuffled mini-batches, Adam (Keras's update and defaults), a learning
// curve per epoch, early stopping on the validation loss that keeps the best epoch's weights, and
// divergence detection.
#pragma once

#include <cstdint>
#include <vector>

#include "cltv/models/model.h"
#include "network.h"

namespace cltv::models::mlp {

struct TrainSettings {
  int64_t epochs = 800;
  int64_t batch_size = 512;
  LossFunction<float> loss;
  double learning_rate = 1e-3;
  int64_t patience = 0;  // epochs without a better validation loss before stopping; 0: off
  ProgressSink* progress = nullptr;  // told each epoch done
};

// Scaled rows: row-major features, rows STRIDE floats apart (the inputs padded with zeros to
// kInputColumnBlock), and the target, both float.
struct ScaledRows {
  const float* features = nullptr;
  Eigen::Index stride = 0;
  const float* target = nullptr;
  Eigen::Index rows = 0;
};

struct TrainedNetwork {
  Eigen::VectorXf params;
  std::vector<CurvePoint> curve;
  int best_epoch = 0;
};

// Trains from Glorot-uniform weights drawn with SEED (which also drives the per-epoch shuffles).
// Throws model error when a loss becomes NaN or infinite.
TrainedNetwork train_network(const Layout& layout, const TrainSettings& settings, const ScaledRows& train,
                             const ScaledRows& valid, uint64_t seed);

// Mean loss of PARAMS over all rows of DATA, in batches through NETWORK's workspace.
double mean_loss(Network<float>& network, const Eigen::VectorXf& params, const LossFunction<float>& loss,
                 const ScaledRows& data);

}  // namespace cltv::models::mlp
