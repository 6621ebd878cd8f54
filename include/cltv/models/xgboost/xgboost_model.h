// The `xgboost` spend model: gradient-boosted trees (XGBoost) on log1p(spend) or, with the
// Tweedie objective, on spend itself. See docs/models/xgboost.md.
#pragma once

#include <memory>

#include "cltv/models/model.h"

namespace cltv::models {

std::unique_ptr<Model> make_xgboost_model();

}  // namespace cltv::models
