// Lookup tables shared by the L.Point simulator and the exact expectations of --truth, so the
// sampled basket sizes and their reported mean come from the same numbers.
#pragma once

#include <array>
#include <vector>

#include "cltv/generate/lpoint_model.h"

namespace cltv::generate {

// CDF of a negative binomial with MEAN and SIZE at 0..CAP-1. Sampling G as the number of entries
// <= a uniform draw gives min(G, CAP); its mean is sum_j (1 - cdf[j]).
std::vector<double> negative_binomial_cdf(double mean, double size, int cap);

// Expected value of a basket in each unit for a customer with value scale 1.
std::array<double, lpoint_unit_count> unit_basket_values(const LpointModel& model);

// Expected basket value of LATENT given the per-unit values above.
double basket_value(const std::array<double, lpoint_unit_count>& unit_values, const CustomerLatent& latent);

}  // namespace cltv::generate
