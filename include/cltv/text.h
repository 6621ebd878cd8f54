// Small text helpers shared across areas.
#pragma once

#include <string_view>

namespace cltv {

// TEXT without the leading and trailing characters found in WHITESPACE.
inline std::string_view trim(std::string_view text, std::string_view whitespace = " \t\r\n") {
  const auto first = text.find_first_not_of(whitespace);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(whitespace) - first + 1);
}

}  // namespace cltv
