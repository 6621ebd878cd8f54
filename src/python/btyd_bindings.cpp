// The "buy 'til you die" models for the lifetimes-compatible layer: RFM summaries of a table, fits
// and per-customer predictions, all by the functions `cltv btyd` calls.

#include <fmt/format.h>

#include <optional>

#include "cltv/btyd/models.h"
#include "cltv/btyd/predict.h"
#include "cltv/btyd/rfm.h"
#include "cltv/error.h"
#include "convert.h"

namespace cltv::python {
namespace {

using Numbers = py::array_t<double, py::array::c_style | py::array::forcecast>;

std::vector<double> to_vector(const Numbers& values) {
  const double* data = values.data();
  return {data, data + values.size()};
}

// Checks that every array has the length of the first.
void check_lengths(std::initializer_list<std::pair<const char*, const Numbers*>> arrays) {
  const auto& [first_name, first] = *arrays.begin();
  for (const auto& [name, array] : arrays) {
    if (array->ndim() != 1 || array->size() != first->size()) {
      throw_input(fmt::format("'{}' has {} values, '{}' {}: the arrays must have one value per customer", name,
                              array->size(), first_name, first->size()));
    }
  }
}

// An RFM table of the arrays (ids are the positions), validated as `cltv btyd fit` validates a file.
btyd::RfmTable rfm_table(const Numbers& frequency, const Numbers& recency, const Numbers& T, const Numbers* monetary) {
  check_lengths({{"frequency", &frequency}, {"recency", &recency}, {"T", &T}});
  btyd::RfmTable rfm;
  rfm.frequency = to_vector(frequency);
  rfm.recency = to_vector(recency);
  rfm.T = to_vector(T);
  if (monetary != nullptr) {
    check_lengths({{"frequency", &frequency}, {"monetary_value", monetary}});
    rfm.monetary_value = to_vector(*monetary);
  }
  rfm.ids.resize(rfm.frequency.size());
  for (size_t i = 0; i < rfm.ids.size(); ++i) rfm.ids[i] = std::to_string(i);
  btyd::validate_rfm(rfm, "the arrays");
  return rfm;
}

btyd::FittedModel fit(const std::string& kind, const Numbers& frequency, const Numbers& recency, const Numbers& T,
                      std::optional<Numbers> monetary, double penalizer) {
  const btyd::RfmTable rfm = rfm_table(frequency, recency, T, monetary ? &*monetary : nullptr);
  btyd::FitOptions options;
  options.l2_penalty = penalizer;
  const py::gil_scoped_release release;
  // The unit only matters to the CLV, which is given its own (customer_lifetime_value's freq).
  return btyd::fit_model(btyd::parse_model_kind(kind, "model"), rfm, btyd::TimeUnit::days, options);
}

// F(i) for every customer i of RFM, without the GIL.
template <typename F>
py::array per_customer(size_t n, F f) {
  std::vector<double> out(n);
  {
    const py::gil_scoped_release release;
    for (size_t i = 0; i < n; ++i) out[i] = f(i);
  }
  return to_numpy(std::move(out));
}

py::array expected_purchases(const btyd::FittedModel& model, const Numbers& t, const Numbers& frequency,
                             const Numbers& recency, const Numbers& T) {
  const btyd::RfmTable rfm = rfm_table(frequency, recency, T, nullptr);
  check_lengths({{"frequency", &frequency}, {"t", &t}});
  const auto horizon = t.unchecked<1>();
  return per_customer(rfm.size(), [&](size_t i) {
    return btyd::expected_purchases(model, horizon(static_cast<py::ssize_t>(i)), rfm.frequency[i], rfm.recency[i], rfm.T[i]);
  });
}

py::array p_alive(const btyd::FittedModel& model, const Numbers& frequency, const Numbers& recency, const Numbers& T) {
  const btyd::RfmTable rfm = rfm_table(frequency, recency, T, nullptr);
  return per_customer(rfm.size(), [&](size_t i) { return btyd::p_alive(model, rfm.frequency[i], rfm.recency[i], rfm.T[i]); });
}

py::array spend_per_purchase(const btyd::FittedModel& model, const Numbers& frequency, const Numbers& monetary) {
  check_lengths({{"frequency", &frequency}, {"monetary_value", &monetary}});
  const std::vector<double> zeros(static_cast<size_t>(frequency.size()), 0.0);
  const Numbers none = py::array_t<double>(static_cast<py::ssize_t>(zeros.size()), zeros.data());
  const btyd::RfmTable rfm = rfm_table(frequency, none, none, &monetary);
  return per_customer(rfm.size(), [&](size_t i) {
    return btyd::expected_spend_per_purchase(model, rfm.frequency[i], rfm.monetary_value[i]);
  });
}

py::array clv(const btyd::FittedModel& purchase_model, const btyd::FittedModel& spend_model, const Numbers& frequency,
              const Numbers& recency, const Numbers& T, const Numbers& monetary, int months, double discount_rate,
              const std::string& unit) {
  const btyd::RfmTable rfm = rfm_table(frequency, recency, T, &monetary);
  btyd::FittedModel purchases = purchase_model;
  purchases.unit = btyd::parse_time_unit(unit, "freq");
  btyd::PredictOptions options;
  options.clv_months = months;
  options.discount_rate = discount_rate;
  btyd::Predictions predictions;
  {
    const py::gil_scoped_release release;
    predictions = btyd::predict(purchases, &spend_model, rfm, options);
  }
  return to_numpy(std::move(predictions.clv));
}

py::dict summarize(const Transactions& transactions, int64_t calibration_end, std::optional<int64_t> holdout_end,
                   const std::string& unit) {
  btyd::SummaryOptions options;
  options.calibration_end = calibration_end;
  options.holdout_end = holdout_end;
  options.unit = btyd::parse_time_unit(unit, "freq");
  btyd::RfmTable rfm;
  {
    const py::gil_scoped_release release;
    rfm = btyd::summarize_transactions(transactions.read->table, options);
  }
  py::dict d;
  d["ids"] = to_list(rfm.ids);
  d["frequency"] = to_numpy(std::move(rfm.frequency));
  d["recency"] = to_numpy(std::move(rfm.recency));
  d["T"] = to_numpy(std::move(rfm.T));
  d["monetary_value"] = to_numpy(std::move(rfm.monetary_value));
  if (rfm.has_holdout()) {
    d["frequency_holdout"] = to_numpy(std::move(rfm.frequency_holdout));
    d["monetary_value_holdout"] = to_numpy(std::move(rfm.monetary_value_holdout));
    d["duration_holdout"] = rfm.duration_holdout;
  }
  return d;
}

}  // namespace

void bind_btyd(py::module_& m) {
  py::class_<btyd::FittedModel>(m, "BtydModel", "A fitted BG/NBD, Pareto/NBD or Gamma-Gamma model")
      .def_readonly("names", &btyd::FittedModel::names)
      .def_readonly("values", &btyd::FittedModel::values)
      .def_readonly("standard_errors", &btyd::FittedModel::standard_errors)
      .def_readonly("log_likelihood", &btyd::FittedModel::log_likelihood)
      .def_readonly("customers", &btyd::FittedModel::customers)
      .def_property_readonly("converged", [](const btyd::FittedModel& f) { return f.convergence.converged; })
      .def_property_readonly("status", [](const btyd::FittedModel& f) { return f.convergence.status; })
      .def_property_readonly("boundary", [](const btyd::FittedModel& f) { return f.convergence.boundary; });
  m.def("fit_btyd", &fit, py::arg("kind"), py::arg("frequency"), py::arg("recency"), py::arg("T"),
        py::arg("monetary_value").none(true), py::arg("penalizer"), "Maximum-likelihood fit");
  m.def("expected_purchases", &expected_purchases, "E[purchases in (T, T + t]] per customer");
  m.def("p_alive", &p_alive, "P(alive at T) per customer");
  m.def("spend_per_purchase", &spend_per_purchase, "Gamma-Gamma conditional mean spend per purchase");
  m.def("clv", &clv, "Discounted CLV in monthly steps, as lifetimes computes it");
  m.def("summarize", &summarize, py::arg("transactions"), py::arg("calibration_end"), py::arg("holdout_end").none(true),
        py::arg("unit"), "The RFM summary `cltv btyd summary` writes, of an uncleaned table");
}

}  // namespace cltv::python
