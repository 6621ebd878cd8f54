// Charts: each is rendered by gnuplot into a temporary directory; the SVG must exist with an SVG
// header, the CSV must hold exactly the numbers drawn, and no temporary files may be left behind.
// Skipped when gnuplot is absent (failing under CI=true, where scripts/setup installs it).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <set>

#include "cltv/error.h"
#include "cltv/eval/plots.h"
#include "eval/gnuplot.h"
#include "support/test_support.h"

namespace cltv::eval {
namespace {

#define CLTV_REQUIRE_GNUPLOT()                                                              \
  try {                                                                                     \
    detail::find_gnuplot();                                                                 \
  } catch (const Error&) {                                                                  \
    if (::cltv::test::running_in_ci()) FAIL() << "gnuplot missing under CI=true";           \
    GTEST_SKIP() << "gnuplot not found on PATH (scripts/setup installs it); skipped";       \
  }

void expect_svg(const PlotFiles& files, const std::string& svg_path) {
  EXPECT_EQ(files.svg, svg_path);
  const std::string svg = test::read_file(svg_path);
  ASSERT_FALSE(svg.empty());
  EXPECT_TRUE(svg.starts_with("<?xml") || svg.starts_with("<svg")) << svg.substr(0, 80);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  if (!files.png.empty()) {
    const std::string png = test::read_file(files.png);
    EXPECT_TRUE(png.starts_with("\x89PNG"));
  }
}

std::set<std::string> directory_listing(const std::string& dir) {
  std::set<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) names.insert(entry.path().filename().string());
  return names;
}

std::set<std::string> chart_files(const PlotFiles& files, const std::string& stem) {
  std::set<std::string> names{stem + ".csv", stem + ".svg"};
  if (!files.png.empty()) names.insert(stem + ".png");
  return names;
}

TEST(Plots, LearningCurveWithAndWithoutValidation) {
  CLTV_REQUIRE_GNUPLOT();
  test::TempDir dir;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const PlotFiles files = plot_learning_curve({{1, 0.9, 1.0}, {2, 0.6, 0.8}, {3, 0.5, 0.75}}, "mae_log1p",
                                              dir.path("curve"));
  expect_svg(files, dir.path("curve.svg"));
  EXPECT_EQ(test::read_file(files.csv), "step,train_loss,valid_loss\n1,0.9,1\n2,0.6,0.8\n3,0.5,0.75\n");

  const PlotFiles train_only = plot_learning_curve({{0, 2.5, nan}, {10, 1.25, nan}}, "rmse", dir.path("train"));
  expect_svg(train_only, dir.path("train.svg"));
  EXPECT_EQ(test::read_file(train_only.csv), "step,train_loss,valid_loss\n0,2.5,\n10,1.25,\n");

  std::set<std::string> expected = chart_files(files, "curve");
  expected.merge(chart_files(train_only, "train"));
  EXPECT_EQ(directory_listing(dir.path("")), expected);
}

TEST(Plots, PredictedVsActualSamplesEvenly) {
  CLTV_REQUIRE_GNUPLOT();
  test::TempDir dir;
  const PlotFiles small = plot_predicted_vs_actual({0, 99, 3}, {1, 63, -4}, dir.path("scatter"));
  expect_svg(small, dir.path("scatter.svg"));
  // ln(1+0) = 0, ln(1+1) = ln 2, ln(1+99) = ln 100, ln(1+63) = ln 64, ln(1+3) = ln 4, -4 -> 0.
  EXPECT_EQ(test::read_file(small.csv),
            fmt::format("actual,predicted,log1p_actual,log1p_predicted\n0,1,0,{}\n99,63,{},{}\n3,-4,{},0\n",
                        std::log1p(1.0), std::log1p(99.0), std::log1p(63.0), std::log1p(3.0)));

  // 50 customers, at most 10 drawn: customers k*50/10 = 0, 5, ..., 45.
  std::vector<double> a(50), p(50);
  for (size_t i = 0; i < 50; ++i) a[i] = p[i] = static_cast<double>(i);
  const PlotFiles sampled = plot_predicted_vs_actual(a, p, dir.path("sampled"), 10);
  const std::string csv = test::read_file(sampled.csv);
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 11);
  for (int i = 0; i < 50; i += 5) {
    EXPECT_NE(csv.find(fmt::format("\n{0},{0},", i)), std::string::npos) << i;
  }
  EXPECT_EQ(csv.find("\n1,1,"), std::string::npos);
}

TEST(Plots, DecileChart) {
  CLTV_REQUIRE_GNUPLOT();
  test::TempDir dir;
  const std::vector<DecileRow> deciles{{1, 3, 900000, 750000.5}, {2, 3, 200000, 260000}, {3, 2, 0.5, 0}};
  const PlotFiles files = plot_deciles(deciles, dir.path("deciles"));
  expect_svg(files, dir.path("deciles.svg"));
  EXPECT_EQ(test::read_file(files.csv),
            "decile,count,mean_predicted,mean_actual\n1,3,900000,750000.5\n2,3,200000,260000\n3,2,0.5,0\n");
  EXPECT_EQ(directory_listing(dir.path("")), chart_files(files, "deciles"));
}

TEST(Plots, ReliabilityChart) {
  CLTV_REQUIRE_GNUPLOT();
  test::TempDir dir;
  const std::vector<ReliabilityBin> bins{{1, 0.1, 0.2, 2, 0.125, 0.5}, {9, 0.9, 1, 1, 0.95, 1}};
  const PlotFiles files = plot_reliability(bins, "p_down", dir.path("reliability"));
  expect_svg(files, dir.path("reliability.svg"));
  EXPECT_EQ(test::read_file(files.csv),
            "bin,lower,upper,count,mean_predicted,observed_rate\n1,0.1,0.2,2,0.125,0.5\n9,0.9,1,1,0.95,1\n");
  EXPECT_NE(test::read_file(files.svg).find("Reliability of p_down"), std::string::npos);
  EXPECT_EQ(directory_listing(dir.path("")), chart_files(files, "reliability"));
}

TEST(Plots, GainChart) {
  CLTV_REQUIRE_GNUPLOT();
  test::TempDir dir;
  const PlotFiles files = plot_gain(gain_curve({10, 0, 30, 60}, {0.2, 0.1, 0.5, 0.9}), dir.path("gain"));
  expect_svg(files, dir.path("gain.svg"));
  EXPECT_EQ(test::read_file(files.csv), "customer_share,spend_share\n0,0\n0.25,0.6\n0.5,0.9\n0.75,1\n1,1\n");
  EXPECT_EQ(directory_listing(dir.path("")), chart_files(files, "gain"));
}

TEST(Plots, HoldoutCalibrationChartLabelsTheOpenEndedGroup) {
  CLTV_REQUIRE_GNUPLOT();
  test::TempDir dir;
  const std::vector<HoldoutCalibrationRow> rows{{0, false, 2, 0.3, 0.5}, {1, false, 1, 1, 1}, {7, true, 3, 3, 4.25}};
  const PlotFiles files = plot_holdout_calibration(rows, dir.path("holdout"));
  expect_svg(files, dir.path("holdout.svg"));
  EXPECT_EQ(test::read_file(files.csv),
            "frequency,open_ended,count,mean_expected,mean_actual\n0,0,2,0.3,0.5\n1,0,1,1,1\n7,1,3,3,4.25\n");
  const std::string svg = test::read_file(files.svg);
  EXPECT_NE(svg.find(">7+<"), std::string::npos);
  EXPECT_NE(svg.find(">1<"), std::string::npos);
  EXPECT_EQ(directory_listing(dir.path("")), chart_files(files, "holdout"));
}

TEST(Plots, PathsWithQuotesAndSpaces) {
  CLTV_REQUIRE_GNUPLOT();
  test::TempDir dir;
  const std::string odd = dir.path("it's a dir");
  std::filesystem::create_directory(odd);
  const PlotFiles files = plot_deciles({{1, 1, 2, 3}}, odd + "/chart 'one'");
  expect_svg(files, odd + "/chart 'one'.svg");
}

TEST(Plots, BadInputsAndMissingDirectory) {
  CLTV_REQUIRE_GNUPLOT();
  test::TempDir dir;
  const auto kind_of = [](const auto& action) {
    try {
      action();
    } catch (const Error& e) {
      return e.kind();
    }
    return ErrorKind::internal;
  };
  EXPECT_EQ(kind_of([&] { plot_learning_curve({}, "loss", dir.path("c")); }), ErrorKind::input);
  EXPECT_EQ(kind_of([&] { plot_learning_curve({{1, std::nan(""), 1}}, "loss", dir.path("c")); }), ErrorKind::input);
  EXPECT_EQ(kind_of([&] { plot_predicted_vs_actual({1, 2}, {1}, dir.path("s")); }), ErrorKind::input);
  EXPECT_EQ(kind_of([&] { plot_deciles({}, dir.path("d")); }), ErrorKind::input);
  EXPECT_EQ(kind_of([&] { plot_reliability({}, "p_buy", dir.path("r")); }), ErrorKind::input);
  EXPECT_EQ(kind_of([&] { plot_gain({}, dir.path("g")); }), ErrorKind::input);
  EXPECT_EQ(kind_of([&] { plot_holdout_calibration({}, dir.path("h")); }), ErrorKind::input);
  EXPECT_EQ(kind_of([&] { plot_reliability({{0, 0, 1, 1, 0.5, 1}}, "p\nbuy", dir.path("r")); }), ErrorKind::config);
  EXPECT_EQ(kind_of([&] { plot_deciles({{1, 1, 2, 3}}, dir.path("line\nbreak")); }), ErrorKind::config);
  EXPECT_EQ(kind_of([&] { plot_deciles({{1, 1, 2, 3}}, dir.path("missing/d")); }), ErrorKind::io);
  EXPECT_TRUE(directory_listing(dir.path("")).empty());
}

TEST(Plots, MissingGnuplotIsAnIoErrorWithTheSetupHint) {
  test::TempDir empty;
  const char* saved = std::getenv("PATH");
  const std::string saved_path = saved != nullptr ? saved : "";
  ::setenv("PATH", empty.path("").c_str(), 1);
  try {
    plot_deciles({{1, 1, 2, 3}}, empty.path("d"));
    ADD_FAILURE() << "no error without gnuplot";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::io);
    EXPECT_NE(std::string(e.what()).find("gnuplot"), std::string::npos);
    EXPECT_NE(e.hint().find("scripts/setup"), std::string::npos);
  }
  ::setenv("PATH", saved_path.c_str(), 1);
  EXPECT_FALSE(std::filesystem::exists(empty.path("d.csv")));
}

}  // namespace
}  // namespace cltv::eval
