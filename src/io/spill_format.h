// The spill's on-disk format, shared by its writer and reader (docs/spill.md): file and block
// headers, the columns of a block, byte-plane shuffling, string interning and whole-file I/O on
// descriptors that checks every call.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cltv/io/spill.h"
#include "cltv/table.h"

namespace cltv::io::spill {

static_assert(std::endian::native == std::endian::little, "the spill format is little-endian");

constexpr uint32_t format_version = 1;
constexpr char format_name[] = "cltv-spill";
constexpr char hash_name[] = "fnv1a64-splitmix64";
constexpr char manifest_name[] = "spill.json";
constexpr uint32_t block_magic = 0x4b4c4253;  // "SBLK"
constexpr uint32_t none = UINT32_MAX;

// The head of every partition file.
struct FileHeader {
  char magic[8];  // "CLTVSPL\0"
  uint32_t version;
  uint32_t partition;
  uint32_t partitions;
  uint32_t crc;  // CRC-32 of the bytes before it
};
static_assert(sizeof(FileHeader) == 24);
FileHeader file_header(uint32_t partition, uint32_t partitions);
bool has_file_magic(const FileHeader& header);

// The sections of a block, each compressed on its own, in this order.
enum Section : uint32_t {
  s_row,       // u64 global sequence number, delta-encoded
  s_customer,  // u32 block-local ids into s_customer_ids
  s_basket,    // u32 into s_basket_ids
  s_time,      // i64 seconds, delta-encoded
  s_amount,    // f64
  s_quantity,  // f64
  s_unit,      // u32 into s_units
  s_product,   // u32 into s_products
  s_line_seq,  // u32, empty when the spill has no line_seq
  s_row_hash,  // u64
  s_customer_ids, s_basket_ids, s_units, s_products,  // strings: u32 count, u32 lengths, bytes
  section_count
};

struct BlockHeader {
  uint32_t magic;
  uint32_t rows;
  uint64_t raw[section_count];     // bytes of each section before compression
  uint64_t packed[section_count];  // bytes of each section as stored (0 when raw is 0)
  uint32_t payload_crc;            // CRC-32 of the sections as stored
  uint32_t crc;                    // CRC-32 of the bytes before it
};
static_assert(sizeof(BlockHeader) == 8 + 16 * section_count + 8);

uint32_t crc32_of(std::string_view bytes, uint32_t crc = 0);
template <typename T>
uint32_t crc32_before(const T& header, size_t end) {
  return crc32_of(std::string_view(reinterpret_cast<const char*>(&header), end));
}

// Values stored byte plane by byte plane (every value's byte 0, then every byte 1, ...), so that
// the high bytes of small numbers form long runs that compress to almost nothing.
template <typename T>
void shuffle(const T* values, size_t n, std::string& out) {
  const size_t start = out.size();
  out.resize(start + n * sizeof(T));
  const auto* in = reinterpret_cast<const unsigned char*>(values);
  char* planes = out.data() + start;
  for (size_t i = 0; i < n; ++i) {
    for (size_t b = 0; b < sizeof(T); ++b) planes[b * n + i] = static_cast<char>(in[i * sizeof(T) + b]);
  }
}

template <typename T>
void unshuffle(std::string_view planes, T* values, size_t n) {
  auto* out = reinterpret_cast<unsigned char*>(values);
  for (size_t i = 0; i < n; ++i) {
    for (size_t b = 0; b < sizeof(T); ++b) out[i * sizeof(T) + b] = static_cast<unsigned char>(planes[b * n + i]);
  }
}

// A StringDict with a hash index: interning returns the id of an equal string, appending new ones.
class InternedDict {
 public:
  uint32_t intern(std::string_view text);
  const StringDict& dict() const { return dict_; }
  StringDict take() { return std::move(dict_); }
  size_t memory_bytes() const { return dict_.memory_bytes() + slots_.capacity() * sizeof(uint32_t); }

 private:
  void grow();
  StringDict dict_;
  std::vector<uint32_t> slots_;  // ids, or `none`; a power of two, at most half full
};

// An open file descriptor, closed on destruction; every call checks its result and throws io
// error naming PATH and the OS reason.
class File {
 public:
  File(const std::string& path, int flags);
  ~File();
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  void write(std::string_view bytes);
  // Reads exactly SIZE bytes into OUT; false at the end of the file before that.
  bool read(void* out, size_t size);
  uint64_t size() const;
  void sync();
  void close();  // reports a failed close (a late write error on some file systems)
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
};

// The manifest (spill.json) of INFO, and INFO from a manifest's text (dir left empty); nullopt
// when the text is not a manifest of this format version.
std::string manifest_text(const SpillInfo& info);
std::optional<SpillInfo> parse_manifest(std::string_view text);

}  // namespace cltv::io::spill
