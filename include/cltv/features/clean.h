// Cleaning a transaction table before features are built: drops unusable lines in a fixed order
// (non-positive amounts, exact duplicates), nets returns against purchases, optionally removes
// outlier baskets (absurd totals by default), counting every step.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "cltv/io/reader.h"
#include "cltv/params.h"
#include "cltv/table.h"

namespace cltv::features {

struct CleanOptions {
  // "net": a return line (as the schema's `returns` rule recognises it) takes its amount off its
  // customer's purchase lines of the same calendar month; "drop": it is dropped like any line with
  // amount <= 0.
  std::string returns = "net";
  int64_t drop_top_baskets = 0;     // remove the N baskets with the largest total
  int64_t drop_bottom_baskets = 0;  // remove the N baskets with the smallest total
  double max_basket_amount = 0.0;   // remove baskets whose total exceeds this; 0: no limit
  bool keep_absurd_amounts = false; // false: remove baskets far outside the rest (io/basket_outliers.h)
  int64_t threads = 0;              // --threads; 0: the CPUs available (cltv::resolve_threads)
};

// Declares --returns, --drop-top-baskets, --drop-bottom-baskets, --max-basket-amount and
// --keep-absurd-amounts.
void declare_clean_params(ParamSet& params, CleanOptions& options);

struct RemovedBasket {
  std::string basket_id;
  std::string customer_id;  // customer of the basket's first line
  double total = 0.0;
  uint64_t lines = 0;
  // "largest total", "smallest total", "total above --max-basket-amount" or
  // "absurd total (above Fx the basket p99 of X)"
  std::string reason;
};

// Row counts of each cleaning step, in the order the steps run.
struct CleanReport {
  uint64_t rows_read = 0;                            // data records in the input
  uint64_t rejected = 0;                             // 1. malformed rows (reader, --on-bad-row)
  std::map<std::string, uint64_t> rejected_by_reason;
  uint64_t no_customer = 0;                          // 2. rows without a customer id
  std::map<std::string, uint64_t> dropped_by_reason; // every reader drop reason (includes 2.)
  uint64_t non_positive_amount = 0;                  // 3. rows with amount <= 0 (but returns to net)
  uint64_t quantity_zero_to_one = 0;                 // 4. rows whose quantity 0 became 1 (kept)
  uint64_t exact_duplicates = 0;                     // 5. repeated identical input rows
  uint64_t return_lines = 0;                         // 6. return lines netted, then removed
  double return_amount_netted = 0.0;                 //    spend they took off purchase lines
  double return_amount_unmatched = 0.0;              //    their amount with no purchase to net against
  uint64_t purchase_lines_netted_out = 0;            //    purchase lines netted down to 0, removed
  uint64_t outlier_basket_rows = 0;                  // 7. lines of the removed baskets
  uint64_t absurd_baskets = 0;                       //    of them, removed as absurd (far outside)
  double absurd_limit = 0.0;                         //    the total above which a basket is absurd (0: off)
  std::vector<RemovedBasket> removed_baskets;        //    the removed baskets, largest total first
  uint64_t rows_out = 0;                             // lines left
};

// Cleans TABLE in place. Afterwards its rows are grouped by customer (ascending customer id,
// i.e. order of first appearance) and keep their input order within a customer; the string
// dictionaries are unchanged. REPORT is the reader's report of the same input (steps 1 and 2, and
// the schema's return rule). Throws config error for an unknown OPTIONS.returns.
CleanReport clean_transactions(TransactionTable& table, const CleanOptions& options,
                               const io::ReadReport& report);

// The parts of cleaning for a table split by customer (pipeline/partitions.h): steps 1-6 look at one
// customer at a time; step 7 chooses baskets by their totals over the whole input, so it runs with
// cuts decided from every part's basket totals.

// Steps 1-6 of clean_transactions: TABLE ends grouped by customer; the report's step-7 fields stay 0.
CleanReport clean_lines(TransactionTable& table, const CleanOptions& options, const io::ReadReport& report);

// A basket of a table after steps 1-6: its total and lines, and its place in the input (ORDER: the
// basket's first input row), which breaks ties between equal totals.
struct BasketTotal {
  uint32_t basket = 0;
  double total = 0.0;
  uint32_t lines = 0;
  uint32_t first_row = 0;  // the basket's first row in the table
  uint64_t order = 0;
};
// Every basket with a line in TABLE, by basket id; ORDER[b] is basket b's place in the input.
std::vector<BasketTotal> basket_totals(const TransactionTable& table, std::span<const uint64_t> order);

// Step 7's choice over the whole input: a basket is removed when it is among the N largest or N
// smallest totals (ties by input order), above --max-basket-amount, or above the absurd limit.
struct OutlierCuts {
  std::optional<BasketTotal> top_last;     // the N-th largest basket (none: --drop-top-baskets 0)
  std::optional<BasketTotal> bottom_last;  // the N-th smallest
  double max_amount = 0.0;                 // 0: no limit
  double absurd_limit = 0.0;               // 0: none (--keep-absurd-amounts, or p99 <= 0)
};
// Whether A comes before B among the largest totals (and B before A among the smallest).
bool larger_basket(const BasketTotal& a, const BasketTotal& b);
// The cuts for OPTIONS from the baskets' N-th largest and smallest (at most N of each in any order:
// the caller's candidates) and their totals' 99th percentile (io::quantile_inplace).
OutlierCuts outlier_cuts(const CleanOptions& options, std::vector<BasketTotal> largest,
                         std::vector<BasketTotal> smallest, double basket_total_p99);
// The N baskets of BASKETS that come first among the largest (LARGEST) or the smallest totals.
std::vector<BasketTotal> extreme_baskets(std::vector<BasketTotal> baskets, int64_t n, bool largest);
// Step 7 on a table cleaned by clean_lines: removes the baskets CUTS choose (BASKETS: its
// basket_totals), listing them in REPORT (largest total first, ties by input order).
void remove_outlier_baskets(TransactionTable& table, const std::vector<BasketTotal>& baskets,
                            const OutlierCuts& cuts, CleanReport& report);
// Whether OPTIONS remove any basket at all (step 7 runs).
bool removes_baskets(const CleanOptions& options);

}  // namespace cltv::features
