// --threads and the CPUs available: affinity mask, cgroup v1/v2 quotas, one shared declaration.
#include <gtest/gtest.h>
#include <sched.h>

#include <optional>

#include "cltv/error.h"
#include "cltv/threads.h"
#include "support/test_support.h"

namespace cltv {
namespace {

TEST(Threads, CpusWithinRoundsTheQuotaUpAndKeepsOne) {
  EXPECT_EQ(cpus_within(4, std::nullopt), 4u);
  EXPECT_EQ(cpus_within(4, 1.5), 2u);
  EXPECT_EQ(cpus_within(4, 2.0), 2u);
  EXPECT_EQ(cpus_within(4, 0.5), 1u);
  EXPECT_EQ(cpus_within(2, 8.0), 2u);
  EXPECT_EQ(cpus_within(0, std::nullopt), 1u);
}

TEST(Threads, CgroupV2QuotaIsTheSmallestOnThePath) {
  test::TempDir root;
  root.write("cgroup.controllers", "cpuset cpu io memory pids\n");
  EXPECT_EQ(cgroup_cpu_limit(root.path(""), "/"), std::nullopt);  // no cpu.max at all
  root.write("cpu.max", "max 100000\n");
  EXPECT_EQ(cgroup_cpu_limit(root.path(""), "/"), std::nullopt);
  root.write("cpu.max", "150000 100000\n");
  EXPECT_EQ(cgroup_cpu_limit(root.path(""), "/"), 1.5);
  root.write("cpu.max", "max 100000\n");
  root.write("kubepods/pod1/cpu.max", "max 100000\n");
  root.write("kubepods/cpu.max", "300000 100000\n");
  EXPECT_EQ(cgroup_cpu_limit(root.path(""), "/kubepods/pod1"), 3.0);
  root.write("kubepods/pod1/cpu.max", "50000 100000\n");
  EXPECT_EQ(cgroup_cpu_limit(root.path(""), "/kubepods/pod1"), 0.5);
}

TEST(Threads, CgroupV1QuotaOverPeriod) {
  test::TempDir root;
  EXPECT_EQ(cgroup_cpu_limit(root.path(""), "/"), std::nullopt);
  root.write("cpu/cpu.cfs_quota_us", "-1\n");
  root.write("cpu/cpu.cfs_period_us", "100000\n");
  EXPECT_EQ(cgroup_cpu_limit(root.path(""), "/"), std::nullopt);
  root.write("cpu/cpu.cfs_quota_us", "250000\n");
  EXPECT_EQ(cgroup_cpu_limit(root.path(""), "/"), 2.5);
}

TEST(Threads, ZeroResolvesToTheAffinityMask) {
  EXPECT_EQ(resolve_threads(3), 3u);
  cpu_set_t saved;
  ASSERT_EQ(sched_getaffinity(0, sizeof(saved), &saved), 0);
  const int cpus = CPU_COUNT(&saved);
  EXPECT_GE(resolve_threads(0), 1u);
  EXPECT_LE(resolve_threads(0), static_cast<unsigned>(cpus));
  if (cpus < 2) GTEST_SKIP() << "one CPU: cannot narrow the mask";
  int first = 0;
  while (!CPU_ISSET(first, &saved)) ++first;
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(first, &one);
  ASSERT_EQ(sched_setaffinity(0, sizeof(one), &one), 0);
  const unsigned narrowed = resolve_threads(0);
  ASSERT_EQ(sched_setaffinity(0, sizeof(saved), &saved), 0);
  EXPECT_EQ(narrowed, 1u);
}

TEST(Threads, OneDeclarationFeedsEverySetting) {
  ParamSet params;
  int64_t parsing = -1, cleaning = -1, model = -1;
  add_threads_param(params, parsing);
  add_threads_param(params, cleaning);
  add_threads_param(params, model);
  ASSERT_EQ(params.params().size(), 1u);
  EXPECT_EQ(params.params().front().default_text, "0");
  EXPECT_EQ(parsing, 0);
  EXPECT_EQ(model, 0);
  params.set("threads", "3");
  EXPECT_EQ(parsing, 3);
  EXPECT_EQ(cleaning, 3);
  EXPECT_EQ(model, 3);
  EXPECT_EQ(test::error_kind_of([&] { params.set("threads", "-1"); }), ErrorKind::config);
}

}  // namespace
}  // namespace cltv
