// Streaming inputs of many parts: listing (directories, globs, S3 prefixes) and chunked reading.
// Expected rows, counts and problems come from read_transactions of the same data as one file (an
// independent path) or are written by hand from the small inputs.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "cltv/error.h"
#include "cltv/io/input_parts.h"
#include "cltv/io/stream.h"
#include "cltv/sha256.h"
#include "cltv/storage/s3.h"
#include "support/s3_server.h"
#include "support/test_support.h"

namespace cltv::io {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

constexpr const char* kHeader = "clnt_id,trans_id,trans_seq,biz_unit,pd_c,de_dt,de_tm,buy_am,buy_ct";

// N lpoint records (without line ends) of varied shapes: quoted products holding a comma and a
// newline or doubled quotes, an unquoted inch mark, malformed amounts and missing customers.
std::vector<std::string> lpoint_records(int n) {
  std::vector<std::string> records;
  for (int i = 0; i < n; ++i) {
    const std::string product = i % 7 == 0    ? fmt::format("\"multi\nline, {}\"", i % 50)
                                : i % 13 == 0 ? "\"say \"\"hi\"\"\""
                                : i % 17 == 0 ? "12\" pizza"
                                              : fmt::format("P{}", i % 300);
    const std::string amount = i % 97 == 5 ? "12x" : std::to_string(100 + i % 5000);
    const std::string customer = i % 89 == 3 ? "" : fmt::format("C{}", i % 997);
    records.push_back(fmt::format("{},T{},{},A0{},{},201907{:02},10:{:02},{},1", customer, i / 3, i % 3 + 1,
                                  i % 3 + 1, product, i % 28 + 1, i % 60, amount));
  }
  return records;
}

// A file of RECORDS[FROM, TO) with the header; some lines end in CRLF, some are followed by a blank line.
std::string lpoint_text(const std::vector<std::string>& records, size_t from, size_t to) {
  std::string text = std::string(kHeader) + "\n";
  for (size_t i = from; i < to; ++i) text += records[i] + (i % 5 == 0 ? "\r\n" : "\n") + (i % 50 == 49 ? "\n" : "");
  return text;
}

void write_gzip(const std::string& path, const std::vector<std::string>& members) {
  std::string bytes;
  for (const std::string& member : members) {
    z_stream zs{};
    ASSERT_EQ(deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    std::string out(deflateBound(&zs, static_cast<uLong>(member.size())) + 64, '\0');
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(member.data()));
    zs.avail_in = static_cast<uInt>(member.size());
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = static_cast<uInt>(out.size());
    ASSERT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
    out.resize(zs.total_out);
    deflateEnd(&zs);
    bytes += out;
  }
  std::ofstream(path, std::ios::binary) << bytes;
}

// Every row as text, through the dictionaries' strings.
std::vector<std::string> rows_of(const TransactionTable& t) {
  std::vector<std::string> rows;
  for (size_t r = 0; r < t.rows(); ++r) {
    rows.push_back(fmt::format("{}|{}|{}|{}|{}|{}|{}|{}|{}", t.customer_ids[t.customer[r]], t.basket_ids[t.basket[r]],
                               t.units[t.unit[r]], t.products[t.product[r]], t.has_line_seq() ? t.line_seq[r] : 0u,
                               t.time[r], t.amount[r], t.quantity[r], t.row_hash[r]));
  }
  return rows;
}

struct Streamed {
  std::vector<std::string> rows;
  std::vector<size_t> chunk_rows, chunk_parts;
  ReadReport report;
};

StreamOptions options_for(size_t chunk_bytes, BadRowPolicy policy = BadRowPolicy::skip, unsigned threads = 2) {
  StreamOptions options;
  options.chunk_bytes = chunk_bytes;
  options.read.on_bad_row = {policy, {}};
  options.read.threads = threads;
  return options;
}

Streamed stream(const std::vector<InputPart>& parts, const std::string& schema, const StreamOptions& options) {
  Streamed s;
  s.report = stream_transactions(parts, resolve_schema(schema), options, [&s](StreamedChunk&& chunk) {
    EXPECT_EQ(chunk.first_row, s.rows.size());
    EXPECT_GT(chunk.table.rows(), 0u);
    for (std::string& row : rows_of(chunk.table)) s.rows.push_back(std::move(row));
    s.chunk_rows.push_back(chunk.table.rows());
    s.chunk_parts.push_back(chunk.part);
  });
  return s;
}

ReadResult read_whole(const std::string& path, const std::string& schema) {
  ReadOptions options;
  options.on_bad_row = {BadRowPolicy::skip, {}};
  return read_transactions(path, resolve_schema(schema), options);
}

void expect_same_counts(const ReadReport& streamed, const ReadReport& whole) {
  EXPECT_EQ(streamed.rows_read, whole.rows_read);
  EXPECT_EQ(streamed.accepted, whole.accepted);
  EXPECT_EQ(streamed.rejected, whole.rejected);
  EXPECT_EQ(streamed.dropped, whole.dropped);
  EXPECT_EQ(streamed.blank_lines, whole.blank_lines);
  EXPECT_EQ(streamed.rejected_by_reason, whole.rejected_by_reason);
  EXPECT_EQ(streamed.dropped_by_reason, whole.dropped_by_reason);
  EXPECT_EQ(streamed.header_line, whole.header_line);
}

// Problems of one file: the same lines, columns, reasons and text, the file named.
void expect_same_problems(const ReadReport& streamed, const ReadReport& whole, const std::string& file) {
  ASSERT_EQ(streamed.problems.size(), whole.problems.size());
  for (size_t i = 0; i < whole.problems.size(); ++i) {
    const RowProblem& a = streamed.problems[i];
    const RowProblem& b = whole.problems[i];
    EXPECT_EQ(a.file, file);
    EXPECT_EQ(fmt::format("{}: {} {} {}", a.line, a.column, a.reason, a.got),
              fmt::format("{}: {} {} {}", b.line, b.column, b.reason, b.got));
  }
}

std::string error_of(const std::function<void()>& f, ErrorKind kind) {
  try {
    f();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), kind) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "expected an error";
  return {};
}

TEST(StreamTransactions, PlainFileGivesWhatReadTransactionsGives) {
  TempDir dir;
  const std::string path = dir.write("tx.csv", lpoint_text(lpoint_records(3000), 0, 3000));
  const std::vector<InputPart> parts = list_input_parts(path, {});
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0].bytes, fs::file_size(path));
  const ReadResult whole = read_whole(path, "lpoint");
  ASSERT_GT(whole.report.rejected, 20u);
  ASSERT_GT(whole.report.dropped, 20u);
  for (const size_t chunk_bytes : {size_t{4096}, size_t{64} << 20}) {
    const Streamed s = stream(parts, "lpoint", options_for(chunk_bytes));
    EXPECT_EQ(s.rows, rows_of(whole.table));
    expect_same_counts(s.report, whole.report);
    expect_same_problems(s.report, whole.report, path);
    EXPECT_EQ(s.report.bytes, whole.report.bytes);
    EXPECT_EQ(s.report.source, path);
    EXPECT_EQ(s.report.sha256, sha256_file_hex(path));
    ASSERT_EQ(s.report.parts.size(), 1u);
    EXPECT_EQ(s.report.parts[0].rows, whole.report.accepted);
    EXPECT_EQ(s.report.parts[0].rows_read, whole.report.rows_read);
    EXPECT_EQ(s.report.parts[0].bytes, fs::file_size(path));
    EXPECT_GE(s.chunk_rows.size(), chunk_bytes == 4096 ? fs::file_size(path) / 4096 : 1u);
    EXPECT_LE(s.chunk_rows.size(), chunk_bytes == 4096 ? fs::file_size(path) / 4096 * 2 : 1u);
  }
}

TEST(StreamTransactions, GzipOfTwoMembersGivesWhatTheTextGives) {
  TempDir dir;
  const std::vector<std::string> records = lpoint_records(2000);
  const std::string text = lpoint_text(records, 0, 2000);
  const std::string plain = dir.write("tx.csv", text);
  const std::string gz = dir.path("tx.csv.gz");
  write_gzip(gz, {text.substr(0, 30000), text.substr(30000)});
  const ReadResult whole = read_whole(plain, "lpoint");
  const Streamed s = stream(list_input_parts(gz, {}), "lpoint", options_for(8192));
  EXPECT_EQ(s.rows, rows_of(whole.table));
  expect_same_counts(s.report, whole.report);
  expect_same_problems(s.report, whole.report, gz);
  EXPECT_EQ(s.report.bytes, text.size());
  EXPECT_EQ(s.report.parts.at(0).sha256, sha256_file_hex(gz));
  EXPECT_EQ(s.report.parts.at(0).bytes, fs::file_size(gz));

  const std::string cut = dir.write("cut.csv.gz", test::read_file(gz).substr(0, 5000));
  const std::string message = error_of([&] { stream(list_input_parts(cut, {}), "lpoint", options_for(8192)); },
                                       ErrorKind::input);
  EXPECT_NE(message.find(fmt::format("'{}' is a damaged or truncated gzip file", cut)), std::string::npos) << message;
}

// RECORDS split into COUNT gzip parts part-00000.csv.gz ... in DIR, each with the header; returns
// the parts' texts.
std::vector<std::string> write_gzip_parts(const TempDir& dir, const std::vector<std::string>& records, size_t count) {
  std::vector<std::string> texts;
  for (size_t p = 0; p < count; ++p) {
    texts.push_back(lpoint_text(records, records.size() * p / count, records.size() * (p + 1) / count));
    write_gzip(dir.path(fmt::format("parts/part-{:05}.csv.gz", p)), {texts.back()});
  }
  return texts;
}

// Checks S (16 parts of RECORDS in DIR/parts) against the whole file: rows, counts, and each problem
// on its line of its part.
void expect_sixteen_parts(const Streamed& s, const TempDir& dir, const std::vector<std::string>& records,
                          const ReadResult& whole) {
  EXPECT_EQ(s.rows, rows_of(whole.table));
  expect_same_counts(s.report, whole.report);
  ASSERT_EQ(s.report.parts.size(), 16u);
  uint64_t rows = 0;
  for (size_t p = 0; p < 16; ++p) {
    const std::string name = dir.path(fmt::format("parts/part-{:05}.csv.gz", p));
    EXPECT_EQ(s.report.parts[p].name, name);
    EXPECT_EQ(s.report.parts[p].sha256, sha256_file_hex(name));
    rows += s.report.parts[p].rows;
  }
  EXPECT_EQ(rows, whole.report.accepted);
  // The malformed records are those with amount 12x and a customer, in order; each is named by its
  // part and the line it starts on there (header line 1; a product line break and a blank line
  // after every 50th record add lines).
  std::vector<std::string> expected;
  const size_t n = records.size();
  for (size_t p = 0, line = 2; p < 16; ++p, line = 2) {
    for (size_t i = n * p / 16; i < n * (p + 1) / 16; ++i) {
      if (i % 97 == 5 && i % 89 != 3) expected.push_back(fmt::format("{}:{}", p, line));
      line += 1 + (i % 7 == 0) + (i % 50 == 49);
    }
  }
  expected.resize(ReadReport::max_listed_problems);
  std::vector<std::string> named;
  for (const RowProblem& problem : s.report.problems) {
    EXPECT_EQ(problem.got, "12x");
    named.push_back(fmt::format("{}:{}", std::stoul(problem.file.substr(problem.file.size() - 12, 5)), problem.line));
  }
  EXPECT_EQ(named, expected);
}

TEST(StreamTransactions, SixteenGzipPartsInADirectoryAndByGlob) {
  TempDir dir;
  const std::vector<std::string> records = lpoint_records(4000);
  const std::string whole_path = dir.write("whole.csv", lpoint_text(records, 0, records.size()));
  const ReadResult whole = read_whole(whole_path, "lpoint");
  fs::create_directories(dir.path("parts/sub"));
  const std::vector<std::string> texts = write_gzip_parts(dir, records, 16);
  for (const char* junk : {"parts/_SUCCESS", "parts/.part-99999.csv", "parts/notes.json", "parts/sub/part-x.csv",
                           "parts/_temporary.csv"}) {
    dir.write(junk, texts[0]);
  }

  const std::vector<InputPart> listed = list_input_parts(dir.path("parts"), {});
  ASSERT_EQ(listed.size(), 16u);
  EXPECT_EQ(listed[15].name, dir.path("parts/part-00015.csv.gz"));
  expect_sixteen_parts(stream(listed, "lpoint", options_for(4096)), dir, records, whole);

  const std::vector<InputPart> globbed = list_input_parts(dir.path("parts/part-*.csv.gz"), {});
  ASSERT_EQ(globbed.size(), 16u);
  expect_sixteen_parts(stream(globbed, "lpoint", options_for(64 << 20)), dir, records, whole);
  EXPECT_EQ(list_input_parts(dir.path("parts/part-0000?.csv.gz"), {}).size(), 10u);
}

TEST(StreamTransactions, ChunkBoundaryAtEveryPosition) {
  TempDir dir;
  const std::string text =
      "\xEF\xBB\xBF"
      "clnt_id,trans_id,trans_seq,biz_unit,pd_c,de_dt,de_tm,buy_am,buy_ct\r\n"
      "C1,T1,1,A01,\"two\nlines, \"\"quoted\"\"\",20190701,10:00,100,1\r\n"
      "C2,T2,1,A01,12\" pizza,20190702,10:00,200,1\n"
      "\n"
      "C3,T3,1,A02,P3,20190703,10:00,x,1\n"
      ",T4,1,A02,P4,20190704,10:00,400,1\n"
      "C5,T5,1,A02,P5,20190705\n"
      "C6,T6,1,A03,\"\"\"\",20190706,10:00,600,2\r\n"
      "C7,T7,1,A03,P7 \"inch,20190707,10:00,700,1\n"
      "C8,T8,1,A03,\"P8\",20190708,10:00,800,1\n"
      "C9,T9,1,A01,\"open,20190709,10:00,900,1\n"
      "C10,T10,1,A01,P10,20190710,10:00,1000,1";
  const std::string path = dir.write("small.csv", text);
  const ReadResult whole = read_whole(path, "lpoint");
  ASSERT_EQ(whole.report.rejected, 3u);
  const std::vector<InputPart> parts = list_input_parts(path, {});
  for (size_t chunk_bytes = 1; chunk_bytes <= text.size() + 1; ++chunk_bytes) {
    SCOPED_TRACE(fmt::format("chunk_bytes {}", chunk_bytes));
    const Streamed s = stream(parts, "lpoint", options_for(chunk_bytes, BadRowPolicy::skip, 1));
    EXPECT_EQ(s.rows, rows_of(whole.table));
    expect_same_counts(s.report, whole.report);
    expect_same_problems(s.report, whole.report, path);
  }
}

TEST(StreamTransactions, HeaderlessAndHeaderedWhitespaceFiles) {
  TempDir dir;
  std::string body;
  for (int i = 0; i < 300; ++i) {
    body += i % 2 == 0 ? fmt::format(" {:05} 199701{:02}  {}   {}.{:02}\n", i % 40, i % 28 + 1, i % 4 + 1, i, i % 100)
                       : fmt::format(" {:05} 0001 199702{:02}  1   {}\r\n", i % 40, i % 28 + 1, i);
  }
  for (const std::string& text : {body, " customer_id  date number_of_cds  dollar_value\n" + body}) {
    const std::string path = dir.write("cdnow.txt", text);
    const ReadResult whole = read_whole(path, "cdnow");
    const Streamed s = stream(list_input_parts(path, {}), "cdnow", options_for(100));
    EXPECT_EQ(s.rows, rows_of(whole.table));
    expect_same_counts(s.report, whole.report);
    EXPECT_GT(s.chunk_rows.size(), 50u);
  }
}

TEST(StreamTransactions, PartWithABadHeaderIsNamedWithItsLine) {
  TempDir dir;
  dir.write("in/part-0.csv", std::string(kHeader) + "\nC1,T1,1,A01,P1,20190701,10:00,100,1\n");
  dir.write("in/part-1.csv", "clnt_id,trans_id,trans_seq,biz_unit,pd_c,de_dt,de_tm,buy_ct\nC1,T1,1,A01,P1,20190701,10:00,1\n");
  const std::string message =
      error_of([&] { stream(list_input_parts(dir.path("in"), {}), "lpoint", options_for(1 << 20)); }, ErrorKind::input);
  EXPECT_NE(message.find(dir.path("in/part-1.csv") + ":1: header lacks required column 'buy_am' for schema 'lpoint'"),
            std::string::npos)
      << message;
}

TEST(StreamTransactions, QuarantineCollectsEveryPartsRejectedLinesUnderOneHeader) {
  TempDir dir;
  const std::string good = "C1,T1,1,A01,P1,20190701,10:00,100,1";
  dir.write("in/a.csv", std::string(kHeader) + "\n" + good + "\nC2,T2,1,A01,P2,20190701,10:00,x,1\n");
  write_gzip(dir.path("in/b.csv.gz"), {std::string(kHeader) + "\r\nC3,T3,1\r\n" + good + "\r\n"});
  dir.write("in/c.csv", std::string(kHeader) + "\n" + good + "\n\"C4,T4\n");
  StreamOptions options = options_for(16, BadRowPolicy::quarantine);
  options.read.on_bad_row.quarantine_path = dir.path("rejected.csv");
  const Streamed s = stream(list_input_parts(dir.path("in"), {}), "lpoint", options);
  EXPECT_EQ(s.rows.size(), 3u);
  EXPECT_EQ(s.report.rejected, 3u);
  EXPECT_EQ(test::read_file(dir.path("rejected.csv")),
            std::string(kHeader) + "\nC2,T2,1,A01,P2,20190701,10:00,x,1\nC3,T3,1\n\"C4,T4\n\n");
  ASSERT_EQ(s.report.problems.size(), 3u);
  EXPECT_EQ(s.report.format_problem(s.report.problems[1]),
            dir.path("in/b.csv.gz") + ":2: wrong field count: 3 fields, expected 9 (got \"C3,T3,1\")");
}

TEST(StreamTransactions, FailPolicyStopsAtTheFirstChunkWithMalformedRows) {
  TempDir dir;
  const std::string good = "C1,T1,1,A01,P1,20190701,10:00,100,1\n";
  dir.write("in/part-0.csv", std::string(kHeader) + "\n" + good + good + good);
  const std::string bad = std::string(kHeader) + "\n" + good + good + "C2,T2,1,A01,P2,20190701,10:00,x,1\n" + good;
  const std::string part1 = dir.write("in/part-1.csv", bad);
  size_t rows = 0;
  const std::string message = error_of(
      [&] {
        stream_transactions(list_input_parts(dir.path("in"), {}), resolve_schema("lpoint"),
                            options_for(1, BadRowPolicy::fail), [&rows](StreamedChunk&& c) { rows += c.table.rows(); });
      },
      ErrorKind::input);
  EXPECT_EQ(rows, 5u);
  EXPECT_EQ(message, fmt::format("'{0}': 1 malformed row (of 3 read so far)\n  {0}:4: column 'buy_am': not a "
                                 "number (got \"x\")",
                                 part1));

  // A part read in one chunk fails with read_transactions's own message.
  const std::string whole_message =
      error_of([&] { read_transactions(part1, resolve_schema("lpoint"), {}); }, ErrorKind::input);
  EXPECT_EQ(error_of([&] { stream(list_input_parts(part1, {}), "lpoint", options_for(1 << 20, BadRowPolicy::fail)); },
                     ErrorKind::input),
            whole_message);
}

TEST(StreamTransactions, LargeInputIsReadInBoundedChunksWithProgress) {
  TempDir dir;
  const std::vector<std::string> records = lpoint_records(200000);
  const std::string path = dir.write("big.csv", lpoint_text(records, 0, records.size()));
  const size_t size = fs::file_size(path);
  ASSERT_GT(size, 100u * (64u << 10));
  const ReadResult whole = read_whole(path, "lpoint");
  StreamOptions options = options_for(64 << 10);
  test::RecordingSink progress;
  options.read.progress = &progress;
  const Streamed s = stream(list_input_parts(path, {}), "lpoint", options);
  EXPECT_EQ(s.rows, rows_of(whole.table));
  expect_same_counts(s.report, whole.report);
  // Records are at least 35 bytes: a chunk of about 64 KiB holds at most ~1900 of them.
  EXPECT_LE(*std::max_element(s.chunk_rows.begin(), s.chunk_rows.end()), (64u << 10) / 35 + 2);
  EXPECT_GE(s.chunk_rows.size(), size / (64u << 10) - 1);
  const std::vector<std::string> lines = progress.lines("read");
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back(), fmt::format("read {0}/{0} bytes", size));
}

TEST(StreamTransactions, EmptyAndHeaderOnlyPartsAddNoRows) {
  TempDir dir;
  dir.write("in/a.csv", std::string(kHeader) + "\nC1,T1,1,A01,P1,20190701,10:00,100,1\n");
  dir.write("in/b.csv", "");
  dir.write("in/c.csv", std::string(kHeader) + "\n");
  write_gzip(dir.path("in/d.csv.gz"), {""});
  const Streamed s = stream(list_input_parts(dir.path("in"), {}), "lpoint", options_for(1 << 20));
  EXPECT_EQ(s.rows.size(), 1u);
  ASSERT_EQ(s.report.parts.size(), 4u);
  EXPECT_EQ(s.report.parts[2].rows, 0u);
  EXPECT_EQ(s.report.parts[1].sha256, sha256_hex(""));
  fs::remove(dir.path("in/a.csv"));
  const std::string message = error_of(
      [&] { stream(list_input_parts(dir.path("in"), {}), "lpoint", options_for(1 << 20)); }, ErrorKind::input);
  EXPECT_NE(message.find("has no data rows"), std::string::npos) << message;
}

TEST(InputParts, NothingToReadIsAnErrorNamingTheInput) {
  TempDir dir;
  dir.write("empty/notes.json", "{}");
  dir.write("empty/_SUCCESS", "");
  EXPECT_NE(error_of([&] { list_input_parts(dir.path("empty"), {}); }, ErrorKind::input)
                .find(fmt::format("directory '{}' holds no input files", dir.path("empty"))),
            std::string::npos);
  EXPECT_NE(error_of([&] { list_input_parts(dir.path("empty/*.csv"), {}); }, ErrorKind::input)
                .find(fmt::format("'{}' matches no file", dir.path("empty/*.csv"))),
            std::string::npos);
  EXPECT_NE(error_of([&] { list_input_parts(dir.path("*/x.csv"), {}); }, ErrorKind::input)
                .find("only the last path component may hold * or ?"),
            std::string::npos);
  EXPECT_NE(error_of([&] { list_input_parts(dir.path("missing.csv"), {}); }, ErrorKind::io)
                .find(fmt::format("'{}' does not exist", dir.path("missing.csv"))),
            std::string::npos);
  const std::string uri = "file://" + dir.write("one.tsv.gz", "x");
  const std::vector<InputPart> parts = list_input_parts(uri, {});
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0].location.path, dir.path("one.tsv.gz"));
  EXPECT_EQ(parts[0].bytes, 1u);
}

// A prefix no other test (or test process) uses.
std::string unique_prefix() {
  return fmt::format("tests/stream-{}-{}/", ::getpid(), std::chrono::steady_clock::now().time_since_epoch().count());
}

TEST(StreamTransactions, S3PrefixIsReadOnePartAtATime) {
  CLTV_S3_ENDPOINT(endpoint);
  TempDir dir, tmp;
  const test::ScopedEnv credentials = test::s3rver_credentials();
  const test::ScopedEnv temp{{"TMPDIR", tmp.path("")}};
  storage::S3Options s3;
  s3.endpoint = endpoint;
  s3.list_page_keys = 2;
  const storage::S3Client client(s3);
  const std::vector<std::string> records = lpoint_records(900);
  const std::string whole_path = dir.write("whole.csv", lpoint_text(records, 0, records.size()));
  const std::string prefix = unique_prefix();
  for (size_t p = 0; p < 3; ++p) {
    const std::string local = dir.path(fmt::format("p{}.csv.gz", p));
    write_gzip(local, {lpoint_text(records, 300 * p, 300 * (p + 1))});
    client.upload(local, test::kTestBucket, fmt::format("{}day={}/part-{}.csv.gz", prefix, p, p));
  }
  client.put_text(test::kTestBucket, prefix + "_SUCCESS", "");
  client.put_text(test::kTestBucket, prefix + "_temporary/part-9.csv", "junk");
  client.put_text(test::kTestBucket, prefix.substr(0, prefix.size() - 1) + "-sibling/part-0.csv", "junk");

  const std::vector<InputPart> parts = list_input_parts(fmt::format("s3://{}/{}", test::kTestBucket, prefix), s3);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[2].name, fmt::format("s3://{}/{}day=2/part-2.csv.gz", test::kTestBucket, prefix));
  EXPECT_EQ(parts[2].bytes, fs::file_size(dir.path("p2.csv.gz")));
  size_t most_downloads = 0;
  const ReadResult whole = read_whole(whole_path, "lpoint");
  std::vector<std::string> rows;
  const ReadReport report =
      stream_transactions(parts, resolve_schema("lpoint"), options_for(4096), [&](StreamedChunk&& chunk) {
        most_downloads = std::max<size_t>(most_downloads, std::distance(fs::directory_iterator(tmp.path("")), {}));
        for (std::string& row : rows_of(chunk.table)) rows.push_back(std::move(row));
      });
  EXPECT_EQ(rows, rows_of(whole.table));
  expect_same_counts(report, whole.report);
  EXPECT_EQ(report.parts.at(1).sha256, sha256_file_hex(dir.path("p1.csv.gz")));
  EXPECT_EQ(most_downloads, 1u);
  EXPECT_TRUE(fs::is_empty(tmp.path("")));

  EXPECT_EQ(list_input_parts(parts[0].name, s3).size(), 1u);
  EXPECT_NE(error_of([&] { list_input_parts(parts[0].name + ".missing", s3); }, ErrorKind::io).find("does not exist"),
            std::string::npos);
  EXPECT_NE(error_of([&] { list_input_parts(fmt::format("s3://{}/{}none/", test::kTestBucket, prefix), s3); },
                     ErrorKind::input)
                .find("holds no input objects"),
            std::string::npos);
}

}  // namespace
}  // namespace cltv::io
