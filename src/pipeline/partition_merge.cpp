// Running a pass over every partition and merging the results: the input's profile and step-7 cuts
// (scan), the training and validation sets with the history fits (collect), and the predictions
// and segment summary (score).
#include <fcntl.h>
#include <malloc.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <queue>
#include <set>
#include <utility>

#include <zlib.h>

#include "cltv/error.h"
#include "cltv/exact_sum.h"
#include "cltv/io/atomic_file.h"
#include "cltv/io/basket_outliers.h"
#include "cltv/pipeline/partitions.h"
#include "cltv/threads.h"
#include "sorted_runs.h"

namespace cltv::pipeline {
namespace {

namespace fs = std::filesystem;

// Gives the memory a finished partition freed back to the system (glibc keeps it in its arenas
// otherwise, and the next partition's peak would add to it).
void release_freed_memory() { malloc_trim(0); }

// A file of ascending doubles, read by index on demand (no mapping: the pages a selection touches
// stay out of the process's memory).
class FileRun {
 public:
  FileRun(const std::string& path, uint64_t size) : fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)), size_(size) {
    if (fd_ < 0) throw_io(fmt::format("cannot open '{}'", path), "check the free space and permissions of --work");
  }
  FileRun(FileRun&& other) noexcept : fd_(std::exchange(other.fd_, -1)), size_(other.size_) {}
  FileRun(const FileRun&) = delete;
  FileRun& operator=(const FileRun&) = delete;
  FileRun& operator=(FileRun&&) = delete;
  ~FileRun() {
    if (fd_ >= 0) ::close(fd_);
  }
  uint64_t size() const { return size_; }
  double operator[](uint64_t i) const {
    double value = 0;
    if (::pread(fd_, &value, sizeof value, static_cast<off_t>(i * sizeof value)) != static_cast<ssize_t>(sizeof value)) {
      throw_io("a scratch file of sorted values is short", "check the free space of --work");
    }
    return value;
  }

 private:
  int fd_;
  uint64_t size_;
};

// Ascending runs of doubles kept in files under a scratch directory, so the values of a large input
// never need to be in memory together.
class SortedRunFiles {
 public:
  SortedRunFiles(std::string dir, std::string name) : dir_(std::move(dir)), name_(std::move(name)) {}
  ~SortedRunFiles() {
    runs_.clear();
    for (const std::string& path : paths_) ::unlink(path.c_str());
  }
  SortedRunFiles(const SortedRunFiles&) = delete;
  SortedRunFiles& operator=(const SortedRunFiles&) = delete;

  void add(const std::vector<double>& run) {
    if (run.empty()) return;
    const std::string path = fmt::format("{}/{}-{:05}.f64", dir_, name_, runs_.size());
    io::AtomicFile file(path);
    file.write({reinterpret_cast<const char*>(run.data()), run.size() * sizeof(double)});
    file.commit();
    paths_.push_back(path);
    runs_.emplace_back(path, run.size());
  }
  double quantile(double q) const { return detail::quantile(runs_, q); }
  double kth(uint64_t k) const { return detail::kth_smallest(runs_, k); }
  uint64_t size() const {
    uint64_t n = 0;
    for (const FileRun& run : runs_) n += run.size();
    return n;
  }

 private:
  std::string dir_, name_;
  std::vector<std::string> paths_;
  std::vector<FileRun> runs_;
};

void add_months(std::map<std::string, io::MonthProfile>& months, std::map<std::string, OrderFreeSum>& amounts,
                const std::vector<io::MonthProfile>& part) {
  for (const io::MonthProfile& m : part) {
    io::MonthProfile& total = months[m.month];
    total.month = m.month;
    total.rows += m.rows;
    total.customers += m.customers;
    amounts[m.month].add(m.amount);
  }
}

// The profile of every partition merged into one.
struct ProfileMerge {
  io::InspectReport report;
  std::map<std::string, io::MonthProfile> months;
  std::map<std::string, OrderFreeSum> month_amounts;
  std::set<std::string> units, products;
  size_t partitions_ = 0;
  io::InspectReport first_;

  // The one partition of an input read whole: its own profile.
  io::InspectReport whole(const io::ReadReport& read) {
    io::InspectReport out = std::move(first_);
    out.read = read;
    return out;
  }

  void add(const PartitionScan& scan) {
    const io::InspectReport& p = scan.profile;
    if (partitions_++ == 0) first_ = p;
    report.customers += p.customers;
    report.baskets += p.baskets;
    report.table_bytes += p.table_bytes;
    units.insert(scan.units.begin(), scan.units.end());
    products.insert(scan.products.begin(), scan.products.end());
    if (report.first_time.empty() || (!p.first_time.empty() && p.first_time < report.first_time)) report.first_time = p.first_time;
    report.last_time = std::max(report.last_time, p.last_time);
    add_months(months, month_amounts, p.months);
    report.largest_baskets.insert(report.largest_baskets.end(), p.largest_baskets.begin(), p.largest_baskets.end());
    std::stable_sort(report.largest_baskets.begin(), report.largest_baskets.end(),
                     [](const io::BasketProfile& a, const io::BasketProfile& b) { return a.total > b.total; });
    if (report.largest_baskets.size() > 10) report.largest_baskets.resize(10);
  }

  io::InspectReport finish(const io::ReadReport& read, const SortedRunFiles& amounts,
                           const SortedRunFiles& basket_totals) {
    report.read = read;
    report.units = units.size();
    report.products = products.size();
    for (auto& [month, profile] : months) {
      profile.amount = month_amounts[month].value();
      report.months.push_back(profile);
    }
    const double qs[6] = {0.0, 0.25, 0.5, 0.75, 0.99, 1.0};
    for (int i = 0; i < 6; ++i) report.amount_quantiles[i] = amounts.quantile(qs[i]);
    report.basket_total_p99 = basket_totals.quantile(0.99);
    report.basket_outlier_limit = io::far_outside_limit(report.basket_total_p99);
    for (io::BasketProfile& b : report.largest_baskets) b.outlier = io::far_outside(b.total, report.basket_outlier_limit);
    return report;
  }
};

void add_line_counts(features::CleanReport& to, const features::CleanReport& part) {
  to.non_positive_amount += part.non_positive_amount;
  to.quantity_zero_to_one += part.quantity_zero_to_one;
  to.exact_duplicates += part.exact_duplicates;
  to.return_lines += part.return_lines;
  to.return_amount_netted += part.return_amount_netted;
  to.return_amount_unmatched += part.return_amount_unmatched;
  to.purchase_lines_netted_out += part.purchase_lines_netted_out;
}

}  // namespace

InputScan scan_partitions(const PartitionSource& source, const features::CleanOptions& clean,
                          const io::ReadReport& read, const std::string& scratch, ProgressSink* progress) {
  InputScan out;
  ProfileMerge profile;
  SortedRunFiles amounts(scratch, "amounts"), raw_baskets(scratch, "raw-baskets"), baskets(scratch, "baskets");
  std::vector<features::BasketTotal> largest, smallest;
  const bool whole = source.count() == 1;
  std::vector<double> whole_basket_totals;
  for (uint32_t p = 0; p < source.count(); ++p) {
    PartitionScan scan = scan_partition(source.load(p), clean, read, whole);
    profile.add(scan);
    add_line_counts(out.lines, scan.lines.report);
    amounts.add(scan.raw_amounts);
    raw_baskets.add(scan.raw_basket_totals);
    if (whole) {
      whole_basket_totals = std::move(scan.basket_totals);
      out.whole = std::move(scan.lines);
    } else {
      baskets.add(scan.basket_totals);
    }
    largest.insert(largest.end(), scan.largest.begin(), scan.largest.end());
    largest = features::extreme_baskets(std::move(largest), clean.drop_top_baskets, true);
    smallest.insert(smallest.end(), scan.smallest.begin(), scan.smallest.end());
    smallest = features::extreme_baskets(std::move(smallest), clean.drop_bottom_baskets, false);
    out.customers += scan.customers;
    if (scan.time_range) {
      out.first_time = out.any_rows ? std::min(out.first_time, scan.time_range->first) : scan.time_range->first;
      out.last_time = out.any_rows ? std::max(out.last_time, scan.time_range->second) : scan.time_range->second;
      out.any_rows = true;
    }
    release_freed_memory();
    report_progress(progress, "scan", p + 1, source.count(), "partitions");
  }
  const io::ReadReport report = source.read_report().value_or(read);
  out.lines.rows_read = report.rows_read;
  out.lines.rejected = report.rejected;
  out.lines.rejected_by_reason = report.rejected_by_reason;
  out.lines.dropped_by_reason = report.dropped_by_reason;
  if (const auto it = report.dropped_by_reason.find("no customer id"); it != report.dropped_by_reason.end()) {
    out.lines.no_customer = it->second;
  }
  out.units.assign(profile.units.begin(), profile.units.end());
  out.profile = whole ? profile.whole(report) : profile.finish(report, amounts, raw_baskets);
  const double p99 = clean.keep_absurd_amounts ? 0.0
                     : whole                   ? io::quantile_inplace(whole_basket_totals, 0.99)
                                               : baskets.quantile(0.99);
  out.cuts = features::outlier_cuts(clean, std::move(largest), std::move(smallest), p99);
  return out;
}

namespace {

void add_basket_removals(features::CleanReport& to, const features::CleanReport& part) {
  to.outlier_basket_rows += part.outlier_basket_rows;
  to.absurd_baskets += part.absurd_baskets;
  to.removed_baskets.insert(to.removed_baskets.end(), part.removed_baskets.begin(), part.removed_baskets.end());
  to.rows_out += part.rows_out;
}

// One window's sampled rows over every partition, in input order, with the btyd_* columns of FIT.
models::Dataset window_rows(std::vector<OrderedRows> parts, const HistoryBtyd* fit, unsigned threads,
                            const char* what) {
  models::Dataset d = merge_ordered(std::move(parts));
  if (d.rows == 0) {
    throw_input(fmt::format("no customer of the {} window is in its sample", what),
                "the data has too few customers for this split; check --train-sample and --valid-sample");
  }
  if (fit != nullptr) append_btyd_features(*fit, threads, d);
  return d;
}

}  // namespace

CollectedSets collect_partitions(const CleanedPartitions& partitions, const PartitionPlan& plan,
                                 const features::CleanReport& lines, const std::optional<eval::LevelCuts>& given_levels,
                                 const std::string& scratch, ProgressSink* progress) {
  CollectedSets out;
  SortedRunFiles level_spend(scratch, "level-spend");
  out.clean = lines;
  out.clean.absurd_limit = plan.cuts.absurd_limit;
  const std::vector<int64_t> dates = fit_as_ofs(plan);
  std::vector<std::vector<OrderedRows>> train(plan.train_as_of.size());
  std::vector<OrderedRows> valid;
  std::vector<HistoryRfm> history(dates.size());
  for (uint32_t p = 0; p < partitions.count(); ++p) {
    PartitionCollect c = collect_partition(*partitions.get(p), plan);
    for (size_t w = 0; w < train.size(); ++w) train[w].push_back(std::move(c.train[w]));
    valid.push_back(std::move(c.valid));
    if (!given_levels) level_spend.add(c.level_spend);
    for (size_t j = 0; j < dates.size(); ++j) {
      if (p == 0) {
        history[j] = std::move(c.history[j]);
        continue;
      }
      std::vector<HistoryRfm> both;
      both.push_back(std::move(history[j]));
      both.push_back(std::move(c.history[j]));
      history[j] = merge_history_rfm(both);
    }
    add_basket_removals(out.clean, c.clean);
    release_freed_memory();
    report_progress(progress, "features", p + 1, partitions.count(), "partitions");
  }
  std::stable_sort(out.clean.removed_baskets.begin(), out.clean.removed_baskets.end(),
                   [](const auto& a, const auto& b) { return a.total > b.total; });
  out.levels = given_levels ? *given_levels
                            : eval::derive_level_cuts(level_spend.size(), [&](uint64_t k) { return level_spend.kth(k); });
  for (size_t j = 0; j < dates.size(); ++j) out.fits.emplace_back(dates[j], fit_history_btyd(history[j], dates[j]));
  auto fit_at = [&out](int64_t as_of) -> const HistoryBtyd* {
    for (const auto& [date, fit] : out.fits) {
      if (date == as_of) return &fit;
    }
    return nullptr;
  };
  const unsigned threads = resolve_threads(plan.features.threads);
  std::vector<models::Dataset> windows;
  for (size_t w = 0; w < train.size(); ++w) {
    windows.push_back(window_rows(std::move(train[w]), fit_at(plan.train_as_of[w]), threads, "training"));
  }
  out.splits.train = stack_datasets(windows);
  out.splits.valid = window_rows(std::move(valid), fit_at(plan.valid_as_of), threads, "validation");
  return out;
}

namespace {

// Writes bytes to a file atomically, gzip-compressed when asked.
class OutputFile {
 public:
  OutputFile(const std::string& path, bool gzip) : file_(path), gzip_(gzip) {
    if (gzip_ && deflateInit2(&stream_, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
      throw_internal("zlib: deflateInit2 failed");
    }
  }
  ~OutputFile() {
    if (gzip_) deflateEnd(&stream_);
  }
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  void write(std::string_view bytes) {
    if (!gzip_) return file_.write(bytes);
    stream_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
    stream_.avail_in = static_cast<uInt>(bytes.size());
    drain(Z_NO_FLUSH);
  }
  void commit() {
    if (gzip_) drain(Z_FINISH);
    file_.commit();
  }

 private:
  void drain(int flush) {
    char buffer[1 << 16];
    do {
      stream_.next_out = reinterpret_cast<Bytef*>(buffer);
      stream_.avail_out = sizeof buffer;
      const int status = deflate(&stream_, flush);
      if (status == Z_STREAM_ERROR) throw_internal("zlib: deflate failed");
      file_.write({buffer, sizeof buffer - stream_.avail_out});
    } while (stream_.avail_out == 0 || (flush == Z_FINISH && stream_.avail_in > 0));
  }

  io::AtomicFile file_;
  bool gzip_;
  z_stream stream_{};
};

// One partition's prediction rows as text with, per row, its customer order and length.
struct RowRun {
  std::string rows_path, keys_path;
};
struct RowKey {
  uint64_t order;
  uint64_t bytes;
};

RowRun write_row_run(const ScoredCustomers& s, const std::vector<uint64_t>& order, const std::string& scratch,
                     uint32_t p) {
  RowRun run{fmt::format("{}/predictions-{:05}.csv", scratch, p), fmt::format("{}/predictions-{:05}.keys", scratch, p)};
  std::string text;
  std::vector<RowKey> keys;
  keys.reserve(s.rows());
  for (size_t r = 0; r < s.rows(); ++r) {
    const size_t before = text.size();
    append_prediction_row(text, s, r);
    keys.push_back({order[r], text.size() - before});
  }
  io::write_file_atomically(run.rows_path, text);
  io::write_file_atomically(run.keys_path,
                            {reinterpret_cast<const char*>(keys.data()), keys.size() * sizeof(RowKey)});
  return run;
}

// Reads a run back sequentially.
class RowRunReader {
 public:
  explicit RowRunReader(const RowRun& run) : rows_(open(run.rows_path)), keys_(open(run.keys_path)) {}
  ~RowRunReader() {
    std::fclose(rows_);
    std::fclose(keys_);
  }
  RowRunReader(const RowRunReader&) = delete;
  RowRunReader& operator=(const RowRunReader&) = delete;

  bool next() { return std::fread(&key_, sizeof key_, 1, keys_) == 1; }
  uint64_t order() const { return key_.order; }
  void copy_row(OutputFile& out) {
    row_.resize(key_.bytes);
    if (std::fread(row_.data(), 1, row_.size(), rows_) != row_.size()) throw_io("a partition's predictions file is short");
    out.write(row_);
  }

 private:
  static std::FILE* open(const std::string& path) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) throw_io(fmt::format("cannot open '{}'", path));
    return f;
  }
  std::FILE* rows_;
  std::FILE* keys_;
  RowKey key_{};
  std::string row_;
};

void merge_row_runs(const std::vector<RowRun>& runs, const std::string& header, const std::string& out_path,
                    bool gzip) {
  OutputFile out(out_path, gzip);
  out.write(header);
  std::vector<std::unique_ptr<RowRunReader>> readers;
  using Head = std::pair<uint64_t, size_t>;
  std::priority_queue<Head, std::vector<Head>, std::greater<>> heads;
  for (const RowRun& run : runs) {
    readers.push_back(std::make_unique<RowRunReader>(run));
    if (readers.back()->next()) heads.emplace(readers.back()->order(), readers.size() - 1);
  }
  while (!heads.empty()) {
    const size_t i = heads.top().second;
    heads.pop();
    readers[i]->copy_row(out);
    if (readers[i]->next()) heads.emplace(readers[i]->order(), i);
  }
  out.commit();
}

// The summary of every partition's scores: counts and order-free totals over every customer, and the
// first at-risk rows.
class ScoreSummary {
 public:
  static constexpr size_t kept_at_risk = 100;

  void add(const PartitionScores& part) {
    const ScoredCustomers& s = part.scores;
    if (!started_) start(s);
    for (size_t l = 0; l < s.current_counts.size(); ++l) {
      summary_.current_counts[l] += s.current_counts[l];
      summary_.predicted_counts[l] += s.predicted_counts[l];
      for (size_t k = 0; k < s.current_counts.size(); ++k) summary_.transitions[l][k] += s.transitions[l][k];
    }
    for (size_t r = 0; r < s.rows(); ++r) {
      for (size_t l = 0; l < s.distribution.levels; ++l) expected_counts_[l].add(s.distribution.level_p(r, l));
      expected_spend_.add(s.distribution.expected_spend[r]);
    }
    summary_.customers += s.customers;
    summary_.at_risk_customers += s.at_risk_customers;
    for (const size_t r : s.at_risk) at_risk_spend_.add(s.outlook.spend_at_risk[r]);
    for (size_t i = 0; i < s.at_risk.size() && i < kept_at_risk; ++i) {
      append_scored_row(kept_, s, s.at_risk[i]);
      kept_order_.push_back(part.order[s.at_risk[i]]);
    }
    prune();
  }

  ScoredCustomers finish() {
    for (size_t l = 0; l < expected_counts_.size(); ++l) summary_.expected_counts[l] = expected_counts_[l].value();
    summary_.expected_spend_total = expected_spend_.value();
    summary_.at_risk_spend = at_risk_spend_.value();
    ScoredCustomers out = std::move(summary_);
    out.customer_id.clear();
    for (size_t r = 0; r < kept_.rows(); ++r) append_scored_row(out, kept_, r);
    out.at_risk.resize(kept_.rows());
    for (size_t i = 0; i < out.at_risk.size(); ++i) out.at_risk[i] = i;
    return out;
  }

 private:
  void start(const ScoredCustomers& s) {
    started_ = true;
    summary_.model = s.model;
    summary_.model_kind = s.model_kind;
    summary_.as_of = s.as_of;
    summary_.as_of_note = s.as_of_note;
    summary_.horizon_months = s.horizon_months;
    summary_.warnings = s.warnings;
    summary_.levels = s.levels;
    const size_t levels = s.current_counts.size();
    summary_.current_counts.assign(levels, 0);
    summary_.predicted_counts.assign(levels, 0);
    summary_.expected_counts.assign(levels, 0.0);
    summary_.transitions.assign(levels, std::vector<size_t>(levels, 0));
    expected_counts_.assign(levels, {});
  }

  // Keeps the first kept_at_risk rows by spend at risk (largest first), ties in input order.
  void prune() {
    std::vector<size_t> rows(kept_.rows());
    for (size_t i = 0; i < rows.size(); ++i) rows[i] = i;
    std::sort(rows.begin(), rows.end(), [this](size_t a, size_t b) {
      const double x = kept_.outlook.spend_at_risk[a], y = kept_.outlook.spend_at_risk[b];
      return x != y ? x > y : kept_order_[a] < kept_order_[b];
    });
    rows.resize(std::min(rows.size(), kept_at_risk));
    ScoredCustomers pruned;
    std::vector<uint64_t> order;
    for (const size_t r : rows) {
      append_scored_row(pruned, kept_, r);
      order.push_back(kept_order_[r]);
    }
    kept_ = std::move(pruned);
    kept_order_ = std::move(order);
  }

  bool started_ = false;
  ScoredCustomers summary_, kept_;
  std::vector<uint64_t> kept_order_;
  std::vector<OrderFreeSum> expected_counts_;
  OrderFreeSum expected_spend_, at_risk_spend_;
};

}  // namespace

ScoredCustomers score_partitions(const CleanedPartitions& partitions, const storage::LoadedBundle& bundle, const HistoryBtyd* fit,
                                 const PredictOptions& options, const std::string& out_path, bool gzip,
                                 const std::string& scratch, ProgressSink* progress) {
  ScoreSummary summary;
  std::vector<RowRun> runs;
  std::string header;
  for (uint32_t p = 0; p < partitions.count(); ++p) {
    const PartitionScores part = score_partition(*partitions.get(p), bundle, fit, options);
    if (p == 0) header = predictions_csv_header(part.scores);
    runs.push_back(write_row_run(part.scores, part.order, scratch, p));
    summary.add(part);
    release_freed_memory();
    report_progress(progress, "score", p + 1, partitions.count(), "partitions");
  }
  merge_row_runs(runs, header, out_path, gzip);
  for (const RowRun& run : runs) {
    fs::remove(run.rows_path);
    fs::remove(run.keys_path);
  }
  return summary.finish();
}

}  // namespace cltv::pipeline
