// RecordScanner: a byte loop over one record; the hot path of ingestion.
#include "record_scanner.h"

#include <cstring>

namespace cltv::io::detail {
namespace {

size_t after_line_end(std::string_view data, size_t pos, size_t& record_end, size_t& newlines) {
  // POS is at '\n', at '\r' or at the end of data.
  record_end = pos;
  if (pos < data.size() && data[pos] == '\r') {
    ++pos;
    if (pos < data.size() && data[pos] == '\n') ++pos;
    ++newlines;
    return pos;
  }
  if (pos < data.size()) {
    ++newlines;
    return pos + 1;
  }
  return pos;
}

}  // namespace

size_t RecordScanner::next(std::string_view data, size_t pos, std::vector<std::string_view>& fields,
                           std::string& scratch, size_t& record_end, size_t& newlines,
                           bool& quote_error) {
  fields.clear();
  scratch.clear();
  scratch_fields_.clear();
  quote_error = false;
  newlines = 0;
  const char* base = data.data();
  const size_t end = data.size();

  if (whitespace) {
    while (true) {
      while (pos < end && (base[pos] == ' ' || base[pos] == '\t')) ++pos;
      if (pos >= end || base[pos] == '\n' || base[pos] == '\r') {
        return after_line_end(data, pos, record_end, newlines);
      }
      const size_t start = pos;
      while (pos < end && base[pos] != ' ' && base[pos] != '\t' && base[pos] != '\n' &&
             base[pos] != '\r') {
        ++pos;
      }
      fields.emplace_back(base + start, pos - start);
    }
  }

  const char delim = delimiter;
  while (true) {
    if (pos < end && base[pos] == '"') {
      // Quoted field: runs to the closing quote; "" stands for one quote.
      ++pos;
      const size_t start = pos;
      bool has_escapes = false;
      size_t close = std::string_view::npos;
      while (pos < end) {
        const char* q = static_cast<const char*>(std::memchr(base + pos, '"', end - pos));
        if (q == nullptr) {
          pos = end;
          break;
        }
        pos = static_cast<size_t>(q - base);
        if (pos + 1 < end && base[pos + 1] == '"') {
          has_escapes = true;
          pos += 2;
          continue;
        }
        close = pos;
        ++pos;
        break;
      }
      if (close == std::string_view::npos) {
        quote_error = true;
        close = end;
      }
      for (size_t i = start; i < close; ++i) newlines += base[i] == '\n';
      if (has_escapes) {
        const size_t offset = scratch.size();
        for (size_t i = start; i < close; ++i) {
          scratch.push_back(base[i]);
          if (base[i] == '"') ++i;
        }
        scratch_fields_.push_back({fields.size(), offset, scratch.size() - offset});
        fields.emplace_back();
      } else {
        fields.emplace_back(base + start, close - start);
      }
      // After the closing quote: delimiter, line end, or (malformed) other characters.
      while (pos < end && base[pos] != delim && base[pos] != '\n' && base[pos] != '\r') {
        if (base[pos] != ' ' && base[pos] != '\t') quote_error = true;
        ++pos;
      }
    } else {
      const size_t start = pos;
      while (pos < end && base[pos] != delim && base[pos] != '\n' && base[pos] != '\r') ++pos;
      fields.emplace_back(base + start, pos - start);
    }
    if (pos < end && base[pos] == delim) {
      ++pos;
      continue;
    }
    // Views into scratch are made only now: appending may have moved its buffer.
    for (const auto& [field, offset, length] : scratch_fields_) {
      fields[field] = std::string_view(scratch.data() + offset, length);
    }
    return after_line_end(data, pos, record_end, newlines);
  }
}

}  // namespace cltv::io::detail
