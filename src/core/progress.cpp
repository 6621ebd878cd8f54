// Reporting progress to an optional sink.
#include "cltv/progress.h"

namespace cltv {

void report_progress(ProgressSink* sink, std::string_view task, int64_t done, int64_t total, std::string_view unit) {
  if (sink != nullptr) sink->update(task, done, total, unit);
}

}  // namespace cltv
