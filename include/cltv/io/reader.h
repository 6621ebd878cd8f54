// Reading transaction files into a TransactionTable: CSV (RFC 4180) or whitespace-separated, plain
// or gzip, parsed across threads. Every row that cannot be used is counted by reason.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "cltv/io/schema.h"
#include "cltv/progress.h"
#include "cltv/table.h"

namespace cltv::io {

enum class BadRowPolicy { fail, skip, quarantine };

struct BadRowOption {
  BadRowPolicy policy = BadRowPolicy::fail;
  std::string quarantine_path;  // with BadRowPolicy::quarantine
};

// Parses "fail", "skip" or "quarantine=PATH"; throws config error otherwise.
BadRowOption parse_bad_row_option(std::string_view text);

struct ReadOptions {
  BadRowOption on_bad_row;
  unsigned threads = 0;     // 0: the CPUs available (cltv::resolve_threads)
  std::string source_name;  // what messages and the report call the input (default: its path)
  ProgressSink* progress = nullptr;  // told the bytes parsed so far (nullptr: nobody)
};

// One malformed row: `file:line: column 'x': reason (got "...")`.
struct RowProblem {
  uint64_t line = 0;
  std::string column;
  std::string reason;
  std::string got;
  std::string file;  // the file it is in when the report covers several; "": the report's source
};

// One file of an input read in parts (see cltv/io/input_parts.h).
struct PartInfo {
  std::string name;
  uint64_t bytes = 0;  // as stored (compressed when gzip)
  std::string sha256;  // of those bytes
  uint64_t rows_read = 0;
  uint64_t rows = 0;  // accepted
};

struct ReadReport {
  std::string source;
  std::string sha256;  // of the file as read; set by load_input when asked to fingerprint
  uint64_t bytes = 0;
  bool header_line = false;
  uint64_t blank_lines = 0;
  uint64_t rows_read = 0;  // data records, header and blank lines excluded
  uint64_t accepted = 0;
  uint64_t rejected = 0;  // malformed rows (see policy)
  std::map<std::string, uint64_t> rejected_by_reason;
  uint64_t dropped = 0;  // well-formed rows that are not customer purchases
  std::map<std::string, uint64_t> dropped_by_reason;
  std::vector<RowProblem> problems;  // the first `max_listed_problems`, in file order
  ReturnRule returns;                // the schema's rule for return lines, which cleaning applies
  std::vector<PartInfo> parts;       // when read in parts (stream_transactions), in input order

  static constexpr size_t max_listed_problems = 20;
  std::string format_problem(const RowProblem& problem) const;
  // Adds the counts, reasons and problems of PART (a part of the same input), its problems naming
  // FILE, up to max_listed_problems in all.
  void add(const ReadReport& part, const std::string& file);
};

struct ReadResult {
  TransactionTable table;
  ReadReport report;
};

// Reads PATH (gzip detected by its magic bytes). Throws cltv::Error: io for an unreadable file,
// input for empty, binary, header-less or malformed input (with the fail policy).
ReadResult read_transactions(const std::string& path, const Schema& schema,
                             const ReadOptions& options);

// The same on bytes already in memory; SOURCE names them in messages.
ReadResult parse_transactions(std::string_view data, const std::string& source,
                              const Schema& schema, const ReadOptions& options);

}  // namespace cltv::io
