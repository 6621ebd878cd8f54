// Maximum-likelihood fitting of the "buy 'til you die" models with NLopt on log-parameters: L-BFGS
// with analytic gradients (Pareto/NBD started from the BG/NBD fit's r and alpha), then Nelder-Mead
// from the best point when the first method does not converge. Standard errors from the inverse
// Hessian of the negative log-likelihood (differences of the gradient), mapped to the natural scale
// by the delta method. A fit whose dropout process vanishes or whose Hessian is not positive definite
// is flagged as a boundary solution.
#include <nlopt.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <limits>

#include "cltv/btyd/models.h"
#include "cltv/error.h"
#include "likelihood.h"

namespace cltv::btyd {

namespace {

constexpr double log_param_bound = 20;       // parameters within [e^-20, e^20]
constexpr double gradient_tolerance = 1e-4;  // on the mean objective per log-parameter
constexpr double min_dropout_share = 1e-3;   // below it the dropout process is taken as absent

struct Objective {
  const detail::PreparedLikelihood& likelihood;
  double weight_total;
  double l2_penalty;
  int evaluations = 0;

  // Mean negative log-likelihood plus the penalty; GRADIENT (may be null) w.r.t. log-parameters.
  double operator()(const double* theta, double* gradient) {
    ++evaluations;
    const size_t n = likelihood.parameter_count();
    std::vector<double> g(gradient ? n : 0);
    const double ll = likelihood.evaluate(std::span<const double>(theta, n), g);
    double value = -ll / weight_total;
    for (size_t k = 0; k < n; ++k) {
      const double p = std::exp(theta[k]);
      value += l2_penalty * p * p;
      if (gradient) gradient[k] = -g[k] / weight_total + 2 * l2_penalty * p * p;
    }
    return std::isfinite(value) ? value : std::numeric_limits<double>::max();
  }
};

double nlopt_callback(unsigned n, const double* x, double* grad, void* data) {
  (void)n;
  return (*static_cast<Objective*>(data))(x, grad);
}

struct Attempt {
  std::vector<double> theta;
  double value = std::numeric_limits<double>::infinity();
  nlopt_result result = NLOPT_FAILURE;
  std::string method;
};

Attempt run(nlopt_algorithm algorithm, Objective& objective, std::vector<double> start, int max_evaluations) {
  const unsigned n = static_cast<unsigned>(start.size());
  nlopt_opt opt = nlopt_create(algorithm, n);
  if (!opt) throw_internal("btyd: NLopt could not create the optimizer");
  const std::vector<double> lower(n, -log_param_bound), upper(n, log_param_bound);
  nlopt_set_lower_bounds(opt, lower.data());
  nlopt_set_upper_bounds(opt, upper.data());
  nlopt_set_min_objective(opt, nlopt_callback, &objective);
  nlopt_set_ftol_rel(opt, 1e-13);
  nlopt_set_xtol_rel(opt, 1e-11);
  nlopt_set_maxeval(opt, max_evaluations);
  if (algorithm == NLOPT_LN_NELDERMEAD) {
    const std::vector<double> step(n, 0.5);
    nlopt_set_initial_step(opt, step.data());
  }
  Attempt attempt;
  attempt.method = nlopt_algorithm_to_string(algorithm);
  double value = 0;
  attempt.result = nlopt_optimize(opt, start.data(), &value);
  nlopt_destroy(opt);
  attempt.theta = std::move(start);
  attempt.value = value;
  return attempt;
}

double max_abs_gradient(Objective& objective, const std::vector<double>& theta) {
  std::vector<double> g(theta.size());
  const int before = objective.evaluations;
  objective(theta.data(), g.data());
  objective.evaluations = before;
  double norm = 0;
  for (const double v : g) norm = std::max(norm, std::fabs(v));
  return norm;
}

bool accepted(const Attempt& attempt, double gradient_norm) {
  const bool stopped_by_tolerance = attempt.result > 0 && attempt.result != NLOPT_MAXEVAL_REACHED &&
                                    attempt.result != NLOPT_MAXTIME_REACHED;
  const bool roundoff = attempt.result == NLOPT_ROUNDOFF_LIMITED;
  return std::isfinite(attempt.value) && attempt.value < std::numeric_limits<double>::max() &&
         (stopped_by_tolerance || roundoff) && gradient_norm < gradient_tolerance;
}

// Hessian of the total penalised negative log-likelihood in log-parameters.
Eigen::MatrixXd hessian(const detail::PreparedLikelihood& likelihood, const std::vector<double>& theta,
                        double weight_total, double l2_penalty) {
  const size_t n = theta.size();
  Eigen::MatrixXd H(n, n);
  constexpr double h = 1e-5;
  std::vector<double> g_up(n), g_down(n), shifted = theta;
  for (size_t k = 0; k < n; ++k) {
    shifted[k] = theta[k] + h;
    likelihood.evaluate(shifted, g_up);
    shifted[k] = theta[k] - h;
    likelihood.evaluate(shifted, g_down);
    shifted[k] = theta[k];
    for (size_t j = 0; j < n; ++j) {
      H(static_cast<Eigen::Index>(j), static_cast<Eigen::Index>(k)) = -(g_up[j] - g_down[j]) / (2 * h);
    }
    H(static_cast<Eigen::Index>(k), static_cast<Eigen::Index>(k)) += 4 * weight_total * l2_penalty * std::exp(2 * theta[k]);
  }
  return (H + H.transpose()) / 2;
}

// Log-parameters to start from: all zero, except Pareto/NBD's r and alpha, taken from a BG/NBD fit
// (the two models share the purchase process), with s = 1 and beta = alpha.
std::vector<double> start_point(ModelKind kind, const WeightedRfm& data, const FitOptions& options) {
  if (kind != ModelKind::pnbd) return std::vector<double>(kind == ModelKind::gamma_gamma ? 3 : 4, 0.0);
  const detail::PreparedLikelihood bgnbd(ModelKind::bgnbd, data);
  Objective objective{bgnbd, data.total_weight(), options.l2_penalty};
  const Attempt fit = run(NLOPT_LD_LBFGS, objective, std::vector<double>(4, 0.0), options.max_evaluations);
  if (!std::isfinite(fit.value) || fit.value >= std::numeric_limits<double>::max()) return std::vector<double>(4, 0.0);
  return {fit.theta[0], fit.theta[1], 0.0, fit.theta[1]};
}

// The share of customers that the fitted dropout process removes: BG/NBD after the largest frequency
// (1 - B(a, b + x) / B(a, b)), Pareto/NBD by the largest T (1 - (beta / (beta + T))^s).
double dropout_share(ModelKind kind, const std::vector<double>& v, const WeightedRfm& data) {
  const double x_max = *std::max_element(data.x.begin(), data.x.end());
  const double T_max = *std::max_element(data.T.begin(), data.T.end());
  if (kind == ModelKind::bgnbd) {
    const double a = v[2], b = v[3];
    return -std::expm1(std::lgamma(b + x_max) + std::lgamma(a + b) - std::lgamma(b) - std::lgamma(a + b + x_max));
  }
  return -std::expm1(-v[2] * std::log1p(T_max / v[3]));
}

// Why the fit lies on the boundary where dropout is not identified, or empty.
std::string boundary_reason(ModelKind kind, const std::vector<double>& values, const WeightedRfm& data,
                            bool hessian_positive) {
  if (kind == ModelKind::gamma_gamma) return "";
  const double share = dropout_share(kind, values, data);
  std::string why;
  if (share < min_dropout_share) why = fmt::format("the fitted dropout removes {:.2g} of customers", share);
  if (!hessian_positive) why += std::string(why.empty() ? "" : ", ") + "the Hessian is not positive definite";
  if (why.empty()) return "";
  return fmt::format(
      "dropout not identified: the model reduces to NBD ({}); a BG/NBD with an L2 penalty (--l2-penalty, or "
      "--btyd-penalty for the spend models) identifies it, see docs/models/btyd.md",
      why);
}

}  // namespace

std::string_view to_string(ModelKind kind) {
  switch (kind) {
    case ModelKind::bgnbd:
      return "bgnbd";
    case ModelKind::pnbd:
      return "pnbd";
    case ModelKind::gamma_gamma:
      return "gg";
  }
  return "unknown";
}

ModelKind parse_model_kind(std::string_view text, std::string_view what) {
  if (text == "bgnbd") return ModelKind::bgnbd;
  if (text == "pnbd") return ModelKind::pnbd;
  if (text == "gg") return ModelKind::gamma_gamma;
  throw_config(fmt::format("{}: unknown model '{}'", what, text), "expected bgnbd, pnbd or gg");
}

std::vector<std::string> parameter_names(ModelKind kind) {
  switch (kind) {
    case ModelKind::bgnbd:
      return {"r", "alpha", "a", "b"};
    case ModelKind::pnbd:
      return {"r", "alpha", "s", "beta"};
    case ModelKind::gamma_gamma:
      return {"p", "q", "gamma"};
  }
  return {};
}

double FittedModel::param(std::string_view name) const {
  for (size_t k = 0; k < names.size(); ++k) {
    if (names[k] == name) return values[k];
  }
  throw_internal(fmt::format("btyd model {} has no parameter '{}'", to_string(kind), name));
}

FittedModel fit_weighted(ModelKind kind, const WeightedRfm& data, TimeUnit unit, const FitOptions& options) {
  if (data.size() == 0) throw_input("btyd fit: no customers to fit", "the RFM table is empty");
  const detail::PreparedLikelihood likelihood(kind, data);
  const double weight_total = data.total_weight();
  Objective objective{likelihood, weight_total, options.l2_penalty};
  const std::vector<double> start = start_point(kind, data, options);

  Attempt best = run(NLOPT_LD_LBFGS, objective, start, options.max_evaluations);
  double gradient_norm = max_abs_gradient(objective, best.theta);
  bool converged = accepted(best, gradient_norm);
  bool used_fallback = false;
  if (!converged) {
    used_fallback = true;
    const bool usable = std::isfinite(best.value) && best.value < std::numeric_limits<double>::max();
    Attempt fallback = run(NLOPT_LN_NELDERMEAD, objective, usable ? best.theta : start, options.max_evaluations);
    const double fallback_norm = max_abs_gradient(objective, fallback.theta);
    if (fallback.value <= best.value || !usable) {
      best = std::move(fallback);
      gradient_norm = fallback_norm;
    }
    converged = accepted(best, gradient_norm);
  }

  FittedModel model;
  model.kind = kind;
  model.unit = unit;
  model.names = parameter_names(kind);
  model.customers = weight_total;
  model.distinct_rows = data.size();
  model.l2_penalty = options.l2_penalty;
  for (const double t : best.theta) model.values.push_back(std::exp(t));
  model.log_likelihood = likelihood.evaluate(best.theta, {});
  model.convergence.converged = converged;
  model.convergence.method = best.method;
  model.convergence.used_fallback = used_fallback;
  model.convergence.evaluations = objective.evaluations;
  model.convergence.gradient_norm = gradient_norm;
  model.convergence.status = nlopt_result_to_string(best.result);
  if (!converged && gradient_norm >= gradient_tolerance) {
    model.convergence.status += fmt::format(" (gradient {:.3g} above {:g})", gradient_norm, gradient_tolerance);
  }

  const Eigen::MatrixXd H = hessian(likelihood, best.theta, weight_total, options.l2_penalty);
  const Eigen::LLT<Eigen::MatrixXd> llt(H);
  const size_t n = best.theta.size();
  model.standard_errors.assign(n, std::numeric_limits<double>::quiet_NaN());
  if (llt.info() == Eigen::Success && H.allFinite()) {
    const Eigen::MatrixXd covariance = llt.solve(Eigen::MatrixXd::Identity(H.rows(), H.cols()));
    for (size_t k = 0; k < n; ++k) {
      const double var = covariance(static_cast<Eigen::Index>(k), static_cast<Eigen::Index>(k));
      if (var >= 0) model.standard_errors[k] = model.values[k] * std::sqrt(var);
    }
  } else {
    model.convergence.status += "; Hessian not positive definite: no standard errors";
  }
  model.convergence.boundary = boundary_reason(kind, model.values, data, llt.info() == Eigen::Success && H.allFinite());
  return model;
}

WeightedRfm collapse_spend_rows(const RfmTable& rfm) {
  if (!rfm.has_monetary()) {
    throw_input("btyd fit: the Gamma-Gamma model needs a monetary_value (or zbar) column",
                "summarise with `cltv btyd summary`, which writes monetary_value");
  }
  for (size_t i = 0; i < rfm.size(); ++i) {
    if (rfm.frequency[i] > 0 && !(rfm.monetary_value[i] > 0)) {
      throw_input(fmt::format("btyd fit: customer '{}' (row {}) has frequency {} but monetary_value {}", rfm.ids[i],
                              i + 1, rfm.frequency[i], rfm.monetary_value[i]),
                  "the Gamma-Gamma model needs a positive mean spend for every repeat buyer");
    }
  }
  WeightedRfm spend = collapse_spend(rfm.frequency, rfm.monetary_value);
  if (spend.size() == 0) {
    throw_input("btyd fit: no customer with frequency > 0", "the Gamma-Gamma model is fitted on repeat buyers");
  }
  return spend;
}

FittedModel fit_model(ModelKind kind, const RfmTable& rfm, TimeUnit unit, const FitOptions& options) {
  validate_rfm(rfm, "btyd fit");
  if (kind != ModelKind::gamma_gamma) return fit_weighted(kind, collapse_rfm(rfm.frequency, rfm.recency, rfm.T), unit, options);
  const WeightedRfm spend = collapse_spend_rows(rfm);
  return fit_weighted(kind, spend, unit, options);
}

}  // namespace cltv::btyd
