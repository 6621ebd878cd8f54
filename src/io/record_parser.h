// The reader's building blocks, shared by reading one file whole (reader.cpp) and streaming many
// files chunk by chunk (stream.cpp): a file's header resolved once, then its records parsed range
// by range on several threads. Internal to the io area.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cltv/io/reader.h"
#include "cltv/io/schema.h"

namespace cltv::io::detail {

// Where each canonical field sits in a record of one layout (-1: absent).
struct FieldPositions {
  size_t field_count = 0;
  int customer = -1, basket = -1, line_seq = -1, unit = -1, product = -1, date = -1, time = -1,
      datetime = -1, quantity = -1, amount = -1, price = -1;
};

struct FileHeader {
  size_t data_start = 0;      // first byte of the first data record
  uint64_t lines_before = 0;  // physical lines before data_start
  bool present = false;
  std::string raw;                      // the header record's bytes (for quarantine files)
  std::vector<FieldPositions> layouts;  // one per accepted field count
};

// Checks that DATA (the start of a file, holding at least its header) is text, skips a UTF-8 BOM
// and leading blank lines, and resolves the header against SCHEMA. Input errors name SOURCE (and
// the header's line); a file of blank lines has no rows.
FileHeader resolve_file_header(std::string_view data, const Schema& schema, const std::string& source);

struct ParsedRecords {
  ReadResult result;    // rows and counts; problems carry lines of the file; bytes and header unset
  size_t end = 0;       // where the last record parsed ends: the END asked for, or past it
  uint64_t lines = 0;   // physical lines in [begin, end)
  std::vector<std::pair<size_t, size_t>> rejected_spans;  // byte ranges of rejected records (quarantine)
};

// Parses the records of DATA that start in [BEGIN, END) (BEGIN at a record start on line
// LINES_BEFORE + 1 of SOURCE) with HEADER's layouts on OPTIONS.threads threads, exactly as one
// sequential pass would. A record starting before END runs to its own end, which may lie past END
// (then ParsedRecords::end says where); at DATA's end it is cut short.
ParsedRecords parse_records(std::string_view data, size_t begin, size_t end, uint64_t lines_before,
                            const FileHeader& header, const Schema& schema, const std::string& source,
                            const ReadOptions& options);

// "'SOURCE': N malformed rows (of OF)" and the problems listed in REPORT, for the fail policy.
std::string malformed_rows_message(const ReadReport& report, const std::string& source, std::string_view of);
inline constexpr const char* kMalformedRowsHint =
    "fix the rows, or pass --on-bad-row skip or --on-bad-row quarantine=PATH to continue without them";

}  // namespace cltv::io::detail
