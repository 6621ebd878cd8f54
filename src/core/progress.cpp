// The process-wide progress sink.
#include "cltv/progress.h"

#include <atomic>

namespace cltv {
namespace {
std::atomic<ProgressSink*> installed_sink{nullptr};
}  // namespace

ProgressSink* set_progress_sink(ProgressSink* sink) { return installed_sink.exchange(sink); }

void report_progress(std::string_view task, int64_t done, int64_t total, std::string_view unit) {
  if (ProgressSink* sink = installed_sink.load(std::memory_order_acquire)) sink->update(task, done, total, unit);
}

}  // namespace cltv
