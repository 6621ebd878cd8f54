// Fitted "buy 'til you die" model files: JSON with format_version, kind, time unit, parameters under
// their literature names, standard errors, log-likelihood and convergence, sealed by the SHA-256 of
// the canonical payload dump and checked on load.
#pragma once

#include <string>

#include "cltv/btyd/models.h"

namespace cltv::btyd {

constexpr int model_format_version = 1;

// The payload (without the checksum) as a JSON object text, for printing.
std::string model_summary_json(const FittedModel& model);
// One paragraph for people: parameters with standard errors, log-likelihood, convergence.
std::string model_summary_text(const FittedModel& model);
// Writes PATH atomically.
void save_model(const FittedModel& model, const std::string& path);
// Throws io error when unreadable, model error when the file is not a model, is altered or truncated
// (checksum mismatch) or was written by a newer format version.
FittedModel load_model(const std::string& path);

}  // namespace cltv::btyd
