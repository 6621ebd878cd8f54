// Termination signals: a waiting thread removes the registered half-made paths, then exits.
#include "cltv/interrupt.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

namespace cltv {
namespace {

struct Registry {
  std::mutex mutex;
  std::map<uint64_t, std::string> paths;
  uint64_t next_id = 0;
};

Registry& registry() {
  static Registry instance;
  return instance;
}

sigset_t termination_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (const int signal : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&set, signal);
  return set;
}

void remove_until_gone(const std::string& path) {
  for (int attempt = 0; attempt < 200; ++attempt) {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
    if (!std::filesystem::exists(path, ignored)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));  // a writer that was mid-way shows up now
      if (!std::filesystem::exists(path, ignored)) return;
    }
  }
}

void wait_and_clean_up(sigset_t set) {
  int signal = 0;
  if (sigwait(&set, &signal) != 0) return;
  Registry& r = registry();
  const std::lock_guard lock(r.mutex);  // held until exit: nothing registers or unregisters meanwhile
  // Other threads keep running until _exit and may still be writing into a path (recreating it, or
  // making remove_all fail on a directory that is not empty): remove until it stays gone.
  for (const auto& [id, path] : r.paths) remove_until_gone(path);
  _exit(128 + signal);
}

}  // namespace

void handle_termination_signals() {
  const sigset_t set = termination_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread(wait_and_clean_up, set).detach();
}

RemoveOnSignal::RemoveOnSignal(std::string path) {
  Registry& r = registry();
  const std::lock_guard lock(r.mutex);
  id_ = r.next_id++;
  r.paths.emplace(id_, std::move(path));
}

RemoveOnSignal::~RemoveOnSignal() {
  Registry& r = registry();
  const std::lock_guard lock(r.mutex);
  r.paths.erase(id_);
}

}  // namespace cltv
