// TransactionTable::hash_canonical_fields: equal canonical rows hash alike, any differing field changes the hash.
#include <gtest/gtest.h>

#include "cltv/table.h"

namespace cltv {
namespace {

TransactionTable three_rows() {
  TransactionTable t;
  t.customer = {0, 0, 0};
  t.basket = {1, 1, 1};
  t.time = {100, 100, 100};
  t.amount = {2.5, 2.5, 2.5};
  t.quantity = {1, 1, 1};
  t.unit = {0, 0, 0};
  t.product = {7, 7, 7};
  return t;
}

TEST(Table, HashCanonicalFieldsSeparatesRowsByEveryField) {
  TransactionTable t = three_rows();
  t.hash_canonical_fields();
  ASSERT_EQ(t.row_hash.size(), 3u);
  EXPECT_EQ(t.row_hash[0], t.row_hash[1]);
  for (int field = 0; field < 7; ++field) {
    TransactionTable u = three_rows();
    switch (field) {
      case 0: u.customer[2] = 1; break;
      case 1: u.basket[2] = 2; break;
      case 2: u.time[2] = 101; break;
      case 3: u.amount[2] = 2.75; break;
      case 4: u.quantity[2] = 2; break;
      case 5: u.unit[2] = 1; break;
      default: u.product[2] = 8; break;
    }
    u.hash_canonical_fields();
    EXPECT_NE(u.row_hash[0], u.row_hash[2]) << "field " << field;
    EXPECT_EQ(u.row_hash[0], u.row_hash[1]);
  }
}

}  // namespace
}  // namespace cltv
