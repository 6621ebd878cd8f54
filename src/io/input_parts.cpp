// Listing the files of an input: one file, a directory, a glob pattern or an S3 prefix.
#include "cltv/io/input_parts.h"

#include <fmt/format.h>
#include <glob.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <memory>
#include <string_view>

#include "cltv/error.h"
#include "cltv/io/atomic_file.h"

namespace cltv::io {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSuffixHint = "expected files ending in .csv, .csv.gz, .txt, .txt.gz, .tsv or .tsv.gz";

// Hidden files and names starting with '_' (_SUCCESS, _temporary) are not data.
bool skipped_name(std::string_view name) { return name.empty() || name.front() == '.' || name.front() == '_'; }

bool has_wildcard(std::string_view text) { return text.find_first_of("*?") != std::string_view::npos; }

InputPart local_part(const std::string& path) {
  std::error_code error;
  const auto bytes = fs::file_size(path, error);
  if (error) throw_io(fmt::format("cannot read the size of '{}': {}", path, error.message()), "check the permissions");
  storage::Location location;
  location.path = path;
  return {location, path, static_cast<uint64_t>(bytes)};
}

void sort_by_name(std::vector<InputPart>& parts) {
  std::sort(parts.begin(), parts.end(), [](const InputPart& a, const InputPart& b) { return a.name < b.name; });
}

std::vector<InputPart> list_directory(const std::string& dir, const std::string& text) {
  std::error_code error;
  fs::directory_iterator it(dir, error);
  if (error) throw_io(fmt::format("cannot list '{}': {}", text, error.message()), "check the permissions");
  std::vector<InputPart> parts;
  for (; it != fs::directory_iterator(); it.increment(error)) {
    const std::string name = it->path().filename().string();
    std::error_code status_error;
    if (skipped_name(name) || !has_input_suffix(name) || !fs::is_regular_file(it->path(), status_error)) continue;
    parts.push_back(local_part(it->path().string()));
  }
  if (error) throw_io(fmt::format("cannot list '{}': {}", text, error.message()), "check the permissions");
  if (parts.empty()) throw_input(fmt::format("directory '{}' holds no input files", text), kSuffixHint);
  sort_by_name(parts);
  return parts;
}

std::vector<InputPart> list_glob(const std::string& pattern, const std::string& text) {
  if (has_wildcard(fs::path(pattern).parent_path().string())) {
    throw_input(fmt::format("'{}': only the last path component may hold * or ?", text),
                "name one directory and put the pattern in the file name");
  }
  glob_t matches{};
  const std::unique_ptr<glob_t, decltype(&globfree)> owner(&matches, &globfree);
  const int rc = ::glob(pattern.c_str(), GLOB_ERR, nullptr, &matches);
  if (rc == GLOB_ABORTED) throw_io(fmt::format("cannot list the directory of '{}'", text), "check the permissions");
  if (rc == GLOB_NOSPACE) throw_io(fmt::format("out of memory listing '{}'", text));
  std::vector<InputPart> parts;
  for (size_t i = 0; rc == 0 && i < matches.gl_pathc; ++i) {
    std::error_code error;
    if (fs::is_regular_file(matches.gl_pathv[i], error)) parts.push_back(local_part(matches.gl_pathv[i]));
  }
  if (parts.empty()) throw_input(fmt::format("'{}' matches no file", text), "check the pattern and the directory");
  sort_by_name(parts);
  return parts;
}

std::vector<InputPart> list_local(const storage::Location& location, const std::string& text) {
  const std::string& path = location.path;
  std::error_code error;
  const fs::file_status status = fs::status(path, error);
  if (fs::is_directory(status)) return list_directory(path, text);
  if (fs::exists(status)) {
    require_regular_file(path, text);
    return {local_part(path)};
  }
  if (has_wildcard(path)) return list_glob(path, text);
  throw_io(fmt::format("'{}' does not exist", text), "check the path");
}

// Every object under the prefix of LOCATION (its key, empty or ending in '/') that is input data.
std::vector<InputPart> list_s3_prefix(const storage::Location& location, const std::string& text) {
  std::vector<InputPart> parts;
  for (const storage::S3Object& object : storage::s3_client(location).list(location.bucket, location.key)) {
    const std::string_view below(std::string_view(object.key).substr(location.key.size()));
    bool skipped = !has_input_suffix(object.key);
    for (size_t start = 0; start <= below.size() && !skipped;) {
      const size_t slash = std::min(below.find('/', start), below.size());
      skipped = skipped_name(below.substr(start, slash - start));
      start = slash + 1;
    }
    if (skipped) continue;
    storage::Location part = location;
    part.key = object.key;
    parts.push_back({part, part.text(), static_cast<uint64_t>(object.size)});
  }
  if (parts.empty()) throw_input(fmt::format("'{}' holds no input objects", text), kSuffixHint);
  return parts;  // in key order, as listed
}

std::vector<InputPart> list_s3(const storage::Location& location, const std::string& text) {
  if (location.key.empty() || location.key.back() == '/') return list_s3_prefix(location, text);
  const std::optional<int64_t> size = storage::s3_client(location).size_of(location.bucket, location.key);
  if (!size) {
    throw_io(fmt::format("'{}' does not exist", text),
             "check the key; to read every object under a prefix, end it with '/' (S3 has no globs)");
  }
  return {{location, location.text(), static_cast<uint64_t>(*size)}};
}

}  // namespace

bool has_input_suffix(const std::string& name) {
  static constexpr std::array<std::string_view, 6> suffixes = {".csv", ".csv.gz", ".txt", ".txt.gz", ".tsv", ".tsv.gz"};
  return std::any_of(suffixes.begin(), suffixes.end(), [&](std::string_view s) { return name.ends_with(s); });
}

std::vector<InputPart> list_input_parts(const std::string& text, const storage::S3Options& s3) {
  const storage::Location location = storage::parse_location(text, s3);
  return location.is_remote() ? list_s3(location, text) : list_local(location, text);
}

}  // namespace cltv::io
