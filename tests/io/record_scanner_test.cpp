// RFC 4180 record splitting: quotes, doubled quotes, delimiters and newlines inside quotes, CRLF,
// missing final newline; and whitespace-separated records.
#include <gtest/gtest.h>

#include "io/record_scanner.h"

namespace cltv::io::detail {
namespace {

struct Scanned {
  std::vector<std::vector<std::string>> records;
  std::vector<size_t> newlines;
  bool quote_error = false;
};

Scanned scan(std::string_view data, bool whitespace = false, char delimiter = ',') {
  RecordScanner scanner;
  scanner.whitespace = whitespace;
  scanner.delimiter = delimiter;
  Scanned out;
  std::vector<std::string_view> fields;
  std::string scratch;
  size_t pos = 0;
  while (pos < data.size()) {
    size_t record_end = 0, newlines = 0;
    bool quote_error = false;
    pos = scanner.next(data, pos, fields, scratch, record_end, newlines, quote_error);
    out.quote_error |= quote_error;
    out.records.emplace_back(fields.begin(), fields.end());
    out.newlines.push_back(newlines);
  }
  return out;
}

using Record = std::vector<std::string>;

TEST(RecordScanner, PlainFieldsAndMissingFinalNewline) {
  const Scanned s = scan("a,b,c\n1,,3");
  ASSERT_EQ(s.records.size(), 2u);
  EXPECT_EQ(s.records[0], (Record{"a", "b", "c"}));
  EXPECT_EQ(s.records[1], (Record{"1", "", "3"}));
  EXPECT_EQ(s.newlines[1], 0u);
}

TEST(RecordScanner, QuotedDelimitersNewlinesAndDoubledQuotes) {
  const Scanned s = scan("1,\"x, y\",\"say \"\"hi\"\"\",\"two\nlines\"\n2,\"\",\"\"\"\"\n");
  ASSERT_EQ(s.records.size(), 2u);
  EXPECT_EQ(s.records[0], (Record{"1", "x, y", "say \"hi\"", "two\nlines"}));
  EXPECT_EQ(s.newlines[0], 2u);  // one inside quotes, one terminator
  EXPECT_EQ(s.records[1], (Record{"2", "", "\""}));
  EXPECT_FALSE(s.quote_error);
}

TEST(RecordScanner, CrlfLineEnds) {
  const Scanned s = scan("a,b\r\n1,2\r\n");
  ASSERT_EQ(s.records.size(), 2u);
  EXPECT_EQ(s.records[0], (Record{"a", "b"}));
  EXPECT_EQ(s.records[1], (Record{"1", "2"}));
}

TEST(RecordScanner, KoreanTextIsOpaqueBytes) {
  const Scanned s = scan("고객,\"롯데, 백화점\"\n");
  ASSERT_EQ(s.records.size(), 1u);
  EXPECT_EQ(s.records[0], (Record{"고객", "롯데, 백화점"}));
}

TEST(RecordScanner, UnclosedQuoteIsReported) {
  EXPECT_TRUE(scan("1,\"open\n2,3\n").quote_error);
  EXPECT_TRUE(scan("1,\"closed\"junk,3\n").quote_error);
}

TEST(RecordScanner, LongFieldsCrossVectorBlocks) {
  const std::string long_field(100, 'x');
  const Scanned s = scan(long_field + "," + long_field + "\n");
  ASSERT_EQ(s.records.size(), 1u);
  EXPECT_EQ(s.records[0], (Record{long_field, long_field}));
}

TEST(RecordScanner, OtherDelimiter) {
  const Scanned s = scan("a;b,c;d\n", false, ';');
  EXPECT_EQ(s.records[0], (Record{"a", "b,c", "d"}));
}

TEST(RecordScanner, WhitespaceSeparated) {
  const Scanned s = scan("  00001 19970101  1   11.77\r\n00002\t19970112 1 12.00", true);
  ASSERT_EQ(s.records.size(), 2u);
  EXPECT_EQ(s.records[0], (Record{"00001", "19970101", "1", "11.77"}));
  EXPECT_EQ(s.records[1], (Record{"00002", "19970112", "1", "12.00"}));
}

}  // namespace
}  // namespace cltv::io::detail
