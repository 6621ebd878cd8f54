// Tests of btyd model files: round trip, and clear model errors for altered, truncated, foreign and
// newer-version files.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "cltv/btyd/model_file.h"
#include "cltv/error.h"
#include "support/test_support.h"

namespace cltv::btyd {
namespace {

FittedModel sample_model() {
  FittedModel m;
  m.kind = ModelKind::pnbd;
  m.unit = TimeUnit::weeks;
  m.names = parameter_names(m.kind);
  m.values = {0.553, 10.578, 0.606, 11.669};
  m.standard_errors = {0.05, 0.8, std::numeric_limits<double>::quiet_NaN(), 2.1};
  m.log_likelihood = -9595.0;
  m.customers = 2357;
  m.distinct_rows = 1500;
  m.convergence = {true, "LBFGS", "NLOPT_XTOL_REACHED", false, 300, 1e-7, "dropout not identified: the model reduces to NBD"};
  return m;
}

void expect_model_error(const std::string& path, const std::string& message) {
  try {
    load_model(path);
    FAIL() << "expected a model error for " << path;
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::model) << e.what();
    EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
  }
}

TEST(BtydModelFile, RoundTripsExactly) {
  test::TempDir dir;
  const FittedModel m = sample_model();
  save_model(m, dir.path("m.json"));
  const FittedModel back = load_model(dir.path("m.json"));
  EXPECT_EQ(back.kind, m.kind);
  EXPECT_EQ(back.unit, m.unit);
  EXPECT_EQ(back.values, m.values);
  EXPECT_EQ(back.standard_errors[0], 0.05);
  EXPECT_TRUE(std::isnan(back.standard_errors[2]));
  EXPECT_EQ(back.log_likelihood, m.log_likelihood);
  EXPECT_EQ(back.convergence.method, "LBFGS");
  EXPECT_EQ(back.convergence.boundary, m.convergence.boundary);
  EXPECT_NE(test::read_file(dir.path("m.json")).find("\"beta\""), std::string::npos);
}

TEST(BtydModelFile, RejectsAlteredTruncatedAndNewerFiles) {
  test::TempDir dir;
  save_model(sample_model(), dir.path("m.json"));
  const std::string text = test::read_file(dir.path("m.json"));

  std::string altered = text;
  altered.replace(altered.find("10.578"), 6, "10.579");
  expect_model_error(dir.write("altered.json", altered), "checksum");
  expect_model_error(dir.write("truncated.json", text.substr(0, text.size() / 2)), "not a JSON object");
  std::string newer = text;
  newer.replace(newer.find("\"format_version\": 1"), 19, "\"format_version\": 2");
  expect_model_error(dir.write("newer.json", newer), "newer");
  expect_model_error(dir.write("other.json", "{\"hello\": 1}"), "format_version");
  EXPECT_THROW(load_model(dir.path("missing.json")), Error);
}

}  // namespace
}  // namespace cltv::btyd
