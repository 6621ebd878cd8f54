// Metrics as a nlohmann JSON value, for callers that embed them in a larger document (needs
// nlohmann_json linked by the caller).
#pragma once

#include <nlohmann/json_fwd.hpp>

#include "cltv/eval/metrics.h"

namespace cltv::eval {

nlohmann::ordered_json metrics_to_json(const Metrics& metrics);

}  // namespace cltv::eval
