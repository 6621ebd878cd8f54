// The `hurdle` spend model: P(buy) from a boosted classifier times E[spend | buy] from a boosted
// regressor on the buyers' log1p(spend) with Duan's smearing. See docs/models/hurdle.md.
#pragma once

#include <memory>

#include "cltv/models/model.h"

namespace cltv::models {

std::unique_ptr<Model> make_hurdle_model();
// The `stack` model: the hurdle model with trees of depth 3 on every training window with the
// history features; optionally its P(buy) averaged on the logit scale with BG/NBD's (the btyd_p_buy
// column) and both parts refitted on the validation rows too. See docs/models/stack.md.
std::unique_ptr<Model> make_stack_model();

}  // namespace cltv::models
