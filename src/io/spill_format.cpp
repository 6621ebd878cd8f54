// The spill format's shared pieces: the partition hash, headers, CRC-32, interning, checked file
// I/O and the manifest.
#include "spill_format.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <functional>
#include <nlohmann/json.hpp>
#include <utility>

#include "cltv/error.h"

namespace cltv::io {

uint64_t customer_hash(std::string_view customer_id) {
  uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a 64
  for (const char c : customer_id) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ull;
  }
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;  // splitmix64's finaliser
  h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
  return h ^ (h >> 31);
}

std::string partition_path(const std::string& dir, uint32_t p) {
  return fmt::format("{}/part-{:05}.spill", dir, p);
}

namespace spill {

constexpr char file_magic[8] = {'C', 'L', 'T', 'V', 'S', 'P', 'L', '\0'};

FileHeader file_header(uint32_t partition, uint32_t partitions) {
  FileHeader h{};
  std::memcpy(h.magic, file_magic, sizeof(file_magic));
  h.version = format_version;
  h.partition = partition;
  h.partitions = partitions;
  h.crc = crc32_before(h, offsetof(FileHeader, crc));
  return h;
}

bool has_file_magic(const FileHeader& header) {
  return std::memcmp(header.magic, file_magic, sizeof(file_magic)) == 0;
}

uint32_t crc32_of(std::string_view bytes, uint32_t crc) {
  return static_cast<uint32_t>(crc32_z(crc, reinterpret_cast<const Bytef*>(bytes.data()), bytes.size()));
}

uint32_t InternedDict::intern(std::string_view text) {
  if ((size_t{dict_.size()} + 1) * 2 > slots_.size()) grow();
  const size_t mask = slots_.size() - 1;
  for (size_t i = std::hash<std::string_view>{}(text) & mask;; i = (i + 1) & mask) {
    uint32_t& slot = slots_[i];
    if (slot == none) return slot = dict_.append(text);
    if (dict_[slot] == text) return slot;
  }
}

void InternedDict::grow() {
  slots_.assign(std::max<size_t>(64, slots_.size() * 2), none);
  const size_t mask = slots_.size() - 1;
  for (uint32_t id = 0; id < dict_.size(); ++id) {
    size_t i = std::hash<std::string_view>{}(dict_[id]) & mask;
    while (slots_[i] != none) i = (i + 1) & mask;
    slots_[i] = id;
  }
}

File::File(const std::string& path, int flags) : path_(path) {
  fd_ = ::open(path.c_str(), flags | O_CLOEXEC, 0644);
  if (fd_ < 0) throw_io(fmt::format("cannot open '{}': {}", path_, std::strerror(errno)), "check the path and its permissions");
}

File::~File() {
  if (fd_ >= 0) ::close(fd_);
}

void File::write(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd_, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      throw_io(fmt::format("cannot write '{}': {}", path_, std::strerror(n < 0 ? errno : ENOSPC)),
               "check free disk space in the spill directory");
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
}

bool File::read(void* out, size_t size) {
  auto* p = static_cast<char*>(out);
  while (size > 0) {
    const ssize_t n = ::read(fd_, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_io(fmt::format("cannot read '{}': {}", path_, std::strerror(errno)), "check the file");
    if (n == 0) return false;
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

uint64_t File::size() const {
  struct stat st {};
  if (::fstat(fd_, &st) != 0) throw_io(fmt::format("cannot stat '{}': {}", path_, std::strerror(errno)));
  return static_cast<uint64_t>(st.st_size);
}

void File::sync() {
  if (::fsync(fd_) != 0) {
    throw_io(fmt::format("cannot write '{}': {}", path_, std::strerror(errno)), "check free disk space in the spill directory");
  }
}

void File::close() {
  const int fd = std::exchange(fd_, -1);
  if (::close(fd) != 0) {
    throw_io(fmt::format("cannot write '{}': {}", path_, std::strerror(errno)), "check free disk space in the spill directory");
  }
}

std::string manifest_text(const SpillInfo& info) {
  nlohmann::ordered_json j;
  j["format"] = format_name;
  j["version"] = format_version;
  j["hash"] = hash_name;
  j["partitions"] = info.partitions;
  j["line_seq"] = info.line_seq;
  j["rows"] = info.rows;
  j["bytes"] = info.bytes;
  j["fingerprint"] = info.fingerprint;
  j["extra"] = info.extra;
  auto& files = j["files"] = nlohmann::ordered_json::array();
  for (uint32_t p = 0; p < info.partitions; ++p) {
    files.push_back({{"file", fmt::format("part-{:05}.spill", p)}, {"rows", info.partition_rows[p]},
                     {"bytes", info.partition_bytes[p]}, {"crc32", info.partition_crc32[p]}});
  }
  return j.dump(2) + "\n";
}

std::optional<SpillInfo> parse_manifest(std::string_view text) {
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || j.value("format", "") != format_name ||
      j.value("version", 0u) != format_version || j.value("hash", "") != hash_name) {
    return std::nullopt;
  }
  try {
    SpillInfo info;
    j.at("partitions").get_to(info.partitions);
    j.at("line_seq").get_to(info.line_seq);
    j.at("rows").get_to(info.rows);
    j.at("bytes").get_to(info.bytes);
    j.at("fingerprint").get_to(info.fingerprint);
    j.at("extra").get_to(info.extra);
    const auto& files = j.at("files");
    if (files.size() != info.partitions) return std::nullopt;
    for (const auto& f : files) {
      info.partition_rows.push_back(f.at("rows").get<uint64_t>());
      info.partition_bytes.push_back(f.at("bytes").get<uint64_t>());
      info.partition_crc32.push_back(f.at("crc32").get<uint32_t>());
    }
    return info;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

}  // namespace spill
}  // namespace cltv::io
