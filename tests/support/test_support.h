// Shared test helpers: locating ../shared/data (skip when absent, fail under CI=true), temporary
// directories, running the cltv executable for end-to-end CLI tests, and recording progress.
#pragma once

#include <gtest/gtest.h>

#include "cltv/error.h"
#include "cltv/progress.h"

#include <filesystem>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace cltv::test {

// Path of a file under ../shared/data, or "" when it is missing (see CLTV_SHARED_DATA).
std::string shared_data(const std::string& relative);
bool running_in_ci();

// Expands to: path variable VAR, skipping the test (or failing under CI=true) when it is missing.
#define CLTV_SHARED_DATA(var, relative)                                                          \
  const std::string var = ::cltv::test::shared_data(relative);                                 \
  if (var.empty()) {                                                                           \
    if (::cltv::test::running_in_ci()) FAIL() << "shared data " << (relative) << " missing under CI=true"; \
    GTEST_SKIP() << "shared data " << (relative) << " not found beside the repository; skipped"; \
  }

// A fresh directory removed at the end of the test.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  // Writes NAME (which may contain '/': folders are created) and returns its path.
  std::string write(const std::string& name, const std::string& content) const;

 private:
  std::filesystem::path dir_;
};

struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// The cltv executable running in the background with ARGS (no shell involved), in this process's
// environment changed by ENV ("NAME=VALUE" sets NAME, a bare "NAME" removes it), its standard
// output and error going to files; wait() collects them.
class CliProcess {
 public:
  explicit CliProcess(const std::vector<std::string>& args, const std::vector<std::string>& env = {});
  int pid() const { return pid_; }
  CliResult wait();

 private:
  TempDir io_;
  int pid_ = -1;
};

// Runs the cltv executable with ARGS and ENV (as CliProcess) and waits for it.
CliResult run_cli(const std::vector<std::string>& args, const std::vector<std::string>& env = {});

std::string read_file(const std::string& path);

// A progress sink that keeps every update it is told, from any thread.
class RecordingSink : public ProgressSink {
 public:
  void update(std::string_view task, int64_t done, int64_t total, std::string_view unit) override;
  // "TASK DONE/TOTAL UNIT" of each update of TASK, in the order told.
  std::vector<std::string> lines(std::string_view task) const;

 private:
  mutable std::mutex mutex_;
  std::vector<std::pair<std::string, std::string>> updates_;  // task, line
};

// The lines of a RecordingSink told that TASK did 1, 2, ... TOTAL of TOTAL UNITs.
std::vector<std::string> progress_lines(std::string_view task, int64_t total, std::string_view unit);

// The kind of the cltv::Error ACTION throws (its message into MESSAGE when given); a test failure
// when it throws none.
template <class F>
ErrorKind error_kind_of(F&& action, std::string* message = nullptr) {
  try {
    action();
  } catch (const Error& e) {
    if (message != nullptr) *message = e.what();
    return e.kind();
  }
  ADD_FAILURE() << "no cltv::Error thrown";
  return ErrorKind::internal;
}

}  // namespace cltv::test
