// From a transaction file to model datasets: read, clean, then build the features (and the RFM
// summary the probabilistic models use) for a window ending at an as-of date.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "cltv/features/clean.h"
#include "cltv/features/features.h"
#include "cltv/io/input_options.h"
#include "cltv/models/model.h"
#include "cltv/pipeline/history_features.h"

namespace cltv::pipeline {

// A cleaned transaction table: rows grouped by customer (see features::clean_transactions).
struct PreparedData {
  TransactionTable table;
  io::ReadReport read;
  features::CleanReport clean;
  std::string input_sha256;
  int64_t first_time = 0;  // earliest and latest timestamps after cleaning
  int64_t last_time = 0;
};

PreparedData prepare_data(const io::InputOptions& input, const features::CleanOptions& clean);
// The same for input already read.
PreparedData prepare_read(io::ReadResult read, const features::CleanOptions& clean);

// The population's rows at OPTIONS.as_of: features, targets (only when the data covers the whole
// target period: a partial month would look like a fall in spend), window amount, and
// lifetimes-style RFM in days over all history before as-of.
// With the history features, BTYD says where their BG/NBD + Gamma-Gamma comes from. CUSTOMERS, when
// given, receives each row's table customer id.
models::Dataset make_dataset(const PreparedData& data, const features::FeatureOptions& options,
                             const HistoryBtydSource& btyd = {}, std::vector<uint32_t>* customers = nullptr);
// The fitting history at AS_OF (every customer with a purchase before it), without the features;
// SPEND_SAMPLE, when given, chooses by customer id the repeat buyers the Gamma-Gamma rows keep.
HistoryRfm history_rfm_at(const PreparedData& data, int64_t as_of,
                          const std::function<bool(std::string_view)>& spend_sample = {});
// make_dataset for training and evaluation: a config error naming FLAG when the data does not cover
// the whole target period of the window at AS_OF.
models::Dataset make_target_dataset(const PreparedData& data, features::FeatureOptions options, int64_t as_of,
                                    const char* flag, const HistoryBtydSource& btyd = {},
                                    std::vector<uint32_t>* customers = nullptr);

// The rows ROWS of DATA, in that order.
models::Dataset subset(const models::Dataset& data, const std::vector<size_t>& rows);
// The rows of every part in order, as one training set (windows at successive as-of dates). The
// parts must have the same feature columns; the history the probabilistic models fit on and the
// horizon are the last part's.
models::Dataset stack_datasets(const std::vector<models::Dataset>& parts);

// The default as-of for scoring: the first day after the data's last complete month (a month is
// complete when the data reaches its last day), so no feature month is partial.
int64_t default_as_of(const PreparedData& data);
// The same for data whose last line is at LAST_TIME.
int64_t default_as_of(int64_t last_time);
// Whether the data covers the feature window ending at AS_OF to its last day.
bool feature_window_covered(const PreparedData& data, int64_t as_of);

// Declares --history-features (train, compare, run).
void declare_history_features_param(ParamSet& params, features::FeatureOptions& options);

// Scoring data should be mostly in the units a model was trained on: below this share of the
// feature window's spend in the model's units, scoring is refused (or warned about when allowed).
inline constexpr double min_unit_coverage = 0.5;
// The share of the spend in [WINDOW_START, AS_OF) whose unit is one of UNITS (1 when there is none).
double unit_coverage(const PreparedData& data, const std::vector<std::string>& units, int64_t window_start,
                     int64_t as_of);
// Declares --allow-unit-mismatch (predict, evaluate, run).
void declare_unit_mismatch_param(ParamSet& params, bool& allow);
// A model error when the feature window at AS_OF has less than min_unit_coverage of its spend in
// the units of a model trained with OPTIONS (none is checked when OPTIONS.units is empty); with
// ALLOW, the warning text instead. Empty when the data fits.
std::string check_unit_coverage(const PreparedData& data, const features::FeatureOptions& options, int64_t as_of,
                                bool allow);

}  // namespace cltv::pipeline
