// The probabilistic models as next-period spend predictors: a purchase model (BG/NBD or
// Pareto/NBD) times the Gamma-Gamma spend per purchase, both fitted on the RFM (in days) of every
// customer who bought before the training as-of. p_buy is P(at least one purchase in the horizon).
#pragma once

#include <memory>

#include "cltv/models/model.h"

namespace cltv::models {

std::unique_ptr<Model> make_bgnbd_gg_model();
std::unique_ptr<Model> make_pnbd_gg_model();

}  // namespace cltv::models
