// The per-partition passes of a partitioned run: scan, collect and score, each a pure function of
// one partition's rows and the plan fitted over all of them.
#include "cltv/pipeline/partitions.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "cltv/error.h"
#include "cltv/io/basket_outliers.h"
#include "cltv/time.h"

namespace cltv::pipeline {
namespace {

// The input read whole: its one partition is handed over once (the scan keeps it cleaned for the
// later passes, see CleanedPartitions), so the table is never copied.
class WholeInput final : public PartitionSource {
 public:
  explicit WholeInput(TransactionTable table) : table_(std::move(table)) {}
  uint32_t count() const override { return 1; }
  RawPartition load(uint32_t) const override {
    if (loaded_) throw_internal("the input read whole is loaded once");
    loaded_ = true;
    RawPartition raw;
    raw.row.resize(table_.rows());
    for (size_t i = 0; i < raw.row.size(); ++i) raw.row[i] = i;
    raw.table = std::move(table_);
    return raw;
  }

 private:
  mutable TransactionTable table_;
  mutable bool loaded_ = false;
};

// The first input row of each id of a dictionary, from its column (ids interned in order of first
// appearance, rows in input order).
std::vector<uint64_t> first_rows(const Column<uint32_t>& ids, uint32_t count, const Column<uint64_t>& row) {
  std::vector<uint64_t> first(count, std::numeric_limits<uint64_t>::max());
  for (size_t i = 0; i < ids.size(); ++i) {
    if (first[ids[i]] == std::numeric_limits<uint64_t>::max()) first[ids[i]] = row[i];
  }
  return first;
}

std::vector<double> sorted_basket_totals(const TransactionTable& t) {
  std::vector<double> total(t.basket_ids.size(), 0.0);
  std::vector<uint8_t> seen(t.basket_ids.size(), 0);
  for (size_t i = 0; i < t.rows(); ++i) {
    total[t.basket[i]] += t.amount[i];
    seen[t.basket[i]] = 1;
  }
  std::vector<double> present;
  for (size_t b = 0; b < total.size(); ++b) {
    if (seen[b] != 0) present.push_back(total[b]);
  }
  std::sort(present.begin(), present.end());
  return present;
}

uint64_t splitmix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// The rows of D whose customers' sample positions fall in RANGE, with their customers' order; their
// fitting history is their own RFM (the sample's, not the whole partition's).
OrderedRows sampled_rows(const models::Dataset& d, const std::vector<uint32_t>& customers,
                         const std::vector<uint64_t>& customer_order, SampleRange range, uint64_t seed) {
  std::vector<size_t> rows;
  OrderedRows out;
  for (size_t r = 0; r < d.rows; ++r) {
    if (!range.contains(sample_position(d.customer_ids[r], seed))) continue;
    rows.push_back(r);
    out.order.push_back(customer_order[customers[r]]);
  }
  out.rows = subset(d, rows);
  // New vectors, not assignments: those would keep the capacity of the partition's whole history.
  out.rows.history_frequency = std::vector<double>(out.rows.frequency);
  out.rows.history_recency = std::vector<double>(out.rows.recency);
  out.rows.history_age = std::vector<double>(out.rows.age);
  out.rows.history_monetary = std::vector<double>(out.rows.monetary);
  return out;
}

}  // namespace

void declare_partition_params(ParamSet& params, PartitionOptions& options) {
  params.add_int("partitions", options.partitions, 0, 0, 65536,
                 fmt::format("split the input by customer into N partitions spilled to WORK/spill and processed one "
                             "at a time, so memory is bounded by a partition (0: one per {} MiB of input; an input "
                             "that size or smaller is read whole); results do not depend on N",
                             partition_input_bytes >> 20));
  params.add_int("train-sample", options.train_sample, options.train_sample, 1, INT64_MAX,
                 "train on about N customers, drawn by a seeded hash of their ids (all when there are fewer)");
  params.add_int("valid-sample", options.valid_sample, options.valid_sample, 1, INT64_MAX,
                 "validate on about N customers, drawn the same way");
  params.add_choice("out-format", options.out_format, "csv", {"csv", "csv.gz"},
                    "predictions file format: predictions.csv or predictions.csv.gz");
  params.add_flag("partitioned-input", options.partitioned_input,
                  "the source's parts (a directory, glob or s3:// prefix) each hold whole customers, no customer "
                  "in two parts: each part is a partition, read whole, and the partition pass is skipped "
                  "(docs/architecture.md)");
}

uint32_t partition_count(const PartitionOptions& options, uint64_t bytes) {
  if (options.partitions > 0) return static_cast<uint32_t>(options.partitions);
  return static_cast<uint32_t>(std::max<uint64_t>(1, (bytes + partition_input_bytes - 1) / partition_input_bytes));
}

std::unique_ptr<PartitionSource> whole_input_partition(TransactionTable table) {
  return std::make_unique<WholeInput>(std::move(table));
}

double sample_position(std::string_view customer_id, uint64_t seed) {
  uint64_t hash = 0xcbf29ce484222325ull;  // FNV-1a 64
  for (const char c : customer_id) hash = (hash ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
  return static_cast<double>(splitmix64(hash ^ splitmix64(seed)) >> 11) * 0x1.0p-53;
}

LinesCleaned clean_partition_lines(RawPartition raw, const features::CleanOptions& clean, const io::ReadReport& read) {
  LinesCleaned out;
  TransactionTable& t = raw.table;
  out.customer_order = first_rows(t.customer, t.customer_ids.size(), raw.row);
  out.basket_order = first_rows(t.basket, t.basket_ids.size(), raw.row);
  raw.row = {};
  out.table = std::move(t);
  out.report = features::clean_lines(out.table, clean, read);
  return out;
}

PartitionScan scan_partition(RawPartition raw, const features::CleanOptions& clean, const io::ReadReport& read,
                             bool whole) {
  PartitionScan scan;
  {
    io::ReadResult as_read{std::move(raw.table), read};
    scan.profile = io::inspect(as_read, whole);  // a part's quantiles come from the sorted runs
    raw.table = std::move(as_read.table);
  }
  const TransactionTable& t = raw.table;
  if (!whole) {
    scan.raw_amounts.assign(t.amount.begin(), t.amount.end());
    std::sort(scan.raw_amounts.begin(), scan.raw_amounts.end());
    scan.raw_basket_totals = sorted_basket_totals(t);
  }
  for (uint32_t u = 0; u < t.units.size(); ++u) scan.units.emplace_back(t.units[u]);
  if (!whole) {
    for (uint32_t i = 0; i < t.products.size(); ++i) scan.products.emplace_back(t.products[i]);
  }
  scan.lines = clean_partition_lines(std::move(raw), clean, read);
  const TransactionTable& cleaned = scan.lines.table;
  for (size_t i = 0; i < cleaned.rows(); ++i) {
    scan.customers += i == 0 || cleaned.customer[i] != cleaned.customer[i - 1] ? 1 : 0;
    if (!scan.time_range) scan.time_range.emplace(cleaned.time[i], cleaned.time[i]);
    scan.time_range->first = std::min(scan.time_range->first, cleaned.time[i]);
    scan.time_range->second = std::max(scan.time_range->second, cleaned.time[i]);
  }
  const std::vector<features::BasketTotal> baskets = features::basket_totals(cleaned, scan.lines.basket_order);
  scan.largest = features::extreme_baskets(baskets, clean.drop_top_baskets, true);
  scan.smallest = features::extreme_baskets(baskets, clean.drop_bottom_baskets, false);
  scan.basket_totals.reserve(baskets.size());
  for (const features::BasketTotal& b : baskets) scan.basket_totals.push_back(b.total);
  std::sort(scan.basket_totals.begin(), scan.basket_totals.end());
  return scan;
}

CleanPartition finish_cleaning(LinesCleaned lines, const PartitionPlan& plan) {
  CleanPartition out;
  PreparedData& data = out.data;
  data.table = std::move(lines.table);
  data.read = plan.read;
  data.clean = std::move(lines.report);
  if (features::removes_baskets(plan.clean)) {
    features::remove_outlier_baskets(data.table, features::basket_totals(data.table, lines.basket_order), plan.cuts,
                                     data.clean);
  }
  data.first_time = plan.first_time;
  data.last_time = plan.last_time;
  out.customer_order = std::move(lines.customer_order);
  return out;
}

CleanedPartitions::CleanedPartitions(const PartitionSource& source, const PartitionPlan& plan,
                                     std::optional<LinesCleaned> whole)
    : source_(source), plan_(plan) {
  if (whole) kept_ = std::make_shared<const CleanPartition>(finish_cleaning(std::move(*whole), plan));
}

std::shared_ptr<const CleanPartition> CleanedPartitions::get(uint32_t p) const {
  if (kept_) return kept_;
  return std::make_shared<const CleanPartition>(
      finish_cleaning(clean_partition_lines(source_.load(p), plan_.clean, plan_.read), plan_));
}

std::vector<int64_t> fit_as_ofs(const PartitionPlan& plan) {
  if (!plan.features.history_features) return {};
  std::vector<int64_t> dates = plan.train_as_of;
  dates.push_back(plan.valid_as_of);
  dates.push_back(plan.score_as_of);
  std::sort(dates.begin(), dates.end());
  dates.erase(std::unique(dates.begin(), dates.end()), dates.end());
  return dates;
}

PartitionCollect collect_partition(const CleanPartition& part, const PartitionPlan& plan) {
  const PreparedData& data = part.data;
  PartitionCollect out;
  out.clean = data.clean;
  const HistoryBtydSource later{HistoryBtydSource::Kind::later, nullptr};
  auto window = [&](int64_t as_of, const char* flag, std::vector<uint32_t>& customers) {
    return make_target_dataset(data, plan.features, as_of, flag, later, &customers);
  };
  std::vector<uint32_t> customers;
  for (const int64_t as_of : plan.train_as_of) {
    const models::Dataset d = window(as_of, "--train-as-of", customers);
    out.train.push_back(sampled_rows(d, customers, part.customer_order, plan.train_sample, plan.seed));
    if (as_of == plan.valid_as_of) {
      out.valid = sampled_rows(d, customers, part.customer_order, plan.valid_sample, plan.seed);
    }
    if (as_of != plan.train_as_of.back()) continue;
    for (size_t r = 0; r < d.rows; ++r) {
      const double monthly = d.window_amount[r] / d.feature_months;
      if (monthly > 0) out.level_spend.push_back(monthly);
    }
    std::sort(out.level_spend.begin(), out.level_spend.end());
  }
  if (std::find(plan.train_as_of.begin(), plan.train_as_of.end(), plan.valid_as_of) == plan.train_as_of.end()) {
    const models::Dataset d = window(plan.valid_as_of, "--valid-as-of", customers);
    out.valid = sampled_rows(d, customers, part.customer_order, plan.valid_sample, plan.seed);
  }
  const auto spend_sample = [&plan](std::string_view id) {
    return plan.spend_fit_sample.contains(sample_position(id, plan.seed));
  };
  for (const int64_t as_of : fit_as_ofs(plan)) out.history.push_back(history_rfm_at(data, as_of, spend_sample));
  return out;
}

PartitionScores score_partition(const CleanPartition& part, const storage::LoadedBundle& bundle,
                                const HistoryBtyd* score_fit, const PredictOptions& options) {
  PartitionScores out;
  std::vector<uint32_t> customers;
  const HistoryBtydSource source{HistoryBtydSource::Kind::given, score_fit};
  out.scores = score_data(bundle, part.data, options, nullptr, score_fit ? source : HistoryBtydSource{}, &customers);
  out.order.reserve(customers.size());
  for (const uint32_t c : customers) out.order.push_back(part.customer_order[c]);
  return out;
}

models::Dataset merge_ordered(std::vector<OrderedRows> parts) {
  std::vector<std::pair<uint64_t, std::pair<size_t, size_t>>> keys;
  std::vector<models::Dataset> sets;
  for (size_t p = 0; p < parts.size(); ++p) {
    if (parts[p].rows.rows == 0) continue;
    for (size_t r = 0; r < parts[p].order.size(); ++r) keys.push_back({parts[p].order[r], {sets.size(), r}});
    sets.push_back(std::move(parts[p].rows));
  }
  if (sets.empty()) return {};
  std::sort(keys.begin(), keys.end());
  std::vector<size_t> offset(sets.size() + 1, 0);
  for (size_t s = 0; s < sets.size(); ++s) offset[s + 1] = offset[s] + sets[s].rows;
  models::Dataset all = stack_datasets(sets);
  all.history_frequency.clear();
  all.history_recency.clear();
  all.history_age.clear();
  all.history_monetary.clear();
  for (const models::Dataset& s : sets) {
    all.history_frequency.insert(all.history_frequency.end(), s.history_frequency.begin(), s.history_frequency.end());
    all.history_recency.insert(all.history_recency.end(), s.history_recency.begin(), s.history_recency.end());
    all.history_age.insert(all.history_age.end(), s.history_age.begin(), s.history_age.end());
    all.history_monetary.insert(all.history_monetary.end(), s.history_monetary.begin(), s.history_monetary.end());
  }
  std::vector<size_t> rows;
  rows.reserve(keys.size());
  for (const auto& key : keys) rows.push_back(offset[key.second.first] + key.second.second);
  models::Dataset ordered = subset(all, rows);
  auto reorder = [&rows](std::vector<double>& column) {
    std::vector<double> out(rows.size());
    for (size_t i = 0; i < rows.size(); ++i) out[i] = column[rows[i]];
    column.swap(out);
  };
  for (auto* column : {&ordered.history_frequency, &ordered.history_recency, &ordered.history_age,
                       &ordered.history_monetary}) {
    reorder(*column);
  }
  return ordered;
}

}  // namespace cltv::pipeline
