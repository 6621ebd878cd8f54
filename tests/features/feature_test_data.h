// Helpers for the feature tests: parsing small CSV texts with a schema that names every field.
#pragma once

#include <string>

#include "cltv/io/reader.h"
#include "cltv/io/schema.h"

namespace cltv::test {

// Columns: customer,basket,unit,product,time,qty,amount,note (note is not mapped, so two rows that
// differ only in it are not exact duplicates).
inline const io::Schema& feature_test_schema() {
  static const io::Schema schema = io::schema_from_json(R"({
      "name": "feature-test",
      "fields": {"customer": "customer", "basket": "basket", "unit": "unit", "product": "product",
                 "datetime": "time", "quantity": "qty", "amount": "amount"},
      "date_formats": ["%Y-%m-%d %H:%M:%S"]})",
                                                        "feature test schema");
  return schema;
}

inline const char* feature_test_header = "customer,basket,unit,product,time,qty,amount,note\n";

// The same columns; a line with a negative amount in a basket whose id starts with "R" is a return.
inline const io::Schema& returns_test_schema() {
  static const io::Schema schema = [] {
    io::Schema s = feature_test_schema();
    s.returns = {true, "R"};
    return s;
  }();
  return schema;
}

inline io::ReadResult parse_feature_rows(const std::string& rows, io::BadRowPolicy policy = io::BadRowPolicy::fail,
                                         const io::Schema& schema = feature_test_schema()) {
  io::ReadOptions options;
  options.threads = 1;
  options.on_bad_row.policy = policy;
  return io::parse_transactions(std::string(feature_test_header) + rows, "rows.csv", schema, options);
}

}  // namespace cltv::test
