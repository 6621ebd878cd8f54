// RecordScanner: a byte loop over one record; the hot path of ingestion.
#include "record_scanner.h"

#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace cltv::io::detail {
namespace {

// Position of the first of the bytes A, B, C, D at or after POS, or END. Sixteen bytes at a time
// where SSE2 is available: fields such as product descriptions are long.
size_t find_any_of4(const char* base, size_t pos, size_t end, char a, char b, char c, char d) {
#if defined(__SSE2__)
  const __m128i va = _mm_set1_epi8(a), vb = _mm_set1_epi8(b), vc = _mm_set1_epi8(c), vd = _mm_set1_epi8(d);
  while (pos + 16 <= end) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(base + pos));
    const __m128i hits = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, va), _mm_cmpeq_epi8(v, vb)),
                                      _mm_or_si128(_mm_cmpeq_epi8(v, vc), _mm_cmpeq_epi8(v, vd)));
    const int mask = _mm_movemask_epi8(hits);
    if (mask != 0) return pos + static_cast<size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
    pos += 16;
  }
#endif
  while (pos < end && base[pos] != a && base[pos] != b && base[pos] != c && base[pos] != d) ++pos;
  return pos;
}

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
      pos = find_any_of4(base, pos, end, ' ', '\t', '\n', '\r');
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
      pos = find_any_of4(base, pos, end, delim, '\n', '\r', delim);
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
