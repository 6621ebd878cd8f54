// The probabilistic models as next-period spend predictors: a purchase model (BG/NBD or
// Pareto/NBD) and the Gamma-Gamma spend per purchase, both fitted on the RFM (in days) of every
// customer who bought before the training as-of. Each customer's spend over the horizon is the sum
// of their conditional number of purchases of Gamma-Gamma spends (btyd/distribution.h).
#pragma once

#include <memory>

#include "cltv/btyd/rfm.h"
#include "cltv/models/model.h"

namespace cltv::models {

std::unique_ptr<Model> make_bgnbd_gg_model();
std::unique_ptr<Model> make_pnbd_gg_model();

// What the probabilistic models fit on: every customer's RFM before as-of when DATA carries it
// (Dataset::history_*), else the population's.
btyd::RfmTable fitting_rfm(const Dataset& data);

}  // namespace cltv::models
