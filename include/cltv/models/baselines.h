// Baseline spend models: carry the recent monthly spend forward (naive), predict the training
// median (median), and ridge regression on standardised features (linear).
#pragma once

#include <memory>

#include "cltv/models/model.h"

namespace cltv::models {

std::unique_ptr<Model> make_naive_model();
std::unique_ptr<Model> make_median_model();
std::unique_ptr<Model> make_linear_model();

}  // namespace cltv::models
