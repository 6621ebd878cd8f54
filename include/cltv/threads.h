// --threads, declared once for parsing, cleaning, features and the models, and the number of CPUs
// this process may actually use (its affinity mask and its cgroup CPU quota), which 0 stands for.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "cltv/params.h"

namespace cltv {

// Declares --threads N (0: the CPUs available, see available_cpus) storing into THREADS; when
// PARAMS already has --threads, makes it also set THREADS (one flag for every step).
void add_threads_param(ParamSet& params, int64_t& threads);

// THREADS when positive, else available_cpus().
unsigned resolve_threads(int64_t threads);

// The CPUs this process may use: those in its affinity mask (sched_getaffinity), capped by the
// cgroup CPU quota (cgroup_cpu_limit under /sys/fs/cgroup), at least 1. Read on every call.
unsigned available_cpus();

// The CPU quota in CPUs (quota / period) of the process's cgroup under ROOT: with cgroup v2 (ROOT
// has cgroup.controllers) the smallest cpu.max of ROOT and each folder down to OWN_CGROUP (the
// "0::" path of /proc/self/cgroup; "/" in a container); else cgroup v1 cpu/cpu.cfs_quota_us over
// cpu/cpu.cfs_period_us. nullopt when there is no quota ("max", -1) or no readable file.
std::optional<double> cgroup_cpu_limit(const std::filesystem::path& root, const std::string& own_cgroup = "/");

// AFFINITY_CPUS capped by QUOTA rounded up, at least 1.
unsigned cpus_within(unsigned affinity_cpus, std::optional<double> quota);

}  // namespace cltv
