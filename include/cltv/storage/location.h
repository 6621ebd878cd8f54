// Storage locations: local paths, file:// URIs and s3://bucket/key URIs, accepted wherever a
// command reads or writes. Remote inputs are fetched to temporary local copies; remote outputs are
// written locally first, then stored, so nothing half-written is ever visible. An s3:// location
// carries its S3 settings (endpoint, retries...): nothing is process-wide, so locations of two
// stores can be used side by side in one process.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cltv/params.h"
#include "cltv/storage/s3.h"

namespace cltv::storage {

struct Location {
  enum class Kind { local, s3 };
  Kind kind = Kind::local;
  std::string path;    // local
  std::string bucket;  // s3
  std::string key;     // s3, without a leading '/'
  std::shared_ptr<const S3Options> s3;  // s3: the settings every operation on it uses; null when local

  bool is_remote() const { return kind != Kind::local; }
  std::string text() const;  // a local path, or s3://bucket/key
  // The location of RELATIVE ('/'-separated) under this one.
  Location child(std::string_view relative) const;
  // The last path component ("" for a bucket root).
  std::string name() const;
  Location parent() const;
};

// Parses TEXT; unsupported schemes are a config error listing the supported ones. An s3://
// location keeps SETTINGS (and passes them on to its children and parent).
Location parse_location(std::string_view text, const S3Options& settings);

// Throws a config error naming both flags when two of PATHS name the same file and at least one of
// them is an output (after resolving file:// URIs and symbolic links; hard links are one file), so
// no command writes over its input or writes two outputs to one file. Nothing is read or written.
void check_distinct_paths(const std::vector<ParamSet::NamedPath>& paths);

// URL with any user information ("user:password@") replaced by "***@", for messages.
std::string mask_url_userinfo(std::string_view url);

// Declares --s3-endpoint on PARAMS, stored in SETTINGS: the S3-compatible endpoint of the command's
// s3:// locations. SETTINGS start as s3_options_from_environment() (AWS_ENDPOINT_URL, else AWS).
void declare_storage_params(ParamSet& params, S3Options& settings);

// A client with the settings of the s3:// LOCATION (internal error for a local one).
S3Client s3_client(const Location& location);

// A fresh private temporary directory (TMPDIR respected), removed with everything in it when this
// goes away.
class TemporaryDirectory {
 public:
  TemporaryDirectory();
  ~TemporaryDirectory();
  TemporaryDirectory(TemporaryDirectory&& other) noexcept;
  TemporaryDirectory& operator=(TemporaryDirectory&& other) noexcept;
  TemporaryDirectory(const TemporaryDirectory&) = delete;
  TemporaryDirectory& operator=(const TemporaryDirectory&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;  // empty once moved from
};

// A file available locally: the file itself for local locations, else a download in a temporary
// directory that is removed when this goes away.
class LocalCopy {
 public:
  explicit LocalCopy(std::string path) : path_(std::move(path)) {}
  LocalCopy(std::string path, TemporaryDirectory dir) : path_(std::move(path)), dir_(std::move(dir)) {}
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::optional<TemporaryDirectory> dir_;
};

// The file at LOCATION, locally. Missing files are an io error naming the location; anything but a
// regular file (a FIFO, device, socket or directory) and an s3:// location without a key are
// refused before they are opened.
LocalCopy fetch(const Location& location, const ByteProgress& progress = {});
// Copies the file at LOCATION to LOCAL_PATH (atomically), downloading it when remote.
void fetch_to(const Location& location, const std::string& local_path, const ByteProgress& progress = {});
// Stores the local file SOURCE at DESTINATION: an atomic copy locally, an upload to S3.
void store(const std::string& source, const Location& destination, const ByteProgress& progress = {});
// Small text objects (pointers, manifests). Writing is atomic.
std::string read_text(const Location& location);
void write_text(const Location& location, std::string_view text);
bool exists(const Location& location);

// Stores every file under LOCAL_DIR at DESTINATION (same relative paths), LAST_FILE (when present)
// after all the others, so a reader who finds it finds everything it lists.
void store_directory(const std::string& local_dir, const Location& destination,
                     const std::string& last_file = "manifest.json", const ByteProgress& progress = {});

// Where to write an output given as a location: the path itself when local, else a temporary path
// whose content publish() stores at the location (a file, or a directory with store_directory).
class OutputStaging {
 public:
  explicit OutputStaging(Location location);
  const std::string& path() const { return path_; }
  const Location& location() const { return location_; }
  void publish() const;

 private:
  Location location_;
  std::optional<TemporaryDirectory> temp_;  // when remote
  std::string path_;
};

}  // namespace cltv::storage
