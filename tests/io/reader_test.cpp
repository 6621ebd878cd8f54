// Transaction reader: schemas, parsing edge cases, bad-row policies and input errors. Expected
// values are written by hand from the small inputs.
#include <gtest/gtest.h>
#include <zlib.h>

#include "cltv/error.h"
#include "cltv/io/reader.h"
#include "cltv/time.h"
#include "support/test_support.h"

namespace cltv::io {
namespace {

using test::TempDir;

ReadResult parse(const std::string& text, const std::string& schema, BadRowPolicy policy = BadRowPolicy::fail,
                 unsigned threads = 1, const std::string& quarantine = "") {
  ReadOptions options;
  options.on_bad_row = {policy, quarantine};
  options.threads = threads;
  return parse_transactions(text, "in.csv", resolve_schema(schema), options);
}

// The message of the input error F throws.
std::string input_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::input) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "expected an input error";
  return {};
}

int64_t at(int y, unsigned m, unsigned d, int hh, int mm, int ss = 0) {
  return days_from_civil(y, m, d) * seconds_per_day + hh * 3600 + mm * 60 + ss;
}

const char* lpoint_header = "clnt_id,trans_id,trans_seq,biz_unit,pd_c,de_dt,de_tm,buy_am,buy_ct\n";

TEST(Reader, LpointRowsAreParsedExactly) {
  const ReadResult r = parse(std::string(lpoint_header) +
                                 "21922,104999,1,A03,unknown,20190920,12:41,5990,1\n"
                                 "21922,104999,2,A03,PD0290,20190920,12:41,10900,2\n"
                                 "39423,105124,1,B01,PD1007,20190701,9:05,3000,1\n",
                             "lpoint");
  const TransactionTable& t = r.table;
  ASSERT_EQ(t.rows(), 3u);
  EXPECT_EQ(r.report.accepted, 3u);
  EXPECT_EQ(t.customer_ids.size(), 2u);
  EXPECT_EQ(t.customer_ids[t.customer[2]], "39423");
  EXPECT_EQ(t.basket[0], t.basket[1]);
  EXPECT_EQ(t.basket_ids[t.basket[2]], "105124");
  EXPECT_EQ(t.time[0], at(2019, 9, 20, 12, 41));
  EXPECT_EQ(t.time[2], at(2019, 7, 1, 9, 5));
  EXPECT_EQ(t.amount[1], 10900.0);
  EXPECT_EQ(t.quantity[1], 2.0);
  EXPECT_EQ(t.units[t.unit[2]], "B01");
  EXPECT_EQ(t.products[t.product[0]], "unknown");
  ASSERT_TRUE(t.has_line_seq());
  EXPECT_EQ(t.line_seq[1], 2u);
  EXPECT_NE(t.row_hash[0], t.row_hash[1]);
}

TEST(Reader, HeaderInAnyOrderWithExtraColumnsBomCrlfAndNoFinalNewline) {
  const ReadResult r = parse(
      "\xEF\xBB\xBF"
      "buy_ct,extra,de_tm,de_dt,pd_c,biz_unit,trans_seq,trans_id,clnt_id,buy_am\r\n"
      "3,\"ignored, really\",23:59:59,20190831,PD1,A01,1,T1,C1,1500.5\r\n"
      "1,x,0:00,20190901,PD2,A02,1,T2,C2,200",
      "lpoint");
  const TransactionTable& t = r.table;
  ASSERT_EQ(t.rows(), 2u);
  EXPECT_EQ(t.customer_ids[t.customer[0]], "C1");
  EXPECT_EQ(t.time[0], at(2019, 8, 31, 23, 59, 59));
  EXPECT_EQ(t.time[1], at(2019, 9, 1, 0, 0));
  EXPECT_EQ(t.amount[0], 1500.5);
  EXPECT_EQ(t.quantity[0], 3.0);
  EXPECT_EQ(t.amount[1], 200.0);
}

TEST(Reader, KoreanTextInQuotedFields) {
  const ReadResult r = parse(std::string(lpoint_header) + "고객1,\"영수증,1\",1,A01,\"상품 \"\"A\"\"\",20190701,10:00,100,1\n",
                             "lpoint");
  EXPECT_EQ(r.table.customer_ids[0], "고객1");
  EXPECT_EQ(r.table.basket_ids[0], "영수증,1");
  EXPECT_EQ(r.table.products[0], "상품 \"A\"");
}

TEST(Reader, OnlineRetailConventions) {
  const ReadResult r = parse(
      "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
      "536365,85123A,\"HEART, WHITE\",6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom\n"
      "536366,22633,HAND WARMER,6,12/1/2010 8:28,1.85,17850,United Kingdom\n"
      "536414,22139,,56,2010-12-01 11:52:00,0.0,,United Kingdom\n"
      "C536379,D,Discount,-1,2010-12-01 09:41:00,27.5,14527.0,France\n",
      "online-retail");
  const TransactionTable& t = r.table;
  ASSERT_EQ(t.rows(), 3u);
  EXPECT_EQ(r.report.rows_read, 4u);
  EXPECT_EQ(r.report.dropped, 1u);
  EXPECT_EQ(r.report.dropped_by_reason.at("no customer id"), 1u);
  EXPECT_EQ(t.customer_ids.size(), 2u);  // 17850.0 and 17850 are one customer
  EXPECT_EQ(t.customer_ids[0], "17850");
  EXPECT_DOUBLE_EQ(t.amount[0], 6 * 2.55);
  EXPECT_EQ(t.time[1], at(2010, 12, 1, 8, 28));
  EXPECT_DOUBLE_EQ(t.amount[2], -27.5);  // cancellations are kept; cleaning drops them later
  EXPECT_EQ(t.units[t.unit[2]], "France");
  EXPECT_EQ(t.products[t.product[0]], "85123A");
}

TEST(Reader, CdnowBothLayoutsAndOptionalHeader) {
  const ReadResult master = parse(" customer_id  date number_of_cds  dollar_value\r\n"
                                  " 00001 19970101  1   11.77\r\n 00001 19970101  2   5.00\r\n 00002 19970112  1   12.00\r\n",
                                  "cdnow");
  EXPECT_TRUE(master.report.header_line);
  ASSERT_EQ(master.table.rows(), 3u);
  EXPECT_EQ(master.table.customer_ids[0], "00001");
  EXPECT_EQ(master.table.basket[0], master.table.basket[1]);  // same customer and day: one basket
  EXPECT_NE(master.table.basket[0], master.table.basket[2]);
  EXPECT_EQ(master.table.units[0], "all");
  EXPECT_EQ(master.table.products[0], "unknown");

  const ReadResult sample = parse(" 00004 0001 19970101  2   29.33\n 00004 0001 19970118  2   29.73\n", "cdnow");
  EXPECT_FALSE(sample.report.header_line);
  ASSERT_EQ(sample.table.rows(), 2u);
  EXPECT_EQ(sample.table.quantity[0], 2.0);
  EXPECT_DOUBLE_EQ(sample.table.amount[1], 29.73);
  EXPECT_EQ(sample.table.time[1], at(1997, 1, 18, 0, 0));
}

TEST(Reader, GzipInput) {
  TempDir dir;
  const std::string path = dir.path("tx.csv.gz");
  const std::string text = std::string(lpoint_header) + "1,T1,1,A01,P,20190701,10:00,100,1\n2,T2,1,A02,P,20190702,11:00,200,1\n";
  gzFile gz = gzopen(path.c_str(), "wb");
  ASSERT_NE(gz, nullptr);
  gzwrite(gz, text.data(), static_cast<unsigned>(text.size()));
  gzclose(gz);
  const ReadResult r = read_transactions(path, resolve_schema("lpoint"), {});
  ASSERT_EQ(r.table.rows(), 2u);
  EXPECT_EQ(r.table.amount[1], 200.0);

  const std::string truncated = dir.write("cut.csv.gz", test::read_file(path).substr(0, 20));
  EXPECT_NE(input_error([&] { read_transactions(truncated, resolve_schema("lpoint"), {}); }).find("gzip"),
            std::string::npos);
}

// A body of N good lpoint rows where every 7th has a quoted product containing a newline, so that
// chunk boundaries can fall inside quotes.
std::string many_rows(int n) {
  std::string text = lpoint_header;
  for (int i = 0; i < n; ++i) {
    const std::string product = i % 7 == 0 ? "\"multi\nline, " + std::to_string(i % 50) + "\"" : "P" + std::to_string(i % 300);
    text += "C" + std::to_string(i % 997) + ",T" + std::to_string(i / 3) + "," + std::to_string(i % 3 + 1) + ",A0" +
            std::to_string(i % 3 + 1) + "," + product + ",201907" + (i % 28 < 9 ? "0" : "") + std::to_string(i % 28 + 1) +
            ",10:" + (i % 60 < 10 ? "0" : "") + std::to_string(i % 60) + "," + std::to_string(100 + i % 5000) + ",1\n";
  }
  return text;
}

TEST(Reader, ThreadCountDoesNotChangeTheResult) {
  const std::string text = many_rows(80000);  // several MB: one chunk per thread, up to four
  ASSERT_GT(text.size(), 3u << 20);  // the reader makes chunks of at least 1 MiB
  const ReadResult one = parse(text, "lpoint", BadRowPolicy::fail, 1);
  const ReadResult two = parse(text, "lpoint", BadRowPolicy::fail, 2);
  const ReadResult four = parse(text, "lpoint", BadRowPolicy::fail, 4);
  ASSERT_EQ(one.table.rows(), 80000u);
  for (const ReadResult* other : {&two, &four}) {
    EXPECT_EQ(other->table.customer, one.table.customer);
    EXPECT_EQ(other->table.basket, one.table.basket);
    EXPECT_EQ(other->table.product, one.table.product);
    EXPECT_EQ(other->table.time, one.table.time);
    EXPECT_EQ(other->table.amount, one.table.amount);
    EXPECT_EQ(other->table.row_hash, one.table.row_hash);
    EXPECT_EQ(other->table.products.size(), one.table.products.size());
    for (uint32_t i = 0; i < one.table.products.size(); ++i) EXPECT_EQ(other->table.products[i], one.table.products[i]);
  }
  EXPECT_EQ(one.table.customer_ids[0], "C0");  // ids in order of first appearance
  EXPECT_EQ(one.table.customer_ids[1], "C1");
}

TEST(Reader, EveryMalformedRowKindIsReportedWithFileLineAndColumn) {
  const std::string text = std::string(lpoint_header) +
                           "1,T1,1,A01,P,20190701,10:00,100,1\n"        // line 2 ok
                           "2,T2,1,A01,P,20190701,10:00,100\n"          // 3 wrong field count
                           "3,T3,1,A01,P,20190701,10:00,abc,1\n"        // 4 not a number
                           "4,T4,1,A01,P,20190230,10:00,100,1\n"        // 5 bad date
                           "5,T5,1,A01,P,20190701,25:00,100,1\n"        // 6 bad time
                           "6,T6,1,A01,P,20190701,10:00,,1\n"           // 7 missing amount
                           "7,T7,1,A01,P,20190701,10:00,nan,1\n"        // 8 NaN
                           "8,T8,1,A01,P,20190701,10:00,100,inf\n"      // 9 Inf
                           "9,,1,A01,P,20190701,10:00,100,1\n"          // 10 missing basket
                           "10,T10,x,A01,P,20190701,10:00,100,1\n"      // 11 bad sequence
                           ",T11,1,A01,P,20190701,10:00,100,1\n";       // 12 no customer: dropped
  const std::string message = input_error([&] { parse(text, "lpoint"); });
  EXPECT_NE(message.find("9 malformed rows (of 11)"), std::string::npos) << message;
  EXPECT_NE(message.find("in.csv:3: wrong field count: 8 fields, expected 9"), std::string::npos) << message;
  EXPECT_NE(message.find("in.csv:4: column 'buy_am': not a number (got \"abc\")"), std::string::npos) << message;
  EXPECT_NE(message.find("in.csv:5: column 'de_dt': not a date"), std::string::npos) << message;
  EXPECT_NE(message.find("in.csv:6: column 'de_tm': not a time of day"), std::string::npos) << message;
  EXPECT_NE(message.find("in.csv:7: column 'buy_am': missing value"), std::string::npos) << message;
  EXPECT_NE(message.find("in.csv:8: column 'buy_am': not a finite number (got \"nan\")"), std::string::npos);
  EXPECT_NE(message.find("in.csv:9: column 'buy_ct': not a finite number (got \"inf\")"), std::string::npos);
  EXPECT_NE(message.find("in.csv:10: column 'trans_id': missing value"), std::string::npos);
  EXPECT_NE(message.find("in.csv:11: column 'trans_seq': not a non-negative integer"), std::string::npos);

  const ReadResult skipped = parse(text, "lpoint", BadRowPolicy::skip);
  EXPECT_EQ(skipped.table.rows(), 1u);
  EXPECT_EQ(skipped.report.rows_read, 11u);
  EXPECT_EQ(skipped.report.rejected, 9u);
  EXPECT_EQ(skipped.report.dropped, 1u);
  EXPECT_EQ(skipped.report.accepted + skipped.report.rejected + skipped.report.dropped, skipped.report.rows_read);
  EXPECT_EQ(skipped.report.rejected_by_reason.at("not a number"), 1u);
  EXPECT_EQ(skipped.report.rejected_by_reason.at("not a finite number"), 2u);
  EXPECT_EQ(skipped.report.rejected_by_reason.at("missing value"), 2u);
}

TEST(Reader, LineNumbersCountNewlinesInsideQuotes) {
  const std::string text = std::string(lpoint_header) + "1,T1,1,A01,\"two\nlines\",20190701,10:00,100,1\n" +
                           "2,T2,1,A01,P,20190701,10:00,oops,1\n";
  EXPECT_NE(input_error([&] { parse(text, "lpoint"); }).find("in.csv:4: column 'buy_am'"), std::string::npos);
}

TEST(Reader, FailListsTheFirstTwentyProblems) {
  std::string text = lpoint_header;
  for (int i = 0; i < 25; ++i) text += "1,T1,1,A01,P,20190701,10:00,bad" + std::to_string(i) + ",1\n";
  const std::string message = input_error([&] { parse(text, "lpoint"); });
  EXPECT_NE(message.find("got \"bad19\""), std::string::npos);
  EXPECT_EQ(message.find("got \"bad20\""), std::string::npos);
  EXPECT_NE(message.find("... and 5 more"), std::string::npos);
}

TEST(Reader, QuarantineWritesRejectedLinesVerbatim) {
  TempDir dir;
  const std::string bad1 = "2,T2,1,A01,\"q, p\",20190701,10:00,1e999,1";
  const std::string bad2 = "3,T3,1,A01,P,2019-07-01,10:00,100,1";
  const std::string text = std::string(lpoint_header) + "1,T1,1,A01,P,20190701,10:00,100,1\n" + bad1 + "\r\n" + bad2 + "\n";
  const std::string path = dir.path("rejected.csv");
  const ReadResult r = parse(text, "lpoint", BadRowPolicy::quarantine, 1, path);
  EXPECT_EQ(r.table.rows(), 1u);
  EXPECT_EQ(r.report.rejected, 2u);
  EXPECT_EQ(test::read_file(path), std::string(lpoint_header) + bad1 + "\n" + bad2 + "\n");
}

TEST(Reader, BadRowPolicyParsing) {
  EXPECT_EQ(parse_bad_row_option("skip").policy, BadRowPolicy::skip);
  const BadRowOption q = parse_bad_row_option("quarantine=/tmp/x.csv");
  EXPECT_EQ(q.policy, BadRowPolicy::quarantine);
  EXPECT_EQ(q.quarantine_path, "/tmp/x.csv");
  EXPECT_THROW(parse_bad_row_option("quarantine="), Error);
  EXPECT_THROW(parse_bad_row_option("ignore"), Error);
}

TEST(Reader, UnusableFilesGetOneClearMessage) {
  TempDir dir;
  const Schema lpoint = resolve_schema("lpoint");
  auto read = [&](const std::string& path) { read_transactions(path, lpoint, {}); };

  try {
    read(dir.path("missing.csv"));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::io);
    EXPECT_NE(std::string(e.what()).find("missing.csv"), std::string::npos);
  }
  EXPECT_NE(input_error([&] { read(dir.write("empty.csv", "")); }).find("is empty"), std::string::npos);
  EXPECT_NE(input_error([&] { read(dir.write("header.csv", lpoint_header)); }).find("header but no data rows"),
            std::string::npos);
  EXPECT_NE(input_error([&] { read(dir.write("blank.csv", "\n\n")); }).find("no rows"), std::string::npos);
  const std::string lacking = input_error([&] {
    read(dir.write("lacking.csv", "clnt_id,trans_id,biz_unit,pd_c,de_dt,de_tm,buy_am,buy_ct\n1,2,3,4,5,6,7,8\n"));
  });
  EXPECT_NE(lacking.find("lacking.csv:1: header lacks required column 'trans_seq' for schema 'lpoint'"),
            std::string::npos)
      << lacking;
  EXPECT_NE(input_error([&] { read(dir.write("binary.csv", std::string("PK\x03\x04\0\0\x01", 7))); }).find("binary"),
            std::string::npos);
}

TEST(Reader, DuplicateMappedColumnIsRefusedAndNamed) {
  // Two "buy_am" columns: which one is the amount is ambiguous.
  const std::string twice = input_error([] {
    parse("clnt_id,trans_id,trans_seq,biz_unit,pd_c,de_dt,de_tm,buy_am,buy_ct,buy_am\n"
          "1,T1,1,A01,P1,20190701,10:00,1000,1,2000\n",
          "lpoint");
  });
  EXPECT_NE(twice.find("in.csv:1: header names column 'buy_am' more than once"), std::string::npos) << twice;
  // A repeated column the schema does not read is ignored, like any extra column.
  const ReadResult r = parse("note,clnt_id,trans_id,trans_seq,biz_unit,pd_c,de_dt,de_tm,buy_am,buy_ct,note\n"
                             "a,1,T1,1,A01,P1,20190701,10:00,1000,1,b\n",
                             "lpoint");
  ASSERT_EQ(r.table.rows(), 1u);
  EXPECT_EQ(r.table.amount[0], 1000.0);
}

TEST(Reader, DecimalCommaSchema) {
  const Schema schema = schema_from_json(R"({
    "delimiter": ";", "decimal": ",",
    "fields": {"customer": "member", "datetime": "paid_at", "quantity": "units", "price": "unit_price"},
    "date_formats": ["%d.%m.%Y"]})",
                                         "shop.json");
  ReadOptions options;
  options.threads = 1;
  options.on_bad_row.policy = BadRowPolicy::skip;
  const ReadResult r = parse_transactions(
      "member;paid_at;units;unit_price\n"
      "M1;03.02.2024;2;3,5\n"                     // 2 x 3.5
      "M2;03.02.2024;1;-0,25\n"                   // negative
      "M3;03.02.2024;1;12\n"                      // no decimals
      "M4;03.02.2024;1;0,1234567890123456789\n"   // too long for the fast path
      "M5;03.02.2024;1;1,5e2\n"                   // exponent
      "M6;03.02.2024;1;3.5\n"                     // a decimal point is not a number here
      "M7;03.02.2024;1;1,2,3\n",
      "shop.csv", schema, options);
  ASSERT_EQ(r.table.rows(), 5u);
  EXPECT_EQ(r.table.amount[0], 7.0);
  EXPECT_EQ(r.table.amount[1], -0.25);
  EXPECT_EQ(r.table.amount[2], 12.0);
  EXPECT_EQ(r.table.amount[3], 0.1234567890123456789);
  EXPECT_EQ(r.table.amount[4], 150.0);
  EXPECT_EQ(r.report.rejected_by_reason.at("not a number"), 2u);
}

}  // namespace
}  // namespace cltv::io
