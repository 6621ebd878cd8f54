// Progress of long-running library work (training epochs, boosting rounds, transfers), reported
// to whichever sink the front end installed; reporting costs one atomic load when none is.
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

// Installs SINK for the whole process (nullptr: none); returns the previous one.
ProgressSink* set_progress_sink(ProgressSink* sink);

void report_progress(std::string_view task, int64_t done, int64_t total, std::string_view unit);

}  // namespace cltv
