// Reading an input of many files (cltv/io/input_parts.h) as a stream of chunks, in memory bounded
// by a few chunks whatever the input's size: each part is read in turn (plain or gzip, S3 parts
// downloaded one at a time), cut into chunks of whole records and parsed like a single file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "cltv/io/input_parts.h"
#include "cltv/io/reader.h"
#include "cltv/io/schema.h"
#include "cltv/table.h"

namespace cltv::io {

struct StreamOptions {
  ReadOptions read;  // policy, threads, progress ("read": bytes of the parts read so far of their total)
  size_t chunk_bytes = size_t{64} << 20;  // target text bytes per chunk (a chunk ends at a record's end)
};

struct StreamedChunk {
  TransactionTable table;  // the chunk's accepted rows, in input order, with dictionaries of its own
  uint64_t first_row = 0;  // global index of its first row, counting accepted rows over all parts from 0
  size_t part = 0;         // index of its part
};

// Reads PARTS in order and hands every chunk with accepted rows to SINK, in input order. Each part
// is read as read_transactions reads a file (its own header, gzip detected from its bytes, line
// numbers of its own), except that an empty or header-only part is allowed. Returns the merged
// report: counts summed, problems (the first max_listed_problems) naming their part, one PartInfo
// per part (SHA-256 of its stored bytes), bytes = the text bytes parsed, sha256 = the part's when
// there is one part, else of the lines "SHA256  NAME" of all parts. The fail policy stops after
// the first chunk with malformed rows; quarantine=PATH writes one file: a header (the first
// part's) and every rejected record of every part, atomically once all parts are read.
// Throws cltv::Error as read_transactions does, naming the part, and an input error when no part
// has data rows.
ReadReport stream_transactions(const std::vector<InputPart>& parts, const Schema& schema,
                               const StreamOptions& options, const std::function<void(StreamedChunk&&)>& sink);

}  // namespace cltv::io
