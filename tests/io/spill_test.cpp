// The partition spill: the hash against values computed by hand, every column round-tripping as the
// concatenated input filtered to a partition (by an independent filter), many blocks, empty
// partitions, damaged and truncated files, manifests, and clean-up after failures.
#include "cltv/io/spill.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <random>

#include "cltv/error.h"
#include "support/test_support.h"

namespace cltv::io {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

// Tables built through strings: each keeps its own dictionary, interned in order of first appearance.
struct TableBuilder {
  TransactionTable t;
  std::map<std::string, uint32_t> customers, baskets, units, products;

  static uint32_t intern(StringDict& dict, std::map<std::string, uint32_t>& index, const std::string& s) {
    const auto [it, added] = index.emplace(s, dict.size());
    if (added) dict.append(s);
    return it->second;
  }
  // Appends row I of FROM.
  void add(const TransactionTable& from, size_t i) {
    t.customer.push_back(intern(t.customer_ids, customers, std::string(from.customer_ids[from.customer[i]])));
    t.basket.push_back(intern(t.basket_ids, baskets, std::string(from.basket_ids[from.basket[i]])));
    t.unit.push_back(static_cast<uint16_t>(intern(t.units, units, std::string(from.units[from.unit[i]]))));
    t.product.push_back(intern(t.products, products, std::string(from.products[from.product[i]])));
    t.time.push_back(from.time[i]);
    t.amount.push_back(from.amount[i]);
    t.quantity.push_back(from.quantity[i]);
    t.row_hash.push_back(from.row_hash[i]);
    if (from.has_line_seq()) t.line_seq.push_back(from.line_seq[i]);
  }
};

// ROWS random rows over a few hundred customers (some with awkward ids), with odd amounts.
TransactionTable random_table(uint64_t seed, size_t rows, bool line_seq) {
  std::mt19937_64 rng(seed);
  const std::vector<std::string> odd = {"", "고객 7", "a,\"b\"\n", std::string(300, 'x')};
  const std::vector<double> amounts = {-0.0, std::numeric_limits<double>::quiet_NaN(), 1e300, -12.5, 0.1};
  TableBuilder b;
  for (size_t i = 0; i < rows; ++i) {
    const uint64_t c = rng() % 300;
    const std::string customer = c < odd.size() ? odd[c] : "C" + std::to_string(c);
    b.t.customer.push_back(b.intern(b.t.customer_ids, b.customers, customer));
    b.t.basket.push_back(b.intern(b.t.basket_ids, b.baskets, "B" + std::to_string(c * 10 + rng() % 4)));
    b.t.unit.push_back(static_cast<uint16_t>(b.intern(b.t.units, b.units, "U" + std::to_string(rng() % 5))));
    b.t.product.push_back(b.intern(b.t.products, b.products, "PD" + std::to_string(rng() % 700)));
    b.t.time.push_back(1561939200 + static_cast<int64_t>(rng() % 8000000) - (i % 7 == 0 ? 4000000000 : 0));
    b.t.amount.push_back(i % 11 == 0 ? amounts[rng() % amounts.size()] : static_cast<double>(rng() % 100000) * 10);
    b.t.quantity.push_back(static_cast<double>(rng() % 5 + 1));
    b.t.row_hash.push_back(rng());
    if (line_seq) b.t.line_seq.push_back(static_cast<uint32_t>(rng() % 40));
  }
  return std::move(b.t);
}

struct Input {
  std::vector<TransactionTable> tables;
  std::vector<uint64_t> first_rows;
};

// Three tables with their own dictionaries; the sequence numbers leave gaps between them.
Input random_input(bool line_seq, uint64_t seed = 1) {
  Input in;
  uint64_t next = 1000;
  for (const size_t rows : {2000, 1, 3500}) {
    in.tables.push_back(random_table(seed++, rows, line_seq));
    in.first_rows.push_back(next);
    next += rows + 17;
  }
  return in;
}

SpillInfo spill(const Input& in, const SpillOptions& options, const std::string& fingerprint = "fp") {
  SpillWriter writer(options);
  for (size_t k = 0; k < in.tables.size(); ++k) writer.append(in.tables[k], in.first_rows[k]);
  return writer.finish(fingerprint, "{}");
}

// The rows of IN whose customers fall in partition P, in input order, interned by hand.
PartitionRows filtered(const Input& in, uint32_t p, uint32_t partitions) {
  TableBuilder b;
  PartitionRows want;
  for (size_t k = 0; k < in.tables.size(); ++k) {
    const TransactionTable& t = in.tables[k];
    for (size_t i = 0; i < t.rows(); ++i) {
      if (partition_of(t.customer_ids[t.customer[i]], partitions) != p) continue;
      b.add(t, i);
      want.row.push_back(in.first_rows[k] + i);
    }
  }
  want.table = std::move(b.t);
  return want;
}

template <typename C>
bool same_bytes(const C& a, const C& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(a[0])) == 0);
}

bool same_strings(const StringDict& a, const StringDict& b) {
  if (a.size() != b.size()) return false;
  for (uint32_t id = 0; id < a.size(); ++id) {
    if (a[id] != b[id]) return false;
  }
  return true;
}

void expect_same(const PartitionRows& got, const PartitionRows& want) {
  const TransactionTable& g = got.table;
  const TransactionTable& w = want.table;
  ASSERT_EQ(g.rows(), w.rows());
  EXPECT_TRUE(same_bytes(got.row, want.row)) << "row";
  EXPECT_TRUE(same_bytes(g.customer, w.customer)) << "customer";
  EXPECT_TRUE(same_bytes(g.basket, w.basket)) << "basket";
  EXPECT_TRUE(same_bytes(g.time, w.time)) << "time";
  EXPECT_TRUE(same_bytes(g.amount, w.amount)) << "amount";
  EXPECT_TRUE(same_bytes(g.quantity, w.quantity)) << "quantity";
  EXPECT_TRUE(same_bytes(g.unit, w.unit)) << "unit";
  EXPECT_TRUE(same_bytes(g.product, w.product)) << "product";
  EXPECT_TRUE(same_bytes(g.line_seq, w.line_seq)) << "line_seq";
  EXPECT_TRUE(same_bytes(g.row_hash, w.row_hash)) << "row_hash";
  EXPECT_TRUE(same_strings(g.customer_ids, w.customer_ids)) << "customer_ids";
  EXPECT_TRUE(same_strings(g.basket_ids, w.basket_ids)) << "basket_ids";
  EXPECT_TRUE(same_strings(g.units, w.units)) << "units";
  EXPECT_TRUE(same_strings(g.products, w.products)) << "products";
}

void expect_round_trip(const Input& in, const SpillOptions& options) {
  const SpillInfo info = spill(in, options);
  uint64_t rows = 0;
  for (const auto& t : in.tables) rows += t.rows();
  EXPECT_EQ(info.rows, rows);
  uint64_t bytes = 0;
  for (uint32_t p = 0; p < options.partitions; ++p) {
    SCOPED_TRACE("partition " + std::to_string(p));
    const PartitionRows want = filtered(in, p, options.partitions);
    EXPECT_EQ(info.partition_rows[p], want.row.size());
    EXPECT_EQ(info.partition_bytes[p], fs::file_size(partition_path(options.dir, p)));
    bytes += info.partition_bytes[p];
    expect_same(read_partition(info, p), want);
  }
  EXPECT_EQ(info.bytes, bytes);
}

SpillOptions options_in(const std::string& dir, uint32_t partitions, size_t buffer_bytes = 256u << 20,
                        unsigned threads = 1) {
  SpillOptions o;
  o.dir = dir;
  o.partitions = partitions;
  o.buffer_bytes = buffer_bytes;
  o.threads = threads;
  return o;
}

void flip_byte(const std::string& path, uint64_t at) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(at));
  const char c = static_cast<char>(f.get() ^ 0x20);
  f.seekp(static_cast<std::streamoff>(at));
  f.put(c);
}

TEST(Spill, CustomerHashIsFnv1aThenSplitmix64) {
  // By hand: FNV-1a 64 of "a" is 0xaf63dc4c8601ec8c (the published test vector); splitmix64's
  // finaliser ((h ^ h>>30) * 0xbf58476d1ce4e5b9, (h ^ h>>27) * 0x94d049bb133111eb, h ^ h>>31) of it
  // is 0x02c0bdbf481420f8. For "21922": FNV 0xcb64ed02e6ee984f, hash 0x888a362f6ed66854.
  EXPECT_EQ(customer_hash("a"), 0x02c0bdbf481420f8u);
  EXPECT_EQ(customer_hash("21922"), 0x888a362f6ed66854u);
  EXPECT_EQ(customer_hash(""), 0xf52a15e9a9b5e89bu);  // the finaliser of FNV's offset basis
  EXPECT_EQ(partition_of("21922", 64), 20u);          // 0x888a362f6ed66854 % 64 = 0x14
  EXPECT_EQ(partition_of("a", 7), 3u);
}

TEST(Spill, EveryColumnRoundTripsAsTheInputFilteredToThePartition) {
  TempDir tmp;
  int run = 0;
  for (const bool line_seq : {true, false}) {
    const Input in = random_input(line_seq);
    for (const uint32_t partitions : {1u, 7u, 64u}) {
      for (const unsigned threads : {1u, 3u}) {
        SCOPED_TRACE(testing::Message() << "line_seq " << line_seq << ", P " << partitions << ", threads " << threads);
        expect_round_trip(in, options_in(tmp.path(std::to_string(run++)), partitions, 256u << 20, threads));
      }
    }
  }
}

TEST(Spill, ATinyBufferWritesManyBlocksThatReadBackTheSame) {
  TempDir tmp;
  const Input in = random_input(true, 7);
  expect_round_trip(in, options_in(tmp.path("tiny"), 7, 1, 2));
  expect_round_trip(in, options_in(tmp.path("small"), 7, 20000, 2));
  const SpillInfo one_block = spill(in, options_in(tmp.path("big"), 7));
  EXPECT_GT(find_complete_spill(tmp.path("tiny"), "fp")->bytes, 4 * one_block.bytes);
}

TEST(Spill, EmptyPartitionsAndAnEmptySpillReadBackEmpty) {
  TempDir tmp;
  Input in;
  in.tables.push_back(random_table(3, 1, false));
  in.first_rows.push_back(0);
  expect_round_trip(in, options_in(tmp.path("one-row"), 64));

  const SpillInfo empty = SpillWriter(options_in(tmp.path("empty"), 5)).finish("fp", "");
  EXPECT_EQ(empty.rows, 0u);
  for (uint32_t p = 0; p < 5; ++p) {
    const PartitionRows rows = read_partition(empty, p);
    EXPECT_EQ(rows.table.rows(), 0u);
    EXPECT_EQ(rows.table.customer_ids.size(), 0u);
  }
}

TEST(Spill, ADamagedOrTruncatedPartitionIsAnIoErrorNamingTheFile) {
  TempDir tmp;
  const SpillInfo info = spill(random_input(false), options_in(tmp.path("s"), 2, 30000));
  const std::string path = partition_path(info.dir, 1);
  const uint64_t size = info.partition_bytes[1];
  std::string message;

  flip_byte(path, size / 2);
  EXPECT_TRUE(find_complete_spill(info.dir, "fp")) << "the manifest check does not read the partitions";
  EXPECT_EQ(test::error_kind_of([&] { read_partition(info, 1); }, &message), ErrorKind::io);
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find("checksum"), std::string::npos) << message;
  flip_byte(path, size / 2);
  EXPECT_EQ(read_partition(info, 1).row.size(), info.partition_rows[1]);

  fs::resize_file(path, size - 10);
  EXPECT_FALSE(find_complete_spill(info.dir, "fp"));
  EXPECT_EQ(test::error_kind_of([&] { read_partition(info, 1); }, &message), ErrorKind::io);
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find("truncated"), std::string::npos) << message;
  EXPECT_EQ(read_partition(info, 0).row.size(), info.partition_rows[0]);
}

TEST(Spill, AFileHeaderOfAnotherPartitionIsDamage) {
  TempDir tmp;
  const SpillInfo info = spill(random_input(false), options_in(tmp.path("s"), 2));
  fs::rename(partition_path(info.dir, 0), tmp.path("p0"));
  fs::rename(partition_path(info.dir, 1), partition_path(info.dir, 0));
  fs::rename(tmp.path("p0"), partition_path(info.dir, 1));
  SpillInfo swapped = info;
  std::swap(swapped.partition_bytes[0], swapped.partition_bytes[1]);
  std::string message;
  EXPECT_EQ(test::error_kind_of([&] { read_partition(swapped, 0); }, &message), ErrorKind::io);
  EXPECT_NE(message.find("partition 1 of 2"), std::string::npos) << message;
}

TEST(Spill, TheManifestFindsTheSpillOnlyByItsFingerprint) {
  TempDir tmp;
  const std::string extra = "{\"read\": {\"rows\": 3, \"note\": \"고객\\n\"}}\n\ttrailing \"text\"";
  SpillWriter writer(options_in(tmp.path("s"), 3));
  writer.append(random_table(1, 500, true), 0);
  const SpillInfo info = writer.finish("sha256:abc", extra);
  EXPECT_EQ(info.extra, extra);

  const std::optional<SpillInfo> found = find_complete_spill(info.dir, "sha256:abc");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->dir, info.dir);
  EXPECT_EQ(found->partitions, 3u);
  EXPECT_EQ(found->fingerprint, "sha256:abc");
  EXPECT_EQ(found->extra, extra);
  EXPECT_TRUE(found->line_seq);
  EXPECT_EQ(found->rows, 500u);
  EXPECT_EQ(found->bytes, info.bytes);
  EXPECT_EQ(found->partition_rows, info.partition_rows);
  EXPECT_EQ(found->partition_bytes, info.partition_bytes);
  EXPECT_EQ(found->partition_crc32, info.partition_crc32);
  EXPECT_FALSE(find_complete_spill(info.dir, "sha256:abd"));
  EXPECT_FALSE(find_complete_spill(tmp.path("nowhere"), "sha256:abc"));

  fs::remove(partition_path(info.dir, 2));
  EXPECT_FALSE(find_complete_spill(info.dir, "sha256:abc"));
  fs::remove(info.dir + "/spill.json");
  EXPECT_FALSE(find_complete_spill(info.dir, "sha256:abc")) << "an interrupted spill has no manifest";
}

TEST(Spill, AWriterDestroyedWithoutFinishRemovesItsDirectory) {
  TempDir tmp;
  {
    SpillWriter writer(options_in(tmp.path("s"), 4, 1000));
    writer.append(random_table(2, 300, false), 0);
    EXPECT_TRUE(fs::exists(partition_path(tmp.path("s"), 3)));
  }
  EXPECT_FALSE(fs::exists(tmp.path("s")));

  fs::create_directory(tmp.path("empty"));
  SpillWriter(options_in(tmp.path("empty"), 2)).finish("fp", "");
  EXPECT_TRUE(find_complete_spill(tmp.path("empty"), "fp"));
}

TEST(Spill, ADirectoryThatIsNotEmptyIsRefusedAndLeftAlone) {
  TempDir tmp;
  const std::string mine = tmp.write("d/keep.txt", "mine");
  std::string message;
  EXPECT_EQ(test::error_kind_of([&] { SpillWriter writer(options_in(tmp.path("d"), 2)); }, &message), ErrorKind::io);
  EXPECT_NE(message.find("not an empty directory"), std::string::npos) << message;
  EXPECT_EQ(test::read_file(mine), "mine");
  EXPECT_EQ(test::error_kind_of([&] { SpillWriter writer(options_in(mine, 2)); }), ErrorKind::io);
  EXPECT_TRUE(fs::exists(mine));
}

TEST(Spill, AFailedWriteNamesTheFileAndTheReasonAndTheSpillIsRemoved) {
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  TempDir tmp;
  std::string message;
  {
    SpillWriter writer(options_in(tmp.path("s"), 1));
    const std::string path = partition_path(tmp.path("s"), 0);
    fs::remove(path);
    fs::create_symlink("/dev/full", path);  // every write to it fails with ENOSPC
    writer.append(random_table(1, 100, false), 0);
    EXPECT_EQ(test::error_kind_of([&] { writer.finish("fp", ""); }, &message), ErrorKind::io);
    EXPECT_NE(message.find(path), std::string::npos) << message;
    EXPECT_NE(message.find(std::strerror(ENOSPC)), std::string::npos) << message;
  }
  EXPECT_FALSE(fs::exists(tmp.path("s")));
}

TEST(Spill, RowsOutOfOrderOrMixedLineSeqAreInternalErrors) {
  TempDir tmp;
  SpillWriter writer(options_in(tmp.path("s"), 2));
  writer.append(random_table(1, 10, false), 100);
  EXPECT_EQ(test::error_kind_of([&] { writer.append(random_table(2, 10, false), 105); }), ErrorKind::internal);
  SpillWriter other(options_in(tmp.path("t"), 2));
  other.append(random_table(1, 10, false), 0);
  EXPECT_EQ(test::error_kind_of([&] { other.append(random_table(2, 10, true), 10); }), ErrorKind::internal);
}

}  // namespace
}  // namespace cltv::io
