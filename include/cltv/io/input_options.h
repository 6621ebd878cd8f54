// The input parameters every data-reading command shares (--input, --schema, --on-bad-row,
// --threads), declared once, and the load step they drive.
#pragma once

#include <cstdint>
#include <string>

#include "cltv/io/reader.h"
#include "cltv/params.h"

namespace cltv::io {

struct InputOptions {
  std::string input;
  std::string schema;
  std::string on_bad_row;
  int64_t threads = 0;
};

void declare_input_params(ParamSet& params, InputOptions& options);

// Resolves the schema and policy and reads the input.
ReadResult load_input(const InputOptions& options);

}  // namespace cltv::io
