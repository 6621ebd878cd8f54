// A flat open-addressing hash index from string views to dense ids, for interning on the ingestion
// hot path (measurably faster than std::unordered_map there). Views must outlive the index.
#pragma once

#include <cstdint>
#include <algorithm>
#include <cstring>
#include <string_view>
#include <vector>

namespace cltv::io::detail {

// The last N < 8 bytes at P as one word, without a variable-length copy: two overlapping loads
// (the wyhash trick). Different texts of one length give different words.
inline uint64_t load_tail(const char* p, size_t n) {
  if (n >= 4) {
    uint32_t first, last;
    std::memcpy(&first, p, 4);
    std::memcpy(&last, p + n - 4, 4);
    return (static_cast<uint64_t>(first) << 32) | last;
  }
  if (n == 0) return 0;
  const auto byte = [p](size_t i) { return static_cast<uint64_t>(static_cast<unsigned char>(p[i])); };
  return (byte(0) << 16) | (byte(n / 2) << 8) | byte(n - 1);
}

inline uint64_t hash_text(std::string_view text) {
  constexpr uint64_t k0 = 0x9E3779B97F4A7C15ull, k1 = 0xBF58476D1CE4E5B9ull;
  const char* p = text.data();
  size_t n = text.size();
  uint64_t h = k0 ^ (n * k1);
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ (w * k1)) * k0;
    h ^= h >> 29;
    p += 8;
    n -= 8;
  }
  h = (h ^ (load_tail(p, n) * k1 + n)) * k0;
  h ^= h >> 32;
  h *= k1;
  h ^= h >> 29;
  return h;
}

// Byte equality for short keys without a library call: 8-byte words, the last one overlapping.
inline bool same_bytes(const char* a, const char* b, size_t n) {
  if (n >= 8) {
    uint64_t x, y;
    for (size_t i = 0; i + 8 <= n; i += 8) {
      std::memcpy(&x, a + i, 8);
      std::memcpy(&y, b + i, 8);
      if (x != y) return false;
    }
    std::memcpy(&x, a + n - 8, 8);
    std::memcpy(&y, b + n - 8, 8);
    return x == y;
  }
  return load_tail(a, n) == load_tail(b, n);
}

class StringIndex {
 public:
  StringIndex() : slots_(16) {}

  // Room for N keys without regrowing.
  void reserve(size_t n) {
    while (n * 4 > slots_.size() * 3) grow();
  }

  // Returns the id of TEXT, inserting it with id NEXT_ID when absent; INSERTED tells which.
  uint32_t find_or_insert(std::string_view text, uint32_t next_id, bool& inserted) {
    return find_or_insert(text, hash_text(text), next_id, inserted);
  }

  // The same with TEXT's hash_text() already known (merging indexes need not hash again).
  uint32_t find_or_insert(std::string_view text, uint64_t h, uint32_t next_id, bool& inserted) {
    if ((size_ + 1) * 4 > slots_.size() * 3) grow();
    size_t i = h & (slots_.size() - 1);
    while (true) {
      Slot& s = slots_[i];
      if (s.id == empty) {
        s.hash = h;
        s.data = text.data();
        s.length = static_cast<uint32_t>(text.size());
        s.id = next_id;
        std::memcpy(s.prefix, text.data(), std::min(text.size(), sizeof(s.prefix)));
        ++size_;
        inserted = true;
        return next_id;
      }
      if (s.hash == h && s.length == text.size() && matches(s, text)) {
        inserted = false;
        return s.id;
      }
      i = (i + 1) & (slots_.size() - 1);
    }
  }

 private:
  static constexpr uint32_t empty = UINT32_MAX;
  // Keys are compared against the inline prefix first, so short keys never touch the (cold)
  // input bytes they were first seen in.
  struct Slot {
    uint64_t hash = 0;
    const char* data = nullptr;
    uint32_t length = 0;
    uint32_t id = empty;
    char prefix[16] = {};
  };

  static bool matches(const Slot& s, std::string_view text) {
    const size_t inline_bytes = std::min(text.size(), sizeof(s.prefix));
    if (!same_bytes(s.prefix, text.data(), inline_bytes)) return false;
    return text.size() <= sizeof(s.prefix) ||
           same_bytes(s.data + inline_bytes, text.data() + inline_bytes, text.size() - inline_bytes);
  }

  void grow() {
    std::vector<Slot> old(slots_.size() * 2);
    old.swap(slots_);
    for (const Slot& s : old) {
      if (s.id == empty) continue;
      size_t i = s.hash & (slots_.size() - 1);
      while (slots_[i].id != empty) i = (i + 1) & (slots_.size() - 1);
      slots_[i] = s;
    }
  }

  std::vector<Slot> slots_;
  size_t size_ = 0;
};

}  // namespace cltv::io::detail
