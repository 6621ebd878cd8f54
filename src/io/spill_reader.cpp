// Finding a complete spill by its manifest, and reading a partition back block by block with every
// checksum verified.
#include <fcntl.h>
#include <fmt/format.h>
#include <zstd.h>

#include <filesystem>
#include <memory>

#include "cltv/error.h"
#include "cltv/io/atomic_file.h"
#include "spill_format.h"

namespace cltv::io {
namespace {

using namespace spill;

class PartitionReader {
 public:
  PartitionReader(const SpillInfo& spill, uint32_t p);
  PartitionRows read();

 private:
  [[noreturn]] void damaged(const std::string& what) const;
  void check_file_header();
  bool read_block();
  void decode_block();
  std::string_view section(Section s);
  void strings(Section s, InternedDict& dict, std::vector<uint32_t>& ids);
  template <typename Out>
  void ids(Section s, const std::vector<uint32_t>& map, Out& out);
  template <typename Out>
  void values(Section s, Out& out, bool delta);

  const SpillInfo& spill_;
  uint32_t p_;
  File file_;
  uint64_t size_;
  uint64_t position_ = 0;
  uint32_t crc_ = 0;  // of the file so far
  BlockHeader header_{};
  std::string payload_;
  std::vector<size_t> offsets_;  // of each section in the payload
  std::string raw_;
  std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> ctx_;
  InternedDict customer_ids_, basket_ids_, units_, products_;
  std::vector<uint32_t> customer_map_, basket_map_, unit_map_, product_map_;  // block id -> partition id
  PartitionRows out_;
};

PartitionReader::PartitionReader(const SpillInfo& spill, uint32_t p)
    : spill_(spill), p_(p), file_(partition_path(spill.dir, p), O_RDONLY), size_(file_.size()), ctx_(ZSTD_createDCtx(), ZSTD_freeDCtx) {
  if (!ctx_) throw_internal("ZSTD_createDCtx failed");
}

void PartitionReader::damaged(const std::string& what) const {
  throw_io(fmt::format("spill partition '{}' is damaged: {}", file_.path(), what),
           fmt::format("delete the spill directory '{}' so that the input is spilled again", spill_.dir));
}

void PartitionReader::check_file_header() {
  FileHeader h{};
  if (!file_.read(&h, sizeof(h))) damaged("it ends inside its file header");
  if (!has_file_magic(h) || h.crc != crc32_before(h, offsetof(FileHeader, crc))) damaged("its file header is not a spill's");
  if (h.version != format_version || h.partition != p_ || h.partitions != spill_.partitions) {
    damaged(fmt::format("its header says format {}, partition {} of {}; expected format {}, partition {} of {}",
                        h.version, h.partition, h.partitions, format_version, p_, spill_.partitions));
  }
  position_ = sizeof(h);
  crc_ = crc32_before(h, sizeof(h));
}

// Reads the next block's header and payload; false at the end of the file.
bool PartitionReader::read_block() {
  if (position_ == size_) return false;
  if (!file_.read(&header_, sizeof(header_))) damaged(fmt::format("it ends inside the block header at byte {}", position_));
  if (header_.magic != block_magic || header_.crc != crc32_before(header_, offsetof(BlockHeader, crc))) {
    damaged(fmt::format("the block header at byte {} fails its checksum", position_));
  }
  uint64_t size = 0;
  offsets_.assign(1, 0);
  for (const uint64_t packed : header_.packed) offsets_.push_back(size += packed);
  if (size > size_ - position_ - sizeof(header_)) damaged(fmt::format("the block at byte {} is cut short", position_));
  payload_.resize(size);
  if (!file_.read(payload_.data(), size)) damaged(fmt::format("the block at byte {} is cut short", position_));
  if (crc32_of(payload_) != header_.payload_crc) damaged(fmt::format("the block at byte {} fails its checksum", position_));
  crc_ = crc32_of(std::string_view(reinterpret_cast<const char*>(&header_), sizeof(header_)), crc_);
  crc_ = crc32_of(payload_, crc_);
  position_ += sizeof(header_) + size;
  return true;
}

// Section S of the current block, decompressed.
std::string_view PartitionReader::section(Section s) {
  raw_.resize(header_.raw[s]);
  if (raw_.empty()) return raw_;
  const std::string_view packed = std::string_view(payload_).substr(offsets_[s], header_.packed[s]);
  const size_t n = ZSTD_decompressDCtx(ctx_.get(), raw_.data(), raw_.size(), packed.data(), packed.size());
  if (ZSTD_isError(n) || n != raw_.size()) damaged(fmt::format("a section of the block before byte {} does not decompress", position_));
  return raw_;
}

// Interns section S's strings into DICT; IDS maps their block ids to DICT's.
void PartitionReader::strings(Section s, InternedDict& dict, std::vector<uint32_t>& ids) {
  std::string_view raw = section(s);
  uint32_t count = 0;
  if (raw.size() < sizeof(count)) damaged("a block's strings are cut short");
  std::memcpy(&count, raw.data(), sizeof(count));
  raw.remove_prefix(sizeof(count));
  if (raw.size() / sizeof(uint32_t) < count) damaged("a block's strings are cut short");
  std::vector<uint32_t> lengths(count);
  unshuffle(raw.substr(0, count * sizeof(uint32_t)), lengths.data(), count);
  raw.remove_prefix(count * sizeof(uint32_t));
  ids.resize(count);
  for (uint32_t i = 0; i < count; ++i) {
    if (lengths[i] > raw.size()) damaged("a block's strings are cut short");
    ids[i] = dict.intern(raw.substr(0, lengths[i]));
    raw.remove_prefix(lengths[i]);
  }
  if (!raw.empty()) damaged("a block's strings are followed by stray bytes");
}

// Appends section S's block ids, mapped through MAP, to OUT.
template <typename Out>
void PartitionReader::ids(Section s, const std::vector<uint32_t>& map, Out& out) {
  const size_t rows = header_.rows;
  const std::string_view raw = section(s);
  if (raw.size() != rows * sizeof(uint32_t)) damaged("a block's id column has the wrong size");
  std::vector<uint32_t> local(rows);
  unshuffle(raw, local.data(), rows);
  const size_t o = out.size();
  out.resize(o + rows);
  for (size_t i = 0; i < rows; ++i) {
    if (local[i] >= map.size()) damaged("a block's id is outside its strings");
    out[o + i] = static_cast<typename Out::value_type>(map[local[i]]);
  }
}

// Appends section S's values to OUT, undoing the delta encoding when DELTA.
template <typename Out>
void PartitionReader::values(Section s, Out& out, bool delta) {
  using T = typename Out::value_type;
  const size_t rows = header_.rows;
  const std::string_view raw = section(s);
  if (raw.size() != rows * sizeof(T)) damaged("a block's column has the wrong size");
  const size_t o = out.size();
  out.resize(o + rows);
  unshuffle(raw, out.data() + o, rows);
  if constexpr (std::is_integral_v<T>) {
    uint64_t previous = 0;
    for (size_t i = o; delta && i < o + rows; ++i) out[i] = static_cast<T>(previous += static_cast<uint64_t>(out[i]));
  }
}

void PartitionReader::decode_block() {
  strings(s_customer_ids, customer_ids_, customer_map_);
  strings(s_basket_ids, basket_ids_, basket_map_);
  strings(s_units, units_, unit_map_);
  strings(s_products, products_, product_map_);
  if (units_.dict().size() > UINT16_MAX + 1u) {
    throw_input(fmt::format("spill partition '{}' has more than 65536 units", file_.path()),
                "a transaction table holds at most 65536 units");
  }
  TransactionTable& t = out_.table;
  values(s_row, out_.row, true);
  ids(s_customer, customer_map_, t.customer);
  ids(s_basket, basket_map_, t.basket);
  values(s_time, t.time, true);
  values(s_amount, t.amount, false);
  values(s_quantity, t.quantity, false);
  ids(s_unit, unit_map_, t.unit);
  ids(s_product, product_map_, t.product);
  if (spill_.line_seq) values(s_line_seq, t.line_seq, false);
  if (!spill_.line_seq && header_.raw[s_line_seq] != 0) damaged("a block has line_seq, the manifest says none");
  values(s_row_hash, t.row_hash, false);
}

PartitionRows PartitionReader::read() {
  const uint64_t expected = spill_.partition_bytes[p_];
  if (size_ != expected) {
    damaged(fmt::format("it has {} bytes, the manifest says {}{}", size_, expected,
                        size_ < expected ? " (truncated)" : ""));
  }
  check_file_header();
  out_.table.reserve(spill_.partition_rows[p_], spill_.line_seq);
  out_.row.reserve(spill_.partition_rows[p_]);
  while (read_block()) decode_block();
  if (out_.row.size() != spill_.partition_rows[p_]) {
    damaged(fmt::format("it holds {} rows, the manifest says {}", out_.row.size(), spill_.partition_rows[p_]));
  }
  if (crc_ != spill_.partition_crc32[p_]) damaged("its checksum differs from the manifest's");
  TransactionTable& t = out_.table;
  t.customer_ids = customer_ids_.take();
  t.basket_ids = basket_ids_.take();
  t.units = units_.take();
  t.products = products_.take();
  return std::move(out_);
}

}  // namespace

std::optional<SpillInfo> find_complete_spill(const std::string& dir, const std::string& fingerprint) {
  const std::string manifest = dir + "/" + manifest_name;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(manifest, ec)) return std::nullopt;
  std::optional<SpillInfo> info = parse_manifest(read_whole_file(manifest));
  if (!info || info->fingerprint != fingerprint) return std::nullopt;
  info->dir = dir;
  for (uint32_t p = 0; p < info->partitions; ++p) {
    const uint64_t size = std::filesystem::file_size(partition_path(dir, p), ec);
    if (ec || size != info->partition_bytes[p]) return std::nullopt;
  }
  return info;
}

PartitionRows read_partition(const SpillInfo& spill, uint32_t p) {
  if (p >= spill.partitions) throw_internal(fmt::format("spill: no partition {} of {}", p, spill.partitions));
  return PartitionReader(spill, p).read();
}

}  // namespace cltv::io
