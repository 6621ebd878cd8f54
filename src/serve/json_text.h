// Writing JSON text by hand on the server's hot path (one customer's row per request): strings
// escaped as RFC 8259 requires, numbers in their shortest round-trip form.
#pragma once

#include <fmt/format.h>

#include <cmath>
#include <string>
#include <string_view>

namespace cltv::serve {

inline void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  for (const char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          fmt::format_to(std::back_inserter(out), "\\u{:04x}", static_cast<unsigned>(c));
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

// VALUE as a JSON number (an integer when WHOLE), or null when it is not finite.
inline void append_json_number(std::string& out, double value, bool whole = false) {
  if (!std::isfinite(value)) {
    out += "null";
  } else if (whole) {
    fmt::format_to(std::back_inserter(out), "{}", static_cast<long long>(value));
  } else {
    fmt::format_to(std::back_inserter(out), "{}", value);
  }
}

}  // namespace cltv::serve
