// The input parameters every data-reading command shares (--input, --schema, --on-bad-row,
// --threads, --s3-endpoint), declared once, and the load step they drive.
#pragma once

#include <cstdint>
#include <string>

#include "cltv/io/reader.h"
#include "cltv/params.h"
#include "cltv/progress.h"
#include "cltv/storage/location.h"

namespace cltv::io {

struct InputOptions {
  std::string input;
  std::string schema;
  std::string on_bad_row;
  int64_t threads = 0;
  // The S3 settings of the input and of every other location the command names (--s3-endpoint).
  storage::S3Options s3;
  bool fingerprint = false;  // also compute the file's SHA-256 (ReadReport::sha256); not a flag
  ProgressSink* progress = nullptr;  // where the download and parsing report progress; not a flag
};

void declare_input_params(ParamSet& params, InputOptions& options);

// Fetches the input (a local path, file:// or s3:// location), resolves the schema and policy, and
// reads it; the report names the location (and carries the file's SHA-256 when asked).
ReadResult load_input(const InputOptions& options);
// The same for an input already fetched from LOCATION to LOCAL_PATH.
ReadResult read_fetched_input(const InputOptions& options, const storage::Location& location,
                              const std::string& local_path);

}  // namespace cltv::io
