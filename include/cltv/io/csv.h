// Small CSV helpers for the files cltv writes and reads back (predictions, RFM summaries): quoting
// a field on output, and reading a whole headed CSV file into memory.
#pragma once

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

// Reads PATH (RFC 4180, CRLF or LF, optional BOM). Throws io error when unreadable and input error
// naming file:line for an empty file or a row whose field count differs from the header's.
CsvDocument read_csv(const std::string& path);

}  // namespace cltv::io
