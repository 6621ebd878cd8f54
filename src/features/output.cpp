// Feature outputs: the CSV (formatted in parallel blocks with shortest round-trip numbers) and the
// JSON and text summaries.
#include "cltv/features/output.h"

#include <fmt/compile.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "cltv/io/atomic_file.h"
#include "cltv/io/csv.h"
#include "cltv/time.h"
#include "cltv/threads.h"
#include "cltv/parallel.h"

namespace cltv::features {
namespace {

constexpr size_t rows_per_block = 32768;
constexpr size_t max_number_chars = 32;  // fmt's shortest form of any double is at most 24

char* write_number(char* p, double value) {
  if (value == 0.0) {
    *p++ = '0';
    return p;
  }
  return fmt::format_to(p, FMT_COMPILE("{}"), value);
}

std::string header_line(const FeatureMatrix& m) {
  std::string line = "customer_id";
  for (const auto& name : m.names) {
    line += ',';
    io::append_csv_field(line, name);
  }
  if (m.has_target) {
    for (const auto& name : target_names()) line += ',' + name;
  }
  line += '\n';
  return line;
}

// Appends rows [begin, end) to OUT.
void format_rows(const FeatureMatrix& m, size_t begin, size_t end, std::string& out) {
  const size_t numbers = m.cols + (m.has_target ? 2 : 0);
  for (size_t r = begin; r < end; ++r) {
    io::append_csv_field(out, m.customer_ids[r]);
    size_t used = out.size();
    out.resize(used + numbers * (max_number_chars + 1) + 1);
    char* p = out.data() + used;
    const double* row = m.values.data() + r * m.cols;
    for (size_t c = 0; c < m.cols; ++c) {
      *p++ = ',';
      p = write_number(p, row[c]);
    }
    if (m.has_target) {
      *p++ = ',';
      p = write_number(p, m.target_amount[r]);
      *p++ = ',';
      p = write_number(p, std::log1p(m.target_amount[r]));
    }
    *p++ = '\n';
    used = static_cast<size_t>(p - out.data());
    out.resize(used);
  }
}

// Formats the rows block by block (THREADS blocks at a time) and hands each block to SINK in order.
template <typename Sink>
void format_blocks(const FeatureMatrix& m, unsigned threads, Sink&& sink) {
  const size_t blocks = (m.rows + rows_per_block - 1) / rows_per_block;
  std::vector<std::string> buffers(threads);
  for (size_t first = 0; first < blocks; first += threads) {
    const size_t batch = std::min<size_t>(threads, blocks - first);
    std::vector<size_t> bounds(batch + 1);
    for (size_t b = 0; b <= batch; ++b) bounds[b] = b;
    parallel::run_parts(bounds, [&](size_t b, size_t, size_t) {
      const size_t begin = (first + b) * rows_per_block;
      buffers[b].clear();
      format_rows(m, begin, std::min(m.rows, begin + rows_per_block), buffers[b]);
    });
    for (size_t b = 0; b < batch; ++b) sink(buffers[b]);
  }
}

std::string time_text(int64_t seconds) { return format_datetime(seconds); }

std::string population_name(Population p) {
  return p == Population::window ? "window" : p == Population::history ? "history" : "all-months";
}

// Share of the target period that the data reaches into (its last timestamp over the period).
double target_coverage(const FeatureMatrix& m) {
  if (!m.has_target) return 0.0;
  if (m.data_last_time >= m.window.target_end) return 1.0;
  return static_cast<double>(m.data_last_time - m.window.as_of) /
         static_cast<double>(m.window.target_end - m.window.as_of);
}

size_t customers_with_target(const FeatureMatrix& m) {
  return static_cast<size_t>(std::count_if(m.target_amount.begin(), m.target_amount.end(), [](double v) { return v > 0.0; }));
}

}  // namespace

std::vector<ColumnStats> column_stats(const FeatureMatrix& m) {
  const size_t targets = m.has_target ? target_names().size() : 0;
  std::vector<ColumnStats> stats(m.cols + targets);
  for (size_t c = 0; c < m.cols; ++c) stats[c].name = m.names[c];
  for (size_t c = 0; c < targets; ++c) stats[m.cols + c].name = target_names()[c];
  if (m.rows == 0) return stats;
  std::vector<double> sum(stats.size(), 0.0);
  for (auto& s : stats) {
    s.min = std::numeric_limits<double>::infinity();
    s.max = -std::numeric_limits<double>::infinity();
  }
  auto add = [&](size_t c, double v) {
    stats[c].min = std::min(stats[c].min, v);
    stats[c].max = std::max(stats[c].max, v);
    sum[c] += v;
  };
  for (size_t r = 0; r < m.rows; ++r) {
    const double* row = m.values.data() + r * m.cols;
    for (size_t c = 0; c < m.cols; ++c) add(c, row[c]);
    if (targets > 0) {
      add(m.cols, m.target_amount[r]);
      add(m.cols + 1, std::log1p(m.target_amount[r]));
    }
  }
  for (size_t c = 0; c < stats.size(); ++c) stats[c].mean = sum[c] / static_cast<double>(m.rows);
  return stats;
}

std::string features_csv(const FeatureMatrix& m, unsigned threads) {
  std::string out = header_line(m);
  format_blocks(m, resolve_threads(threads), [&](const std::string& block) { out += block; });
  return out;
}

void write_features_csv(const FeatureMatrix& m, const std::string& path, unsigned threads) {
  io::AtomicFile file(path);
  file.write(header_line(m));
  format_blocks(m, resolve_threads(threads), [&](const std::string& block) { file.write(block); });
  file.commit();
}

std::string feature_summary_json(const CleanReport& clean, const FeatureMatrix& m) {
  using json = nlohmann::ordered_json;
  json removed = json::array();
  for (const auto& b : clean.removed_baskets) {
    removed.push_back({{"basket_id", b.basket_id}, {"customer_id", b.customer_id}, {"total", b.total},
                       {"lines", b.lines}, {"reason", b.reason}});
  }
  json cleaning = {
      {"rows_read", clean.rows_read},
      {"rejected", clean.rejected},
      {"rejected_by_reason", clean.rejected_by_reason},
      {"dropped_by_reader", clean.dropped_by_reason},
      {"no_customer", clean.no_customer},
      {"non_positive_amount", clean.non_positive_amount},
      {"quantity_zero_to_one", clean.quantity_zero_to_one},
      {"exact_duplicates", clean.exact_duplicates},
      {"return_lines", clean.return_lines},
      {"return_amount_netted", clean.return_amount_netted},
      {"return_amount_unmatched", clean.return_amount_unmatched},
      {"purchase_lines_netted_out", clean.purchase_lines_netted_out},
      {"outlier_basket_rows", clean.outlier_basket_rows},
      {"absurd_baskets", clean.absurd_baskets},
      {"absurd_limit", clean.absurd_limit},
      {"removed_baskets", removed},
      {"rows_out", clean.rows_out}};
  json months = json::array();
  for (size_t k = 0; k < m.window.month_start.size(); ++k) {
    months.push_back({{"month", k + 1}, {"start", time_text(m.window.month_start[k])}, {"end", time_text(m.window.month_end[k])}});
  }
  json window = {{"as_of", time_text(m.window.as_of)},
                 {"feature_start", time_text(m.window.start)},
                 {"feature_months", months},
                 {"target_start", time_text(m.window.as_of)},
                 {"target_end", time_text(m.window.target_end)}};
  json target = {{"present", m.has_target}};
  if (m.has_target) {
    target["covered_until"] = time_text(std::min(m.data_last_time, m.window.target_end));
    target["coverage_fraction"] = target_coverage(m);
    target["customers_with_purchase"] = customers_with_target(m);
    double total = 0.0;
    for (const double v : m.target_amount) total += v;
    target["total_amount"] = total;
  }
  json columns = json::array();
  for (const auto& s : column_stats(m)) columns.push_back({{"name", s.name}, {"min", s.min}, {"mean", s.mean}, {"max", s.max}});
  json doc = {{"cleaning", cleaning},
              {"data", {{"first_time", time_text(m.data_first_time)}, {"last_time", time_text(m.data_last_time)}}},
              {"window", window},
              {"population", {{"rule", population_name(m.population)}, {"customers", m.rows}}},
              {"target", target},
              {"features", {{"count", m.cols}, {"units", m.units}, {"columns", columns}}}};
  return doc.dump(2) + "\n";
}

std::string clean_summary_text(const CleanReport& clean) {
  std::string out = fmt::format(
      "cleaning: {} rows read, {} rejected, {} without customer, {} with amount <= 0, {} quantity 0 -> 1, "
      "{} exact duplicates, {} return lines ({:.2f} netted off purchases, {:.2f} unmatched, {} purchase lines netted to 0), "
      "{} lines in {} outlier baskets ({}); {} lines left\n",
      clean.rows_read, clean.rejected, clean.no_customer, clean.non_positive_amount, clean.quantity_zero_to_one,
      clean.exact_duplicates, clean.return_lines, clean.return_amount_netted, clean.return_amount_unmatched,
      clean.purchase_lines_netted_out, clean.outlier_basket_rows, clean.removed_baskets.size(),
      clean.absurd_limit > 0.0 ? fmt::format("{} absurd: total above {:.2f}", clean.absurd_baskets, clean.absurd_limit)
                               : std::string("absurd totals not checked"),
      clean.rows_out);
  for (const auto& b : clean.removed_baskets) {
    out += fmt::format("  removed basket {} (customer {}): total {}, {} lines, {}\n", b.basket_id, b.customer_id,
                       b.total, b.lines, b.reason);
  }
  return out;
}

std::string feature_summary_text(const CleanReport& clean, const FeatureMatrix& m, const std::string& out_path) {
  std::string out = clean_summary_text(clean);
  out += fmt::format("feature window: [{}, {}) in {} months; target period: [{}, {})\n", time_text(m.window.start),
                     time_text(m.window.as_of), m.window.month_start.size(), time_text(m.window.as_of),
                     time_text(m.window.target_end));
  out += fmt::format("population ({}): {} customers, {} features, {} units\n", population_name(m.population), m.rows,
                     m.cols, m.units.size());
  if (m.has_target) {
    out += fmt::format("target: {} customers bought in the target period; data covers {:.1f}% of it\n",
                       customers_with_target(m), 100.0 * target_coverage(m));
  } else {
    out += fmt::format("target: none (the data ends {}, before --as-of)\n", time_text(m.data_last_time));
  }
  out += fmt::format("wrote {}\n", out_path);
  return out;
}

}  // namespace cltv::features
