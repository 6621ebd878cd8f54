// Atomic output: write to a temporary file beside the target, then rename over it, so a reader
// never sees a half-written file and a failure leaves the previous file untouched.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace cltv::io {

class AtomicFile {
 public:
  explicit AtomicFile(std::string path);
  ~AtomicFile();  // removes the temporary file unless commit() succeeded
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(std::string_view bytes);
  // Flushes, syncs and renames onto the target path. Throws io error on failure.
  void commit();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::string temp_path_;
  std::FILE* file_ = nullptr;
  bool committed_ = false;
};

// Writes BYTES to PATH atomically.
void write_file_atomically(const std::string& path, std::string_view bytes);

// Throws unless PATH (following links) is a regular file: an io error when it is missing, an input
// error for a FIFO, socket, device or directory, which would block or mislead a reader. NAME
// stands for the path in messages.
void require_regular_file(const std::string& path, const std::string& name);

// Reads a whole regular file (see require_regular_file); throws io error naming the path.
std::string read_whole_file(const std::string& path);

}  // namespace cltv::io
