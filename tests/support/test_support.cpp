// Test helpers: shared data lookup, temporary directories, running the CLI, recording progress.
#include "support/test_support.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace cltv::test {

bool running_in_ci() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

std::string shared_data(const std::string& relative) {
  const std::filesystem::path path = std::filesystem::path(CLTV_SHARED_DATA_DIR) / relative;
  return std::filesystem::exists(path) ? path.string() : std::string();
}

TempDir::TempDir() {
  // mkdtemp: always a new, empty directory (a name from the pid could be one a killed test left).
  std::string pattern = (std::filesystem::temp_directory_path() / "cltv-test-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + pattern);
  dir_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::string TempDir::write(const std::string& name, const std::string& content) const {
  const std::string p = path(name);
  std::filesystem::create_directories(std::filesystem::path(p).parent_path());
  std::ofstream(p, std::ios::binary) << content;
  return p;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void RecordingSink::update(std::string_view task, int64_t done, int64_t total, std::string_view unit) {
  const std::lock_guard lock(mutex_);
  updates_.emplace_back(task, std::string(task) + " " + std::to_string(done) + "/" + std::to_string(total) + " " +
                                  std::string(unit));
}

std::vector<std::string> RecordingSink::lines(std::string_view task) const {
  const std::lock_guard lock(mutex_);
  std::vector<std::string> lines;
  for (const auto& update : updates_) {
    if (update.first == task) lines.push_back(update.second);
  }
  return lines;
}

std::vector<std::string> progress_lines(std::string_view task, int64_t total, std::string_view unit) {
  RecordingSink sink;
  for (int64_t done = 1; done <= total; ++done) sink.update(task, done, total, unit);
  return sink.lines(task);
}

CliProcess::CliProcess(const std::vector<std::string>& args, const std::vector<std::string>& env) {
  const std::string out_path = io_.path("stdout"), err_path = io_.path("stderr");
  std::vector<std::string> argv_strings{CLTV_BINARY};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);

  std::vector<std::string> env_strings;
  auto name_of = [](const std::string& entry) { return entry.substr(0, entry.find('=')); };
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry = *e;
    const bool changed = std::any_of(env.begin(), env.end(), [&](const auto& c) { return name_of(c) == name_of(entry); });
    if (!changed) env_strings.push_back(entry);
  }
  for (const auto& c : env) {
    if (c.find('=') != std::string::npos) env_strings.push_back(c);
  }
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = 0;
  if (posix_spawn(&pid, CLTV_BINARY, &actions, nullptr, argv.data(), envp.data()) == 0) pid_ = pid;
  posix_spawn_file_actions_destroy(&actions);
}

CliResult CliProcess::wait() {
  CliResult result;
  if (pid_ > 0) {
    int status = 0;
    waitpid(pid_, &status, 0);
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    pid_ = -1;
  }
  result.out = read_file(io_.path("stdout"));
  result.err = read_file(io_.path("stderr"));
  return result;
}

CliResult run_cli(const std::vector<std::string>& args, const std::vector<std::string>& env) {
  return CliProcess(args, env).wait();
}

}  // namespace cltv::test
