// Input schemas: how the columns of a transaction file map onto the canonical transaction fields.
// Built-in schemas are declared in the same JSON form a user schema file uses, so a new source
// needs no code.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace cltv::io {

enum class HeaderMode { required, none, optional };

// How a source marks return lines (cancellations): a line with a negative amount whose basket id
// starts with `basket_prefix` (empty: any negative-amount line). Cleaning nets them (--returns).
struct ReturnRule {
  bool enabled = false;  // false: the source marks no returns; negative lines are just dropped
  std::string basket_prefix;
  bool matches(std::string_view basket_id) const { return enabled && basket_id.starts_with(basket_prefix); }
};

struct Schema {
  std::string name;
  std::string description;

  // Layout.
  bool whitespace_delimited = false;  // runs of spaces/tabs separate fields; no quoting
  char delimiter = ',';
  char decimal = '.';  // decimal separator of numbers: '.' or ',' (then the delimiter is not ',')
  HeaderMode header = HeaderMode::required;
  // Column names by position for files without a header; one layout per accepted field count.
  std::vector<std::vector<std::string>> layouts;

  // Column name for each canonical field; empty when the source has no such column.
  std::string customer;   // required
  std::string basket;     // absent: each distinct (customer, time) is one basket
  std::string line_seq;   // optional
  std::string unit;       // absent: every row is in unit `default_unit`
  std::string product;    // absent: every product is "unknown"
  std::string date;       // a date column (with `time` optional) ...
  std::string time;
  std::string datetime;   // ... or one date-time column
  std::string quantity;   // absent: 1
  std::string amount;     // line amount, or:
  std::string price;      // unit price; amount = quantity x price

  std::vector<std::string> date_formats;      // for `date` or `datetime`, tried in order
  std::vector<std::string> time_formats;      // for `time`
  bool customer_strip_decimal_zero = false;   // "17850.0" -> "17850"
  std::string default_unit = "all";
  ReturnRule returns;
  // Spend levels of the source's currency: lower bounds of levels 1, 2, ... in monthly spend.
  // Empty: cuts are derived from the training data.
  std::vector<double> level_cuts;
  // The currency code of the amounts (e.g. "KRW"), shown beside money; empty when unknown.
  std::string currency;

  // Names of the columns that must be present (for error messages and header checks).
  std::vector<std::string> required_columns() const;
};

// Throws cltv::Error(config) with the key that is wrong.
Schema schema_from_json(const std::string& json_text, const std::string& origin);

// The built-in schema names, in the order `--help` lists them.
std::vector<std::string> builtin_schema_names();

// NAME is a built-in schema or a path to a JSON schema file; unknown names list the valid ones.
Schema resolve_schema(const std::string& name_or_path);

}  // namespace cltv::io
