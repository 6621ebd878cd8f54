// Built-in schemas (declared as JSON, exactly like a user schema file) and the JSON schema parser.
#include "cltv/io/schema.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cltv/error.h"
#include "cltv/io/atomic_file.h"

namespace cltv::io {
namespace {

struct BuiltinSchema {
  const char* name;
  const char* json;
};

// The schema's spend-level cuts: strictly increasing positive numbers (monthly spend, in money).
std::vector<double> level_cuts_of(const nlohmann::json& value, const std::string& origin) {
  const std::string hint = "for example \"level_cuts\": [100, 250, 500, 800, 1500] (lower bounds of levels 1, 2, ...)";
  if (!value.is_array() || value.empty()) {
    throw_config(fmt::format("{}: key 'level_cuts' must be a non-empty list of numbers", origin), hint);
  }
  std::vector<double> cuts;
  for (const auto& v : value) {
    if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() <= 0 ||
        (!cuts.empty() && v.get<double>() <= cuts.back())) {
      throw_config(fmt::format("{}: key 'level_cuts' must hold strictly increasing positive numbers", origin), hint);
    }
    cuts.push_back(v.get<double>());
  }
  return cuts;
}

constexpr std::array builtin_schemas = {
    BuiltinSchema{"lpoint", R"({
      "description": "Lotte L.Point purchases: clnt_id, trans_id, trans_seq, biz_unit, pd_c, de_dt (yyyymmdd), de_tm, buy_am, buy_ct",
      "delimiter": ",",
      "header": "required",
      "fields": {"customer": "clnt_id", "basket": "trans_id", "line_seq": "trans_seq",
                 "unit": "biz_unit", "product": "pd_c", "date": "de_dt", "time": "de_tm",
                 "amount": "buy_am", "quantity": "buy_ct"},
      "date_formats": ["%Y%m%d"],
      "time_formats": ["%H:%M:%S", "%H:%M"],
      "level_cuts": [100000, 250000, 500000, 800000, 1500000],
      "currency": "KRW"
    })"},
    BuiltinSchema{"online-retail", R"({
      "description": "UCI Online Retail invoices: InvoiceNo, StockCode, Description, Quantity, InvoiceDate, UnitPrice, CustomerID, Country; amount = Quantity x UnitPrice",
      "delimiter": ",",
      "header": "required",
      "fields": {"customer": "CustomerID", "basket": "InvoiceNo", "unit": "Country",
                 "product": "StockCode", "datetime": "InvoiceDate", "quantity": "Quantity",
                 "price": "UnitPrice"},
      "date_formats": ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S"],
      "customer_strip_decimal_zero": true,
      "returns": {"basket_prefix": "C"},
      "currency": "GBP"
    })"},
    BuiltinSchema{"cdnow", R"({
      "description": "CDNOW purchases, whitespace separated: id yyyymmdd qty amount, or id sample_id yyyymmdd qty amount",
      "delimiter": "whitespace",
      "header": "optional",
      "layouts": [["customer_id", "date", "quantity", "amount"],
                  ["customer_id", "sample_id", "date", "quantity", "amount"]],
      "fields": {"customer": "customer_id", "date": "date", "quantity": "quantity",
                 "amount": "amount"},
      "date_formats": ["%Y%m%d"],
      "default_unit": "all",
      "currency": "USD"
    })"},
};

}  // namespace

std::vector<std::string> Schema::required_columns() const {
  std::vector<std::string> columns;
  for (const std::string* column : {&customer, &basket, &line_seq, &unit, &product, &date, &time,
                                    &datetime, &quantity, &amount, &price}) {
    if (!column->empty()) columns.push_back(*column);
  }
  return columns;
}

Schema schema_from_json(const std::string& json_text, const std::string& origin) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(json_text);
  } catch (const nlohmann::json::parse_error& e) {
    throw_config(fmt::format("{}: schema is not valid JSON: {}", origin, e.what()));
  }
  if (!doc.is_object()) throw_config(fmt::format("{}: schema must be a JSON object", origin));

  static const std::vector<std::string> known_keys = {
      "name",   "description",  "delimiter",    "decimal",      "header",
      "layouts", "fields",      "date_formats", "time_formats",
      "customer_strip_decimal_zero", "default_unit", "returns", "level_cuts", "currency"};
  for (const auto& item : doc.items()) {
    const std::string& key = item.key();
    if (std::find(known_keys.begin(), known_keys.end(), key) == known_keys.end()) {
      throw_config(fmt::format("{}: unknown schema key '{}'", origin, key),
                   fmt::format("valid keys: {}", fmt::join(known_keys, ", ")));
    }
  }

  auto get_string = [&](const nlohmann::json& obj, const char* key, const std::string& where) {
    const auto& v = obj.at(key);
    if (!v.is_string()) throw_config(fmt::format("{}: key '{}{}' must be a string", origin, where, key));
    return v.get<std::string>();
  };
  auto get_string_list = [&](const char* key) {
    std::vector<std::string> out;
    if (!doc.contains(key)) return out;
    const auto& v = doc.at(key);
    if (!v.is_array()) throw_config(fmt::format("{}: key '{}' must be a list of strings", origin, key));
    for (const auto& item : v) {
      if (!item.is_string()) throw_config(fmt::format("{}: key '{}' must be a list of strings", origin, key));
      out.push_back(item.get<std::string>());
    }
    return out;
  };

  Schema schema;
  schema.name = doc.contains("name") ? get_string(doc, "name", "") : origin;
  if (doc.contains("description")) schema.description = get_string(doc, "description", "");

  const std::string delimiter = doc.contains("delimiter") ? get_string(doc, "delimiter", "") : ",";
  if (delimiter == "whitespace") {
    schema.whitespace_delimited = true;
  } else if (delimiter == "\\t" || delimiter == "tab") {
    schema.delimiter = '\t';
  } else if (delimiter.size() == 1 && delimiter != "\"" && delimiter != "\n" && delimiter != "\r") {
    schema.delimiter = delimiter[0];
  } else {
    throw_config(fmt::format("{}: key 'delimiter' is '{}'", origin, delimiter),
                 "expected one character such as \",\" or \";\", \"tab\", or \"whitespace\"");
  }

  const std::string decimal = doc.contains("decimal") ? get_string(doc, "decimal", "") : ".";
  if (decimal != "." && decimal != ",") {
    throw_config(fmt::format("{}: key 'decimal' is '{}'", origin, decimal), "expected \".\" or \",\"");
  }
  schema.decimal = decimal[0];
  if (schema.decimal == ',' && !schema.whitespace_delimited && schema.delimiter == ',') {
    throw_config(fmt::format("{}: key 'decimal' is \",\" and so is 'delimiter'", origin),
                 "with decimal commas the fields need another delimiter, such as \";\" or \"tab\"");
  }

  const std::string header = doc.contains("header") ? get_string(doc, "header", "") : "required";
  if (header == "required") {
    schema.header = HeaderMode::required;
  } else if (header == "none") {
    schema.header = HeaderMode::none;
  } else if (header == "optional") {
    schema.header = HeaderMode::optional;
  } else {
    throw_config(fmt::format("{}: key 'header' is '{}'", origin, header),
                 "expected \"required\", \"none\" or \"optional\"");
  }

  if (doc.contains("layouts")) {
    const auto& layouts = doc.at("layouts");
    if (!layouts.is_array()) throw_config(fmt::format("{}: key 'layouts' must be a list of lists of column names", origin));
    for (const auto& layout : layouts) {
      if (!layout.is_array()) throw_config(fmt::format("{}: key 'layouts' must be a list of lists of column names", origin));
      std::vector<std::string> names;
      for (const auto& n : layout) {
        if (!n.is_string()) throw_config(fmt::format("{}: key 'layouts' must be a list of lists of column names", origin));
        names.push_back(n.get<std::string>());
      }
      schema.layouts.push_back(std::move(names));
    }
  }
  if (schema.header != HeaderMode::required && schema.layouts.empty()) {
    throw_config(fmt::format("{}: a schema without a required header needs 'layouts'", origin),
                 "list the column names by position, for example [[\"id\", \"date\", \"amount\"]]");
  }

  if (!doc.contains("fields") || !doc.at("fields").is_object()) {
    throw_config(fmt::format("{}: missing object 'fields'", origin),
                 "map canonical fields to column names, for example {\"customer\": \"id\", ...}");
  }
  const auto& fields = doc.at("fields");
  const std::vector<std::pair<const char*, std::string*>> field_slots = {
      {"customer", &schema.customer}, {"basket", &schema.basket},     {"line_seq", &schema.line_seq},
      {"unit", &schema.unit},         {"product", &schema.product},   {"date", &schema.date},
      {"time", &schema.time},         {"datetime", &schema.datetime}, {"quantity", &schema.quantity},
      {"amount", &schema.amount},     {"price", &schema.price}};
  for (const auto& item : fields.items()) {
    const std::string& key = item.key();
    auto slot = std::find_if(field_slots.begin(), field_slots.end(),
                             [&](const auto& s) { return key == s.first; });
    if (slot == field_slots.end()) {
      std::vector<std::string> names;
      for (const auto& s : field_slots) names.emplace_back(s.first);
      throw_config(fmt::format("{}: unknown field 'fields.{}'", origin, key),
                   fmt::format("valid fields: {}", fmt::join(names, ", ")));
    }
    *slot->second = get_string(fields, key.c_str(), "fields.");
  }

  schema.date_formats = get_string_list("date_formats");
  schema.time_formats = get_string_list("time_formats");
  if (doc.contains("customer_strip_decimal_zero")) {
    const auto& v = doc.at("customer_strip_decimal_zero");
    if (!v.is_boolean()) throw_config(fmt::format("{}: key 'customer_strip_decimal_zero' must be true or false", origin));
    schema.customer_strip_decimal_zero = v.get<bool>();
  }
  if (doc.contains("default_unit")) schema.default_unit = get_string(doc, "default_unit", "");
  if (doc.contains("returns")) {
    const auto& returns = doc.at("returns");
    bool valid = returns.is_object();
    for (const auto& item : returns.items()) valid = valid && item.key() == "basket_prefix";
    if (!valid) {
      throw_config(fmt::format("{}: key 'returns' must be an object with an optional 'basket_prefix'", origin),
                   "for example {\"basket_prefix\": \"C\"}, or {} when every negative-amount line is a return");
    }
    schema.returns.enabled = true;
    if (returns.contains("basket_prefix")) schema.returns.basket_prefix = get_string(returns, "basket_prefix", "returns.");
  }
  if (doc.contains("level_cuts")) schema.level_cuts = level_cuts_of(doc.at("level_cuts"), origin);
  if (doc.contains("currency")) schema.currency = get_string(doc, "currency", "");

  // Consistency checks.
  if (schema.customer.empty()) throw_config(fmt::format("{}: 'fields.customer' is required", origin));
  if (schema.datetime.empty() == schema.date.empty()) {
    throw_config(fmt::format("{}: give either 'fields.date' (with optional 'fields.time') or 'fields.datetime'", origin));
  }
  if (!schema.time.empty() && schema.date.empty()) throw_config(fmt::format("{}: 'fields.time' needs 'fields.date'", origin));
  if (schema.date_formats.empty()) {
    throw_config(fmt::format("{}: 'date_formats' is empty", origin),
                 "list formats such as \"%Y-%m-%d\" or \"%m/%d/%Y %H:%M\"");
  }
  if (!schema.time.empty() && schema.time_formats.empty()) {
    throw_config(fmt::format("{}: 'time_formats' is empty but 'fields.time' is set", origin),
                 "list formats such as \"%H:%M:%S\"");
  }
  if (schema.amount.empty() == schema.price.empty()) {
    throw_config(fmt::format("{}: give exactly one of 'fields.amount' and 'fields.price'", origin),
                 "'price' means amount = quantity x price");
  }
  if (!schema.returns.basket_prefix.empty() && schema.basket.empty()) {
    throw_config(fmt::format("{}: 'returns.basket_prefix' needs 'fields.basket'", origin),
                 "returns are recognised by their basket id; without a basket column use \"returns\": {}");
  }
  if (!schema.price.empty() && schema.quantity.empty()) {
    throw_config(fmt::format("{}: 'fields.price' needs 'fields.quantity'", origin));
  }
  for (const auto& layout : schema.layouts) {
    for (const auto& column : schema.required_columns()) {
      if (std::find(layout.begin(), layout.end(), column) == layout.end()) {
        throw_config(fmt::format("{}: layout [{}] lacks column '{}'", origin, fmt::join(layout, ", "), column));
      }
      if (std::count(layout.begin(), layout.end(), column) > 1) {
        throw_config(fmt::format("{}: layout [{}] names column '{}' more than once", origin, fmt::join(layout, ", "),
                                 column));
      }
    }
  }
  return schema;
}

std::vector<std::string> builtin_schema_names() {
  std::vector<std::string> names;
  for (const auto& s : builtin_schemas) names.emplace_back(s.name);
  return names;
}

Schema resolve_schema(const std::string& name_or_path) {
  for (const auto& s : builtin_schemas) {
    if (name_or_path == s.name) {
      Schema schema = schema_from_json(s.json, s.name);
      schema.name = s.name;
      return schema;
    }
  }
  if (name_or_path.ends_with(".json") || std::filesystem::exists(name_or_path)) {
    return schema_from_json(read_whole_file(name_or_path), name_or_path);
  }
  throw_config(fmt::format("unknown schema '{}'", name_or_path),
               fmt::format("valid schemas: {}, or the path of a JSON schema file",
                           fmt::join(builtin_schema_names(), ", ")));
}

}  // namespace cltv::io
