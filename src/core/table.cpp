// StringDict and TransactionTable bookkeeping.
#include "cltv/table.h"

#include <bit>

namespace cltv {

uint32_t StringDict::append(std::string_view text) {
  blob_.append(text);
  offsets_.push_back(blob_.size());
  return size() - 1;
}

std::optional<uint32_t> StringDict::find(std::string_view text) const {
  for (uint32_t id = 0; id < size(); ++id) {
    if ((*this)[id] == text) return id;
  }
  return std::nullopt;
}

size_t TransactionTable::memory_bytes() const {
  auto bytes = [](const auto& v) { return v.capacity() * sizeof(v[0]); };
  return bytes(customer) + bytes(basket) + bytes(time) + bytes(amount) + bytes(quantity) +
         bytes(unit) + bytes(product) + bytes(line_seq) + bytes(row_hash) +
         customer_ids.memory_bytes() + basket_ids.memory_bytes() + units.memory_bytes() +
         products.memory_bytes();
}

void TransactionTable::reserve(size_t rows, bool with_line_seq) {
  customer.reserve(rows);
  basket.reserve(rows);
  time.reserve(rows);
  amount.reserve(rows);
  quantity.reserve(rows);
  unit.reserve(rows);
  product.reserve(rows);
  row_hash.reserve(rows);
  if (with_line_seq) line_seq.reserve(rows);
}

namespace {

// One splitmix64 step over HASH combined with VALUE.
uint64_t mix(uint64_t hash, uint64_t value) {
  uint64_t z = hash + 0x9e3779b97f4a7c15ULL + value;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

void TransactionTable::hash_canonical_fields() {
  row_hash.resize(rows());
  for (size_t r = 0; r < rows(); ++r) {
    uint64_t h = mix(customer[r], basket[r]);
    h = mix(h, static_cast<uint64_t>(time[r]));
    h = mix(h, std::bit_cast<uint64_t>(amount[r]));
    h = mix(h, std::bit_cast<uint64_t>(quantity[r]));
    h = mix(h, (uint64_t{unit[r]} << 32) | product[r]);
    row_hash[r] = has_line_seq() ? mix(h, line_seq[r]) : h;
  }
}

}  // namespace cltv
