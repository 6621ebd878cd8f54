// Conditional predictions of BG/NBD (Fader, Hardie and Lee 2005, eqs. 10 and 13), Pareto/NBD
// (Schmittlein, Morrison and Colombo 1987; Fader and Hardie 2005 note, eqs. 18-22) and Gamma-Gamma
// (Fader, Hardie and Lee 2005 note, eq. 5), and the monthly discounted CLV of lifetimes.
#include "cltv/btyd/predict.h"

#include <cmath>
#include <fmt/format.h>
#include <iterator>
#include <nlohmann/json.hpp>

#include "cltv/error.h"
#include "cltv/io/csv.h"
#include "special.h"

namespace cltv::btyd {

namespace {

void require_purchase_model(const FittedModel& model) {
  if (model.kind == ModelKind::gamma_gamma) {
    throw_model("btyd predict: the purchase model is a Gamma-Gamma spend model",
                "pass a bgnbd or pnbd model as the purchase model and the gg model as the spend model");
  }
}

// BG/NBD: log of a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x), the odds of having dropped out.
double bgnbd_log_dropout_odds(double r, double alpha, double a, double b, double x, double t_x, double T) {
  return std::log(a) - std::log(b + x - 1) + (r + x) * (std::log(alpha + T) - std::log(alpha + t_x));
}

// Pareto/NBD: log of the likelihood's two terms without the common factor (alive at T; died in (t_x, T]).
void pnbd_terms(const FittedModel& m, double x, double t_x, double T, double& alive, double& died) {
  const double r = m.values[0], alpha = m.values[1], s = m.values[2], beta = m.values[3];
  alive = -(r + x) * std::log(alpha + T) - s * std::log(beta + T);
  died = std::log(s) + detail::log_power_integral(alpha, beta, r + x, s + 1, t_x, T).value;
}

// (1 - ((beta+T)/(beta+T+t))^(s-1)) / (s-1), with its limit log((beta+T+t)/(beta+T)) at s = 1.
double pnbd_decay_integral(double s, double beta_T, double t) {
  const double L = std::log1p(t / beta_T);
  const double k = s - 1;
  if (std::fabs(k * L) < 1e-10) return L;
  return -std::expm1(-k * L) / k;
}

// E[(1 - ((alpha+T)/(alpha+T+p t))^(r+x)) / p] for p ~ Beta(a, b+x): the expected purchases in
// (T, T+t] of a customer alive at T, averaged over the posterior of the dropout probability. Used
// when the 2F1 series cannot be summed (a and b so large that its terms overflow, i.e. a nearly
// fixed dropout probability). Simpson's rule over +-12 posterior standard deviations, clipped to
// (0, 1); the integrand is smooth and bounded, tending to (r+x) t/(alpha+T) as p -> 0.
double bgnbd_expected_by_quadrature(double r, double alpha, double a, double b, double t, double x, double T) {
  const double bx = b + x, n = a + bx;
  const double mean = a / n, sd = std::sqrt(a * bx / (n * n * (n + 1)));
  const double lo = std::max(0.0, mean - 12 * sd), hi = std::min(1.0, mean + 12 * sd);
  const double log_norm = std::lgamma(a) + std::lgamma(bx) - std::lgamma(n);
  const double rate = t / (alpha + T);
  auto integrand = [&](double p) {
    if (p <= 0 || p >= 1) return 0.0;  // the Beta density vanishes at the ends for a, b+x > 1
    const double per_p = -std::expm1(-(r + x) * std::log1p(p * rate)) / p;
    return per_p * std::exp((a - 1) * std::log(p) + (bx - 1) * std::log1p(-p) - log_norm);
  };
  constexpr int intervals = 2000;  // even
  const double h = (hi - lo) / intervals;
  double sum = integrand(lo) + integrand(hi);
  for (int i = 1; i < intervals; ++i) sum += (i % 2 == 1 ? 4 : 2) * integrand(lo + i * h);
  return sum * h / 3;
}

double bgnbd_expected(double r, double alpha, double a, double b, double t, double x, double t_x, double T) {
  const double z = t / (alpha + T + t);
  const double alive = x > 0 ? 1 / (1 + std::exp(bgnbd_log_dropout_odds(r, alpha, a, b, x, t_x, T))) : 1.0;
  // 1 - (1-z)^(r+x) 2F1(r+x, b+x; a+b+x-1; z), through its Euler transform.
  const double log_hyp = detail::log_bgnbd_hyp_term(r, a, b, x, z);
  if (std::isfinite(log_hyp) && a > 1 && a + b < 1e4) {
    return (a + b + x - 1) / (a - 1) * -std::expm1(log_hyp) * alive;
  }
  if (a > 1 && b + x > 1) return bgnbd_expected_by_quadrature(r, alpha, a, b, t, x, T) * alive;
  if (!std::isfinite(log_hyp)) {
    throw_model(fmt::format("BG/NBD expected purchases cannot be evaluated for a = {}, b = {}", a, b),
                "refit with an L2 penalty (--penalty)");
  }
  return (a + b + x - 1) / (a - 1) * -std::expm1(log_hyp) * alive;
}

}  // namespace

double p_alive(const FittedModel& model, double x, double t_x, double T) {
  require_purchase_model(model);
  if (model.kind == ModelKind::bgnbd) {
    if (x <= 0) return 1.0;
    const double log_odds = bgnbd_log_dropout_odds(model.values[0], model.values[1], model.values[2], model.values[3],
                                                   x, t_x, T);
    return log_odds > 0 ? std::exp(-log_odds) / (1 + std::exp(-log_odds)) : 1 / (1 + std::exp(log_odds));
  }
  double alive = 0, died = 0;
  pnbd_terms(model, x, t_x, T, alive, died);
  return std::exp(alive - detail::log_add_exp(alive, died));
}

double expected_purchases(const FittedModel& model, double t, double x, double t_x, double T) {
  require_purchase_model(model);
  if (t <= 0) return 0.0;
  if (model.kind == ModelKind::bgnbd) {
    const double r = model.values[0], alpha = model.values[1], a = model.values[2], b = model.values[3];
    // The formula has a removable singularity at a = 1: average the two sides.
    constexpr double eps = 1e-6;
    if (std::fabs(a - 1) < eps) {
      return (bgnbd_expected(r, alpha, 1 - eps, b, t, x, t_x, T) + bgnbd_expected(r, alpha, 1 + eps, b, t, x, t_x, T)) / 2;
    }
    return bgnbd_expected(r, alpha, a, b, t, x, t_x, T);
  }
  const double r = model.values[0], alpha = model.values[1], s = model.values[2], beta = model.values[3];
  const double log_rate = std::log(r + x) + std::log(beta + T) - std::log(alpha + T);
  return std::exp(log_rate) * pnbd_decay_integral(s, beta + T, t) * p_alive(model, x, t_x, T);
}

double p_any_purchase(const FittedModel& model, double t, double x, double t_x, double T) {
  require_purchase_model(model);
  if (t <= 0) return 0.0;
  const double alive = p_alive(model, x, t_x, T);
  const double r = model.values[0], alpha = model.values[1];
  if (model.kind == ModelKind::bgnbd) {
    // Alive at T: no purchase in (T, T+t] has probability E[exp(-lambda t)] with lambda ~ Gamma(r+x, alpha+T).
    return alive * -std::expm1(-(r + x) * std::log1p(t / (alpha + T)));
  }
  // Alive at T: P(first purchase before death and before T+t) =
  // (r+x) A^(r+x) B^s * integral_0^t (A+u)^-(r+x+1) (B+u)^-s du with A = alpha+T, B = beta+T.
  const double s = model.values[2], beta = model.values[3];
  const double A = alpha + T, B = beta + T;
  const double log_value = std::log(r + x) + (r + x) * std::log(A) + s * std::log(B) +
                           detail::log_power_integral(A, B, r + x + 1, s, 0, t).value;
  return alive * std::min(1.0, std::exp(log_value));
}

double expected_spend_per_purchase(const FittedModel& spend_model, double x, double zbar) {
  if (spend_model.kind != ModelKind::gamma_gamma) {
    throw_model(fmt::format("btyd predict: the spend model is a {} model, not Gamma-Gamma", to_string(spend_model.kind)),
                "fit one with `cltv btyd fit --model gg`");
  }
  const double p = spend_model.values[0], q = spend_model.values[1], gamma = spend_model.values[2];
  const double denominator = p * x + q - 1;
  if (!(denominator > 0)) {
    throw_model(fmt::format("btyd predict: Gamma-Gamma mean spend is undefined for frequency {} (p = {}, q = {})", x, p, q),
                "the population mean needs q > 1; refit with more repeat buyers or an L2 penalty");
  }
  return p * (gamma + x * zbar) / denominator;
}

Predictions predict(const FittedModel& purchase_model, const FittedModel* spend_model, const RfmTable& rfm,
                    const PredictOptions& options) {
  require_purchase_model(purchase_model);
  if (spend_model && !rfm.has_monetary()) {
    throw_input("btyd predict: spend predictions need a monetary_value (or zbar) column in the RFM table");
  }
  const size_t n = rfm.size();
  Predictions out;
  out.p_alive.resize(n);
  out.expected_purchases.resize(n);
  out.p_any_purchase.resize(n);
  // Months as lifetimes counts them: 30 days or 4.345 weeks.
  const double month = purchase_model.unit == TimeUnit::days ? 30.0 : 4.345;
  if (spend_model) {
    out.expected_spend_per_purchase.resize(n);
    out.expected_spend.resize(n);
    out.clv.resize(n);
  }
  for (size_t i = 0; i < n; ++i) {
    const double x = rfm.frequency[i], t_x = rfm.recency[i], T = rfm.T[i];
    out.p_alive[i] = p_alive(purchase_model, x, t_x, T);
    out.expected_purchases[i] = expected_purchases(purchase_model, options.horizon, x, t_x, T);
    out.p_any_purchase[i] = p_any_purchase(purchase_model, options.horizon, x, t_x, T);
    if (!spend_model) continue;
    const double spend = expected_spend_per_purchase(*spend_model, x, rfm.monetary_value[i]);
    out.expected_spend_per_purchase[i] = spend;
    out.expected_spend[i] = spend * out.expected_purchases[i];
    double clv = 0, previous = 0;
    for (int m = 1; m <= options.clv_months; ++m) {
      const double cumulative = expected_purchases(purchase_model, m * month, x, t_x, T);
      clv += spend * (cumulative - previous) / std::pow(1 + options.discount_rate, m);
      previous = cumulative;
    }
    out.clv[i] = clv;
  }
  return out;
}

std::string predictions_to_csv(const RfmTable& rfm, const Predictions& predictions) {
  const bool spend = !predictions.clv.empty();
  std::string out = "customer_id,p_alive,expected_purchases,p_any_purchase";
  if (spend) out += ",expected_spend_per_purchase,expected_spend,clv";
  out += '\n';
  for (size_t i = 0; i < rfm.size(); ++i) {
    io::append_csv_field(out, rfm.ids[i]);
    fmt::format_to(std::back_inserter(out), ",{},{},{}", predictions.p_alive[i], predictions.expected_purchases[i],
                   predictions.p_any_purchase[i]);
    if (spend) {
      fmt::format_to(std::back_inserter(out), ",{},{},{}", predictions.expected_spend_per_purchase[i],
                     predictions.expected_spend[i], predictions.clv[i]);
    }
    out += '\n';
  }
  return out;
}

std::string predictions_to_json(const RfmTable& rfm, const Predictions& predictions) {
  const bool spend = !predictions.clv.empty();
  nlohmann::json rows = nlohmann::json::array();
  for (size_t i = 0; i < rfm.size(); ++i) {
    nlohmann::json row{{"customer_id", rfm.ids[i]},
                       {"p_alive", predictions.p_alive[i]},
                       {"expected_purchases", predictions.expected_purchases[i]},
                       {"p_any_purchase", predictions.p_any_purchase[i]}};
    if (spend) {
      row["expected_spend_per_purchase"] = predictions.expected_spend_per_purchase[i];
      row["expected_spend"] = predictions.expected_spend[i];
      row["clv"] = predictions.clv[i];
    }
    rows.push_back(std::move(row));
  }
  return rows.dump(2) + "\n";
}

}  // namespace cltv::btyd
