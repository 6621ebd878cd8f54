// What a pipeline run tells its user while it works: one line per step with its elapsed time and
// key counts, live progress of long steps (a bar on a terminal, periodic plain lines otherwise),
// as text, as JSON lines (--json-log), or nothing but errors (--quiet).
#pragma once

#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cltv/progress.h"

namespace cltv::pipeline {

class RunLog : public ProgressSink {
 public:
  enum class Mode { text, json, quiet };
  using Counts = std::vector<std::pair<std::string, std::string>>;

  // Step and progress lines go to OUT; the closing summary of a text log goes to RESULT_OUT.
  RunLog(Mode mode, int total_steps, std::FILE* out = stderr, std::FILE* result_out = stdout);

  void begin_step(std::string_view name);
  void end_step(const Counts& counts);
  void fail_step(std::string_view message);
  // A note that belongs to no step's counts (a fallback taken, a partial month left out).
  void note(std::string_view message);
  // The run's closing line(s).
  void finish(std::string_view summary, const Counts& counts);

  void update(std::string_view task, int64_t done, int64_t total, std::string_view unit) override;

  double step_seconds() const;
  double total_seconds() const;

 private:
  void emit_json(std::string_view event, const Counts& fields);
  void clear_bar();

  Mode mode_;
  int total_steps_;
  std::FILE* out_;
  std::FILE* result_out_;
  bool terminal_;
  std::mutex mutex_;
  std::string step_;
  int step_index_ = 0;
  std::chrono::steady_clock::time_point run_start_, step_start_, last_progress_;
  bool bar_shown_ = false;
};

}  // namespace cltv::pipeline
