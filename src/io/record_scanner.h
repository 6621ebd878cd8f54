// Splitting raw bytes into records and fields: RFC 4180 CSV (quotes, doubled quotes, delimiters
// and newlines inside quotes, CRLF) or whitespace-separated text. Internal to the io area.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace cltv::io::detail {

struct RecordScanner {
  char delimiter = ',';
  bool whitespace = false;

  // Parses one record starting at POS (which must be < end). Fills FIELDS with views into DATA or,
  // for quoted fields holding doubled quotes, into SCRATCH (cleared first; views stay valid until
  // the next call). One scanner per thread. Returns the position after the record's line
  // terminator, and in RECORD_END the position where the record's own bytes end (before "\r\n" or
  // "\n"). NEWLINES receives the number
  // of physical line breaks consumed (inside quotes too). QUOTE_ERROR is set when a quoted field
  // is not closed or is followed by other characters.
  size_t next(std::string_view data, size_t pos, std::vector<std::string_view>& fields,
              std::string& scratch, size_t& record_end, size_t& newlines, bool& quote_error);

 private:
  // First field or record separator at or after POS, or END.
  size_t find_separator(const char* base, size_t pos, size_t end);

  char separators_[4] = {',', '\n', '\r', ','};
  int separators_ready_ = 0;  // 1: CSV, 2: whitespace
#if defined(__SSE2__)
  __m128i separator_vectors_[4];
#endif
  size_t block_start_ = SIZE_MAX;
  uint64_t block_mask_ = 0;

  struct ScratchField {
    size_t field, offset, length;
  };
  std::vector<ScratchField> scratch_fields_;
};

inline std::string_view trim_spaces(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text;
}

}  // namespace cltv::io::detail
