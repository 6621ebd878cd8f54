// CSV field quoting and whole-file reading, on the same record scanner as the transaction reader.
#include "cltv/io/csv.h"

#include <fmt/format.h>

#include "cltv/error.h"
#include "cltv/io/atomic_file.h"
#include "record_scanner.h"

namespace cltv::io {

void append_csv_field(std::string& out, std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) {
    out += text;
    return;
  }
  out += '"';
  for (const char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

int CsvDocument::column(std::string_view name) const {
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == name) return static_cast<int>(i);
  }
  return -1;
}

void scan_csv(std::string_view data, const std::string& source, const CsvRecordHandler& on_record) {
  if (data.starts_with("\xEF\xBB\xBF")) data.remove_prefix(3);
  if (data.empty()) throw_input(fmt::format("'{}' is empty", source), "expected a CSV file with a header");
  detail::RecordScanner scanner;
  std::vector<std::string_view> fields;
  std::string scratch;
  size_t pos = 0, line = 1, columns = 0;
  while (pos < data.size()) {
    size_t record_end = 0, newlines = 0;
    bool quote_error = false;
    const size_t start = pos;
    pos = scanner.next(data, pos, fields, scratch, record_end, newlines, quote_error);
    const size_t record_line = line;
    line += std::max<size_t>(newlines, 1);
    if (record_end == start && fields.size() <= 1) continue;  // blank line
    if (quote_error) throw_input(fmt::format("{}:{}: unbalanced quotes", source, record_line));
    if (columns == 0) {
      columns = fields.size();
    } else if (fields.size() != columns) {
      throw_input(fmt::format("{}:{}: {} fields, expected {} as in the header", source, record_line, fields.size(),
                              columns));
    }
    on_record(CsvRecord{record_line, data.substr(start, record_end - start), fields});
  }
}

CsvDocument read_csv(const std::string& path) {
  const std::string text = read_whole_file(path);
  CsvDocument doc;
  scan_csv(text, path, [&doc](const CsvRecord& record) {
    std::vector<std::string> row(record.fields.begin(), record.fields.end());
    if (doc.header.empty()) {
      doc.header = std::move(row);
    } else {
      doc.rows.push_back(std::move(row));
    }
  });
  return doc;
}

}  // namespace cltv::io
