// AtomicFile: temporary file in the target's directory, fsync, rename.
#include "cltv/io/atomic_file.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "cltv/error.h"

namespace cltv::io {

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)) {
  const std::filesystem::path target(path_);
  const std::filesystem::path dir = target.has_parent_path() ? target.parent_path() : ".";
  if (!std::filesystem::is_directory(dir)) {
    throw_io(fmt::format("cannot write '{}': directory '{}' does not exist", path_, dir.string()),
             "create the directory first");
  }
  std::string pattern = (dir / fmt::format(".{}.tmp-XXXXXX", target.filename().string())).string();
  const int fd = mkstemp(pattern.data());
  if (fd < 0) {
    throw_io(fmt::format("cannot create a temporary file in '{}': {}", dir.string(), std::strerror(errno)),
             "check that the directory is writable");
  }
  temp_path_ = pattern;
  file_ = fdopen(fd, "wb");
  if (file_ == nullptr) {
    ::close(fd);
    std::filesystem::remove(temp_path_);
    throw_io(fmt::format("cannot open '{}' for writing", temp_path_));
  }
}

AtomicFile::~AtomicFile() {
  if (file_ != nullptr) std::fclose(file_);
  if (!committed_ && !temp_path_.empty()) {
    std::error_code ignored;
    std::filesystem::remove(temp_path_, ignored);
  }
}

void AtomicFile::write(std::string_view bytes) {
  if (bytes.empty()) return;
  if (std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size()) {
    throw_io(fmt::format("cannot write '{}': {}", path_, std::strerror(errno)), "check free disk space");
  }
}

void AtomicFile::commit() {
  const bool flushed = std::fflush(file_) == 0 && fsync(fileno(file_)) == 0;
  const int saved_errno = errno;
  std::fclose(file_);
  file_ = nullptr;
  if (!flushed) throw_io(fmt::format("cannot write '{}': {}", path_, std::strerror(saved_errno)), "check free disk space");
  // mkstemp creates files readable by the owner only; outputs get the usual permissions.
  ::chmod(temp_path_.c_str(), 0644);
  if (std::rename(temp_path_.c_str(), path_.c_str()) != 0) {
    throw_io(fmt::format("cannot move '{}' onto '{}': {}", temp_path_, path_, std::strerror(errno)));
  }
  committed_ = true;
}

void write_file_atomically(const std::string& path, std::string_view bytes) {
  AtomicFile file(path);
  file.write(bytes);
  file.commit();
}

void require_regular_file(const std::string& path, const std::string& name) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    throw_io(fmt::format("cannot open '{}': {}", name, std::strerror(errno)), "check the path");
  }
  if (S_ISREG(st.st_mode)) return;
  const char* what = S_ISDIR(st.st_mode)    ? "a directory"
                     : S_ISFIFO(st.st_mode) ? "a FIFO (named pipe)"
                     : S_ISSOCK(st.st_mode) ? "a socket"
                                            : "a device";
  throw_input(fmt::format("'{}' is {}, not a regular file", name, what),
              "give the path of a file; to read a stream, save it to a file first");
}

std::string read_whole_file(const std::string& path) {
  require_regular_file(path, path);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_io(fmt::format("cannot open '{}': {}", path, std::strerror(errno)), "check the path");
  // Read straight into a string of the file's size (a stream buffer would hold a second copy).
  in.seekg(0, std::ios::end);
  std::string text(static_cast<size_t>(in.tellg()), '\0');
  in.seekg(0, std::ios::beg);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (!in) throw_io(fmt::format("cannot read '{}': {}", path, std::strerror(errno)), "check the file");
  return text;
}

}  // namespace cltv::io
