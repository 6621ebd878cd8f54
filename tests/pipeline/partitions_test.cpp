// The partitioned run: the merge primitives against direct computations, and `cltv run` giving the
// same predictions bit for bit whatever the number of partitions, whatever the input's layout
// (plain, gzip, a directory of gzip parts, parts already split by customer), with a damaged spill
// named and a spill reused.
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <random>
#include <span>

#include <fmt/format.h>

#include "cltv/exact_sum.h"
#include "cltv/io/inspect.h"
#include "pipeline/sorted_runs.h"
#include "support/test_support.h"

namespace cltv {
namespace {

namespace fs = std::filesystem;
using test::run_cli;

TEST(SortedRuns, KthAndQuantileEqualTheConcatenationsOwn) {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> normal(50, 30);
  std::vector<std::vector<double>> runs(5);
  std::vector<double> all;
  for (size_t r = 0; r < runs.size(); ++r) {
    for (size_t i = 0; i < 200 * r + 3; ++i) runs[r].push_back(std::round(normal(rng)));  // many ties, negatives
    std::sort(runs[r].begin(), runs[r].end());
    all.insert(all.end(), runs[r].begin(), runs[r].end());
  }
  std::vector<std::span<const double>> spans(runs.begin(), runs.end());
  std::vector<double> sorted = all;
  std::sort(sorted.begin(), sorted.end());
  for (const uint64_t k : {uint64_t{0}, uint64_t{1}, uint64_t{500}, uint64_t{1000}, uint64_t{sorted.size() - 1}}) {
    EXPECT_EQ(pipeline::detail::kth_smallest(spans, k), sorted[k]) << k;
  }
  for (const double q : {0.0, 0.25, 0.5, 0.99, 1.0}) {
    std::vector<double> copy = all;
    EXPECT_EQ(pipeline::detail::quantile(spans, q), io::quantile_inplace(copy, q)) << q;
  }
}

TEST(OrderFreeSum, AnyOrderGivesTheSameTotal) {
  std::mt19937_64 rng(3);
  std::lognormal_distribution<double> spend(3, 2);
  std::vector<double> values(10000);
  for (double& v : values) v = spend(rng);
  OrderFreeSum forward, shuffled_sum, halves_first, halves_second;
  long double reference = 0;
  for (const double v : values) {
    forward.add(v);
    reference += v;
  }
  std::shuffle(values.begin(), values.end(), rng);
  for (size_t i = 0; i < values.size(); ++i) (i % 2 == 0 ? halves_first : halves_second).add(values[i]);
  for (const double v : values) shuffled_sum.add(v);
  halves_first.add(halves_second);
  EXPECT_EQ(forward.value(), shuffled_sum.value());
  EXPECT_EQ(forward.value(), halves_first.value());
  EXPECT_NEAR(forward.value(), static_cast<double>(reference), 1e-6);
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_gzip(const fs::path& path, const std::string& text) {
  gzFile out = gzopen(path.c_str(), "wb");
  ASSERT_NE(out, nullptr);
  ASSERT_EQ(gzwrite(out, text.data(), static_cast<unsigned>(text.size())), static_cast<int>(text.size()));
  gzclose(out);
}

// 100,000 generated customers over three months, run with the stack model (history features and
// their BG/NBD fits, windows, samples) at several partition counts and input layouts.
class PartitionedRun : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir();
    plain_ = dir_->path("tx.csv");
    const auto generated = run_cli({"generate", "--customers", "100000", "--months", "3", "--start", "2019-07",
                                    "--seed", "9", "--out", plain_});
    ASSERT_EQ(generated.exit_code, 0) << generated.err;
  }
  static void TearDownTestSuite() { delete dir_; }

  struct Outcome {
    std::string predictions, segments, log;
    nlohmann::json manifest;
  };
  // `cltv run` on SOURCE with EXTRA flags, in a fresh working folder named NAME.
  static Outcome run(const std::string& name, const std::string& source, std::vector<std::string> extra) {
    const std::string work = dir_->path(name);
    std::vector<std::string> args{"run",     "--source", source,    "--work",         work,
                                  "--model", "stack",    "--rounds", "30",             "--train-sample",
                                  "20000",   "--valid-sample", "10000"};
    args.insert(args.end(), extra.begin(), extra.end());
    const auto result = run_cli(args);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    Outcome out;
    out.log = result.out + result.err;
    const fs::path runs = fs::path(work) / "runs";
    if (!fs::exists(runs)) return out;
    for (const auto& entry : fs::directory_iterator(runs)) {
      out.predictions = read_text(entry.path() / "predictions.csv");
      out.segments = read_text(entry.path() / "segments.json");
      out.manifest = nlohmann::json::parse(read_text(entry.path() / "manifest.json"));
    }
    return out;
  }

  static test::TempDir* dir_;
  static std::string plain_;
};
test::TempDir* PartitionedRun::dir_ = nullptr;
std::string PartitionedRun::plain_;

TEST_F(PartitionedRun, PredictionsAreBitIdenticalForOneSevenAndSixtyFourPartitions) {
  const Outcome one = run("p1", plain_, {"--partitions", "1"});
  const Outcome seven = run("p7", plain_, {"--partitions", "7"});
  const Outcome sixty_four = run("p64", plain_, {"--partitions", "64"});
  ASSERT_FALSE(one.predictions.empty());
  EXPECT_GT(std::count(one.predictions.begin(), one.predictions.end(), '\n'), 40000);
  EXPECT_TRUE(one.predictions == seven.predictions) << "P=7 differs from P=1";
  EXPECT_TRUE(one.predictions == sixty_four.predictions) << "P=64 differs from P=1";
  // The segment summaries agree in every figure (their "model" is each run's own bundle path).
  auto figures = [](const std::string& text) {
    nlohmann::json j = nlohmann::json::parse(text);
    j.erase("model");
    return j.dump();
  };
  EXPECT_EQ(figures(one.segments), figures(seven.segments));
  EXPECT_EQ(figures(one.segments), figures(sixty_four.segments));
  EXPECT_EQ(seven.manifest["spill"]["partitions"], 7);
  EXPECT_FALSE(fs::exists(dir_->path("p7") + "/spill/") && !fs::is_empty(dir_->path("p7") + "/spill"))
      << "a completed run leaves its spill behind";
}

TEST_F(PartitionedRun, GzipAndSixteenGzipPartsGiveTheSameResultAsThePlainFile) {
  const std::string text = read_text(plain_);
  write_gzip(dir_->path("tx.csv.gz"), text);
  const fs::path parts = dir_->path("parts");
  fs::create_directory(parts);
  const size_t header_end = text.find('\n') + 1;
  const std::string header = text.substr(0, header_end);
  size_t begin = header_end;
  for (int p = 0; p < 16; ++p) {
    size_t end = p == 15 ? text.size() : text.find('\n', header_end + (text.size() - header_end) * (p + 1) / 16) + 1;
    write_gzip(parts / fmt::format("part-{:05}.csv.gz", p), header + text.substr(begin, end - begin));
    begin = end;
  }
  const Outcome plain = run("plain", plain_, {"--partitions", "4"});
  const Outcome gzip = run("gzip", dir_->path("tx.csv.gz"), {"--partitions", "4"});
  const Outcome directory = run("dir", parts.string(), {"--partitions", "4"});
  ASSERT_FALSE(plain.predictions.empty());
  EXPECT_TRUE(plain.predictions == gzip.predictions);
  EXPECT_TRUE(plain.predictions == directory.predictions);
  EXPECT_EQ(directory.manifest["source"]["parts"], 16);
}

TEST_F(PartitionedRun, AnInputAlreadyPartitionedByCustomerSkipsThePartitionPass) {
  // Five parts, each holding whole customers (split by the first column, clnt_id), in input order.
  const std::string text = read_text(plain_);
  const size_t header_end = text.find('\n') + 1;
  std::vector<std::string> parts(5, text.substr(0, header_end));
  for (size_t begin = header_end; begin < text.size();) {
    const size_t end = text.find('\n', begin) + 1;
    const std::string customer = text.substr(begin, text.find(',', begin) - begin);
    parts[std::hash<std::string>{}(customer) % parts.size()] += text.substr(begin, end - begin);
    begin = end;
  }
  const fs::path dir = dir_->path("by-customer");
  fs::create_directory(dir);
  for (size_t p = 0; p < parts.size(); ++p) {
    std::ofstream(dir / fmt::format("part-{}.csv", p), std::ios::binary) << parts[p];
  }
  // The same parts spilled by cltv: the rows are numbered over the parts in the same order.
  const Outcome spilled = run("spilled-5", dir.string(), {"--partitions", "3"});
  const Outcome split = run("split", dir.string(), {"--partitioned-input"});
  ASSERT_FALSE(split.predictions.empty());
  EXPECT_TRUE(spilled.predictions == split.predictions) << "an input split by customer scores differently";
  EXPECT_EQ(split.manifest["source"]["parts"], 5);
  EXPECT_FALSE(split.manifest.contains("spill"));
  EXPECT_EQ(split.log.find("spill"), std::string::npos) << split.log;
}

TEST_F(PartitionedRun, ASpillIsReusedAfterAFailureAndADamagedOneIsNamedAndRemoved) {
  // A run that fails after the partition pass (scoring past the data without --allow-partial-window)
  // keeps its complete spill...
  const std::string work = dir_->path("faults");
  const std::vector<std::string> base{"run", "--source", plain_, "--work", work, "--partitions", "3", "--model", "naive"};
  std::vector<std::string> late = base;
  late.insert(late.end(), {"--as-of", "2019-11-01"});
  const auto failed = run_cli(late);
  ASSERT_EQ(failed.exit_code, 2) << failed.out;  // a configuration error, in the score step
  const fs::path spill_root = fs::path(work) / "spill";
  ASSERT_TRUE(fs::exists(spill_root) && !fs::is_empty(spill_root)) << failed.err;
  const fs::path spill = fs::directory_iterator(spill_root)->path();
  // ...which the next run of the same input reuses, and says so.
  const auto reused = run_cli(late);
  EXPECT_NE((reused.out + reused.err).find("reusing the complete spill"), std::string::npos) << reused.out << reused.err;
  // A byte flipped in a partition file stops the run naming the file; the spill is removed.
  const fs::path part = spill / "part-00001.spill";
  ASSERT_TRUE(fs::exists(part));
  std::string bytes = read_text(part);
  bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x55);
  std::ofstream(part, std::ios::binary | std::ios::trunc) << bytes;
  const auto damaged = run_cli(base);
  EXPECT_EQ(damaged.exit_code, 1);
  EXPECT_NE(damaged.err.find("part-00001.spill"), std::string::npos) << damaged.err;
  EXPECT_FALSE(fs::exists(spill));
  // The next run rebuilds it and completes, leaving no spill behind.
  const auto rebuilt = run_cli(base);
  EXPECT_EQ(rebuilt.exit_code, 0) << rebuilt.err;
  EXPECT_TRUE(fs::is_empty(spill_root));
}

}  // namespace
}  // namespace cltv
