// An input made of many files: a file, a directory of them, a glob pattern or an S3 prefix, listed
// as parts in the order they are read.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cltv/storage/location.h"
#include "cltv/storage/s3.h"

namespace cltv::io {

struct InputPart {
  storage::Location location;
  std::string name;    // for messages: the path or s3:// URI
  uint64_t bytes = 0;  // as stored
};

// The parts of TEXT:
//   - one file (local path, file:// URI or s3://bucket/key);
//   - a directory: every regular file in it (not in its subdirectories) whose name ends in .csv,
//     .csv.gz, .txt, .txt.gz, .tsv or .tsv.gz, hidden names and names starting with '_' skipped;
//   - a glob pattern with * or ? in the last path component (local only; glob(3)): every regular
//     file it matches;
//   - s3://bucket/prefix/ (ending in '/'): every object under the prefix with one of those suffixes,
//     objects with a hidden or '_' path component below the prefix skipped (_SUCCESS, _temporary/).
// Sorted by name (by key on S3). Throws an input error naming TEXT when nothing matches, an io
// error when something cannot be read, and a config error for a malformed location.
std::vector<InputPart> list_input_parts(const std::string& text, const storage::S3Options& s3);

// Whether NAME ends in one of the suffixes above.
bool has_input_suffix(const std::string& name);

}  // namespace cltv::io
