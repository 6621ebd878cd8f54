// Per-customer predictions of the fitted "buy 'til you die" models: P(alive), expected purchases and
// P(at least one purchase) in (T, T + t], expected spend per purchase, expected spend over the horizon
// and discounted CLV (monthly steps, as lifetimes and PyMC-Marketing compute it). All evaluated in log
// space with series whose arguments lie in [0, 1), so heavy buyers and long T give no NaN or overflow.
#pragma once

#include <string>
#include <vector>

#include "cltv/btyd/models.h"
#include "cltv/btyd/rfm.h"

namespace cltv::btyd {

// MODEL is BG/NBD or Pareto/NBD; t is in the model's time unit.
double p_alive(const FittedModel& model, double x, double t_x, double T);
double expected_purchases(const FittedModel& model, double t, double x, double t_x, double T);
double p_any_purchase(const FittedModel& model, double t, double x, double t_x, double T);
// Gamma-Gamma conditional mean spend per purchase (the population mean when x = 0).
double expected_spend_per_purchase(const FittedModel& spend_model, double x, double zbar);

struct PredictOptions {
  double horizon = 30;        // t, in the purchase model's time unit
  int clv_months = 12;        // months of discounted CLV (30 days or 4.345 weeks each)
  double discount_rate = 0.01;  // per month
};

struct Predictions {
  std::vector<double> p_alive, expected_purchases, p_any_purchase;
  // With a spend model only (else empty).
  std::vector<double> expected_spend_per_purchase, expected_spend, clv;
};

// Predicts for every row of RFM. SPEND_MODEL may be null. Throws model error when a model is of the
// wrong kind or its parameters leave a mean undefined (Gamma-Gamma q <= 1 for a customer without
// repeat purchases).
Predictions predict(const FittedModel& purchase_model, const FittedModel* spend_model, const RfmTable& rfm,
                    const PredictOptions& options);

// One row per customer: customer_id, p_alive, expected_purchases, p_any_purchase and, with a spend
// model, expected_spend_per_purchase, expected_spend, clv. Numbers round-trip exactly.
std::string predictions_to_csv(const RfmTable& rfm, const Predictions& predictions);
// The same as a JSON array of objects.
std::string predictions_to_json(const RfmTable& rfm, const Predictions& predictions);

}  // namespace cltv::btyd
