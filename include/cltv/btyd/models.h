// The "buy 'til you die" models as maximum-likelihood fits: BG/NBD (Fader, Hardie and Lee 2005),
// Pareto/NBD (Schmittlein, Morrison and Colombo 1987) and the Gamma-Gamma spend model (Fader, Hardie
// and Lee 2005). Identical rows are collapsed into weights; parameters are fitted on the log scale
// with NLopt, with a fallback method when the first does not converge; boundary solutions are flagged.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cltv/btyd/rfm.h"

namespace cltv::btyd {

enum class ModelKind { bgnbd, pnbd, gamma_gamma };

std::string_view to_string(ModelKind kind);  // "bgnbd", "pnbd", "gg"
// "bgnbd", "pnbd" or "gg"; throws config error naming WHAT otherwise.
ModelKind parse_model_kind(std::string_view text, std::string_view what);
// Parameter names as in the literature: r, alpha, a, b / r, alpha, s, beta / p, q, gamma.
std::vector<std::string> parameter_names(ModelKind kind);

// Distinct rows with their multiplicity. For BG/NBD and Pareto/NBD the key is (x, t_x, T); for
// Gamma-Gamma (x, zbar) over the customers with x > 0 (t_x and T are then 0).
struct WeightedRfm {
  std::vector<double> x, t_x, T, zbar, weight;
  size_t size() const { return x.size(); }
  double total_weight() const;
};

// Collapses identical rows (exact equality of the key values) into weights; zbar may be empty.
WeightedRfm collapse_rfm(std::span<const double> x, std::span<const double> t_x, std::span<const double> T);
WeightedRfm collapse_spend(std::span<const double> x, std::span<const double> zbar);
// RFM's repeat buyers as Gamma-Gamma rows (x, zbar), collapsed. Input error when there is no monetary
// value, a repeat buyer's is not positive, or there is no repeat buyer.
WeightedRfm collapse_spend_rows(const RfmTable& rfm);
// PARTS collapsed into one (weights of equal keys summed); SPEND: Gamma-Gamma rows (x, zbar). Rows of
// every collapsed table are in ascending key order, so a fit does not depend on how the customers
// were split or ordered.
WeightedRfm merge_weighted(std::span<const WeightedRfm> parts, bool spend);

// Log-likelihood of one customer; PARAMS in the literature's order and scale.
double bgnbd_log_likelihood(std::span<const double> params, double x, double t_x, double T);
double pnbd_log_likelihood(std::span<const double> params, double x, double t_x, double T);
double gamma_gamma_log_likelihood(std::span<const double> params, double x, double zbar);

// Weighted total log-likelihood at LOG_PARAMS (natural logarithms of the parameters). When GRADIENT
// is not empty it receives the (analytic) derivatives with respect to the log-parameters.
double total_log_likelihood(ModelKind kind, const WeightedRfm& data, std::span<const double> log_params,
                            std::span<double> gradient);

struct FitOptions {
  // Adds l2_penalty * sum(parameter^2) to the mean negative log-likelihood (as lifetimes' penalizer_coef).
  double l2_penalty = 0;
  int max_evaluations = 5000;
};

struct Convergence {
  bool converged = false;
  std::string method;   // the NLopt algorithm that produced the kept parameters
  std::string status;   // NLopt's result code name, or why convergence was not accepted
  bool used_fallback = false;
  int evaluations = 0;  // objective evaluations over all attempts
  double gradient_norm = 0;  // max |d mean objective / d log-parameter| at the kept parameters
  // BG/NBD and Pareto/NBD: empty for an interior optimum; else why the fit lies on the boundary where
  // the data cannot identify dropout ("dropout not identified: the model reduces to NBD (...)").
  std::string boundary;
};

struct FittedModel {
  ModelKind kind = ModelKind::bgnbd;
  TimeUnit unit = TimeUnit::days;
  std::vector<std::string> names;
  std::vector<double> values;
  std::vector<double> standard_errors;  // from the inverse Hessian; NaN when it is not positive definite
  double log_likelihood = 0;            // unpenalised, weighted total
  double customers = 0;                 // total weight of the rows fitted
  size_t distinct_rows = 0;
  double l2_penalty = 0;
  Convergence convergence;

  // The value of parameter NAME; throws internal error when the model has none.
  double param(std::string_view name) const;
};

// Fits KIND on RFM (Gamma-Gamma: on the customers with frequency > 0, which need monetary_value > 0).
// Throws input error on unusable data (no rows, no repeat buyers for Gamma-Gamma).
FittedModel fit_model(ModelKind kind, const RfmTable& rfm, TimeUnit unit, const FitOptions& options);
// The same on already weighted rows.
FittedModel fit_weighted(ModelKind kind, const WeightedRfm& data, TimeUnit unit, const FitOptions& options);

}  // namespace cltv::btyd
