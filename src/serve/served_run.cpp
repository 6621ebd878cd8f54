// Loading a run for serving: the predictions file kept as text with an index, segment and chart
// data, the model, and with the input the scored features of every customer.
#include "cltv/serve/served_run.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>

#include "cltv/error.h"
#include "cltv/io/atomic_file.h"
#include "cltv/io/csv.h"
#include "cltv/io/schema.h"
#include "cltv/pipeline/training.h"
#include "cltv/storage/location.h"
#include "cltv/time.h"
#include "json_text.h"

namespace cltv::serve {
namespace fs = std::filesystem;
namespace {

bool is_text_column(std::string_view name) { return name == "trend" || name == "next_purchase_date"; }
// The columns the at-risk list is sorted and filtered by, kept as numbers.
bool is_kept_column(std::string_view name) {
  return name == "p_down" || name == "spend_at_risk" || name == "current_level";
}

// TEXT as a number (NaN when empty). Anything else, including forms JSON lacks (inf, nan, hex, a
// leading '+' or '.'), is an input error naming SOURCE:LINE and the column.
double parse_number(std::string_view text, const std::string& source, size_t line, std::string_view column) {
  if (text.empty()) return NAN;
  double value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  const bool json_form = text.front() == '-' || std::isdigit(static_cast<unsigned char>(text.front()));
  if (ec != std::errc() || ptr != text.data() + text.size() || !std::isfinite(value) || !json_form ||
      text.find_first_of("xX") != std::string_view::npos) {
    throw_input(fmt::format("{}:{}: column {} is not a number", source, line, column),
                "serve a predictions file written by cltv predict or cltv run");
  }
  return value;
}

std::string read_run_file(const storage::LocalRun& run, const std::string& name) {
  return io::read_whole_file((fs::path(run.dir) / name).string());
}

nlohmann::ordered_json read_run_json(const storage::LocalRun& run, const std::string& name) {
  try {
    return nlohmann::ordered_json::parse(read_run_file(run, name));
  } catch (const nlohmann::json::exception& e) {
    throw_model(fmt::format("run '{}': {} is damaged: {}", run.location, name, e.what()), "publish the run again");
  }
}

// A chart's CSV (header, numeric rows) as a JSON array of objects.
nlohmann::ordered_json chart_rows(const std::string& path) {
  nlohmann::ordered_json rows = nlohmann::ordered_json::array();
  std::vector<std::string> header;
  io::scan_csv(io::read_whole_file(path), path, [&](const io::CsvRecord& record) {
    const auto& fields = record.fields;
    const size_t line = record.line;
    if (header.empty()) {
      header.assign(fields.begin(), fields.end());
      return;
    }
    nlohmann::ordered_json row;
    for (size_t c = 0; c < fields.size(); ++c) {
      const double value = parse_number(fields[c], path, line, header[c]);
      if (!std::isfinite(value)) {
        row[header[c]] = nullptr;
      } else if (value == std::trunc(value) && std::abs(value) < 1e15) {
        row[header[c]] = static_cast<int64_t>(value);  // counts and bins stay integers
      } else {
        row[header[c]] = value;
      }
    }
    rows.push_back(std::move(row));
  });
  return rows;
}

std::string charts_json(const storage::LocalRun& run) {
  nlohmann::ordered_json charts = nlohmann::ordered_json::object();
  for (const char* chart : {"deciles", "gain", "reliability_p_buy", "reliability_p_down", "calibration_holdout"}) {
    const fs::path path = fs::path(run.dir) / "plots" / (std::string(chart) + ".csv");
    if (fs::is_regular_file(path)) charts[chart] = chart_rows(path.string());
  }
  return charts.dump();
}

// The rows with p_down >= 0.5, largest KEY column first (ties in file order).
std::vector<uint32_t> at_risk_rows(const PredictionTable& table, std::string_view key) {
  std::vector<uint32_t> rows;
  const std::vector<double>* p_down = table.numbers("p_down");
  const std::vector<double>* order = table.numbers(key);
  if (p_down == nullptr || order == nullptr) return rows;
  for (size_t r = 0; r < table.rows(); ++r) {
    if ((*p_down)[r] >= 0.5) rows.push_back(static_cast<uint32_t>(r));
  }
  std::stable_sort(rows.begin(), rows.end(), [&](uint32_t a, uint32_t b) { return (*order)[a] > (*order)[b]; });
  return rows;
}

// The month labels and per-unit amount columns of the feature window ("m{k}_{unit}_amount_sum").
void index_history(CustomerDetail& detail, int64_t as_of) {
  const models::Dataset& d = detail.rows;
  for (int k = d.feature_months; k >= 1; --k) {
    detail.month_labels.push_back(format_month(add_months(as_of, -k)));
    std::vector<size_t> columns;
    const std::string prefix = fmt::format("m{}_", k);
    for (size_t c = 0; c < d.cols; ++c) {
      const std::string& name = d.feature_names[c];
      if (name.starts_with(prefix) && name.ends_with("_amount_sum")) columns.push_back(c);
    }
    detail.month_amount_columns.push_back(std::move(columns));
  }
}

CustomerDetail score_input(const storage::LoadedBundle& bundle, const io::InputOptions& input, int64_t as_of) {
  const pipeline::ExperimentOptions settings = pipeline::bundle_settings(bundle.info);
  // Read without the input's SHA-256, which scoring does not use (prepare_data computes it).
  const pipeline::PreparedData data = pipeline::prepare_read(io::load_input(input), settings.clean);
  pipeline::PredictOptions options;
  options.as_of = as_of;
  CustomerDetail detail;
  detail.scores = pipeline::score_data(bundle, data, options, &detail.rows);
  for (size_t r = 0; r < detail.rows.rows; ++r) detail.index.emplace(detail.rows.customer_ids[r], static_cast<uint32_t>(r));
  index_history(detail, as_of);
  detail.explained = detail.rows.rows > 0 && !bundle.model->explain(detail.rows, 0, 1).empty();
  return detail;
}

// The currency of the schema NAME (a built-in name or a JSON file); empty when it names none or
// cannot be read now (a schema file moved since training).
std::string schema_currency(const std::string& name) {
  if (name.empty()) return {};
  try {
    return io::resolve_schema(name).currency;
  } catch (const Error&) {
    return {};
  }
}

nlohmann::ordered_json run_info(const ServedRun& run) {
  const nlohmann::ordered_json& m = run.files.manifest;
  const nlohmann::ordered_json inspect = read_run_json(run.files, "inspect.json");
  const nlohmann::ordered_json metrics = read_run_json(run.files, "metrics.json");
  nlohmann::ordered_json info;
  info["run"] = run.name();
  info["model_kind"] = run.bundle.info.model_kind;
  info["created_utc"] = m.value("created_utc", "");
  info["scored_as_of"] = m.value("score_as_of", "");
  info["valid_as_of"] = m.value("valid_as_of", "");
  info["horizon_months"] = run.segments.value("horizon_months", 1);
  const auto& months = inspect.at("months");
  info["source"] = {{"location", storage::mask_url_userinfo(m.at("source").value("location", ""))},
                    {"sha256", m.at("source").value("sha256", "")},
                    {"first_month", months.empty() ? "" : months.front().value("month", "")},
                    {"last_month", months.empty() ? "" : months.back().value("month", "")}};
  info["customers"] = run.predictions.rows();
  info["level_cuts"] = run.segments.at("level_cuts");
  const std::string currency = schema_currency(run.schema);
  info["currency"] = currency.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(currency);
  info["metrics"] = metrics.value("evaluation", nlohmann::ordered_json::object());
  info["metrics"].erase("deciles");  // GET /v1/charts has them
  info["evaluation_set"] = metrics.value("evaluation_set", "");
  info["loaded_utc"] = format_utc(run.loaded_at, "%Y-%m-%dT%H:%M:%SZ");
  info["has_history"] = run.detail.has_value();
  info["has_contributions"] = run.detail.has_value() && run.detail->explained;
  return info;
}

}  // namespace

PredictionTable PredictionTable::parse(std::string text, const std::string& source) {
  PredictionTable table;
  table.text_ = std::move(text);
  // One row a line (an upper bound): reserving spares the peak of growing a million-row vector.
  const auto lines = static_cast<size_t>(std::count(table.text_.begin(), table.text_.end(), '\n'));
  table.records_.reserve(lines);
  table.ids_.reserve(lines);
  io::scan_csv(table.text_, source, [&](const io::CsvRecord& record) {
    const auto& fields = record.fields;
    if (table.columns_.empty()) {
      if (fields.front() != "customer_id") {
        throw_input(fmt::format("'{}' is not a cltv predictions file (its first column is not customer_id)", source),
                    "give the predictions.csv of a run or the --out of cltv predict");
      }
      for (const std::string_view name : fields) {
        table.columns_.emplace_back(name);
        table.kinds_.push_back(name == "customer_id" ? Kind::id : is_text_column(name) ? Kind::text : Kind::number);
        if (is_kept_column(name)) {
          table.kept_.emplace_back(std::string(name), std::vector<double>{});
          table.kept_.back().second.reserve(lines);
        }
      }
      return;
    }
    table.records_.push_back(record.text);
    if (record.text.starts_with('"')) {
      table.quoted_ids_.push_back(std::make_unique<std::string>(fields.front()));
      table.ids_.emplace_back(*table.quoted_ids_.back());
    } else {
      table.ids_.push_back(fields.front());
    }
    for (size_t c = 1; c < fields.size(); ++c) {
      if (table.kinds_[c] != Kind::number) continue;
      const double value = parse_number(fields[c], source, record.line, table.columns_[c]);
      for (auto& [name, column] : table.kept_) {
        if (name == table.columns_[c]) column.push_back(value);
      }
    }
  });
  table.index_.reserve(table.ids_.size());
  for (size_t r = 0; r < table.ids_.size(); ++r) {
    if (!table.index_.emplace(table.ids_[r], static_cast<uint32_t>(r)).second) {
      throw_input(fmt::format("'{}' lists customer row {} twice", source, r + 1), "serve a predictions file of cltv");
    }
  }
  return table;
}

std::optional<size_t> PredictionTable::find(std::string_view id) const {
  const auto it = index_.find(id);
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

const std::vector<double>* PredictionTable::numbers(std::string_view name) const {
  for (const auto& [kept, column] : kept_) {
    if (kept == name) return &column;
  }
  return nullptr;
}

void PredictionTable::append_json(std::string& out, size_t row) const {
  const std::string_view record = records_[row];
  size_t pos = 0;
  out += '{';
  for (size_t c = 0; c < columns_.size(); ++c) {
    // The field's text: the id may be quoted (its unquoted form is kept); other fields never are.
    std::string_view field;
    if (c == 0 && record.starts_with('"')) {
      field = ids_[row];
      pos = 1;  // past the closing quote ("" inside is an escaped quote), then past the comma
      while (pos < record.size() && !(record[pos] == '"' && (pos + 1 == record.size() || record[pos + 1] != '"'))) {
        pos += record[pos] == '"' ? 2 : 1;
      }
      pos += 2;
    } else {
      const size_t comma = std::min(record.find(',', pos), record.size());
      field = record.substr(pos, comma - pos);
      pos = comma + 1;
    }
    if (c > 0) out += ',';
    append_json_string(out, columns_[c]);
    out += ':';
    if (kinds_[c] == Kind::id) {
      append_json_string(out, field);
    } else if (field.empty()) {
      out += "null";
    } else if (kinds_[c] == Kind::text) {
      append_json_string(out, field);
    } else {
      out += field;  // checked when parsed: a finite number in a form JSON shares
    }
  }
  out += '}';
}

std::shared_ptr<const ServedRun> load_served_run(const ServeSources& sources) {
  auto run = std::make_shared<ServedRun>();
  run->location = sources.model;
  run->loaded_at = std::chrono::system_clock::now();
  run->files = storage::load_run(storage::resolve_run_location(storage::parse_location(sources.model, sources.input.s3)));
  run->bundle = storage::load_bundle_at(
      storage::parse_location((fs::path(run->files.dir) / storage::run_bundle_dir).string(), sources.input.s3));
  run->schema = pipeline::bundle_settings(run->bundle.info).input.schema;
  if (sources.predictions.empty()) {
    run->predictions = PredictionTable::parse(read_run_file(run->files, "predictions.csv"), "predictions.csv");
  } else {
    const storage::LocalCopy local = storage::fetch(storage::parse_location(sources.predictions, sources.input.s3));
    run->predictions = PredictionTable::parse(io::read_whole_file(local.path()), sources.predictions);
  }
  run->segments = read_run_json(run->files, "segments.json");
  run->at_risk = at_risk_rows(run->predictions, "spend_at_risk");
  run->at_risk_by_p_down = at_risk_rows(run->predictions, "p_down");
  run->charts_json = charts_json(run->files);
  if (!sources.input.input.empty()) {
    io::InputOptions input = sources.input;
    if (input.schema.empty()) input.schema = run->schema;
    const int64_t as_of = parse_date_arg(run->files.manifest.value("score_as_of", ""), "the run's score_as_of");
    run->detail = score_input(run->bundle, input, as_of);
  }
  run->run_info = run_info(*run);
  return run;
}

}  // namespace cltv::serve
