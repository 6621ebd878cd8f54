// The OpenMP wait policy (a bounded GOMP_SPINCOUNT set by re-executing) and thread count.
#include "cltv/openmp.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <thread>

#include "cltv/threads.h"

namespace cltv {

std::optional<std::string> spin_count_to_set(const char* wait_policy, const char* spin_count) {
  if (wait_policy != nullptr || spin_count != nullptr) return std::nullopt;
  return bounded_spin_count;
}

void bound_openmp_spinning(char** argv) {
  const auto spin = spin_count_to_set(std::getenv("OMP_WAIT_POLICY"), std::getenv("GOMP_SPINCOUNT"));
  if (!spin) return;
  if (setenv("GOMP_SPINCOUNT", spin->c_str(), 1) != 0) return;
  execv("/proc/self/exe", argv);  // returns only on failure: go on with libgomp's defaults
}

unsigned openmp_threads(int64_t threads, const char* omp_num_threads) {
  if (threads <= 0 && omp_num_threads != nullptr) {
    char* end = nullptr;
    const long n = std::strtol(omp_num_threads, &end, 10);  // "4" or the first of "4,2"
    if (end != omp_num_threads && (*end == '\0' || *end == ',') && n > 0) return resolve_threads(n);
  }
  if (threads > 0) return resolve_threads(threads);
  const long online = sysconf(_SC_NPROCESSORS_ONLN);
  return threads_beside(available_cpus(), online > 0 ? static_cast<unsigned>(online) : 1u, other_running_tasks());
}

unsigned threads_beside(unsigned available, unsigned online, unsigned others) {
  const unsigned idle = online > others ? online - others : 0;
  return std::max(1u, std::min(available, idle));
}

unsigned other_running_tasks() {
  unsigned fewest = std::numeric_limits<unsigned>::max();
  for (int sample = 0; sample < 5; ++sample) {
    if (sample > 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    std::ifstream in("/proc/loadavg");
    double one = 0, five = 0, fifteen = 0;
    unsigned running = 0;
    char slash = 0;
    if (!(in >> one >> five >> fifteen >> running >> slash) || slash != '/' || running == 0) return 0;
    fewest = std::min(fewest, running - 1);  // less the thread reading
  }
  return fewest;
}

}  // namespace cltv
