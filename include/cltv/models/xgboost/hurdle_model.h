// The `hurdle` spend model: P(buy) from a boosted classifier times E[spend | buy] from a boosted
// regressor on the buyers' log1p(spend) with Duan's smearing. See docs/models/hurdle.md.
#pragma once

#include <memory>

#include "cltv/models/model.h"

namespace cltv::models {

std::unique_ptr<Model> make_hurdle_model();

}  // namespace cltv::models
