// The partition pass: an input of one or many files streamed into a spill of P partitions by
// customer, or a complete spill of the same input reused; and the partitions read back from it.
#include <fmt/format.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "cltv/error.h"
#include "cltv/interrupt.h"
#include "cltv/io/stream.h"
#include "cltv/pipeline/partitions.h"
#include "cltv/sha256.h"
#include "cltv/version.h"

namespace cltv::pipeline {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class Spilled final : public PartitionSource {
 public:
  explicit Spilled(io::SpillInfo info) : info_(std::move(info)) {}
  uint32_t count() const override { return info_.partitions; }
  // A damaged partition file removes the spill, so the next run builds it again.
  RawPartition load(uint32_t p) const override {
    try {
      io::PartitionRows rows = io::read_partition(info_, p);
      return {std::move(rows.table), std::move(rows.row)};
    } catch (const Error& e) {
      std::error_code ignored;
      fs::remove_all(info_.dir, ignored);
      throw Error(e.kind(), fmt::format("{} (the spill '{}' was removed: the next run builds it again)", e.what(),
                                        info_.dir),
                  e.hint());
    }
  }

 private:
  io::SpillInfo info_;
};

// The read report, saved with the spill so a reused spill reports the same counts.
json report_json(const io::ReadReport& r) {
  json problems = json::array();
  for (const io::RowProblem& p : r.problems) {
    problems.push_back({{"line", p.line}, {"column", p.column}, {"reason", p.reason}, {"got", p.got}, {"file", p.file}});
  }
  json parts = json::array();
  for (const io::PartInfo& p : r.parts) {
    parts.push_back({{"name", p.name}, {"bytes", p.bytes}, {"sha256", p.sha256}, {"rows_read", p.rows_read}, {"rows", p.rows}});
  }
  return {{"source", r.source},         {"sha256", r.sha256},        {"bytes", r.bytes},
          {"header_line", r.header_line}, {"blank_lines", r.blank_lines}, {"rows_read", r.rows_read},
          {"accepted", r.accepted},     {"rejected", r.rejected},    {"rejected_by_reason", r.rejected_by_reason},
          {"dropped", r.dropped},       {"dropped_by_reason", r.dropped_by_reason},
          {"problems", problems},       {"parts", parts}};
}

io::ReadReport report_from_json(const std::string& text, const io::Schema& schema) {
  const json j = json::parse(text);
  io::ReadReport r;
  r.source = j.at("source");
  r.sha256 = j.at("sha256");
  r.bytes = j.at("bytes");
  r.header_line = j.at("header_line");
  r.blank_lines = j.at("blank_lines");
  r.rows_read = j.at("rows_read");
  r.accepted = j.at("accepted");
  r.rejected = j.at("rejected");
  r.rejected_by_reason = j.at("rejected_by_reason").get<std::map<std::string, uint64_t>>();
  r.dropped = j.at("dropped");
  r.dropped_by_reason = j.at("dropped_by_reason").get<std::map<std::string, uint64_t>>();
  for (const json& p : j.at("problems")) {
    r.problems.push_back({p.at("line"), p.at("column"), p.at("reason"), p.at("got"), p.at("file")});
  }
  for (const json& p : j.at("parts")) {
    r.parts.push_back({p.at("name"), p.at("bytes"), p.at("sha256"), p.at("rows_read"), p.at("rows")});
  }
  r.returns = schema.returns;
  return r;
}

// The parts' reports summed: counts, reasons, the first problems naming their part, each part's
// size, SHA-256 and rows.
void add_part_report(io::ReadReport& total, const io::ReadReport& part, const io::InputPart& input,
                     const std::string& sha256) {
  total.bytes += part.bytes;
  total.header_line = total.header_line || part.header_line;
  total.add(part, input.name);
  total.parts.push_back({input.name, input.bytes, sha256, part.rows_read, part.accepted});
}

// An input whose parts each hold whole customers: part p is partition p, read whole when a pass
// needs it. Rows are numbered over the parts in order; the first pass reads them in order and
// records where each part's rows start, and the report of every part.
class PartFiles final : public PartitionSource {
 public:
  PartFiles(std::vector<io::InputPart> parts, io::Schema schema, io::ReadOptions read, std::string source)
      : parts_(std::move(parts)), schema_(std::move(schema)), read_(std::move(read)) {
    report_.source = std::move(source);
    report_.returns = schema_.returns;
  }
  uint32_t count() const override { return static_cast<uint32_t>(parts_.size()); }
  RawPartition load(uint32_t p) const override {
    if (p > first_rows_.size()) throw_internal("the parts of a partitioned input are first read in order");
    const storage::LocalCopy local = storage::fetch(parts_[p].location);
    io::ReadOptions read = read_;
    read.source_name = parts_[p].name;
    io::ReadResult result = io::read_transactions(local.path(), schema_, read);
    if (p == first_rows_.size()) {
      add_part_report(report_, result.report, parts_[p], sha256_file_hex(local.path()));
      first_rows_.push_back(next_row_);
      next_row_ += result.table.rows();
    }
    RawPartition raw{std::move(result.table), {}};
    raw.row.resize(raw.table.rows());
    for (size_t i = 0; i < raw.row.size(); ++i) raw.row[i] = first_rows_[p] + i;
    return raw;
  }
  std::optional<io::ReadReport> read_report() const override {
    if (first_rows_.size() < parts_.size()) return std::nullopt;
    io::ReadReport report = report_;
    std::string listing;
    for (const io::PartInfo& part : report.parts) listing += fmt::format("{}  {}\n", part.sha256, part.name);
    report.sha256 = sha256_hex(listing);
    return report;
  }

 private:
  std::vector<io::InputPart> parts_;
  io::Schema schema_;
  io::ReadOptions read_;
  mutable io::ReadReport report_;
  mutable std::vector<uint64_t> first_rows_;
  mutable uint64_t next_row_ = 0;
};

}  // namespace

std::unique_ptr<PartitionSource> part_file_partitions(std::vector<io::InputPart> parts, const io::Schema& schema,
                                                      const io::ReadOptions& read, const std::string& source) {
  if (read.on_bad_row.policy == io::BadRowPolicy::quarantine) {
    throw_config("--on-bad-row quarantine=PATH does not combine with --partitioned-input",
                 "use --on-bad-row skip, or let cltv partition the input (drop --partitioned-input)");
  }
  return std::make_unique<PartFiles>(std::move(parts), schema, read, source);
}

std::unique_ptr<PartitionSource> spilled_partitions(io::SpillInfo info) {
  return std::make_unique<Spilled>(std::move(info));
}

std::string input_fingerprint(const std::vector<io::InputPart>& parts, const std::string& settings) {
  std::string text = fmt::format("cltv {}\n{}\n", version, settings);
  for (const io::InputPart& part : parts) {
    text += fmt::format("{}\t{}", part.name, part.bytes);
    if (part.location.kind == storage::Location::Kind::local) {
      std::error_code error;
      const auto modified = fs::last_write_time(part.location.path, error);
      if (!error) text += fmt::format("\t{}", modified.time_since_epoch().count());
    }
    text += '\n';
  }
  return sha256_hex(text);
}

SpilledInput spill_input(const std::vector<io::InputPart>& parts, const io::Schema& schema,
                         const io::ReadOptions& read, uint32_t partitions, const std::string& dir,
                         const std::string& fingerprint) {
  if (std::optional<io::SpillInfo> found = io::find_complete_spill(dir, fingerprint)) {
    SpilledInput reused{*found, report_from_json(found->extra, schema), true};
    return reused;
  }
  std::error_code ignored;
  fs::remove_all(dir, ignored);  // an interrupted or outdated spill of ours
  io::SpillOptions options;
  options.dir = dir;
  options.partitions = partitions;
  options.threads = read.threads;
  io::SpillWriter writer(options);
  io::StreamOptions stream;
  stream.read = read;
  const io::ReadReport report = io::stream_transactions(parts, schema, stream, [&writer](io::StreamedChunk&& chunk) {
    writer.append(chunk.table, chunk.first_row);
  });
  io::SpillInfo info = writer.finish(fingerprint, report_json(report).dump());
  return {std::move(info), report, false};
}

}  // namespace cltv::pipeline
