// Spend levels: boundaries of the default cuts and parsing of the --levels flag.
#include <gtest/gtest.h>

#include <algorithm>

#include "cltv/error.h"
#include "cltv/eval/levels.h"

namespace cltv::eval {
namespace {

const LevelCuts krw{{100000, 250000, 500000, 800000, 1500000}};

TEST(Levels, NoCutsMeansOneLevel) {
  const LevelCuts levels;
  EXPECT_TRUE(levels.cuts.empty());
  EXPECT_EQ(level_of(1e12, levels), 0);
}

TEST(Levels, ExactBoundariesBelongToTheUpperLevel) {
  const LevelCuts& levels = krw;
  EXPECT_EQ(level_of(0, levels), 0);
  EXPECT_EQ(level_of(-2500, levels), 0);
  EXPECT_EQ(level_of(99999.99, levels), 0);
  EXPECT_EQ(level_of(100000, levels), 1);
  EXPECT_EQ(level_of(249999.99, levels), 1);
  EXPECT_EQ(level_of(250000, levels), 2);
  EXPECT_EQ(level_of(500000, levels), 3);
  EXPECT_EQ(level_of(799999, levels), 3);
  EXPECT_EQ(level_of(800000, levels), 4);
  EXPECT_EQ(level_of(1499999.99, levels), 4);
  EXPECT_EQ(level_of(1500000, levels), 5);
  EXPECT_EQ(level_of(1e12, levels), 5);
}

TEST(Levels, ParsesACommaSeparatedList) {
  EXPECT_EQ(parse_level_cuts("100000,250000,500000,800000,1500000").cuts,
            (std::vector<double>{100000, 250000, 500000, 800000, 1500000}));
  EXPECT_EQ(parse_level_cuts(" 50, 1e3 ,2500.5").cuts, (std::vector<double>{50, 1000, 2500.5}));
  EXPECT_EQ(parse_level_cuts("7").cuts, (std::vector<double>{7}));
  const LevelCuts custom = parse_level_cuts("10,20");
  EXPECT_EQ(level_of(9.99, custom), 0);
  EXPECT_EQ(level_of(10, custom), 1);
  EXPECT_EQ(level_of(20, custom), 2);
}

TEST(Levels, RejectsBadListsWithAConfigErrorNamingTheFlag) {
  for (const char* bad : {"", " ", "abc", "100,,200", "100,", ",100", "0,100", "-5,10", "100,100", "200,100",
                          "inf", "nan", "100;200", "1e400"}) {
    try {
      parse_level_cuts(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::config) << bad;
      EXPECT_NE(std::string(e.what()).find("--levels"), std::string::npos) << e.what();
      EXPECT_FALSE(e.hint().empty());
    }
  }
}

TEST(Levels, FlagDeclarationParsesIntoTheTarget) {
  ParamSet params;
  LevelCuts levels;
  add_level_cuts_param(params, levels);
  ASSERT_EQ(params.params().size(), 1u);
  EXPECT_EQ(params.params()[0].name, "levels");
  EXPECT_EQ(params.params()[0].default_text, "the schema's, else derived from the training data");
  params.set("levels", "1,2,3");
  EXPECT_EQ(levels.cuts, (std::vector<double>{1, 2, 3}));
  EXPECT_THROW(params.set("levels", "3,2"), Error);
}

TEST(Levels, DerivedCutsArePercentilesOfTheCustomersWhoSpent) {
  // 100 spenders 1..100 and 50 who spent nothing. Percentile positions 0.2 * 99 = 19.8 -> index 19
  // (spend 20), 39.6 -> 40, 59.4 -> 60, 79.2 -> 80, 94.05 -> 95; two significant digits keep them.
  std::vector<double> spend(50, 0.0);
  for (int v = 1; v <= 100; ++v) spend.push_back(v);
  EXPECT_EQ(derive_level_cuts(spend).cuts, (std::vector<double>{20, 40, 60, 80, 95}));
  // Rounding: 1234.5 -> 1200; cuts that rounding would merge stay exact, equal ones collapse.
  std::vector<double> odd(20, 1234.5);
  for (int i = 0; i < 10; ++i) odd.push_back(1260 + i);
  const LevelCuts derived = derive_level_cuts(odd);
  EXPECT_EQ(derived.cuts.front(), 1200);
  EXPECT_TRUE(std::is_sorted(derived.cuts.begin(), derived.cuts.end()));
  EXPECT_EQ(std::adjacent_find(derived.cuts.begin(), derived.cuts.end()), derived.cuts.end());
}

TEST(Levels, TooFewSpendersToDeriveCutsIsAModelError) {
  try {
    derive_level_cuts({0, 0, 5, 7});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::model);
  }
}

}  // namespace
}  // namespace cltv::eval
