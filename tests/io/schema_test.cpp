// Schemas: built-ins, user JSON schema files, and their error messages.
#include <gtest/gtest.h>

#include "cltv/error.h"
#include "cltv/io/reader.h"
#include "cltv/io/schema.h"
#include "support/test_support.h"

namespace cltv::io {
namespace {

std::string config_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::config) << e.what();
    return std::string(e.what()) + " | " + e.hint();
  }
  ADD_FAILURE() << "expected a config error";
  return {};
}

TEST(Schema, BuiltinsResolve) {
  for (const std::string& name : builtin_schema_names()) {
    const Schema s = resolve_schema(name);
    EXPECT_EQ(s.name, name);
    EXPECT_FALSE(s.customer.empty());
  }
  EXPECT_EQ(builtin_schema_names(), (std::vector<std::string>{"lpoint", "online-retail", "cdnow"}));
}

TEST(Schema, UnknownNameListsValidOnes) {
  const std::string message = config_error([] { resolve_schema("lotte"); });
  EXPECT_NE(message.find("unknown schema 'lotte'"), std::string::npos);
  EXPECT_NE(message.find("lpoint, online-retail, cdnow"), std::string::npos);
}

TEST(Schema, UserSchemaFileNeedsNoCode) {
  test::TempDir dir;
  const std::string schema_path = dir.write("shop.json", R"({
    "name": "shop",
    "delimiter": ";",
    "fields": {"customer": "member", "basket": "receipt", "datetime": "paid_at",
               "quantity": "units", "price": "unit_price", "unit": "store"},
    "date_formats": ["%d.%m.%Y %H:%M"]
  })");
  const std::string data_path = dir.write("shop.csv",
                                          "receipt;member;paid_at;units;unit_price;store;note\n"
                                          "R1;M7;03.02.2024 17:45;2;2.5;Berlin;x\n");
  const ReadResult r = read_transactions(data_path, resolve_schema(schema_path), {});
  ASSERT_EQ(r.table.rows(), 1u);
  EXPECT_EQ(r.table.customer_ids[0], "M7");
  EXPECT_EQ(r.table.amount[0], 5.0);
  EXPECT_EQ(r.table.units[0], "Berlin");
  EXPECT_EQ(r.table.products[0], "unknown");
}

TEST(Schema, InvalidSchemaFilesSayWhichKey) {
  EXPECT_NE(config_error([] { schema_from_json("{", "s.json"); }).find("not valid JSON"), std::string::npos);
  EXPECT_NE(config_error([] { schema_from_json(R"({"colour": 1, "fields": {}})", "s.json"); })
                .find("unknown schema key 'colour'"),
            std::string::npos);
  EXPECT_NE(config_error([] {
              schema_from_json(R"({"fields": {"basket": "b", "date": "d", "amount": "a"}, "date_formats": ["%Y"]})",
                               "s.json");
            }).find("'fields.customer' is required"),
            std::string::npos);
  EXPECT_NE(config_error([] {
              schema_from_json(R"({"fields": {"customer": "c", "date": "d", "amount": "a", "price": "p",
                                   "quantity": "q"}, "date_formats": ["%Y"]})",
                               "s.json");
            }).find("exactly one of 'fields.amount' and 'fields.price'"),
            std::string::npos);
  EXPECT_NE(config_error([] {
              schema_from_json(R"({"fields": {"customer": "c", "sku": "s"}})", "s.json");
            }).find("unknown field 'fields.sku'"),
            std::string::npos);
  EXPECT_NE(config_error([] {
              schema_from_json(R"({"delimiter": "ab", "fields": {"customer": "c", "date": "d", "amount": "a"},
                                   "date_formats": ["%Y"]})",
                               "s.json");
            }).find("'delimiter'"),
            std::string::npos);
}

TEST(Schema, CurrencyKey) {
  const std::string base = R"("fields": {"customer": "c", "date": "d", "amount": "a"}, "date_formats": ["%Y"])";
  EXPECT_EQ(schema_from_json("{" + base + "}", "s.json").currency, "");
  EXPECT_EQ(schema_from_json(R"({"currency": "EUR", )" + base + "}", "s.json").currency, "EUR");
  EXPECT_EQ(resolve_schema("lpoint").currency, "KRW");
  EXPECT_EQ(resolve_schema("online-retail").currency, "GBP");
  EXPECT_EQ(resolve_schema("cdnow").currency, "USD");
  EXPECT_FALSE(config_error([&] { schema_from_json(R"({"currency": 3, )" + base + "}", "s.json"); }).empty());
}

TEST(Schema, LevelCutsKey) {
  const std::string base = R"("fields": {"customer": "c", "date": "d", "amount": "a"}, "date_formats": ["%Y"])";
  EXPECT_TRUE(schema_from_json("{" + base + "}", "s.json").level_cuts.empty());  // derived from the data
  EXPECT_EQ(schema_from_json(R"({"level_cuts": [10, 25.5, 60], )" + base + "}", "s.json").level_cuts,
            (std::vector<double>{10, 25.5, 60}));
  EXPECT_EQ(resolve_schema("lpoint").level_cuts, (std::vector<double>{100000, 250000, 500000, 800000, 1500000}));
  EXPECT_TRUE(resolve_schema("online-retail").level_cuts.empty());
  for (const char* bad : {"[]", "[10, 10]", "[20, 10]", "[0, 5]", "[-1]", "\"100\"", "[1, \"2\"]"}) {
    EXPECT_NE(config_error([&] { schema_from_json(std::string(R"({"level_cuts": )") + bad + ", " + base + "}", "s.json"); })
                  .find("'level_cuts'"),
              std::string::npos)
        << bad;
  }
}

TEST(Schema, DecimalKey) {
  const std::string base = R"("fields": {"customer": "c", "date": "d", "amount": "a"}, "date_formats": ["%Y"])";
  EXPECT_EQ(schema_from_json("{" + base + "}", "s.json").decimal, '.');
  EXPECT_EQ(schema_from_json(R"({"delimiter": ";", "decimal": ",", )" + base + "}", "s.json").decimal, ',');
  EXPECT_EQ(schema_from_json(R"({"delimiter": "whitespace", "header": "none", "layouts": [["c", "d", "a"]], "decimal": ",", )" +
                                 base + "}",
                             "s.json")
                .decimal,
            ',');
  const std::string clash = config_error([&] { schema_from_json(R"({"decimal": ",", )" + base + "}", "s.json"); });
  EXPECT_NE(clash.find("s.json: key 'decimal' is \",\" and so is 'delimiter'"), std::string::npos) << clash;
  EXPECT_NE(config_error([&] { schema_from_json(R"({"decimal": "'", )" + base + "}", "s.json"); }).find("key 'decimal'"),
            std::string::npos);
}

TEST(Schema, ReturnsKeyAndLayoutDuplicates) {
  const std::string base = R"("fields": {"customer": "c", "basket": "b", "date": "d", "amount": "a"}, "date_formats": ["%Y"])";
  EXPECT_FALSE(schema_from_json("{" + base + "}", "s.json").returns.enabled);
  const Schema prefixed = schema_from_json(R"({"returns": {"basket_prefix": "C"}, )" + base + "}", "s.json");
  EXPECT_TRUE(prefixed.returns.matches("C581484"));
  EXPECT_FALSE(prefixed.returns.matches("581483"));
  EXPECT_TRUE(schema_from_json(R"({"returns": {}, )" + base + "}", "s.json").returns.matches("581483"));
  EXPECT_EQ(resolve_schema("online-retail").returns.basket_prefix, "C");
  EXPECT_FALSE(resolve_schema("cdnow").returns.enabled);
  EXPECT_NE(config_error([&] { schema_from_json(R"({"returns": {"prefix": "C"}, )" + base + "}", "s.json"); })
                .find("key 'returns'"),
            std::string::npos);
  EXPECT_NE(config_error([] {
              schema_from_json(R"({"returns": {"basket_prefix": "C"}, "fields": {"customer": "c", "date": "d",
                                  "amount": "a"}, "date_formats": ["%Y"]})",
                               "s.json");
            }).find("'returns.basket_prefix' needs 'fields.basket'"),
            std::string::npos);
  const std::string twice = config_error([&] {
    schema_from_json(R"({"header": "none", "layouts": [["c", "b", "d", "a", "a"]], )" + base + "}", "s.json");
  });
  EXPECT_NE(twice.find("names column 'a' more than once"), std::string::npos) << twice;
}

}  // namespace
}  // namespace cltv::io
