// OutputSink: plain files through AtomicFile; gzip files through zlib, fsync and rename.
#include "output_sink.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>

#include "cltv/error.h"
#include "cltv/io/atomic_file.h"

namespace cltv::generate {
namespace {

bool ends_with_gz(const std::string& path) { return path.size() > 3 && path.ends_with(".gz"); }

}  // namespace

class OutputSink::Impl {
 public:
  explicit Impl(std::string path) : path_(std::move(path)) {
    if (!ends_with_gz(path_)) {
      plain_.emplace(path_);
      return;
    }
    const std::filesystem::path target(path_);
    const std::filesystem::path dir = target.has_parent_path() ? target.parent_path() : ".";
    if (!std::filesystem::is_directory(dir)) {
      throw_io(fmt::format("cannot write '{}': directory '{}' does not exist", path_, dir.string()),
               "create the directory first");
    }
    std::string temp_name = ".";
    temp_name += target.filename().string();
    temp_name += ".tmp-XXXXXX";
    std::string pattern = (dir / temp_name).string();
    const int fd = mkstemp(pattern.data());
    if (fd < 0) {
      throw_io(fmt::format("cannot create a temporary file in '{}': {}", dir.string(), std::strerror(errno)),
               "check that the directory is writable");
    }
    temp_path_ = pattern;
    gz_ = gzdopen(fd, "wb1");  // fastest level: compression is the bottleneck of the pipeline
    if (gz_ == nullptr) {
      ::close(fd);
      remove_temp();
      throw_io(fmt::format("cannot start gzip output for '{}'", path_));
    }
    gzbuffer(gz_, 1 << 20);
  }

  ~Impl() {
    if (gz_ != nullptr) gzclose(gz_);
    if (!committed_) remove_temp();
  }

  void write(std::string_view bytes) {
    if (plain_) {
      plain_->write(bytes);
      return;
    }
    while (!bytes.empty()) {
      const auto chunk = static_cast<unsigned>(std::min<size_t>(bytes.size(), 1U << 30));
      if (gzwrite(gz_, bytes.data(), chunk) != static_cast<int>(chunk)) {
        int code = 0;
        const char* message = gzerror(gz_, &code);
        throw_io(fmt::format("cannot write '{}': {}", path_, code == Z_ERRNO ? std::strerror(errno) : message),
                 "check free disk space");
      }
      bytes.remove_prefix(chunk);
    }
  }

  void commit() {
    if (plain_) {
      plain_->commit();
      committed_ = true;
      return;
    }
    const int closed = gzclose(gz_);
    gz_ = nullptr;
    if (closed != Z_OK) throw_io(fmt::format("cannot finish the gzip stream of '{}'", path_), "check free disk space");
    const int fd = ::open(temp_path_.c_str(), O_RDONLY);
    const bool synced = fd >= 0 && ::fsync(fd) == 0;
    const int saved_errno = errno;
    if (fd >= 0) ::close(fd);
    if (!synced) throw_io(fmt::format("cannot write '{}': {}", path_, std::strerror(saved_errno)), "check free disk space");
    // mkstemp creates files readable by the owner only; outputs get the usual permissions.
    ::chmod(temp_path_.c_str(), 0644);
    if (std::rename(temp_path_.c_str(), path_.c_str()) != 0) {
      throw_io(fmt::format("cannot move '{}' onto '{}': {}", temp_path_, path_, std::strerror(errno)));
    }
    committed_ = true;
  }

 private:
  void remove_temp() {
    if (temp_path_.empty()) return;
    std::error_code ignored;
    std::filesystem::remove(temp_path_, ignored);
  }

  std::string path_;
  std::optional<io::AtomicFile> plain_;
  gzFile gz_ = nullptr;
  std::string temp_path_;
  bool committed_ = false;
};

OutputSink::OutputSink(std::string path) : impl_(std::make_unique<Impl>(std::move(path))) {}
OutputSink::~OutputSink() = default;
void OutputSink::write(std::string_view bytes) { impl_->write(bytes); }
void OutputSink::commit() { impl_->commit(); }

}  // namespace cltv::generate
