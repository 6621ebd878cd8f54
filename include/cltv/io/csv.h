// Small CSV helpers for the files cltv writes and reads back (predictions, RFM summaries): quoting
// a field on output, and reading a whole headed CSV file into memory.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace cltv::io {

// Appends TEXT to OUT as one CSV field, quoted (RFC 4180) only when it holds a comma, quote or
// line break.
void append_csv_field(std::string& out, std::string_view text);

struct CsvDocument {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;  // each with header.size() fields
  // Index of column NAME, or -1.
  int column(std::string_view name) const;
};

// A record of a CSV text (the header first): its first line number, its raw text (a view into the
// data, without the line break) and its fields (which may point into the scanner's scratch space:
// copy what is kept).
struct CsvRecord {
  size_t line = 0;
  std::string_view text;
  const std::vector<std::string_view>& fields;
};
using CsvRecordHandler = std::function<void(const CsvRecord& record)>;

// Scans DATA (RFC 4180, CRLF or LF, optional BOM) record by record, skipping blank lines. Throws
// input error naming SOURCE:line for empty data, unbalanced quotes or a record whose field count
// differs from the header's.
void scan_csv(std::string_view data, const std::string& source, const CsvRecordHandler& on_record);

// Reads PATH (RFC 4180, CRLF or LF, optional BOM). Throws io error when unreadable and input error
// naming file:line for an empty file or a row whose field count differs from the header's.
CsvDocument read_csv(const std::string& path);

}  // namespace cltv::io
