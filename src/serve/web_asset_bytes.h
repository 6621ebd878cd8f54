// The dashboard's files (web/), whose bytes a source generated at build time holds (CMakeLists.txt here).
#pragma once

#include <string_view>

namespace cltv::serve::web_asset_bytes {

std::string_view index_html();
std::string_view app_js();
std::string_view style_css();
std::string_view chart_umd_js();

}  // namespace cltv::serve::web_asset_bytes
