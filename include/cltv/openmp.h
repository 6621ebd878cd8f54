// How XGBoost's OpenMP threads wait. libgomp (GCC's OpenMP) lets an idle thread spin 300,000 times
// before it sleeps; on a shared machine that spinning takes cores from whoever else runs, and a
// preempted partner makes every barrier wait out the spin. libgomp reads OMP_WAIT_POLICY and
// GOMP_SPINCOUNT once, when it loads (before main), so cltv bounds the spin by re-executing itself
// once with GOMP_SPINCOUNT set, unless the user set either variable. See docs/models/xgboost.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace cltv {

// The GOMP_SPINCOUNT cltv runs with when the environment sets neither OMP_WAIT_POLICY nor
// GOMP_SPINCOUNT (measured in docs/benchmarks.md).
inline constexpr const char* bounded_spin_count = "10000";

// The GOMP_SPINCOUNT to set given the environment's OMP_WAIT_POLICY and GOMP_SPINCOUNT (null when
// unset): bounded_spin_count when both are unset, else nullopt (the user's choice stands).
std::optional<std::string> spin_count_to_set(const char* wait_policy, const char* spin_count);

// First thing in main: when spin_count_to_set gives a value, sets GOMP_SPINCOUNT and re-executes
// /proc/self/exe with ARGV, which then finds it set and goes on. Returns when there is nothing to
// do or the exec failed (the program then runs with libgomp's defaults).
void bound_openmp_spinning(char** argv);

// XGBoost's nthread for --threads THREADS: THREADS when positive, else OMP_NUM_THREADS (given as
// OMP_NUM_THREADS, null when unset) when it is a positive number, else the CPUs available that no
// other task is running on now (threads_beside): OpenMP teams wait for their slowest thread, so a
// thread sharing a core with someone else's work slows every step.
unsigned openmp_threads(int64_t threads, const char* omp_num_threads);

// AVAILABLE (available_cpus) capped by the machine's ONLINE CPUs minus OTHERS tasks running on
// them, at least 1.
unsigned threads_beside(unsigned available, unsigned online, unsigned others);

// Tasks of other processes (or other threads) running or runnable now: /proc/loadavg's running
// count less this thread, the fewest of five samples 1 ms apart so that a passing task does not
// count; 0 when unreadable.
unsigned other_running_tasks();

}  // namespace cltv
