// The history features (--history-features; always on for the `stack` model): each population
// customer's longer history before as-of (spend, baskets and active months over 3, 6 and 12 months,
// tenure, the gaps between purchase days, the trend of monthly spend) and the outputs of a BG/NBD +
// Gamma-Gamma model fitted on every customer's history before that as-of. Appended after the base
// features; names and order are part of a trained model's contract (docs/features.md).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "cltv/btyd/models.h"
#include "cltv/models/model.h"
#include "cltv/table.h"

namespace cltv::pipeline {

// The column names, in order.
const std::vector<std::string>& history_feature_names();

// The row range of every customer in a table grouped by customer: customer c's rows are
// [offsets[c], offsets[c + 1]).
std::vector<uint32_t> customer_row_offsets(const TransactionTable& table);

// The BG/NBD + Gamma-Gamma behind the btyd_* history features at one as-of, and what it is fitted
// on: every customer with a purchase before as-of, collapsed (small, and mergeable over partitions).
struct HistoryRfm {
  btyd::WeightedRfm purchases;  // (x, t_x, T)
  btyd::WeightedRfm spend;      // repeat buyers' (x, zbar)
};
struct HistoryBtyd {
  btyd::FittedModel purchase, spend;
};
// D's fitting history (make_dataset fills it), checked and collapsed.
HistoryRfm history_rfm(const models::Dataset& d, int64_t as_of);
// PARTS merged into one.
HistoryRfm merge_history_rfm(std::span<const HistoryRfm> parts);
// Throws model error when a fit does not converge.
HistoryBtyd fit_history_btyd(const HistoryRfm& rfm, int64_t as_of);

// Where make_dataset's btyd_* columns come from: fitted on the dataset's own history (one table
// holding every customer), given (fitted over every partition), or left to the caller
// (append_btyd_features once the fit over every partition is known).
struct HistoryBtydSource {
  enum class Kind { fit_here, given, later } kind = Kind::fit_here;
  const HistoryBtyd* given = nullptr;
};

// Appends the history aggregates (every history column before the btyd_* ones) to D, whose rows are
// the table customers CUSTOMERS at AS_OF, from the table's lines before AS_OF (months before the
// data's first month, DATA_FIRST_TIME, do not count in the trend). Customers are computed on THREADS
// threads.
void append_history_aggregates(const TransactionTable& table, const std::vector<uint32_t>& offsets, int64_t as_of,
                               int64_t data_first_time, const std::vector<uint32_t>& customers, unsigned threads,
                               models::Dataset& d);
// Appends the btyd_* columns from FIT and each row's RFM summary (D must carry it), on THREADS threads.
void append_btyd_features(const HistoryBtyd& fit, unsigned threads, models::Dataset& d);

}  // namespace cltv::pipeline
