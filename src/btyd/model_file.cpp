// Saving and loading fitted "buy 'til you die" models as checksummed JSON.
#include "cltv/btyd/model_file.h"

#include <cmath>
#include <fmt/format.h>
#include <limits>
#include <nlohmann/json.hpp>

#include "cltv/error.h"
#include "cltv/io/atomic_file.h"
#include "cltv/sha256.h"

namespace cltv::btyd {

namespace {

using nlohmann::json;

json number_or_null(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

json payload(const FittedModel& model) {
  json parameters = json::object(), errors = json::object();
  for (size_t k = 0; k < model.names.size(); ++k) {
    parameters[model.names[k]] = model.values[k];
    errors[model.names[k]] = number_or_null(model.standard_errors[k]);
  }
  return json{{"format_version", model_format_version},
              {"kind", std::string(to_string(model.kind))},
              {"time_unit", std::string(to_string(model.unit))},
              {"parameters", parameters},
              {"standard_errors", errors},
              {"log_likelihood", number_or_null(model.log_likelihood)},
              {"customers", model.customers},
              {"distinct_rows", model.distinct_rows},
              {"l2_penalty", model.l2_penalty},
              {"convergence",
               {{"converged", model.convergence.converged},
                {"method", model.convergence.method},
                {"status", model.convergence.status},
                {"used_fallback", model.convergence.used_fallback},
                {"evaluations", model.convergence.evaluations},
                {"gradient_norm", number_or_null(model.convergence.gradient_norm)},
                {"boundary", model.convergence.boundary}}}};
}

}  // namespace

std::string model_summary_json(const FittedModel& model) { return payload(model).dump(2) + "\n"; }

std::string model_summary_text(const FittedModel& model) {
  std::string out = fmt::format("{} model fitted on {} customers ({} distinct rows), time unit {}\n", to_string(model.kind),
                                model.customers, model.distinct_rows, to_string(model.unit));
  for (size_t k = 0; k < model.names.size(); ++k) {
    out += fmt::format("  {:<6} = {:.6g}  (standard error {:.3g})\n", model.names[k], model.values[k], model.standard_errors[k]);
  }
  out += fmt::format("  log-likelihood {:.4f}; {} by {} ({}, {} evaluations{})\n", model.log_likelihood,
                     model.convergence.converged ? "converged" : "NOT converged", model.convergence.method,
                     model.convergence.status, model.convergence.evaluations,
                     model.convergence.used_fallback ? ", after the fallback method" : "");
  if (!model.convergence.boundary.empty()) out += fmt::format("  BOUNDARY: {}\n", model.convergence.boundary);
  return out;
}

void save_model(const FittedModel& model, const std::string& path) {
  json doc = payload(model);
  doc["sha256"] = sha256_hex(doc.dump());
  io::write_file_atomically(path, doc.dump(2) + "\n");
}

FittedModel load_model(const std::string& path) {
  const std::string text = io::read_whole_file(path);
  const std::string hint = "refit with `cltv btyd fit`";
  json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    throw_model(fmt::format("'{}' is not a btyd model file (not a JSON object; truncated?)", path), hint);
  }
  if (!doc.contains("format_version") || !doc["format_version"].is_number_integer()) {
    throw_model(fmt::format("'{}' has no format_version: not a btyd model file", path), hint);
  }
  const int version = doc["format_version"].get<int>();
  if (version > model_format_version) {
    throw_model(fmt::format("'{}' has format_version {}, newer than this cltv reads ({})", path, version,
                            model_format_version),
                "upgrade cltv or refit the model with this version");
  }
  if (!doc.contains("sha256") || !doc["sha256"].is_string()) {
    throw_model(fmt::format("'{}' has no sha256 checksum", path), hint);
  }
  const std::string stored = doc["sha256"].get<std::string>();
  doc.erase("sha256");
  if (sha256_hex(doc.dump()) != stored) {
    throw_model(fmt::format("'{}' does not match its sha256 checksum: the file was altered or damaged", path), hint);
  }
  try {
    FittedModel model;
    model.kind = parse_model_kind(doc.at("kind").get<std::string>(), path);
    model.unit = parse_time_unit(doc.at("time_unit").get<std::string>(), path);
    model.names = parameter_names(model.kind);
    for (const auto& name : model.names) {
      const double value = doc.at("parameters").at(name).get<double>();
      if (!(value > 0) || !std::isfinite(value)) throw_model(fmt::format("'{}': parameter {} = {} is not positive", path, name, value), hint);
      model.values.push_back(value);
      const json& se = doc.at("standard_errors").at(name);
      model.standard_errors.push_back(se.is_null() ? std::numeric_limits<double>::quiet_NaN() : se.get<double>());
    }
    const json& ll = doc.at("log_likelihood");
    model.log_likelihood = ll.is_null() ? std::numeric_limits<double>::quiet_NaN() : ll.get<double>();
    model.customers = doc.at("customers").get<double>();
    model.distinct_rows = doc.at("distinct_rows").get<size_t>();
    model.l2_penalty = doc.at("l2_penalty").get<double>();
    const json& c = doc.at("convergence");
    model.convergence.converged = c.at("converged").get<bool>();
    model.convergence.method = c.at("method").get<std::string>();
    model.convergence.status = c.at("status").get<std::string>();
    model.convergence.used_fallback = c.at("used_fallback").get<bool>();
    model.convergence.evaluations = c.at("evaluations").get<int>();
    model.convergence.gradient_norm = c.at("gradient_norm").is_null() ? std::numeric_limits<double>::quiet_NaN()
                                                                       : c.at("gradient_norm").get<double>();
    model.convergence.boundary = c.value("boundary", std::string());  // absent in files before the flag
    return model;
  } catch (const json::exception& e) {
    throw_model(fmt::format("'{}' is not a valid btyd model file: {}", path, e.what()), hint);
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::model) throw;
    throw_model(fmt::format("'{}' is not a valid btyd model file: {}", path, e.what()), hint);
  }
}

}  // namespace cltv::btyd
