// The partition spill of an out-of-core pipeline: rows routed by a hash of their customer id to one
// of P partition files in a compact columnar format (zstd blocks, each with a CRC-32), and a
// manifest written last, so that a pipeline can process one partition at a time. The format is in
// docs/spill.md.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cltv/table.h"

namespace cltv::io {

// The partition hash of a customer id: FNV-1a 64 of its bytes followed by the splitmix64
// finaliser. Part of the spill format: it never changes between versions or machines.
uint64_t customer_hash(std::string_view customer_id);
inline uint32_t partition_of(std::string_view id, uint32_t partitions) {
  return static_cast<uint32_t>(customer_hash(id) % partitions);
}

struct SpillOptions {
  std::string dir;            // created by the writer; must not exist, or be an empty directory
  uint32_t partitions = 1;
  size_t buffer_bytes = 256u << 20;  // rows buffered over all partitions before blocks are written
  int zstd_level = 1;
  unsigned threads = 1;       // routing and compression threads
};

struct SpillInfo {
  std::string dir;
  uint32_t partitions = 0;
  std::string fingerprint, extra;
  bool line_seq = false;  // whether the rows carry line_seq
  uint64_t rows = 0, bytes = 0;
  std::vector<uint64_t> partition_rows, partition_bytes;
  std::vector<uint32_t> partition_crc32;  // of each whole partition file
};

// Path of partition P's file in DIR: DIR/part-00007.spill.
std::string partition_path(const std::string& dir, uint32_t p);

class SpillWriter {
 public:
  // Creates the directory and the partition files; throws io error when DIR exists and is not an
  // empty directory, or cannot be created.
  explicit SpillWriter(SpillOptions options);
  ~SpillWriter();  // without finish(): removes the directory and everything in it
  SpillWriter(const SpillWriter&) = delete;
  SpillWriter& operator=(const SpillWriter&) = delete;

  // Appends TABLE's rows (in order) to their customers' partitions; row i has the global sequence
  // number FIRST_ROW + i. Tables come with their own dictionaries. FIRST_ROW must not be below the
  // end of the previous table, and every table must agree on has_line_seq() (internal error
  // otherwise). A write failure is an io error naming the file; the spill is then unusable.
  void append(const TransactionTable& table, uint64_t first_row);
  // Flushes every partition, syncs the files and writes the manifest (with FINGERPRINT and the
  // caller's EXTRA text, stored verbatim) atomically, last. After this the spill is complete.
  SpillInfo finish(const std::string& fingerprint, const std::string& extra);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// The complete spill in DIR whose manifest has FINGERPRINT, or nullopt: no manifest (an
// interrupted spill), an unreadable one or of another format version, another fingerprint, or a
// partition file missing or of the wrong size. Does not read the partitions.
std::optional<SpillInfo> find_complete_spill(const std::string& dir, const std::string& fingerprint);

struct PartitionRows {
  TransactionTable table;  // rows in global sequence order; the partition's own dictionaries,
                           // interned in order of first appearance
  Column<uint64_t> row;    // global sequence number of each row
};

// Reads partition P, verifying every block's checksum and the file's: a damaged or truncated file
// is an io error naming the file and what is wrong, with a hint to delete the spill directory.
PartitionRows read_partition(const SpillInfo& spill, uint32_t p);

}  // namespace cltv::io
