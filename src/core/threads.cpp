// --threads and the CPUs available to the process (affinity mask and cgroup quota).
#include "cltv/threads.h"

#include <sched.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <thread>

namespace cltv {
namespace {

constexpr int64_t max_threads = 256;

std::optional<std::string> read_first_line(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) return std::nullopt;
  return line;
}

// QUOTA / PERIOD in CPUs when both are positive numbers (a quota of "max" or -1 is no limit).
std::optional<double> quota_ratio(const std::string& quota, const std::string& period) {
  try {
    const double q = std::stod(quota);
    const double p = std::stod(period);
    if (q > 0 && p > 0) return q / p;
  } catch (const std::exception&) {  // "max", empty or garbled: no limit known
  }
  return std::nullopt;
}

// cgroup v2 "QUOTA PERIOD" in cpu.max.
std::optional<double> cpu_max_limit(const std::filesystem::path& file) {
  const auto line = read_first_line(file);
  if (!line) return std::nullopt;
  std::istringstream fields(*line);
  std::string quota, period;
  fields >> quota >> period;
  return quota_ratio(quota, period);
}

// The v2 entry "0::/path" of /proc/self/cgroup, or "/".
std::string own_cgroup_v2() {
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("0::")) return line.substr(3);
  }
  return "/";
}

unsigned affinity_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return static_cast<unsigned>(CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace

void add_threads_param(ParamSet& params, int64_t& threads) {
  ParamSet own;
  own.add_int("threads", threads, 0, 0, max_threads,
              "threads for parsing, cleaning, features and the model (0: the CPUs available to the process: its "
              "affinity mask capped by its cgroup CPU quota)");
  params.add_or_share(own.params().front());
}

unsigned resolve_threads(int64_t threads) {
  if (threads > 0) return static_cast<unsigned>(std::min(threads, max_threads));
  return available_cpus();
}

unsigned available_cpus() {
  return cpus_within(affinity_cpus(), cgroup_cpu_limit("/sys/fs/cgroup", own_cgroup_v2()));
}

std::optional<double> cgroup_cpu_limit(const std::filesystem::path& root, const std::string& own_cgroup) {
  if (std::filesystem::exists(root / "cgroup.controllers")) {  // cgroup v2: the smallest quota on the path
    std::optional<double> limit;
    std::filesystem::path dir = root;
    auto take = [&limit](const std::filesystem::path& file) {
      if (const auto l = cpu_max_limit(file)) limit = std::min(limit.value_or(*l), *l);
    };
    take(dir / "cpu.max");
    for (const auto& part : std::filesystem::path(own_cgroup).relative_path()) take((dir /= part) / "cpu.max");
    return limit;
  }
  const auto quota = read_first_line(root / "cpu" / "cpu.cfs_quota_us");
  const auto period = read_first_line(root / "cpu" / "cpu.cfs_period_us");
  if (!quota || !period) return std::nullopt;
  return quota_ratio(*quota, *period);
}

unsigned cpus_within(unsigned affinity_cpus, std::optional<double> quota) {
  unsigned cpus = std::max(1u, affinity_cpus);
  if (quota) cpus = std::min(cpus, static_cast<unsigned>(std::max(1.0, std::ceil(*quota - 1e-9))));
  return cpus;
}

}  // namespace cltv
