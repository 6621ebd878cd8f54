// The OpenMP wait policy (a bounded GOMP_SPINCOUNT set by re-executing) and thread count.
#include "cltv/openmp.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>

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
  return resolve_threads(threads);
}

}  // namespace cltv
