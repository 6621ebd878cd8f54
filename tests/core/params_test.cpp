// ParamSet: parsing, checks and messages derived from one declaration.
#include <gtest/gtest.h>

#include "cltv/error.h"
#include "cltv/params.h"
#include "support/test_support.h"

namespace cltv {
namespace {

std::string config_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::config);
    return e.what();
  }
  ADD_FAILURE() << "expected a config error";
  return {};
}

TEST(Params, DefaultsAreSetAtDeclaration) {
  ParamSet params;
  int64_t n = -1;
  double x = -1;
  std::string choice;
  params.add_int("customers", n, 72000, 1, 1000, "customers");
  params.add_number("rate", x, 0.5, 0, 1, "rate");
  params.add_choice("population", choice, "window", {"window", "all-months"}, "population");
  EXPECT_EQ(n, 72000);
  EXPECT_EQ(x, 0.5);
  EXPECT_EQ(choice, "window");
  EXPECT_EQ(params.params()[0].default_text, "72000");
}

TEST(Params, ValuesAreCheckedWithNamedMessages) {
  ParamSet params;
  int64_t n = 0;
  double x = 0;
  std::string choice;
  std::optional<int64_t> date;
  params.add_int("months", n, 3, 1, 120, "months");
  params.add_number("rate", x, 0.5, 0, 1, "rate");
  params.add_choice("population", choice, "window", {"window", "all-months"}, "population");
  params.add_date("as-of", date, true, "as-of");
  params.set("months", "12");
  EXPECT_EQ(n, 12);
  EXPECT_NE(config_error([&] { params.set("months", "0"); }).find("--months: 0 is out of range"), std::string::npos);
  EXPECT_NE(config_error([&] { params.set("months", "3x"); }).find("not an integer"), std::string::npos);
  EXPECT_NE(config_error([&] { params.set("rate", "nan"); }).find("not a number"), std::string::npos);
  EXPECT_NE(config_error([&] { params.set("population", "everyone"); }).find("--population"), std::string::npos);
  EXPECT_NE(config_error([&] { params.set("as-of", "2019-13-01"); }).find("--as-of"), std::string::npos);
  params.set("as-of", "2019-09-01");
  EXPECT_TRUE(date.has_value());
  const std::string unknown = config_error([&] { params.set("colour", "red"); });
  EXPECT_NE(unknown.find("unknown parameter 'colour'"), std::string::npos);
}

TEST(Params, ConfigFileAppliesEveryKeyByFlagName) {
  ParamSet params;
  int64_t n = 0;
  double x = 0;
  std::string text;
  bool flag = true;
  params.add_int("months", n, 3, 1, 120, "months");
  params.add_number("rate", x, 0.5, 0, 1, "rate");
  params.add_text("levels", text, "", "levels");
  params.add_flag("quiet", flag, "quiet");
  flag = false;
  const test::TempDir dir;
  params.apply_config_file(dir.write("ok.json", R"({"months": 12, "rate": 0.25, "levels": [100, 250.5], "quiet": true})"));
  EXPECT_EQ(n, 12);
  EXPECT_EQ(x, 0.25);
  EXPECT_EQ(text, "100,250.5");
  EXPECT_TRUE(flag);

  flag = false;
  params.apply_config_file(dir.write("off.json", R"({"quiet": false})"));
  EXPECT_FALSE(flag);  // a flag set to false is simply not given

  const std::string range = config_error([&] { params.apply_config_file(dir.write("range.json", R"({"months": 0})")); });
  EXPECT_NE(range.find("range.json"), std::string::npos) << range;
  EXPECT_NE(range.find("key 'months'"), std::string::npos) << range;
  EXPECT_NE(range.find("out of range"), std::string::npos) << range;
  const std::string unknown = config_error([&] { params.apply_config_file(dir.write("typo.json", R"({"monts": 2})")); });
  EXPECT_NE(unknown.find("unknown parameter 'monts'"), std::string::npos) << unknown;
  EXPECT_NE(config_error([&] { params.apply_config_file(dir.write("bad.json", "{\"months\": ")); }).find("not valid JSON"),
            std::string::npos);
  EXPECT_NE(config_error([&] { params.apply_config_file(dir.write("list.json", "[1, 2]")); }).find("one JSON object"),
            std::string::npos);
  EXPECT_NE(config_error([&] { params.apply_config_file(dir.write("nested.json", R"({"months": {"a": 1}})")); })
                .find("must be a string, number, boolean or list"),
            std::string::npos);
}

}  // namespace
}  // namespace cltv
