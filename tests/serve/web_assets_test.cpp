// The dashboard's embedded files: served paths, content types, and nothing loaded from elsewhere.
#include <gtest/gtest.h>

#include <string>

#include "cltv/serve/web_assets.h"

namespace cltv::serve {
namespace {

std::string bytes_at(std::string_view path) {
  const std::optional<WebAsset> asset = find_web_asset(path);
  return asset ? std::string(asset->bytes) : std::string();
}

TEST(WebAssets, RootIsTheHtmlPage) {
  const std::optional<WebAsset> page = find_web_asset("/");
  ASSERT_TRUE(page.has_value());
  EXPECT_EQ(page->content_type, "text/html; charset=utf-8");
  EXPECT_EQ(page->bytes.substr(0, 15), "<!doctype html>");
  EXPECT_NE(page->bytes.find("</html>"), std::string_view::npos);
}

TEST(WebAssets, ServesTheScriptStyleAndChartLibrary) {
  for (const auto& [path, content_type] : {std::pair{"/assets/app.js", "text/javascript; charset=utf-8"},
                                           std::pair{"/assets/style.css", "text/css; charset=utf-8"},
                                           std::pair{"/assets/chart.umd.js", "text/javascript; charset=utf-8"}}) {
    const std::optional<WebAsset> asset = find_web_asset(path);
    ASSERT_TRUE(asset.has_value()) << path;
    EXPECT_EQ(asset->content_type, content_type) << path;
    EXPECT_GT(asset->bytes.size(), 1000u) << path;
  }
  EXPECT_NE(bytes_at("/assets/chart.umd.js").find("Chart"), std::string::npos);
}

TEST(WebAssets, UnknownPathsAreAbsent) {
  for (const char* path : {"", "/index.html", "/assets/", "/assets/app.js.map", "/assets/../app.js", "/v1/run"}) {
    EXPECT_FALSE(find_web_asset(path).has_value()) << path;
  }
}

TEST(WebAssets, ThePageLoadsOnlyItsOwnFiles) {
  const std::string page = bytes_at("/");
  // Every src="..." and href="..." (no std::regex: GCC 12's sanitizer build warns inside it).
  int references = 0;
  for (const std::string attribute : {"src=\"", "href=\""}) {
    for (size_t at = page.find(attribute); at != std::string::npos; at = page.find(attribute, at + 1)) {
      const size_t start = at + attribute.size();
      const std::string target = page.substr(start, page.find('"', start) - start);
      const bool own_file = target.starts_with("/assets/") && !target.starts_with("/assets//");
      EXPECT_TRUE(own_file || target.starts_with("#") || target == "data:,") << target;
      ++references;
    }
  }
  EXPECT_GE(references, 3);
  for (const char* path : {"/", "/assets/app.js", "/assets/style.css"}) {
    const std::string text = bytes_at(path);
    EXPECT_EQ(text.find("http://"), std::string::npos) << path;
    EXPECT_EQ(text.find("https://"), std::string::npos) << path;
  }
}

}  // namespace
}  // namespace cltv::serve
