// Tests of generate_lpoint: byte-for-byte determinism, readability in the lpoint schema, marginals
// in the calibrated bands, the truth file, and option checks.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <unordered_set>

#include "cltv/error.h"
#include "cltv/features/clean.h"
#include "cltv/generate/generator.h"
#include "cltv/io/reader.h"
#include "cltv/io/schema.h"
#include "support/test_support.h"

namespace cltv::generate {
namespace {

GenerateOptions small_options(const test::TempDir& dir, const std::string& name, uint64_t customers = 4000) {
  GenerateOptions options;
  options.customers = customers;
  options.out = dir.path(name);
  return options;
}

io::ReadResult read_lpoint(const std::string& path) {
  return io::read_transactions(path, io::resolve_schema("lpoint"), io::ReadOptions{});
}

template <class Column>
double quantile(const Column& column, double q) {
  std::vector<double> values(column.begin(), column.end());
  const auto k = static_cast<size_t>(q * static_cast<double>(values.size() - 1));
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(k), values.end());
  return values[k];
}

std::vector<std::vector<std::string>> read_csv_rows(const std::string& path) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(test::read_file(path));
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> fields;
    std::istringstream fields_in(line);
    std::string field;
    while (std::getline(fields_in, field, ',')) fields.push_back(field);
    rows.push_back(std::move(fields));
  }
  return rows;
}

TEST(Generate, SameSeedSameBytesWhateverTheThreadCount) {
  test::TempDir dir;
  GenerateOptions one = small_options(dir, "one.csv", 3000);
  one.threads = 1;
  one.truth = dir.path("one_truth.csv");
  GenerateOptions two = small_options(dir, "two.csv", 3000);
  two.threads = 2;
  two.truth = dir.path("two_truth.csv");
  GenerateOptions other = small_options(dir, "other.csv", 3000);
  other.seed = 43;
  const GenerateSummary s1 = generate_lpoint(one);
  const GenerateSummary s2 = generate_lpoint(two);
  generate_lpoint(other);
  const std::string bytes = test::read_file(one.out);
  EXPECT_EQ(bytes, test::read_file(two.out));
  EXPECT_EQ(test::read_file(one.truth), test::read_file(two.truth));
  EXPECT_NE(bytes, test::read_file(other.out));
  EXPECT_EQ(s1.lines, s2.lines);
  EXPECT_EQ(s1.baskets, s2.baskets);
  EXPECT_EQ(std::count(bytes.begin(), bytes.end(), '\n'), static_cast<std::ptrdiff_t>(s1.lines + 1));
}

TEST(Generate, GzipOutputHoldsTheSameRows) {
  test::TempDir dir;
  const GenerateSummary plain = generate_lpoint(small_options(dir, "plain.csv", 2000));
  const GenerateSummary gz = generate_lpoint(small_options(dir, "lines.csv.gz", 2000));
  EXPECT_EQ(plain.lines, gz.lines);
  const std::string bytes = test::read_file(dir.path("lines.csv.gz"));
  ASSERT_GE(bytes.size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(bytes[0]), 0x1f);
  EXPECT_EQ(static_cast<unsigned char>(bytes[1]), 0x8b);
  const io::ReadResult a = read_lpoint(dir.path("plain.csv"));
  const io::ReadResult b = read_lpoint(dir.path("lines.csv.gz"));
  EXPECT_EQ(a.table.row_hash, b.table.row_hash);
}

TEST(Generate, ReadsInTheLpointSchemaWithCalibratedMarginals) {
  test::TempDir dir;
  const uint64_t customers = 4000;
  const GenerateSummary summary = generate_lpoint(small_options(dir, "lines.csv", customers));
  const io::ReadResult read = read_lpoint(dir.path("lines.csv"));
  EXPECT_EQ(read.report.rejected, 0u);
  EXPECT_EQ(read.report.dropped, 0u);
  const TransactionTable& t = read.table;
  ASSERT_EQ(t.rows(), summary.lines);
  ASSERT_TRUE(t.has_line_seq());
  EXPECT_EQ(t.customer_ids.size(), summary.customers_with_purchases);
  EXPECT_EQ(t.basket_ids.size(), summary.baskets);
  EXPECT_EQ(summary.first_day, "2019-07-01");
  EXPECT_EQ(summary.last_day, "2019-09-30");

  // ~600,000 lines for 72,000 customers x 3 months: 2.78 lines per customer-month.
  const double per_customer_month = static_cast<double>(t.rows()) / (static_cast<double>(customers) * 3);
  EXPECT_GT(per_customer_month, 2.2);
  EXPECT_LT(per_customer_month, 3.4);

  const double median = quantile(t.amount, 0.5), p75 = quantile(t.amount, 0.75);
  EXPECT_GE(median, 2000);
  EXPECT_LE(median, 5500);
  EXPECT_GE(p75, 4500);
  EXPECT_LE(p75, 10000);
  EXPECT_GT(std::count(t.amount.begin(), t.amount.end(), 0.0), 0);
  EXPECT_GT(std::count(t.quantity.begin(), t.quantity.end(), 0.0), 0);
  EXPECT_GT(*std::max_element(t.quantity.begin(), t.quantity.end()), 9.0);

  // Exact duplicate rows exist (about 0.5%).
  std::unordered_set<uint64_t> hashes;
  size_t duplicates = 0;
  for (const uint64_t h : t.row_hash) duplicates += hashes.insert(h).second ? 0 : 1;
  EXPECT_GT(duplicates, 0u);
  EXPECT_LT(static_cast<double>(duplicates), 0.02 * static_cast<double>(t.rows()));

  EXPECT_EQ(t.units.size(), 6u);
  for (const char* unit : {"A01", "A02", "A03", "B01", "B02", "B03"}) EXPECT_TRUE(t.units.find(unit).has_value()) << unit;
  const auto unknown = t.products.find("unknown");
  ASSERT_TRUE(unknown.has_value());
  const double unknown_share =
      static_cast<double>(std::count(t.product.begin(), t.product.end(), *unknown)) / static_cast<double>(t.rows());
  EXPECT_GT(unknown_share, 0.005);
  EXPECT_LT(unknown_share, 0.10);
  EXPECT_GT(t.products.size(), 300u);

  // Each basket: one customer, one unit, one timestamp, lines numbered 1..k (k <= 30).
  struct Basket {
    uint32_t customer, unit;
    int64_t time;
    std::set<uint32_t> seqs;
  };
  std::map<uint32_t, Basket> baskets;
  for (size_t r = 0; r < t.rows(); ++r) {
    auto [it, fresh] = baskets.try_emplace(t.basket[r], Basket{t.customer[r], t.unit[r], t.time[r], {}});
    EXPECT_EQ(it->second.customer, t.customer[r]);
    EXPECT_EQ(it->second.unit, t.unit[r]);
    EXPECT_EQ(it->second.time, t.time[r]);
    it->second.seqs.insert(t.line_seq[r]);
  }
  std::vector<double> sizes;
  for (const auto& [id, basket] : baskets) {
    ASSERT_EQ(*basket.seqs.begin(), 1u);
    ASSERT_EQ(*basket.seqs.rbegin(), basket.seqs.size());
    ASSERT_LE(basket.seqs.size(), 30u);
    sizes.push_back(static_cast<double>(basket.seqs.size()));
  }
  const double median_size = quantile(sizes, 0.5);
  EXPECT_GE(median_size, 3);
  EXPECT_LE(median_size, 5);
}

TEST(Generate, TruthHasOneRowPerCustomerAndPredictsTheNextMonth) {
  test::TempDir dir;
  const uint64_t customers = 5000;
  GenerateOptions options = small_options(dir, "lines.csv", customers);
  options.truth = dir.path("truth.csv");
  const GenerateSummary summary = generate_lpoint(options);
  const auto rows = read_csv_rows(options.truth);
  ASSERT_EQ(rows.size(), customers + 1);
  std::map<std::string, size_t> column;
  for (size_t c = 0; c < rows[0].size(); ++c) column[rows[0][c]] = c;
  for (const char* name : {"clnt_id", "lambda_per_day", "dropout_p", "value_scale", "weight_A01", "weight_B03",
                           "alive_at_end", "baskets_in_data", "expected_next_month_spend"}) {
    ASSERT_TRUE(column.count(name)) << name;
  }
  double expected_total = 0;
  uint64_t buyers = 0, baskets = 0, dropped = 0;
  for (size_t r = 1; r < rows.size(); ++r) {
    const auto& row = rows[r];
    ASSERT_EQ(row.size(), rows[0].size());
    EXPECT_EQ(row[column["clnt_id"]], std::to_string(r));
    const double spend = std::stod(row[column["expected_next_month_spend"]]);
    EXPECT_GE(spend, 0);
    if (row[column["alive_at_end"]] == "0") {
      EXPECT_EQ(spend, 0);
      EXPECT_NE(row[column["baskets_in_data"]], "0");  // dropout happens after a purchase
      ++dropped;
    }
    double weights = 0;
    for (const char* unit : {"A01", "A02", "A03", "B01", "B02", "B03"}) {
      weights += std::stod(row[column[std::string("weight_") + unit]]);
    }
    EXPECT_NEAR(weights, 1.0, 1e-12);
    const uint64_t n = std::stoull(row[column["baskets_in_data"]]);
    buyers += n > 0 ? 1 : 0;
    baskets += n;
    expected_total += spend;
  }
  EXPECT_GT(dropped, 0u);
  EXPECT_EQ(buyers, summary.customers_with_purchases);
  EXPECT_LT(buyers, customers);  // some customers never buy and write no lines
  EXPECT_EQ(baskets, summary.baskets);

  // The same seed with one more month continues the same customers: October's clean spend
  // (duplicates and planted absurd amounts removed) is one draw of what the truth expects.
  GenerateOptions longer = small_options(dir, "four_months.csv", customers);
  longer.months = 4;
  generate_lpoint(longer);
  const TransactionTable t = read_lpoint(longer.out).table;
  const int64_t october = 1569888000;  // 2019-10-01 00:00:00
  std::unordered_set<uint64_t> seen;
  double realised = 0;
  for (size_t r = 0; r < t.rows(); ++r) {
    if (t.time[r] < october || !seen.insert(t.row_hash[r]).second || t.amount[r] >= 1e7) continue;
    realised += t.amount[r];
  }
  EXPECT_GT(realised / expected_total, 0.85);
  EXPECT_LT(realised / expected_total, 1.15);
}

// The planted absurd amounts (1e7 to 1e11, docs/generate.md) are what default cleaning removes: the
// removed baskets are exactly those holding a line of 1e7 or more, found here directly.
TEST(Generate, DefaultCleaningRemovesExactlyThePlantedAmounts) {
  test::TempDir dir;
  generate_lpoint(small_options(dir, "lines.csv", 72000));
  io::ReadResult read = read_lpoint(dir.path("lines.csv"));
  std::set<std::string> planted;
  for (size_t i = 0; i < read.table.rows(); ++i) {
    if (read.table.amount[i] >= 1e7) planted.emplace(read.table.basket_ids[read.table.basket[i]]);
  }
  ASSERT_GE(planted.size(), 3u);
  const auto report = features::clean_transactions(read.table, features::CleanOptions{}, read.report);
  std::set<std::string> removed;
  for (const auto& b : report.removed_baskets) removed.insert(b.basket_id);
  EXPECT_EQ(removed, planted);
  EXPECT_EQ(report.absurd_baskets, planted.size());
}

TEST(Generate, OptionsOutOfRangeAreConfigErrors) {
  test::TempDir dir;
  auto kind_of = [](const GenerateOptions& options) {
    try {
      generate_lpoint(options);
    } catch (const Error& e) {
      return e.kind();
    }
    return ErrorKind::internal;
  };
  GenerateOptions options = small_options(dir, "x.csv", 10);
  options.customers = 0;
  EXPECT_EQ(kind_of(options), ErrorKind::config);
  options = small_options(dir, "x.csv", 10);
  options.months = 121;
  EXPECT_EQ(kind_of(options), ErrorKind::config);
  options = small_options(dir, "x.csv", 10);
  options.start += 86400;  // 2019-07-02
  EXPECT_EQ(kind_of(options), ErrorKind::config);
  options = small_options(dir, "missing/x.csv", 10);
  EXPECT_EQ(kind_of(options), ErrorKind::io);
  EXPECT_FALSE(std::filesystem::exists(dir.path("x.csv")));

  EXPECT_EQ(parse_start_month("2019-07", "--start"), 1561939200);
  EXPECT_EQ(parse_start_month("20190801", "--start"), 1564617600);
  EXPECT_THROW(parse_start_month("2019-13", "--start"), Error);
  EXPECT_THROW(parse_start_month("2019-07-15", "--start"), Error);
}

}  // namespace
}  // namespace cltv::generate
