// The history features: hand-computed aggregates on a crafted customer, the BG/NBD columns against
// the btyd library on the same history, and nothing from at or after as-of.
#include "cltv/pipeline/history_features.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "cltv/btyd/distribution.h"
#include "cltv/btyd/predict.h"
#include "cltv/features/clean.h"
#include "cltv/pipeline/data.h"
#include "cltv/time.h"
#include "features/feature_test_data.h"

namespace cltv::pipeline {
namespace {

// As-of 2020-07-01: month 1 = June 2020, month 3 = April, month 6 = January, month 12 = July 2019.
const char* crafted_customer =
    "c1,b1,A,p1,2019-06-15 10:00:00,1,100,\n"  // 12.5 months back: tenure and gaps only
    "c1,b2,A,p1,2020-01-10 10:00:00,1,50,\n"   // month 6
    "c1,b3,A,p1,2020-04-20 10:00:00,1,30,\n"   // month 3, two lines of one basket
    "c1,b3,A,p2,2020-04-20 10:00:00,1,20,\n"
    "c1,b4,A,p1,2020-06-30 23:00:00,1,10,\n"   // month 1, the last hour before as-of
    "c1,b5,A,p1,2020-07-05 10:00:00,1,999,\n";  // the target period

// Forty other customers with 1 to 5 purchases from FIRST_MONTH to June 2020, so that the BG/NBD
// and Gamma-Gamma fits have data.
std::string filler_customers(int first_month = 1) {
  std::string rows;
  const int months = 7 - first_month;
  for (int i = 0; i < 40; ++i) {
    for (int k = 0; k <= i % 5; ++k) {
      rows += fmt::format("g{},g{}-{},A,p1,2020-0{}-{:02} 12:00:00,1,{},\n", i, i, k, first_month + (i + 2 * k) % months,
                          1 + (i * 7 + k * 3) % 28, 10 + (i * 13 + k * 29) % 90);
    }
  }
  return rows;
}

PreparedData prepared(const std::string& rows) {
  return prepare_read(test::parse_feature_rows(rows), features::CleanOptions{});
}

PreparedData crafted() { return prepared(std::string(crafted_customer) + filler_customers()); }

features::FeatureOptions at_july(bool history) {
  features::FeatureOptions options;
  options.as_of = days_from_civil(2020, 7, 1) * seconds_per_day;
  options.threads = 1;
  options.history_features = history;
  return options;
}

double value(const models::Dataset& d, size_t row, const std::string& name) {
  const auto it = std::find(d.feature_names.begin(), d.feature_names.end(), name);
  EXPECT_NE(it, d.feature_names.end()) << name;
  return d.row(row)[it - d.feature_names.begin()];
}

size_t row_of(const models::Dataset& d, const std::string& id) {
  return static_cast<size_t>(std::find(d.customer_ids.begin(), d.customer_ids.end(), id) - d.customer_ids.begin());
}

TEST(HistoryFeatures, AppendedAfterTheBaseFeaturesInTheDocumentedOrder) {
  const PreparedData data = crafted();
  const models::Dataset base = make_dataset(data, at_july(false));
  const models::Dataset extended = make_dataset(data, at_july(true));
  ASSERT_EQ(extended.cols, base.cols + history_feature_names().size());
  EXPECT_EQ(std::vector<std::string>(extended.feature_names.begin(), extended.feature_names.begin() + base.cols),
            base.feature_names);
  EXPECT_EQ(extended.feature_names.back(), "btyd_expected_spend");
  for (size_t r = 0; r < base.rows; ++r) {
    EXPECT_TRUE(std::equal(base.row(r), base.row(r) + base.cols, extended.row(r))) << "row " << r;
  }
}

TEST(HistoryFeatures, HandComputedAggregates) {
  const models::Dataset d = make_dataset(crafted(), at_july(true));
  const size_t c1 = row_of(d, "c1");
  ASSERT_LT(c1, d.rows);
  EXPECT_DOUBLE_EQ(value(d, c1, "hist_spend_3m"), 60);   // April and June
  EXPECT_DOUBLE_EQ(value(d, c1, "hist_spend_6m"), 110);  // and January
  EXPECT_DOUBLE_EQ(value(d, c1, "hist_spend_12m"), 110);  // June 2019 is month 13
  EXPECT_DOUBLE_EQ(value(d, c1, "hist_baskets_3m"), 2);
  EXPECT_DOUBLE_EQ(value(d, c1, "hist_baskets_6m"), 3);
  EXPECT_DOUBLE_EQ(value(d, c1, "hist_baskets_12m"), 3);
  EXPECT_DOUBLE_EQ(value(d, c1, "hist_active_months_3m"), 2);
  EXPECT_DOUBLE_EQ(value(d, c1, "hist_active_months_6m"), 3);
  EXPECT_DOUBLE_EQ(value(d, c1, "hist_active_months_12m"), 3);
  // Purchase days 2019-06-15, 2020-01-10, 2020-04-20, 2020-06-30: gaps 209, 101 and 71 days.
  EXPECT_DOUBLE_EQ(value(d, c1, "hist_tenure_days"), 382);
  EXPECT_DOUBLE_EQ(value(d, c1, "hist_gap_mean_days"), 127);
  EXPECT_NEAR(value(d, c1, "hist_gap_sd_days"), std::sqrt((82.0 * 82 + 26 * 26 + 56 * 56) / 3), 1e-12);
  // log1p(spend) of January .. June (t = 0 .. 5) is L50, 0, 0, L50, 0, L10; slope over t.
  const double l50 = std::log(51.0), l10 = std::log(11.0);
  EXPECT_NEAR(value(d, c1, "hist_spend_trend"), (-2.5 * l50 + 0.5 * l50 + 2.5 * l10) / 17.5, 1e-12);
}

TEST(HistoryFeatures, TheTrendIgnoresMonthsBeforeTheData) {
  // The data start in May 2020: the trend is over May and June only, not four empty months before.
  const models::Dataset d = make_dataset(
      prepared("d1,x1,A,p1,2020-05-10 12:00:00,1,40,\nd1,x2,A,p1,2020-06-10 12:00:00,1,10,\n" + filler_customers(5)),
      at_july(true));
  EXPECT_NEAR(value(d, row_of(d, "d1"), "hist_spend_trend"), std::log(11.0) - std::log(41.0), 1e-12);
  EXPECT_DOUBLE_EQ(value(d, row_of(d, "d1"), "hist_spend_12m"), 50);
}

TEST(HistoryFeatures, BtydColumnsAreTheBgnbdGammaGammaFitOnTheHistoryBeforeAsOf) {
  const models::Dataset d = make_dataset(crafted(), at_july(true));
  btyd::RfmTable history;
  history.ids.assign(d.history_frequency.size(), "");
  history.frequency = d.history_frequency;
  history.recency = d.history_recency;
  history.T = d.history_age;
  history.monetary_value = d.history_monetary;
  const btyd::FittedModel purchase = btyd::fit_model(btyd::ModelKind::bgnbd, history, btyd::TimeUnit::days, {});
  const btyd::FittedModel spend = btyd::fit_model(btyd::ModelKind::gamma_gamma, history, btyd::TimeUnit::days, {});
  const size_t c1 = row_of(d, "c1");
  EXPECT_EQ(d.frequency[c1], 3);
  EXPECT_EQ(d.recency[c1], 381);
  EXPECT_EQ(d.age[c1], 381);
  const double t = 31;  // July
  EXPECT_NEAR(value(d, c1, "btyd_p_alive"), btyd::p_alive(purchase, 3, 381, 381), 1e-9);
  const double expected = btyd::expected_purchases(purchase, t, 3, 381, 381);
  EXPECT_NEAR(value(d, c1, "btyd_expected_purchases"), expected, 1e-6 * expected);
  EXPECT_NEAR(value(d, c1, "btyd_p_buy"), btyd::p_any_purchase(purchase, t, 3, 381, 381), 1e-9);
  EXPECT_NEAR(value(d, c1, "btyd_expected_spend"),
              expected * btyd::expected_spend_per_purchase(spend, 3, d.monetary[c1]), 1e-6 * expected * 100);
}

}  // namespace
}  // namespace cltv::pipeline
