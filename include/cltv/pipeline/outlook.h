// Each customer's level outlook from a predictive distribution: the current level (from the feature
// window's monthly spend), the probabilities of ending below, at or above it, the trend and the
// spend at risk. Shared by scoring and by the evaluation of p_down.
#pragma once

#include <string_view>
#include <vector>

#include "cltv/eval/levels.h"
#include "cltv/models/model.h"

namespace cltv::pipeline {

enum class Trend { down, same, up };
std::string_view to_string(Trend trend);

struct LevelOutlook {
  std::vector<double> current_monthly_spend;
  std::vector<int> current_level;
  // The most probable level on the side (down, same, up) of the most probable trend, so that the
  // level and the trend never disagree; it is the most probable level overall unless the
  // distribution has two distant modes.
  std::vector<int> predicted_level;
  std::vector<double> p_down, p_same, p_up;
  std::vector<Trend> trend;  // the most probable of down, same, up (same on ties)
  // max(0, current monthly spend x horizon months - expected spend): what the customer is expected
  // to stop spending over the horizon.
  std::vector<double> spend_at_risk;
};

// The level cut points over SET's horizon (monthly cuts times the horizon in months).
std::vector<double> horizon_cuts(const eval::LevelCuts& levels, int horizon_months);

// DISTRIBUTION must hold level probabilities at horizon_cuts(LEVELS, SET.horizon_months).
LevelOutlook level_outlook(const models::Dataset& set, const models::SpendDistribution& distribution,
                           const eval::LevelCuts& levels);

}  // namespace cltv::pipeline
