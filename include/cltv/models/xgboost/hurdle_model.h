// The `hurdle` spend model: P(buy) from a boosted classifier times E[spend | buy] from a boosted
// regressor on the buyers' log1p(spend) with Duan's smearing. See docs/models/hurdle.md.
#pragma once

#include <memory>

#include "cltv/models/model.h"

namespace cltv::models {

std::unique_ptr<Model> make_hurdle_model();
// The `stack` model: the hurdle model on the history features, its P(buy) averaged on the logit
// scale with BG/NBD's (the btyd_p_buy column), trees of depth 3, refitted on the training and
// validation rows once early stopping has chosen the rounds. See docs/models/stack.md.
std::unique_ptr<Model> make_stack_model();

}  // namespace cltv::models
