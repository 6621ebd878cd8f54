// Predictive distributions end to end on real data (UCI Online Retail): level cuts derived from the
// training window (pounds, not the L.Point won), and a "buy 'til you die" fit on the boundary says so.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/test_support.h"

namespace cltv {
namespace {

using test::run_cli;

TEST(DistributionRealData, DerivedLevelsAndTheBoundaryWarning) {
  CLTV_SHARED_DATA(retail, "online-retail/online_retail.csv");
  const test::TempDir dir;
  const std::string model = dir.path("pnbd");
  const auto trained = run_cli({"train", "--input", retail, "--schema", "online-retail", "--model", "pnbd-gg",
                                "--train-as-of", "2011-10-01", "--out", model});
  ASSERT_EQ(trained.exit_code, 0) << trained.err;
  // Online retail cannot identify dropout (docs/models/btyd.md): the fit says so, and so does the bundle.
  EXPECT_NE(trained.out.find("WARNING: pnbd: dropout not identified: the model reduces to NBD"), std::string::npos)
      << trained.out;
  const auto manifest = nlohmann::json::parse(test::read_file(model + "/manifest.json"));
  ASSERT_EQ(manifest["pipeline"]["fit"]["warnings"].size(), 1u);

  const auto cuts = manifest["pipeline"]["level_cuts"];
  ASSERT_EQ(cuts.size(), 5u);                 // the 20/40/60/80/95th percentiles of monthly spend
  EXPECT_LT(cuts[0].get<double>(), 1000.0);   // pounds, not the L.Point's 100,000 won
  const auto predicted = run_cli({"predict", "--model", model, "--input", retail, "--schema", "online-retail",
                                  "--as-of", "2011-11-01", "--out", dir.path("p.csv")});
  ASSERT_EQ(predicted.exit_code, 0) << predicted.err;
  const auto segments = nlohmann::json::parse(test::read_file(dir.path("p.segments.json")));
  size_t populated = 0;
  for (const auto& count : segments["current_level_counts"]) populated += count.get<size_t>() > 0;
  EXPECT_EQ(populated, 6u) << segments["current_level_counts"];  // never "everyone is level 0"
}

}  // namespace
}  // namespace cltv
