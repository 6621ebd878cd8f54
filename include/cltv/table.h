// The in-memory transaction table: columnar, one row per purchase line, strings interned to dense ids.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>
#include <memory>

namespace cltv {

// Interned strings: ids are dense, in order of first appearance. Text is stored in one blob.
class StringDict {
 public:
  uint32_t size() const { return static_cast<uint32_t>(offsets_.size()) - 1; }
  std::string_view operator[](uint32_t id) const {
    return std::string_view(blob_).substr(offsets_[id], offsets_[id + 1] - offsets_[id]);
  }
  // Appends without checking for an existing equal string; callers intern through their own index.
  uint32_t append(std::string_view text);
  // Linear-time reverse lookup, for occasional queries (not for hot loops).
  std::optional<uint32_t> find(std::string_view text) const;
  size_t memory_bytes() const { return blob_.capacity() + offsets_.capacity() * sizeof(uint64_t); }
  void reserve(size_t strings, size_t bytes) {
    offsets_.reserve(strings + 1);
    blob_.reserve(bytes);
  }

 private:
  std::string blob_;
  std::vector<uint64_t> offsets_{0};
};

// Column storage: a std::vector whose resize leaves new trivially-constructible elements
// uninitialised, so the parallel reader's threads are the first to touch (and fault in) the pages.
template <typename T>
struct UninitializedAllocator : std::allocator<T> {
  template <typename U>
  struct rebind {
    using other = UninitializedAllocator<U>;
  };
  UninitializedAllocator() = default;
  template <typename U>
  UninitializedAllocator(const UninitializedAllocator<U>&) noexcept {}
  template <typename U>
  void construct(U* p) noexcept(std::is_nothrow_default_constructible_v<U>) {
    ::new (static_cast<void*>(p)) U;
  }
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};

template <typename T>
using Column = std::vector<T, UninitializedAllocator<T>>;

// Canonical transaction columns. Times are int64 seconds since 1970-01-01 of the civil time as
// written in the source (no time-zone shift).
struct TransactionTable {
  Column<uint32_t> customer;  // id into customer_ids
  Column<uint32_t> basket;    // id into basket_ids
  Column<int64_t> time;
  Column<double> amount;
  Column<double> quantity;
  Column<uint16_t> unit;       // id into units
  Column<uint32_t> product;    // id into products
  Column<uint32_t> line_seq;   // optional source line sequence within a basket; empty if absent
  Column<uint64_t> row_hash;   // hash of every input field of the row, for exact-duplicate checks

  StringDict customer_ids;
  StringDict basket_ids;
  StringDict units;
  StringDict products;

  size_t rows() const { return customer.size(); }
  bool has_line_seq() const { return !line_seq.empty(); }
  size_t memory_bytes() const;
  void reserve(size_t rows, bool with_line_seq);
  // Sets row_hash from the canonical fields, for a table built from columns rather than read from a
  // file (the exact-duplicate check then compares the canonical fields only).
  void hash_canonical_fields();
};

}  // namespace cltv
