// The API's handlers: each turns a loaded run and a request's parts into a JSON response.
#include "cltv/serve/api.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "cltv/error.h"
#include "cltv/io/csv.h"
#include "cltv/io/reader.h"
#include "cltv/io/schema.h"
#include "cltv/pipeline/training.h"
#include "cltv/time.h"
#include "json_text.h"

namespace cltv::serve {
namespace {

using nlohmann::ordered_json;

constexpr int64_t kDefaultLimit = 50;
constexpr int64_t kMaxLimit = 1000;
constexpr size_t kTopContributions = 8;

// The query parameter NAME as an integer in [MIN, MAX], or DEFAULT_VALUE when absent; input error
// naming it otherwise.
int64_t int_param(const QueryParams& query, const char* name, int64_t default_value, int64_t min, int64_t max) {
  const auto it = query.find(name);
  if (it == query.end()) return default_value;
  int64_t value = 0;
  const std::string& text = it->second;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || value < min || value > max) {
    throw_input(fmt::format("query parameter {} must be a whole number from {} to {}", name, min, max));
  }
  return value;
}

std::string text_param(const QueryParams& query, const char* name, const std::string& default_value) {
  const auto it = query.find(name);
  return it == query.end() ? default_value : it->second;
}

// The extra fields of a customer whose features the server has: level probabilities and the
// monthly spend of the feature window.
void append_detail(std::string& out, const CustomerDetail& detail, size_t r) {
  const models::SpendDistribution& d = detail.scores.distribution;
  out += ",\"level_probabilities\":[";
  for (size_t l = 0; l < d.levels; ++l) {
    if (l > 0) out += ',';
    append_json_number(out, d.level_p(r, l));
  }
  out += "],\"history\":[";
  for (size_t m = 0; m < detail.month_labels.size(); ++m) {
    double spend = 0;
    for (const size_t c : detail.month_amount_columns[m]) spend += detail.rows.row(r)[c];
    if (m > 0) out += ',';
    out += "{\"month\":";
    append_json_string(out, detail.month_labels[m]);
    out += ",\"spend\":";
    append_json_number(out, spend);
    out += '}';
  }
  out += ']';
}

// The feature contributions behind row R's prediction, one entry per part of the model.
void append_contributions(std::string& out, const ServedRun& run, size_t r) {
  std::vector<models::Explanation> parts;
  {
    const std::lock_guard lock(run.explain_mutex);
    parts = run.bundle.model->explain(run.detail->rows, r, kTopContributions);
  }
  ordered_json list = ordered_json::array();
  for (const models::Explanation& part : parts) {
    ordered_json top = ordered_json::array();
    for (const models::Contribution& c : part.top) top.push_back({{"feature", c.feature}, {"value", c.value}});
    list.push_back({{"part", part.part}, {"scale", part.scale}, {"base", part.base}, {"value", part.value}, {"top", top}});
  }
  out += ",\"contributions\":";
  out += list.dump();
}

// The rows of ORDER (at-risk rows) that match LEVEL (or any, when negative) and the id PREFIX.
std::vector<uint32_t> matching_at_risk(const ServedRun& run, const std::vector<uint32_t>& order, int64_t level,
                                       std::string_view prefix) {
  const std::vector<double>* current = run.predictions.numbers("current_level");
  std::vector<uint32_t> rows;
  for (const uint32_t r : order) {
    if (level >= 0 && (current == nullptr || (*current)[r] != static_cast<double>(level))) continue;
    if (!prefix.empty() && !run.predictions.id(r).starts_with(prefix)) continue;
    rows.push_back(r);
  }
  return rows;
}

// A CSV text in the columns of the JSON objects of NDJSON (keys of the first line, in order).
std::string ndjson_to_csv(std::string_view ndjson) {
  std::vector<std::string> header;
  std::string csv;
  size_t line_number = 0;
  for (size_t pos = 0; pos < ndjson.size();) {
    size_t end = ndjson.find('\n', pos);
    if (end == std::string_view::npos) end = ndjson.size();
    const std::string_view line = ndjson.substr(pos, end - pos);
    pos = end + 1;
    ++line_number;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    ordered_json object;
    try {
      object = ordered_json::parse(line);
    } catch (const nlohmann::json::exception&) {
      throw_input(fmt::format("request body line {}: not a JSON object", line_number),
                  "send one JSON object per line, keyed by the schema's column names");
    }
    if (!object.is_object()) throw_input(fmt::format("request body line {}: not a JSON object", line_number));
    if (header.empty()) {
      for (const auto& item : object.items()) header.push_back(item.key());
      for (size_t c = 0; c < header.size(); ++c) {
        if (c > 0) csv += ',';
        io::append_csv_field(csv, header[c]);
      }
      csv += '\n';
    }
    for (size_t c = 0; c < header.size(); ++c) {
      if (c > 0) csv += ',';
      const auto it = object.find(header[c]);
      if (it == object.end() || it->is_null()) continue;
      io::append_csv_field(csv, it->is_string() ? it->get<std::string>() : it->dump());
    }
    csv += '\n';
  }
  return csv;
}

}  // namespace

ApiResponse error_response(int status, std::string_view message, std::string_view hint) {
  ordered_json error = {{"status", status}, {"message", message}};
  if (!hint.empty()) error["hint"] = hint;
  ApiResponse response;
  response.status = status;
  response.body = ordered_json{{"error", error}}.dump();
  return response;
}

ApiResponse run_response(const ServedRun& run) { return {200, run.run_info.dump(), "application/json"}; }

ApiResponse charts_response(const ServedRun& run) { return {200, run.charts_json, "application/json"}; }

ApiResponse customer_response(const ServedRun& run, std::string_view id) {
  const std::optional<size_t> row = run.predictions.find(id);
  if (!row) return error_response(404, "unknown customer");
  ApiResponse response;
  std::string& out = response.body;
  out.reserve(512);
  run.predictions.append_json(out, *row);
  if (run.detail) {
    const auto it = run.detail->index.find(id);
    if (it != run.detail->index.end()) {
      out.pop_back();  // the row's closing brace
      append_detail(out, *run.detail, it->second);
      if (run.detail->explained) append_contributions(out, run, it->second);
      out += '}';
    }
  }
  return response;
}

ApiResponse segments_response(const ServedRun& run, const QueryParams& query) {
  const std::string sort = text_param(query, "sort", "spend_at_risk");
  if (sort != "spend_at_risk" && sort != "p_down") throw_input("query parameter sort must be spend_at_risk or p_down");
  const auto levels = static_cast<int64_t>(run.segments.at("current_level_counts").size());
  const int64_t level = int_param(query, "level", -1, 0, levels - 1);
  const int64_t offset = int_param(query, "offset", 0, 0, INT32_MAX);
  const int64_t limit = int_param(query, "limit", kDefaultLimit, 1, kMaxLimit);
  const std::vector<uint32_t>& order = sort == "p_down" ? run.at_risk_by_p_down : run.at_risk;
  const std::string prefix = text_param(query, "q", "");
  // Unfiltered, the page is read from the run's order itself, not from a copy of it.
  std::vector<uint32_t> filtered;
  if (level >= 0 || !prefix.empty()) filtered = matching_at_risk(run, order, level, prefix);
  const std::vector<uint32_t>& rows = level >= 0 || !prefix.empty() ? filtered : order;

  ordered_json head;
  head["customers"] = run.predictions.rows();
  for (const char* key : {"level_cuts", "current_level_counts", "predicted_level_counts", "expected_level_counts",
                          "transitions"}) {
    head[key] = run.segments.at(key);
  }
  const ordered_json& at_risk = run.segments.at("at_risk");
  ordered_json page = {{"customers", run.at_risk.size()}, {"spend_at_risk", at_risk.at("spend_at_risk")},
                       {"matching", rows.size()},        {"offset", offset},
                       {"limit", limit},                 {"sort", sort}};
  ApiResponse response;
  std::string& out = response.body;
  out = head.dump();
  out.pop_back();
  out += ",\"at_risk\":";
  out += page.dump();
  out.pop_back();
  out += ",\"rows\":[";
  const auto first = static_cast<size_t>(std::min<int64_t>(offset, static_cast<int64_t>(rows.size())));
  const size_t last = std::min(rows.size(), first + static_cast<size_t>(limit));
  for (size_t i = first; i < last; ++i) {
    if (i > first) out += ',';
    run.predictions.append_json(out, rows[i]);
  }
  out += "]}}";
  return response;
}

ApiResponse score_response(const ServedRun& run, std::string_view body, std::string_view content_type,
                           const QueryParams& query) {
  const bool ndjson = content_type.starts_with("application/x-ndjson");
  const std::string csv = ndjson ? ndjson_to_csv(body) : std::string(body);
  io::ReadOptions read_options;
  read_options.threads = 1;
  io::ReadResult read = io::parse_transactions(csv, "request body", io::resolve_schema(run.schema), read_options);
  const pipeline::ExperimentOptions settings = pipeline::bundle_settings(run.bundle.info);
  const pipeline::PreparedData data = pipeline::prepare_read(std::move(read), settings.clean);
  pipeline::PredictOptions options;
  options.model = run.name();
  if (query.contains("as_of")) options.as_of = parse_date_arg(text_param(query, "as_of", ""), "as_of");
  const pipeline::ScoredCustomers scores = pipeline::score_data(run.bundle, data, options);
  ordered_json customers = ordered_json::array();
  for (size_t r = 0; r < scores.rows(); ++r) customers.push_back(pipeline::prediction_row_json(scores, r));
  const ordered_json result = {{"as_of", scores.as_of}, {"warnings", scores.warnings}, {"customers", customers}};
  return {200, result.dump(), "application/json"};
}

}  // namespace cltv::serve
