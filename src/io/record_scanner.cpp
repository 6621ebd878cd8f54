// RecordScanner: a byte loop over one record; the hot path of ingestion.
#include "record_scanner.h"

#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

#if defined(__SSE2__)
namespace {

// Bit i set when byte i of the 16 at P is one of the four separators.
inline uint64_t separator_bits16(const char* p, const __m128i* separators) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i hits = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, separators[0]), _mm_cmpeq_epi8(v, separators[1])),
                                    _mm_or_si128(_mm_cmpeq_epi8(v, separators[2]), _mm_cmpeq_epi8(v, separators[3])));
  return static_cast<uint32_t>(_mm_movemask_epi8(hits));
}

}  // namespace
#endif

__attribute__((always_inline)) inline size_t RecordScanner::find_separator(const char* base, size_t pos, size_t end) {
#if defined(__SSE2__)
  // 64 bytes at a time; the block's match mask is kept, so the next fields of the record usually
  // cost one bit scan each instead of more vector compares.
  while (true) {
    if (pos >= block_start_ && pos < block_start_ + 64) {
      const uint64_t mask = block_mask_ & (~uint64_t{0} << (pos - block_start_));
      if (mask != 0) return block_start_ + static_cast<size_t>(__builtin_ctzll(mask));
      pos = block_start_ + 64;
    }
    if (pos + 64 > end) break;
    const char* p = base + pos;
    const __m128i* sep = separator_vectors_;
    block_mask_ = separator_bits16(p, sep) | (separator_bits16(p + 16, sep) << 16) |
                  (separator_bits16(p + 32, sep) << 32) | (separator_bits16(p + 48, sep) << 48);
    block_start_ = pos;
  }
#endif
  while (pos < end && base[pos] != separators_[0] && base[pos] != separators_[1] && base[pos] != separators_[2] &&
         base[pos] != separators_[3]) {
    ++pos;
  }
  return pos;
}

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
  if (separators_ready_ != (whitespace ? 2 : 1) || separators_[0] != (whitespace ? ' ' : delimiter)) {
    if (whitespace) {
      separators_[0] = ' ', separators_[1] = '\t', separators_[2] = '\n', separators_[3] = '\r';
    } else {
      separators_[0] = delimiter, separators_[1] = '\n', separators_[2] = '\r', separators_[3] = delimiter;
    }
#if defined(__SSE2__)
    for (int i = 0; i < 4; ++i) separator_vectors_[i] = _mm_set1_epi8(separators_[i]);
#endif
    separators_ready_ = whitespace ? 2 : 1;
  }
  block_start_ = SIZE_MAX;  // the block cache lives for one record: DATA may differ between calls

  if (whitespace) {
    while (true) {
      while (pos < end && (base[pos] == ' ' || base[pos] == '\t')) ++pos;
      if (pos >= end || base[pos] == '\n' || base[pos] == '\r') {
        return after_line_end(data, pos, record_end, newlines);
      }
      const size_t start = pos;
      pos = find_separator(base, pos, end);
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
      pos = find_separator(base, pos, end);
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
