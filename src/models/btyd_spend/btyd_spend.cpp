// bgnbd-gg and pnbd-gg: the predictive distribution of horizon spend from the purchase model's
// conditional distribution of the number of purchases and the Gamma-Gamma spend of each.
#include "cltv/models/btyd_spend.h"

#include <fmt/format.h>

#include <cmath>

#include "cltv/btyd/distribution.h"
#include "cltv/btyd/model_file.h"
#include "cltv/btyd/models.h"
#include "cltv/error.h"
#include "cltv/parallel.h"
#include "cltv/threads.h"

namespace cltv::models {
namespace {

// The population rows' RFM, for predicting.
btyd::RfmTable rfm_of(const Dataset& data) {
  if (data.frequency.size() != data.rows) throw_internal("the dataset carries no RFM summary");
  btyd::RfmTable rfm;
  rfm.ids = data.customer_ids;
  rfm.frequency = data.frequency;
  rfm.recency = data.recency;
  rfm.T = data.age;
  rfm.monetary_value = data.monetary;
  return rfm;
}

class BtydSpendModel final : public Model {
 public:
  BtydSpendModel(btyd::ModelKind purchase_kind, std::string name) : purchase_kind_(purchase_kind), name_(std::move(name)) {}

  std::string kind() const override { return name_; }

  void declare_params(ParamSet& params) override {
    params.add_number("btyd-penalty", penalty_, 0.0, 0.0, 1e6,
                      "L2 penalty on the purchase and spend models' parameters (lifetimes' penalizer_coef)");
  }

  FitReport fit(const Dataset& train, const Dataset&, uint64_t, const FitContext&) override {
    const btyd::RfmTable rfm = fitting_rfm(train);
    btyd::validate_rfm(rfm, "training history");
    btyd::FitOptions options;
    options.l2_penalty = penalty_;
    purchase_ = btyd::fit_model(purchase_kind_, rfm, btyd::TimeUnit::days, options);
    spend_ = btyd::fit_model(btyd::ModelKind::gamma_gamma, rfm, btyd::TimeUnit::days, options);
    for (const btyd::FittedModel* m : {&purchase_, &spend_}) {
      if (!m->convergence.converged) {
        throw_model(fmt::format("{}: the {} fit did not converge ({})", name_, btyd::to_string(m->kind),
                                m->convergence.status),
                    "try --btyd-penalty 0.001, or check the training window");
      }
    }
    FitReport report;
    report.loss_name = "neg_log_likelihood_per_customer";
    report.curve.push_back({1, -purchase_.log_likelihood / std::max(1.0, purchase_.customers), NAN});
    report.best_step = 1;
    if (!purchase_.convergence.boundary.empty()) {
      report.warnings.push_back(fmt::format("{}: {}", btyd::to_string(purchase_.kind), purchase_.convergence.boundary));
    }
    return report;
  }

  Prediction predict(const Dataset& data, std::span<const double> horizon_cuts) const override {
    const btyd::RfmTable rfm = rfm_of(data);
    const double t = data.horizon_days;
    Prediction out;
    SpendDistribution& d = out.distribution;
    d.resize(data.rows, horizon_cuts.size());
    d.p_alive.resize(data.rows);
    d.expected_purchases.resize(data.rows);
    d.days_to_next_purchase.resize(data.rows);
    // Customers are independent: their laws are computed on every available CPU.
    parallel::run_parts(parallel::even_bounds(data.rows, resolve_threads(0), 1024),
                        [&](size_t, size_t begin, size_t end) {
                          for (size_t r = begin; r < end; ++r) customer_law(rfm, t, r, horizon_cuts, d);
                        });
    // The point prediction (for the error metrics) keeps the rule these models always had: 0 when a
    // purchase is less likely than not, else the mean spend given a purchase.
    out.spend.resize(data.rows);
    for (size_t r = 0; r < data.rows; ++r) out.spend[r] = d.p_buy[r] <= 0.5 ? 0.0 : d.expected_spend[r] / d.p_buy[r];
    return out;
  }

  // Row R of D: the customer's purchase-count and spend laws.
  void customer_law(const btyd::RfmTable& rfm, double t, size_t r, std::span<const double> horizon_cuts,
                    SpendDistribution& d) const {
    const double x = rfm.frequency[r], t_x = rfm.recency[r], T = rfm.T[r];
    btyd::PurchaseCountDistribution counts = btyd::purchase_count_distribution(purchase_, t, x, t_x, T);
    d.p_alive[r] = counts.p_alive;
    d.expected_purchases[r] = counts.mean();
    d.days_to_next_purchase[r] = btyd::median_time_to_next_purchase(purchase_, x, T);
    const btyd::HorizonSpendDistribution law(spend_, x, rfm.monetary_value[r], std::move(counts.pmf));
    d.set_row(r, law, horizon_cuts);
  }

  void save(const std::string& dir) const override {
    btyd::save_model(purchase_, dir + "/purchase_model.json");
    btyd::save_model(spend_, dir + "/spend_model.json");
  }

  void load(const std::string& dir) override {
    purchase_ = btyd::load_model(dir + "/purchase_model.json");
    spend_ = btyd::load_model(dir + "/spend_model.json");
    if (purchase_.kind != purchase_kind_ || spend_.kind != btyd::ModelKind::gamma_gamma) {
      throw_model(fmt::format("'{}' does not hold a {} model", dir, name_));
    }
  }

 private:
  btyd::ModelKind purchase_kind_;
  std::string name_;
  double penalty_ = 0;
  btyd::FittedModel purchase_, spend_;
};

}  // namespace

btyd::RfmTable fitting_rfm(const Dataset& data) {
  if (data.history_frequency.empty()) return rfm_of(data);
  btyd::RfmTable rfm;
  rfm.ids.assign(data.history_frequency.size(), std::string());
  rfm.frequency = data.history_frequency;
  rfm.recency = data.history_recency;
  rfm.T = data.history_age;
  rfm.monetary_value = data.history_monetary;
  return rfm;
}

std::unique_ptr<Model> make_bgnbd_gg_model() {
  return std::make_unique<BtydSpendModel>(btyd::ModelKind::bgnbd, "bgnbd-gg");
}
std::unique_ptr<Model> make_pnbd_gg_model() {
  return std::make_unique<BtydSpendModel>(btyd::ModelKind::pnbd, "pnbd-gg");
}

}  // namespace cltv::models
