// Progress of long-running library work (training epochs, boosting rounds, transfers), reported
// to the sink the caller passes down with the work (nullptr: nowhere). There is no process-wide
// sink: two runs in one process each report to their own.
#pragma once

#include <cstdint>
#include <string_view>

namespace cltv {

class ProgressSink {
 public:
  virtual ~ProgressSink() = default;
  // TASK has done DONE of TOTAL (0: unknown) UNITs. May be called from several threads at once.
  virtual void update(std::string_view task, int64_t done, int64_t total, std::string_view unit) = 0;
};

// Tells SINK, when there is one.
void report_progress(ProgressSink* sink, std::string_view task, int64_t done, int64_t total, std::string_view unit);

}  // namespace cltv
