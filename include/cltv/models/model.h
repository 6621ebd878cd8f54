// The one interface every spend model implements (learned and probabilistic alike), and the data
// it sees. Models are listed in the registry (models/registry.h); a trained model is saved into a
// bundle directory whose manifest the bundle layer writes.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "cltv/models/distribution.h"
#include "cltv/params.h"
#include "cltv/progress.h"

namespace cltv::models {

// One population's rows: features (row-major, raw, unscaled) plus what non-feature models need.
struct Dataset {
  size_t rows = 0;
  size_t cols = 0;
  std::vector<double> features;  // rows x cols, row-major
  std::vector<std::string> feature_names;
  std::vector<std::string> feature_units;  // unit codes of the per-unit columns, in order
  std::vector<std::string> customer_ids;

  // Targets over the horizon; empty when the data does not reach the target period.
  std::vector<double> target_amount;
  std::vector<double> target_log1p;
  std::vector<double> target_purchases;  // purchase days in the horizon (lifetimes' holdout frequency)

  // For the naive baseline: spend over the feature window, its length and the horizon's, in months.
  std::vector<double> window_amount;
  int feature_months = 0;
  int horizon_months = 1;

  // For the probabilistic models: RFM in days at as_of over all history before it (lifetimes
  // conventions: repeat purchase days, first to last purchase, first purchase to as_of, mean spend of
  // repeat purchases), and the horizon length in days.
  std::vector<double> frequency, recency, age, monetary;
  double horizon_days = 0;
  // The same summary for every customer with a purchase before as-of (not only the population):
  // what the probabilistic models are fitted on, since customers who went quiet carry the dropout
  // signal.
  std::vector<double> history_frequency, history_recency, history_age, history_monetary;

  const double* row(size_t r) const { return features.data() + r * cols; }
  bool has_target() const { return !target_amount.empty(); }
};

struct Prediction {
  // The model's point prediction of spend over the horizon, in money: what its loss targets (for
  // hurdle the median of its distribution; for the "buy 'til you die" models 0 when a purchase is
  // less likely than not, else the mean spend given one).
  std::vector<double> spend;
  SpendDistribution distribution;  // every row's predictive distribution of horizon spend
};

struct CurvePoint {
  int step = 0;  // epoch or boosting round
  double train_loss = 0;
  double valid_loss = 0;  // NaN when there is no validation set
};

struct FitReport {
  std::vector<CurvePoint> curve;
  std::string loss_name;  // e.g. "mae_log1p"
  int best_step = 0;      // the step whose parameters were kept
  std::vector<std::pair<std::string, double>> feature_importance;  // when the model has one
  // What a user must know about the fit, e.g. a "buy 'til you die" fit on the boundary where
  // dropout is not identified.
  std::vector<std::string> warnings{};
};

// One feature's additive share of an explained prediction.
struct Contribution {
  std::string feature;
  double value = 0;
};

// One additive part of a model's prediction explained: value(row) = base + sum of every feature's
// contribution, on SCALE.
struct Explanation {
  std::string part;   // e.g. "p_buy", "spend_if_buying", "spend"
  std::string scale;  // e.g. "log-odds", "log1p(spend)"
  double base = 0;    // the bias term (expected value)
  double value = 0;   // base + all contributions: the part's raw prediction for the row
  std::vector<Contribution> top;  // the TOP largest by absolute value, largest first
};

// What a fit is given besides its data: where it reports its epochs or rounds (nullptr: nowhere).
struct FitContext {
  ProgressSink* progress = nullptr;
};

class Model {
 public:
  virtual ~Model() = default;

  // The registry name, e.g. "mlp".
  virtual std::string kind() const = 0;
  // Hyperparameters, declared once; values are applied before fit().
  virtual void declare_params(ParamSet& params) = 0;
  // Fits on TRAIN; VALID (may have zero rows) drives early stopping where the model has it.
  // Throws cltv::Error(model) on degenerate input or divergence.
  virtual FitReport fit(const Dataset& train, const Dataset& valid, uint64_t seed, const FitContext& context) = 0;
  FitReport fit(const Dataset& train, const Dataset& valid, uint64_t seed) { return fit(train, valid, seed, {}); }
  // Point predictions and predictive distributions, with the level probabilities at HORIZON_CUTS
  // (spend-level cut points over the horizon, increasing; none: a single level).
  virtual Prediction predict(const Dataset& data, std::span<const double> horizon_cuts) const = 0;
  Prediction predict(const Dataset& data) const { return predict(data, {}); }
  // Row ROW of DATA's prediction explained part by part (feature contributions, e.g. SHAP), each
  // part keeping its TOP largest contributions. Models without explanations return none.
  virtual std::vector<Explanation> explain(const Dataset& /*data*/, size_t /*row*/, size_t /*top*/) const {
    return {};
  }
  // Writes the model's own files (hyperparameters included) into DIR / reads them back.
  virtual void save(const std::string& dir) const = 0;
  virtual void load(const std::string& dir) = 0;
};

}  // namespace cltv::models
