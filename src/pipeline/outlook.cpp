// Level outlooks from predictive distributions (pipeline/outlook.h).
#include "cltv/pipeline/outlook.h"

#include <algorithm>

#include "cltv/error.h"

namespace cltv::pipeline {
namespace {

// The most probable level in [BEGIN, END) of ROW.
int most_probable_level(const models::SpendDistribution& d, size_t row, size_t begin, size_t end) {
  size_t best = begin;
  for (size_t l = begin; l < end; ++l) {
    if (d.level_p(row, l) > d.level_p(row, best)) best = l;
  }
  return static_cast<int>(best);
}

}  // namespace

std::string_view to_string(Trend trend) {
  switch (trend) {
    case Trend::down: return "down";
    case Trend::same: return "same";
    case Trend::up: return "up";
  }
  return "same";
}

std::vector<double> horizon_cuts(const eval::LevelCuts& levels, int horizon_months) {
  std::vector<double> cuts(levels.cuts);
  for (double& c : cuts) c *= horizon_months;
  return cuts;
}

LevelOutlook level_outlook(const models::Dataset& set, const models::SpendDistribution& d,
                           const eval::LevelCuts& levels) {
  if (d.rows() != set.rows || d.levels != levels.cuts.size() + 1) {
    throw_internal("level outlook: the distribution does not match the customers or the level cuts");
  }
  LevelOutlook o;
  const size_t rows = set.rows;
  o.current_monthly_spend.resize(rows);
  o.current_level.resize(rows);
  o.predicted_level.resize(rows);
  o.p_down.resize(rows);
  o.p_same.resize(rows);
  o.p_up.resize(rows);
  o.trend.resize(rows);
  o.spend_at_risk.resize(rows);
  for (size_t r = 0; r < rows; ++r) {
    const double monthly = set.window_amount[r] / set.feature_months;
    const auto current = static_cast<size_t>(eval::level_of(monthly, levels));
    double down = 0, up = 0;
    for (size_t l = 0; l < current; ++l) down += d.level_p(r, l);
    for (size_t l = current + 1; l < d.levels; ++l) up += d.level_p(r, l);
    const double same = d.level_p(r, current);
    const Trend trend = down > same && down >= up ? Trend::down : up > same && up > down ? Trend::up : Trend::same;
    o.current_monthly_spend[r] = monthly;
    o.current_level[r] = static_cast<int>(current);
    o.p_down[r] = down;
    o.p_same[r] = same;
    o.p_up[r] = up;
    o.trend[r] = trend;
    o.predicted_level[r] = trend == Trend::down ? most_probable_level(d, r, 0, current)
                           : trend == Trend::up ? most_probable_level(d, r, current + 1, d.levels)
                                                : static_cast<int>(current);
    o.spend_at_risk[r] = std::max(0.0, monthly * set.horizon_months - d.expected_spend[r]);
  }
  return o;
}

}  // namespace cltv::pipeline
