// Renderings of scored customers: the predictions CSV, the segment summary JSON and the text the
// commands print (pipeline/scoring.h).
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "cltv/io/csv.h"
#include "cltv/pipeline/scoring.h"

namespace cltv::pipeline {
namespace {

using nlohmann::ordered_json;

bool has_purchase_columns(const ScoredCustomers& s) { return !s.distribution.p_alive.empty(); }

}  // namespace

void append_prediction_row(std::string& csv, const ScoredCustomers& s, size_t r) {
  const models::SpendDistribution& d = s.distribution;
  const LevelOutlook& o = s.outlook;
  io::append_csv_field(csv, s.customer_id[r]);
  csv += fmt::format(",{},{},{},{},{},{},{},{},{},{},{},{},{}", d.expected_spend[r], d.p_buy[r], d.p10[r], d.p50[r],
                     d.p90[r], o.current_monthly_spend[r], o.current_level[r], o.predicted_level[r], o.p_down[r],
                     o.p_same[r], o.p_up[r], to_string(o.trend[r]), o.spend_at_risk[r]);
  if (has_purchase_columns(s)) {
    csv += fmt::format(",{},{},{}", d.p_alive[r], d.expected_purchases[r], s.next_purchase_date[r]);
  }
  csv += '\n';
}

namespace {

ordered_json at_risk_json(const ScoredCustomers& s, size_t first, size_t count) {
  ordered_json page = ordered_json::array();
  const LevelOutlook& o = s.outlook;
  for (size_t i = first; i < s.at_risk.size() && i < first + count; ++i) {
    const size_t r = s.at_risk[i];
    page.push_back({{"customer_id", s.customer_id[r]},
                    {"current_level", o.current_level[r]},
                    {"predicted_level", o.predicted_level[r]},
                    {"p_down", o.p_down[r]},
                    {"current_monthly_spend", o.current_monthly_spend[r]},
                    {"expected_spend", s.distribution.expected_spend[r]},
                    {"spend_at_risk", o.spend_at_risk[r]}});
  }
  return page;
}

std::string level_table(const ScoredCustomers& s) {
  std::string text = "level  from         current  most probable    expected\n";
  for (size_t l = 0; l < s.current_counts.size(); ++l) {
    const std::string from = l == 0 ? "0" : fmt::format("{:g}", s.levels.cuts[l - 1]);
    text += fmt::format("{:>5}  {:<12} {:>8} {:>14} {:>11.1f}\n", l, from, s.current_counts[l], s.predicted_counts[l],
                        s.expected_counts[l]);
  }
  return text;
}

std::string at_risk_text(const ScoredCustomers& s) {
  const LevelOutlook& o = s.outlook;
  std::string text = fmt::format(
      "{} customers are more likely than not to fall a level (p_down >= 0.5); spend at risk {:.0f} over {} month(s)",
      s.at_risk_customers, s.at_risk_spend, s.horizon_months);
  const size_t shown = std::min<size_t>(s.at_risk.size(), 10);
  text += shown > 0 ? fmt::format("; the {} largest:\n", shown) : "\n";
  for (size_t i = 0; i < shown; ++i) {
    const size_t r = s.at_risk[i];
    text += fmt::format("  {:<16} level {} -> {}  p_down {:.2f}  current {:.0f}/month, expected {:.0f}, at risk {:.0f}\n",
                        s.customer_id[r], o.current_level[r], o.predicted_level[r], o.p_down[r],
                        o.current_monthly_spend[r], s.distribution.expected_spend[r], o.spend_at_risk[r]);
  }
  return text;
}

}  // namespace

ordered_json prediction_row_json(const ScoredCustomers& s, size_t r) {
  const models::SpendDistribution& d = s.distribution;
  const LevelOutlook& o = s.outlook;
  ordered_json row = {{"customer_id", s.customer_id[r]},
                      {"expected_spend", d.expected_spend[r]},
                      {"p_buy", d.p_buy[r]},
                      {"p10", d.p10[r]},
                      {"p50", d.p50[r]},
                      {"p90", d.p90[r]},
                      {"current_monthly_spend", o.current_monthly_spend[r]},
                      {"current_level", o.current_level[r]},
                      {"predicted_level", o.predicted_level[r]},
                      {"p_down", o.p_down[r]},
                      {"p_same", o.p_same[r]},
                      {"p_up", o.p_up[r]},
                      {"trend", to_string(o.trend[r])},
                      {"spend_at_risk", o.spend_at_risk[r]}};
  if (has_purchase_columns(s)) {
    row["p_alive"] = d.p_alive[r];
    row["expected_purchases"] = d.expected_purchases[r];
    row["next_purchase_date"] = s.next_purchase_date[r].empty() ? ordered_json(nullptr) : ordered_json(s.next_purchase_date[r]);
  }
  return row;
}

std::string predictions_csv_header(const ScoredCustomers& s) {
  std::string csv =
      "customer_id,expected_spend,p_buy,p10,p50,p90,current_monthly_spend,current_level,predicted_level,p_down,"
      "p_same,p_up,trend,spend_at_risk";
  csv += has_purchase_columns(s) ? ",p_alive,expected_purchases,next_purchase_date\n" : "\n";
  return csv;
}

std::string predictions_csv(const ScoredCustomers& s) {
  std::string csv = predictions_csv_header(s);
  for (size_t r = 0; r < s.rows(); ++r) append_prediction_row(csv, s, r);
  return csv;
}

std::string segments_json(const ScoredCustomers& s, size_t first, size_t count) {
  ordered_json seg;
  seg["model"] = s.model;
  seg["model_kind"] = s.model_kind;
  seg["as_of"] = s.as_of;
  seg["as_of_note"] = s.as_of_note;
  seg["horizon_months"] = s.horizon_months;
  seg["warnings"] = s.warnings;
  seg["customers"] = s.customers;
  seg["level_cuts"] = s.levels.cuts;
  seg["current_level_counts"] = s.current_counts;
  seg["predicted_level_counts"] = s.predicted_counts;
  seg["expected_level_counts"] = s.expected_counts;
  seg["transitions"] = s.transitions;  // [current][predicted]
  seg["expected_spend_total"] = s.expected_spend_total;
  seg["at_risk"] = {{"customers", s.at_risk_customers},
                    {"spend_at_risk", s.at_risk_spend},
                    {"first", first},
                    {"count", std::min(count, s.at_risk.size() > first ? s.at_risk.size() - first : size_t{0})},
                    {"rows", at_risk_json(s, first, count)}};
  return seg.dump(2) + "\n";
}

std::string scoring_summary_text(const PredictOutcome& outcome, bool with_paths) {
  const ScoredCustomers& s = outcome.scores;
  std::string text;
  for (const auto& warning : s.warnings) text += warning + "\n";
  text += fmt::format("scored {} customers for the {} month(s) from {} ({}) with model {} ({})\n", s.customers,
                      s.horizon_months, s.as_of, s.as_of_note, s.model, s.model_kind);
  text += fmt::format("expected spend {:.0f} in total\n", s.expected_spend_total);
  text += level_table(s);
  text += at_risk_text(s);
  if (with_paths) text += fmt::format("predictions: {}\nsegments: {}\n", outcome.predictions_path, outcome.segments_path);
  return text;
}

}  // namespace cltv::pipeline
