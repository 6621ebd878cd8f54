// The history features (--history-features; always on for the `stack` model): each population
// customer's longer history before as-of (spend, baskets and active months over 3, 6 and 12 months,
// tenure, the gaps between purchase days, the trend of monthly spend) and the outputs of a BG/NBD +
// Gamma-Gamma model fitted on every customer's history before that as-of. Appended after the base
// features; names and order are part of a trained model's contract (docs/features.md).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cltv/models/model.h"
#include "cltv/table.h"

namespace cltv::pipeline {

// The column names, in order.
const std::vector<std::string>& history_feature_names();

// The row range of every customer in a table grouped by customer: customer c's rows are
// [offsets[c], offsets[c + 1]).
std::vector<uint32_t> customer_row_offsets(const TransactionTable& table);

// Appends the history columns to D, whose rows are the table customers CUSTOMERS at AS_OF, from the
// table's lines before AS_OF (months before the data's first month, DATA_FIRST_TIME, do not count in
// the trend). D must already carry its RFM summary and fitting history (make_dataset fills them).
// Customers are computed on THREADS threads. Throws model error when the BG/NBD or Gamma-Gamma fit
// fails.
void append_history_features(const TransactionTable& table, const std::vector<uint32_t>& offsets, int64_t as_of,
                             int64_t data_first_time, const std::vector<uint32_t>& customers, unsigned threads,
                             models::Dataset& d);

}  // namespace cltv::pipeline
