// StringDict and TransactionTable bookkeeping.
#include "cltv/table.h"

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

}  // namespace cltv
