// The in-memory transaction table: columnar, one row per purchase line, strings interned to dense ids.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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

// Canonical transaction columns. Times are int64 seconds since 1970-01-01 of the civil time as
// written in the source (no time-zone shift).
struct TransactionTable {
  std::vector<uint32_t> customer;  // id into customer_ids
  std::vector<uint32_t> basket;    // id into basket_ids
  std::vector<int64_t> time;
  std::vector<double> amount;
  std::vector<double> quantity;
  std::vector<uint16_t> unit;     // id into units
  std::vector<uint32_t> product;  // id into products
  std::vector<uint32_t> line_seq;  // optional source line sequence within a basket; empty if absent
  std::vector<uint64_t> row_hash;  // hash of every input field of the row, for exact-duplicate checks

  StringDict customer_ids;
  StringDict basket_ids;
  StringDict units;
  StringDict products;

  size_t rows() const { return customer.size(); }
  bool has_line_seq() const { return !line_seq.empty(); }
  size_t memory_bytes() const;
  void reserve(size_t rows, bool with_line_seq);
};

}  // namespace cltv
