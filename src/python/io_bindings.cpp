// Reading transactions into numpy columns, tables from a DataFrame's columns, and the feature set:
// the calls of `cltv inspect` and `cltv features`.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "cltv/error.h"
#include "cltv/features/clean.h"
#include "cltv/features/features.h"
#include "cltv/io/schema.h"
#include "convert.h"

namespace cltv::python {
namespace {

using Codes = py::array_t<int64_t, py::array::c_style | py::array::forcecast>;
using Numbers = py::array_t<double, py::array::c_style | py::array::forcecast>;

py::dict report_dict(const io::ReadReport& r) {
  py::list problems;
  for (const auto& problem : r.problems) problems.append(r.format_problem(problem));
  py::dict d;
  d["source"] = r.source;
  d["bytes"] = r.bytes;
  d["rows_read"] = r.rows_read;
  d["accepted"] = r.accepted;
  d["rejected"] = r.rejected;
  d["rejected_by_reason"] = r.rejected_by_reason;
  d["dropped"] = r.dropped;
  d["dropped_by_reason"] = r.dropped_by_reason;
  d["blank_lines"] = r.blank_lines;
  d["problems"] = problems;
  return d;
}

// The columns of a table, moved into numpy arrays, with their dictionaries and the reader's report.
py::dict read(const Settings& settings, CallProgress* progress) {
  io::InputOptions input;
  ParamSet params;
  io::declare_input_params(params, input);
  apply_settings(params, settings);
  input.progress = progress;
  io::ReadResult result = load_transactions(nullptr, input);
  TransactionTable& t = result.table;
  py::dict d;
  d["customer"] = to_numpy(std::move(t.customer));
  d["customer_ids"] = to_list(t.customer_ids);
  d["basket"] = to_numpy(std::move(t.basket));
  d["basket_ids"] = to_list(t.basket_ids);
  d["time"] = to_numpy(std::move(t.time));
  d["amount"] = to_numpy(std::move(t.amount));
  d["quantity"] = to_numpy(std::move(t.quantity));
  d["unit"] = to_numpy(std::move(t.unit));
  d["units"] = to_list(t.units);
  d["product"] = to_numpy(std::move(t.product));
  d["products"] = to_list(t.products);
  d["row_hash"] = to_numpy(std::move(t.row_hash));
  d["report"] = report_dict(result.report);
  return d;
}

// Copies CODES of COLUMN into TARGET, checking each names one of IDS (missing values are -1).
template <typename Target>
void copy_codes(const Codes& codes, const std::vector<std::string>& ids, StringDict& dict, Target& target,
                const char* column) {
  if (ids.size() > std::numeric_limits<typename Target::value_type>::max()) {
    throw_input(fmt::format("column '{}': {} distinct values is more than the table holds", column, ids.size()));
  }
  for (const auto& id : ids) dict.append(id);
  const auto c = codes.unchecked<1>();
  target.resize(static_cast<size_t>(c.shape(0)));
  for (py::ssize_t i = 0; i < c.shape(0); ++i) {
    if (c(i) < 0 || static_cast<size_t>(c(i)) >= ids.size()) {
      throw_input(fmt::format("column '{}', row {}: missing value", column, i), "drop or fill the rows without one");
    }
    target[static_cast<size_t>(i)] = static_cast<typename Target::value_type>(c(i));
  }
}

void copy_numbers(const Numbers& values, Column<double>& target, const char* column) {
  const auto v = values.unchecked<1>();
  target.resize(static_cast<size_t>(v.shape(0)));
  for (py::ssize_t i = 0; i < v.shape(0); ++i) {
    if (!std::isfinite(v(i))) {
      throw_input(fmt::format("column '{}', row {}: not a finite number (got {})", column, i, v(i)),
                  "drop or fill the rows with NaN or infinite values");
    }
    target[static_cast<size_t>(i)] = v(i);
  }
}

// Nanoseconds since 1970 (datetime64[ns]) to the table's seconds, refusing NaT.
void copy_times(const py::array_t<int64_t, py::array::c_style | py::array::forcecast>& nanoseconds,
                Column<int64_t>& target) {
  const auto v = nanoseconds.unchecked<1>();
  target.resize(static_cast<size_t>(v.shape(0)));
  constexpr int64_t per_second = 1'000'000'000;
  for (py::ssize_t i = 0; i < v.shape(0); ++i) {
    if (v(i) == std::numeric_limits<int64_t>::min()) {
      throw_input(fmt::format("column 'time', row {}: missing date (NaT)", i), "drop or fill the rows without one");
    }
    target[static_cast<size_t>(i)] = v(i) / per_second - (v(i) % per_second < 0 ? 1 : 0);
  }
}

Transactions make_transactions(const std::string& schema, const Codes& customer, const std::vector<std::string>& customer_ids,
                               const Codes& basket, const std::vector<std::string>& basket_ids,
                               const py::array_t<int64_t, py::array::c_style | py::array::forcecast>& time,
                               const Numbers& amount, const Numbers& quantity, const Codes& unit,
                               const std::vector<std::string>& units, const Codes& product,
                               const std::vector<std::string>& products,
                               const std::optional<py::array_t<uint64_t, py::array::c_style | py::array::forcecast>>& row_hash) {
  const py::ssize_t rows = customer.shape(0);
  const std::pair<const char*, py::ssize_t> lengths[] = {{"basket", basket.shape(0)}, {"time", time.shape(0)},
      {"amount", amount.shape(0)}, {"quantity", quantity.shape(0)}, {"unit", unit.shape(0)}, {"product", product.shape(0)},
      {"row_hash", row_hash ? row_hash->shape(0) : rows}};
  for (const auto& [column, length] : lengths) {
    if (length != rows) throw_input(fmt::format("column '{}' has {} rows, column 'customer' {}", column, length, rows));
  }
  auto result = std::make_shared<io::ReadResult>();
  TransactionTable& t = result->table;
  copy_codes(customer, customer_ids, t.customer_ids, t.customer, "customer");
  copy_codes(basket, basket_ids, t.basket_ids, t.basket, "basket");
  copy_codes(unit, units, t.units, t.unit, "unit");
  copy_codes(product, products, t.products, t.product, "product");
  copy_times(time, t.time);
  copy_numbers(amount, t.amount, "amount");
  copy_numbers(quantity, t.quantity, "quantity");
  if (row_hash) {
    t.row_hash.assign(row_hash->data(), row_hash->data() + rows);
  } else {
    t.hash_canonical_fields();
  }
  io::ReadReport& report = result->report;
  report.source = "DataFrame";
  report.rows_read = report.accepted = static_cast<uint64_t>(rows);
  if (!schema.empty()) report.returns = io::resolve_schema(schema).returns;
  return Transactions{std::move(result)};
}

py::dict features(const Transactions* transactions, const Settings& settings, CallProgress* progress) {
  io::InputOptions input;
  features::CleanOptions clean;
  features::FeatureOptions options;
  ParamSet params;
  io::declare_input_params(params, input);
  features::declare_clean_params(params, clean);
  features::declare_feature_params(params, options);
  apply_settings(params, settings, transactions != nullptr ? std::vector<std::string>{"input", "schema"} : std::vector<std::string>{});
  input.progress = progress;
  io::ReadResult read = load_transactions(transactions, input);
  features::FeatureMatrix matrix;
  {
    const py::gil_scoped_release release;
    features::clean_transactions(read.table, clean, read.report);
    matrix = features::build_features(read.table, options);
  }
  py::dict d;
  d["names"] = to_list(matrix.names);
  d["customer_ids"] = to_list(matrix.customer_ids);
  py::array values = to_numpy(std::move(matrix.values));
  d["values"] = values.reshape({static_cast<py::ssize_t>(matrix.rows), static_cast<py::ssize_t>(matrix.cols)});
  if (matrix.has_target) {
    std::vector<double> log1p(matrix.target_amount.size());
    std::transform(matrix.target_amount.begin(), matrix.target_amount.end(), log1p.begin(),
                   [](double amount) { return std::log1p(amount); });  // as features_csv writes it
    d["target_amount"] = to_numpy(std::move(matrix.target_amount));
    d["target_log1p"] = to_numpy(std::move(log1p));
  }
  return d;
}

}  // namespace

void bind_io(py::module_& m) {
  py::class_<Transactions>(m, "Transactions", "A transaction table built from a DataFrame's columns");
  m.def("read", &read, py::arg("settings"), py::arg("progress").none(true),
        "Reads a transaction file as `cltv inspect` does: columns, dictionaries and the report");
  m.def("make_transactions", &make_transactions,
        "A table from columns: codes with their ids, ns times, numbers, and the reader's row hashes (None: of the "
        "canonical fields)");
  m.def("features", &features, py::arg("transactions").none(true), py::arg("settings"), py::arg("progress").none(true),
        "Cleans and builds the feature set as `cltv features` does");
}

}  // namespace cltv::python
