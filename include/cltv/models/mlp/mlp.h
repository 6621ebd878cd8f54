// The `mlp` spend model: the original Keras network (inputs -> 4 relu -> 8 relu -> 8 tanh -> 8 tanh
// -> 1 linear on min-max scaled features, MAE on log1p(spend), Adam), reimplemented with Eigen.
// See docs/models/mlp.md.
#pragma once

#include <memory>

#include "cltv/models/model.h"

namespace cltv::models {

std::unique_ptr<Model> make_mlp_model();

}  // namespace cltv::models
