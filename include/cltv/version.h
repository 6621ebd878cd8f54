// The cltv version, shared by --version and model manifests.
#pragma once

namespace cltv {
inline constexpr const char* version = "0.1.0";
}
