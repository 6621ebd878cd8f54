// `cltv run` over an input split by customer into partitions (docs/architecture.md). Every step of
// a partition is a pure function of its rows and a small state fitted over all partitions, so
// partitions can run one at a time (memory bounded by the largest), in any order, or on other
// machines; their results merge into the same answer whatever the number of partitions.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cltv/eval/levels.h"
#include "cltv/features/clean.h"
#include "cltv/features/features.h"
#include "cltv/io/input_parts.h"
#include "cltv/io/inspect.h"
#include "cltv/io/spill.h"
#include "cltv/models/model.h"
#include "cltv/params.h"
#include "cltv/pipeline/data.h"
#include "cltv/pipeline/history_features.h"
#include "cltv/pipeline/scoring.h"
#include "cltv/pipeline/split.h"
#include "cltv/progress.h"
#include "cltv/table.h"

namespace cltv::pipeline {

// One partition as read: every accepted row of its customers in input order, with each row's place
// among the accepted rows of the whole input.
struct RawPartition {
  TransactionTable table;
  Column<uint64_t> row;
};

// Where the partitions come from: the input read whole (one partition, loaded once), a spill on
// disk, or parts already split by customer.
class PartitionSource {
 public:
  virtual ~PartitionSource() = default;
  virtual uint32_t count() const = 0;
  virtual RawPartition load(uint32_t p) const = 0;
  // The report of reading the input when the source reads it itself, once every partition has been
  // loaded (else nothing: the caller read it).
  virtual std::optional<io::ReadReport> read_report() const { return std::nullopt; }
};
std::unique_ptr<PartitionSource> whole_input_partition(TransactionTable table);
std::unique_ptr<PartitionSource> spilled_partitions(io::SpillInfo info);
// An input already partitioned by customer (--partitioned-input: no customer in two parts): part p
// is partition p, read whole by each pass, with no spill. SOURCE names the input in the report.
std::unique_ptr<PartitionSource> part_file_partitions(std::vector<io::InputPart> parts, const io::Schema& schema,
                                                      const io::ReadOptions& read, const std::string& source);

// ---- pass 0: partition (the input streamed into a spill by customer) ----

// What identifies an input and the settings its spill depends on (SETTINGS: schema, policy,
// partitions): each part's name and size, and for local files their modification time.
std::string input_fingerprint(const std::vector<io::InputPart>& parts, const std::string& settings);
struct SpilledInput {
  io::SpillInfo spill;
  io::ReadReport read;
  bool reused = false;  // a complete spill with the same fingerprint was found in DIR
};
// Streams PARTS into a spill of PARTITIONS in DIR (removed again if anything fails), or reuses the
// complete spill there with FINGERPRINT.
SpilledInput spill_input(const std::vector<io::InputPart>& parts, const io::Schema& schema,
                         const io::ReadOptions& read, uint32_t partitions, const std::string& dir,
                         const std::string& fingerprint);

// How `cltv run` splits its input and samples its training customers (--partitions,
// --train-sample, --valid-sample, --out-format).
struct PartitionOptions {
  int64_t partitions = 0;  // 0: one per partition_input_bytes of input
  int64_t train_sample = 200000;
  int64_t valid_sample = 100000;
  std::string out_format = "csv";  // "csv" or "csv.gz"
  bool partitioned_input = false;  // the source's parts each hold whole customers
};
// At most about this many customers' repeat purchases fit the history features' Gamma-Gamma.
inline constexpr double spend_fit_customers = 1'000'000;
// Input bytes per partition when --partitions is 0 (an input up to this size is read whole).
inline constexpr uint64_t partition_input_bytes = uint64_t{128} << 20;
void declare_partition_params(ParamSet& params, PartitionOptions& options);
// The partition count for an input of BYTES.
uint32_t partition_count(const PartitionOptions& options, uint64_t bytes);

// ---- pass 1: scan (cleaning steps 1-6 and what step 7 and the profile need) ----

// A partition after cleaning steps 1-6, with each customer's and basket's first input row (by
// table id), which order rows and break ties the same way however the input was split.
struct LinesCleaned {
  TransactionTable table;
  features::CleanReport report;
  std::vector<uint64_t> customer_order, basket_order;
};
LinesCleaned clean_partition_lines(RawPartition raw, const features::CleanOptions& clean, const io::ReadReport& read);

struct PartitionScan {
  LinesCleaned lines;
  std::vector<features::BasketTotal> largest, smallest;    // step-7 candidates (global order)
  std::vector<double> basket_totals;                       // every basket's total, ascending
  std::vector<double> raw_basket_totals, raw_amounts;      // before cleaning, ascending (profile)
  std::optional<std::pair<int64_t, int64_t>> time_range;   // after steps 1-6
  std::vector<std::string> units, products;                // every unit and product code read
  uint64_t customers = 0;                                  // with a line after steps 1-6
  io::InspectReport profile;                               // of the rows as read
};
// WHOLE: the partition is the whole input, whose profile quantiles are then its own (no sorted runs).
PartitionScan scan_partition(RawPartition raw, const features::CleanOptions& clean, const io::ReadReport& read,
                             bool whole);

// ---- what every later pass shares: the data's span and units, step 7's cuts, the windows ----

struct SampleRange {  // a customer is drawn when its sample position u in [0, 1) is in [from, to)
  double from = 0, to = 0;
  bool contains(double u) const { return u >= from && u < to; }
};

struct PartitionPlan {
  features::CleanOptions clean;
  features::OutlierCuts cuts;
  io::ReadReport read;  // the schema's return rule and the totals
  features::FeatureOptions features;  // units fixed to the whole input's
  int64_t first_time = 0, last_time = 0;  // after cleaning steps 1-6, over every partition
  std::vector<int64_t> train_as_of;       // training windows, oldest first
  int64_t valid_as_of = 0;
  SampleRange train_sample, valid_sample;
  // The repeat buyers the history features' Gamma-Gamma fits on: about spend_fit_customers of them
  // (its likelihood needs every distinct (x, zbar) pair, which grows with the input; the BG/NBD's
  // (x, t_x, T) counts do not).
  SampleRange spend_fit_sample{0.0, 1.0};
  int64_t score_as_of = 0;
  uint64_t seed = 0;
};

// The sample position of a customer for SEED: a hash of the id mapped to [0, 1).
double sample_position(std::string_view customer_id, uint64_t seed);

// A partition cleaned (steps 1-7) and ready for make_dataset, with each customer's first input row.
struct CleanPartition {
  PreparedData data;
  std::vector<uint64_t> customer_order;  // by table customer id
};
CleanPartition finish_cleaning(LinesCleaned lines, const PartitionPlan& plan);

// The cleaned partitions the passes after the scan read: the one partition of an input read whole,
// cleaned once and kept; or each partition loaded and cleaned again on every pass.
class CleanedPartitions {
 public:
  CleanedPartitions(const PartitionSource& source, const PartitionPlan& plan, std::optional<LinesCleaned> whole);
  uint32_t count() const { return source_.count(); }
  std::shared_ptr<const CleanPartition> get(uint32_t p) const;

 private:
  const PartitionSource& source_;
  const PartitionPlan& plan_;
  std::shared_ptr<const CleanPartition> kept_;
};

// ---- pass 2: collect (the sampled rows of the training and validation windows, and the fits' inputs) ----

struct OrderedRows {  // a dataset's rows with each row's customer order (its first input row)
  models::Dataset rows;
  std::vector<uint64_t> order;
};

struct PartitionCollect {
  std::vector<OrderedRows> train;     // per training window
  OrderedRows valid;
  std::vector<double> level_spend;    // positive monthly spend of the window at the last train as-of, ascending
  std::vector<HistoryRfm> history;    // per fit as-of (fit_as_ofs), with the history features
  features::CleanReport clean;        // step 7 of this partition
};
// The as-of dates whose BG/NBD + Gamma-Gamma the history features need: training windows, validation,
// scoring.
std::vector<int64_t> fit_as_ofs(const PartitionPlan& plan);
PartitionCollect collect_partition(const CleanPartition& part, const PartitionPlan& plan);

// ---- pass 3: score ----

struct PartitionScores {
  ScoredCustomers scores;
  std::vector<uint64_t> order;  // per row
};
PartitionScores score_partition(const CleanPartition& part, const storage::LoadedBundle& bundle,
                                const HistoryBtyd* score_fit, const PredictOptions& options);

// ---- every partition: a pass and its merge ----

struct InputScan {
  io::InspectReport profile;      // of the rows as read
  features::CleanReport lines;    // cleaning steps 1-6 over the whole input
  features::OutlierCuts cuts;     // step 7
  bool any_rows = false;
  int64_t first_time = 0, last_time = 0;  // after steps 1-6
  std::vector<std::string> units;         // sorted
  uint64_t customers = 0;                 // with a line after steps 1-6
  std::optional<LinesCleaned> whole;      // the cleaned lines of an input that is one partition
};
// SCRATCH: a directory for temporary files (removed by the caller).
InputScan scan_partitions(const PartitionSource& source, const features::CleanOptions& clean,
                          const io::ReadReport& read, const std::string& scratch, ProgressSink* progress);

struct CollectedSets {
  Splits splits;  // train (windows stacked oldest first) and valid; no description, no level_spend
  eval::LevelCuts levels;                             // GIVEN_LEVELS, else derived from the last training window
  std::vector<std::pair<int64_t, HistoryBtyd>> fits;  // by as-of (fit_as_ofs)
  features::CleanReport clean;                        // the whole cleaning report
};
// SCRATCH: a directory for temporary files. GIVEN_LEVELS: the level cuts when --levels or the schema
// gives them (else they are derived, exactly, from every customer's spend, kept in sorted runs on disk).
CollectedSets collect_partitions(const CleanedPartitions& partitions, const PartitionPlan& plan,
                                 const features::CleanReport& lines, const std::optional<eval::LevelCuts>& given_levels,
                                 const std::string& scratch, ProgressSink* progress);

// Scores every partition with BUNDLE (FIT: the history features' fit at the scoring as-of, or
// nullptr), writing the predictions in the input's customer order to OUT_PATH (gzip when GZIP),
// atomically. Returns the merged summary: counts and totals over every customer, and the first
// at-risk rows (segments_json's default page).
ScoredCustomers score_partitions(const CleanedPartitions& partitions, const storage::LoadedBundle& bundle, const HistoryBtyd* fit,
                                 const PredictOptions& options, const std::string& out_path, bool gzip,
                                 const std::string& scratch, ProgressSink* progress);

// ---- merging ----

// ROWS of every partition in ascending order: one dataset (empty when no row).
models::Dataset merge_ordered(std::vector<OrderedRows> parts);

}  // namespace cltv::pipeline
