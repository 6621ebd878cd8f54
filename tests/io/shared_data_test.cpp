// The readers on the real shared data files, against the counts published with the data.
#include <gtest/gtest.h>

#include "cltv/io/reader.h"
#include "support/test_support.h"

namespace cltv::io {
namespace {

TEST(SharedData, OnlineRetail) {
  CLTV_SHARED_DATA(path, "online-retail/online_retail.csv");
  const ReadResult r = read_transactions(path, resolve_schema("online-retail"), {});
  EXPECT_EQ(r.report.rows_read, 541909u);
  EXPECT_EQ(r.report.dropped_by_reason.at("no customer id"), 135080u);
  EXPECT_EQ(r.report.rejected, 0u);
  EXPECT_EQ(r.table.rows(), 541909u - 135080u);
  EXPECT_EQ(r.table.customer_ids.size(), 4372u);
  EXPECT_EQ(r.table.basket_ids.size(), 22190u);  // invoices with a customer, cancellations included
  EXPECT_EQ(r.table.units.size(), 37u);           // countries
  // Memory: the table stays well under the CSV's size (the target is at most 1.5x).
  EXPECT_LT(static_cast<double>(r.table.memory_bytes()), 0.75 * static_cast<double>(r.report.bytes));
}

TEST(SharedData, CdnowMaster) {
  CLTV_SHARED_DATA(path, "cdnow/CDNOW_master.txt");
  const ReadResult r = read_transactions(path, resolve_schema("cdnow"), {});
  EXPECT_TRUE(r.report.header_line);
  EXPECT_EQ(r.report.rows_read, 69659u);
  EXPECT_EQ(r.table.rows(), 69659u);
  EXPECT_EQ(r.table.customer_ids.size(), 23570u);
}

TEST(SharedData, CdnowSample) {
  CLTV_SHARED_DATA(path, "cdnow/CDNOW_sample.txt");
  const ReadResult r = read_transactions(path, resolve_schema("cdnow"), {});
  EXPECT_EQ(r.report.rows_read, 6919u);
  EXPECT_EQ(r.table.rows(), 6919u);
  EXPECT_EQ(r.table.customer_ids.size(), 2357u);
}

}  // namespace
}  // namespace cltv::io
