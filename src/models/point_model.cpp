// The split-conformal distribution of point models (models/point_model.h).
#include "cltv/models/point_model.h"

#include <fmt/format.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "cltv/error.h"
#include "cltv/io/atomic_file.h"

namespace cltv::models {
namespace {

constexpr const char* distribution_file = "distribution.json";

// The score the distribution tables are measured on: ln(1 + predicted spend).
double log_score(double spend) { return std::log1p(std::max(0.0, spend)); }

}  // namespace

FitReport PointModel::fit(const Dataset& train, const Dataset& valid, uint64_t seed, const FitContext& context) {
  FitReport report = fit_point(train, valid, seed, context);
  const std::string what = fmt::format("{}: the predictive distribution", kind());
  require_distribution_rows(valid.has_target() ? valid.rows : 0, what);
  std::vector<double> score = predict_point(valid);
  for (double& value : score) value = log_score(value);
  std::vector<double> bought(valid.rows), buyer_score, buyer_log_spend;
  for (size_t r = 0; r < valid.rows; ++r) {
    bought[r] = valid.target_amount[r] > 0 ? 1.0 : 0.0;
    if (bought[r] == 0) continue;
    buyer_score.push_back(score[r]);
    buyer_log_spend.push_back(std::log1p(valid.target_amount[r]));
  }
  buy_ = measure_buy_probability(score, bought, what);
  spend_if_buying_ = SpendIfBuying::measure(buyer_score, buyer_log_spend, what + " (buyers)");
  return report;
}

Prediction PointModel::predict(const Dataset& data, std::span<const double> horizon_cuts) const {
  if (!buy_ || !spend_if_buying_) throw_model(fmt::format("{} model used before fit or load", kind()));
  Prediction prediction;
  prediction.spend = predict_point(data);
  prediction.distribution.resize(data.rows, horizon_cuts.size());
  for (size_t r = 0; r < data.rows; ++r) {
    const double score = log_score(prediction.spend[r]);
    prediction.distribution.set_row(r, spend_if_buying_->law((*buy_)(score), score), horizon_cuts);
  }
  return prediction;
}

void PointModel::save(const std::string& dir) const {
  if (!buy_ || !spend_if_buying_) throw_model(fmt::format("{} model saved before fit or load", kind()));
  save_point(dir);
  const nlohmann::json json = {{"p_buy", buy_->to_json()}, {"spend_if_buying", spend_if_buying_->to_json()}};
  io::write_file_atomically(dir + "/" + distribution_file, json.dump() + "\n");
}

void PointModel::load(const std::string& dir) {
  load_point(dir);
  const std::string path = dir + "/" + distribution_file;
  try {
    const nlohmann::json json = nlohmann::json::parse(io::read_whole_file(path));
    buy_ = IsotonicMap::from_json(json.at("p_buy"));
    spend_if_buying_ = SpendIfBuying::from_json(json.at("spend_if_buying"));
  } catch (const nlohmann::json::exception& e) {
    throw_model(fmt::format("'{}' is not a valid distribution file: {}", path, e.what()), "train the model again");
  }
}

}  // namespace cltv::models
