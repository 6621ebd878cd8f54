// The dashboard's files by URL path, embedded into the binary so that `cltv serve` needs nothing else.
#include "cltv/serve/web_assets.h"

#include <array>

#include "web_asset_bytes.h"

namespace cltv::serve {
namespace {

struct Route {
  std::string_view path;
  std::string_view content_type;
  std::string_view (*bytes)();
};

constexpr std::array routes{
    Route{"/", "text/html; charset=utf-8", web_asset_bytes::index_html},
    Route{"/assets/app.js", "text/javascript; charset=utf-8", web_asset_bytes::app_js},
    Route{"/assets/style.css", "text/css; charset=utf-8", web_asset_bytes::style_css},
    Route{"/assets/chart.umd.js", "text/javascript; charset=utf-8", web_asset_bytes::chart_umd_js},
};

}  // namespace

std::optional<WebAsset> find_web_asset(std::string_view path) {
  for (const Route& route : routes) {
    if (route.path == path) return WebAsset{route.content_type, route.bytes()};
  }
  return std::nullopt;
}

}  // namespace cltv::serve
