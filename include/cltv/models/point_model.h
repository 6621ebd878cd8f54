// Point models (one number per customer: naive, median, linear, xgboost, mlp) get their predictive
// distribution split-conformally on the validation rows: P(buy) is the isotonic regression of
// buying on the point prediction, and spend if buying is the isotonic location of the buyers'
// log1p(spend) plus their residuals around it, in bins (models/distribution.h). The tables are saved beside the model, so predict reproduces the
// training-time distribution.
#pragma once

#include <optional>

#include "cltv/models/distribution.h"
#include "cltv/models/model.h"

namespace cltv::models {

class PointModel : public Model {
 public:
  // Fits the point model, then measures its distribution on VALID; throws model error when VALID
  // has fewer than ResidualTable::min_rows rows (or buyers).
  FitReport fit(const Dataset& train, const Dataset& valid, uint64_t seed, const FitContext& context) final;
  Prediction predict(const Dataset& data, std::span<const double> horizon_cuts) const final;
  void save(const std::string& dir) const final;
  void load(const std::string& dir) final;

 protected:
  virtual FitReport fit_point(const Dataset& train, const Dataset& valid, uint64_t seed, const FitContext& context) = 0;
  // Spend over the horizon, in money, >= 0.
  virtual std::vector<double> predict_point(const Dataset& data) const = 0;
  virtual void save_point(const std::string& dir) const = 0;
  virtual void load_point(const std::string& dir) = 0;

 private:
  std::optional<IsotonicMap> buy_;
  std::optional<SpendIfBuying> spend_if_buying_;
};

}  // namespace cltv::models
