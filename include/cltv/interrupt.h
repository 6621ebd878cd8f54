// Cleaning up after a termination signal. Signals belong to the whole process, so this is the one
// process-wide registry the library keeps: the front end calls handle_termination_signals() first
// thing in main, and work that builds something half-made (a run directory) registers it with a
// RemoveOnSignal for as long as it is incomplete.
#pragma once

#include <cstdint>
#include <string>

namespace cltv {

// Blocks SIGINT, SIGTERM and SIGHUP in every thread started afterwards and starts one thread that
// waits for them: on one, it removes every registered path and exits with status 128 + the signal.
void handle_termination_signals();

// Registers PATH (a file or directory) for removal when a termination signal arrives, until this is
// destroyed.
class RemoveOnSignal {
 public:
  explicit RemoveOnSignal(std::string path);
  ~RemoveOnSignal();
  RemoveOnSignal(const RemoveOnSignal&) = delete;
  RemoveOnSignal& operator=(const RemoveOnSignal&) = delete;

 private:
  uint64_t id_;
};

}  // namespace cltv
