// The dashboard's files (web/: page, script, style, chart library), embedded at build time.
#pragma once

#include <optional>
#include <string_view>

namespace cltv::serve {

struct WebAsset {
  std::string_view content_type;
  std::string_view bytes;
};

// The dashboard file at PATH ("/" is index.html; "/assets/app.js", "/assets/style.css",
// "/assets/chart.umd.js"), or nullopt.
std::optional<WebAsset> find_web_asset(std::string_view path);

}  // namespace cltv::serve
