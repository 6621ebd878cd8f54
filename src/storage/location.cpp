// Locations: parsing, the --s3-endpoint flag, and fetching and storing files and small texts on
// local disk or S3 (with each location's own S3 settings).
#include "cltv/storage/location.h"

#include <fmt/format.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>
#include <fstream>
#include <vector>

#include "cltv/error.h"
#include "cltv/io/atomic_file.h"

namespace cltv::storage {
namespace {

namespace fs = std::filesystem;

void remove_tree(const std::string& dir) {
  if (dir.empty()) return;
  std::error_code ignored;
  fs::remove_all(dir, ignored);
}

void create_parent_directories(const std::string& path) {
  const fs::path parent = fs::path(path).parent_path();
  if (parent.empty()) return;
  std::error_code error;
  fs::create_directories(parent, error);
  if (error) {
    throw_io(fmt::format("cannot create directory '{}': {}", parent.string(), error.message()),
             "check that the location is writable");
  }
}

void copy_atomically(const std::string& source, const std::string& destination, const ByteProgress& progress) {
  io::require_regular_file(source, source);
  std::ifstream in(source, std::ios::binary);
  if (!in) throw_io(fmt::format("cannot read '{}': {}", source, std::strerror(errno)), "check that the file exists");
  create_parent_directories(destination);
  io::AtomicFile out(destination);
  const int64_t total = static_cast<int64_t>(fs::file_size(source));
  std::vector<char> buffer(1 << 20);
  int64_t done = 0;
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const auto got = static_cast<size_t>(in.gcount());
    if (got == 0) break;
    out.write(std::string_view(buffer.data(), got));
    done += static_cast<int64_t>(got);
    if (progress) progress(done, total);
  }
  if (in.bad()) throw_io(fmt::format("cannot read '{}': {}", source, std::strerror(errno)));
  out.commit();
}

// Files are objects with a key; a bucket or a folder-like prefix is not a file.
void require_object_key(const Location& location) {
  if (!location.is_remote()) return;
  if (location.key.empty() || location.key.back() == '/') {
    throw_config(fmt::format("'{}' names a bucket or a folder, not a file", location.text()),
                 "write s3://BUCKET/KEY with the object's full key");
  }
}

// What makes two locations the same file: the device and inode of an existing local file (links
// and hard links resolved), else its absolute path with links in its folders resolved, else the
// bucket and key.
std::string file_identity(const Location& location) {
  if (location.is_remote()) return fmt::format("s3:{}/{}", location.bucket, location.key);
  struct stat st {};
  if (::stat(location.path.c_str(), &st) == 0) return fmt::format("inode:{}:{}", st.st_dev, st.st_ino);
  std::error_code error;
  const fs::path absolute = fs::weakly_canonical(fs::absolute(location.path), error);
  return "path:" + (error ? location.path : absolute.lexically_normal().string());
}

// TEXT as a location without S3 settings.
Location parse_text(std::string_view text) {
  Location location;
  if (text.empty()) throw_config("empty location", "give a path, file:///path or s3://bucket/key");
  if (text.starts_with("s3://")) {
    const std::string_view rest = text.substr(5);
    const size_t slash = rest.find('/');
    location.kind = Location::Kind::s3;
    location.bucket = std::string(rest.substr(0, slash));
    location.key = slash == std::string_view::npos ? std::string() : std::string(rest.substr(slash + 1));
    if (location.bucket.empty()) {
      throw_config(fmt::format("'{}' has no bucket name", text), "write s3://BUCKET/KEY");
    }
    return location;
  }
  if (text.starts_with("file://")) {
    location.path = std::string(text.substr(7));
    if (location.path.empty() || location.path.front() != '/') {
      throw_config(fmt::format("'{}' is not an absolute file URI", text), "write file:///absolute/path, or a plain path");
    }
    return location;
  }
  const size_t scheme_end = text.find("://");
  if (scheme_end != std::string_view::npos) {
    throw_config(fmt::format("unsupported location scheme '{}' in '{}'", text.substr(0, scheme_end), text),
                 "supported: local paths, file:///path and s3://bucket/key (S3-compatible stores via --s3-endpoint)");
  }
  location.path = std::string(text);
  return location;
}

}  // namespace

void check_distinct_paths(const std::vector<ParamSet::NamedPath>& paths) {
  std::vector<std::string> identities;
  for (const auto& p : paths) identities.push_back(file_identity(parse_text(p.location)));
  for (size_t i = 0; i < paths.size(); ++i) {
    for (size_t j = i + 1; j < paths.size(); ++j) {
      if (identities[i] != identities[j]) continue;
      if (paths[i].role != PathRole::output && paths[j].role != PathRole::output) continue;
      throw_config(fmt::format("{} and {} name the same file '{}'", paths[i].flag, paths[j].flag, paths[j].location),
                   "cltv never writes over a file it reads or writes elsewhere: give each output a new path");
    }
  }
}

std::string mask_url_userinfo(std::string_view url) {
  const size_t scheme_end = url.find("://");
  const size_t host_start = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
  const size_t authority_end = url.find_first_of("/?#", host_start);
  const size_t at = url.substr(0, authority_end).rfind('@');
  if (at == std::string_view::npos || at < host_start) return std::string(url);
  return fmt::format("{}***{}", url.substr(0, host_start), url.substr(at));
}

std::string Location::text() const {
  if (kind == Kind::local) return path;
  return key.empty() ? fmt::format("s3://{}", bucket) : fmt::format("s3://{}/{}", bucket, key);
}

Location Location::child(std::string_view relative) const {
  Location c = *this;
  if (kind == Kind::local) {
    c.path = (fs::path(path) / fs::path(std::string(relative))).string();
  } else {
    if (!key.empty() && key.back() != '/') c.key.push_back('/');
    c.key.append(relative);
  }
  return c;
}

std::string Location::name() const {
  if (kind == Kind::local) return fs::path(path).filename().string();
  std::string_view k = key;
  while (!k.empty() && k.back() == '/') k.remove_suffix(1);
  const size_t slash = k.rfind('/');
  return std::string(slash == std::string_view::npos ? k : k.substr(slash + 1));
}

Location Location::parent() const {
  Location p = *this;
  if (kind == Kind::local) {
    const fs::path parent_path = fs::path(path).parent_path();
    p.path = (parent_path.empty() ? fs::path(".") : parent_path).string();
    return p;
  }
  std::string_view k = key;
  while (!k.empty() && k.back() == '/') k.remove_suffix(1);
  const size_t slash = k.rfind('/');
  p.key = slash == std::string_view::npos ? std::string() : std::string(k.substr(0, slash));
  return p;
}

Location parse_location(std::string_view text, const S3Options& settings) {
  Location location = parse_text(text);
  if (location.is_remote()) location.s3 = std::make_shared<const S3Options>(settings);
  return location;
}

void declare_storage_params(ParamSet& params, S3Options& settings) {
  settings = s3_options_from_environment();
  params.add_custom({"s3-endpoint", "URL",
                     "S3-compatible endpoint for s3:// locations, with path-style addressing (default: "
                     "AWS_ENDPOINT_URL, else AWS)",
                     "", false, false, [&settings](const std::string& text) {
                       if (!text.starts_with("http://") && !text.starts_with("https://")) {
                         throw_config(fmt::format("--s3-endpoint '{}' is not an http(s) URL", mask_url_userinfo(text)),
                                      "for example --s3-endpoint http://127.0.0.1:4568");
                       }
                       settings.endpoint = text;
                     }});
}

S3Client s3_client(const Location& location) {
  if (location.s3 == nullptr) throw_internal(fmt::format("'{}' has no S3 settings", location.text()));
  return S3Client(*location.s3);
}

TemporaryDirectory::TemporaryDirectory() {
  std::string pattern = (fs::temp_directory_path() / "cltv-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    throw_io(fmt::format("cannot create a temporary directory in '{}': {}", fs::temp_directory_path().string(),
                         std::strerror(errno)),
             "set TMPDIR to a writable directory with free space");
  }
  path_ = pattern;
}

TemporaryDirectory::~TemporaryDirectory() { remove_tree(path_); }

TemporaryDirectory::TemporaryDirectory(TemporaryDirectory&& other) noexcept
    : path_(std::exchange(other.path_, std::string())) {}

TemporaryDirectory& TemporaryDirectory::operator=(TemporaryDirectory&& other) noexcept {
  if (this != &other) {
    remove_tree(path_);
    path_ = std::exchange(other.path_, std::string());
  }
  return *this;
}

LocalCopy fetch(const Location& location, const ByteProgress& progress) {
  if (!location.is_remote()) {
    if (!fs::exists(location.path)) {
      throw_io(fmt::format("'{}' does not exist", location.path), "check the path");
    }
    io::require_regular_file(location.path, location.path);
    return LocalCopy(location.path);
  }
  require_object_key(location);
  TemporaryDirectory dir;
  std::string path = (fs::path(dir.path()) / (location.name().empty() ? "object" : location.name())).string();
  fetch_to(location, path, progress);
  return LocalCopy(std::move(path), std::move(dir));
}

void fetch_to(const Location& location, const std::string& local_path, const ByteProgress& progress) {
  if (!location.is_remote()) {
    copy_atomically(location.path, local_path, progress);
    return;
  }
  require_object_key(location);
  s3_client(location).download(location.bucket, location.key, local_path, progress);
}

void store(const std::string& source, const Location& destination, const ByteProgress& progress) {
  if (!destination.is_remote()) {
    copy_atomically(source, destination.path, progress);
    return;
  }
  require_object_key(destination);
  s3_client(destination).upload(source, destination.bucket, destination.key, progress);
}

std::string read_text(const Location& location) {
  if (!location.is_remote()) return io::read_whole_file(location.path);
  require_object_key(location);
  return s3_client(location).get_text(location.bucket, location.key);
}

void write_text(const Location& location, std::string_view text) {
  if (!location.is_remote()) {
    create_parent_directories(location.path);
    io::write_file_atomically(location.path, text);
    return;
  }
  require_object_key(location);
  s3_client(location).put_text(location.bucket, location.key, text);
}

bool exists(const Location& location) {
  if (!location.is_remote()) return fs::exists(location.path);
  return s3_client(location).size_of(location.bucket, location.key).has_value();
}

void store_directory(const std::string& local_dir, const Location& destination, const std::string& last_file,
                     const ByteProgress& progress) {
  std::vector<std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(local_dir)) {
    if (entry.is_regular_file()) files.push_back(fs::relative(entry.path(), local_dir).generic_string());
  }
  std::sort(files.begin(), files.end());
  std::stable_partition(files.begin(), files.end(), [&](const std::string& f) { return f != last_file; });
  int64_t total = 0;
  for (const auto& f : files) total += static_cast<int64_t>(fs::file_size(fs::path(local_dir) / f));
  int64_t stored = 0;
  for (const auto& f : files) {
    const std::string source = (fs::path(local_dir) / f).string();
    const int64_t before = stored;
    store(source, destination.child(f), [&](int64_t done, int64_t) {
      if (progress) progress(before + done, total);
    });
    stored += static_cast<int64_t>(fs::file_size(source));
    if (progress) progress(stored, total);
  }
}

OutputStaging::OutputStaging(Location location) : location_(std::move(location)) {
  if (!location_.is_remote()) {
    path_ = location_.path;
    return;
  }
  temp_.emplace();
  path_ = (fs::path(temp_->path()) / (location_.name().empty() ? "output" : location_.name())).string();
}

void OutputStaging::publish() const {
  if (!location_.is_remote()) return;
  if (fs::is_directory(path_)) {
    store_directory(path_, location_);
  } else {
    store(path_, location_);
  }
}

}  // namespace cltv::storage
