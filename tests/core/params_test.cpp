// ParamSet: parsing, checks and messages derived from one declaration.
#include <gtest/gtest.h>

#include "cltv/error.h"
#include "cltv/params.h"

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

}  // namespace
}  // namespace cltv
