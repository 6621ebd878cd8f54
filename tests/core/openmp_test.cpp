// The OpenMP wait policy (bounded GOMP_SPINCOUNT unless the user chose) and XGBoost's thread count.
#include <gtest/gtest.h>
#include <sched.h>

#include "cltv/openmp.h"
#include "support/test_support.h"

namespace cltv {
namespace {

TEST(OpenMp, SpinCountIsBoundedUnlessTheUserChose) {
  EXPECT_EQ(spin_count_to_set(nullptr, nullptr), "10000");
  EXPECT_EQ(spin_count_to_set("active", nullptr), std::nullopt);
  EXPECT_EQ(spin_count_to_set("passive", nullptr), std::nullopt);
  EXPECT_EQ(spin_count_to_set(nullptr, "300000"), std::nullopt);
  EXPECT_EQ(spin_count_to_set("", nullptr), std::nullopt);  // set, even if empty
}

TEST(OpenMp, ThreadsFlagThenOmpNumThreadsThenTheCpusAvailable) {
  EXPECT_EQ(openmp_threads(3, "5"), 3u);
  EXPECT_EQ(openmp_threads(0, "5"), 5u);
  EXPECT_EQ(openmp_threads(0, "4,2"), 4u);
  cpu_set_t set;
  ASSERT_EQ(sched_getaffinity(0, sizeof(set), &set), 0);
  const auto cpus = static_cast<unsigned>(CPU_COUNT(&set));
  for (const char* ignored : {static_cast<const char*>(nullptr), "", "0", "-2", "many"}) {
    const unsigned n = openmp_threads(0, ignored);
    EXPECT_GE(n, 1u) << (ignored ? ignored : "unset");
    EXPECT_LE(n, cpus) << (ignored ? ignored : "unset");
  }
}

TEST(OpenMp, ThreadsBesideOtherWork) {
  EXPECT_EQ(threads_beside(2, 2, 0), 2u);
  EXPECT_EQ(threads_beside(2, 2, 1), 1u);
  EXPECT_EQ(threads_beside(2, 2, 2), 1u);
  EXPECT_EQ(threads_beside(2, 2, 7), 1u);
  EXPECT_EQ(threads_beside(4, 64, 30), 4u);  // a container's quota on a big machine
  EXPECT_EQ(threads_beside(8, 8, 3), 5u);
}

// libgomp reads its settings before main: OMP_DISPLAY_ENV=verbose makes it print what it read, once
// in the first process and once after the re-execution.
TEST(OpenMp, LibgompSeesTheBoundedSpinCountAndTheUsersSettings) {
  const auto bounded = test::run_cli({"--version"}, {"OMP_DISPLAY_ENV=verbose", "OMP_WAIT_POLICY", "GOMP_SPINCOUNT"});
  ASSERT_EQ(bounded.exit_code, 0) << bounded.err;
  EXPECT_NE(bounded.err.find("GOMP_SPINCOUNT = '10000'"), std::string::npos) << bounded.err;

  const auto spin = test::run_cli({"--version"}, {"OMP_DISPLAY_ENV=verbose", "OMP_WAIT_POLICY", "GOMP_SPINCOUNT=7"});
  EXPECT_NE(spin.err.find("GOMP_SPINCOUNT = '7'"), std::string::npos) << spin.err;
  EXPECT_EQ(spin.err.find("'10000'"), std::string::npos) << spin.err;

  const auto active = test::run_cli({"--version"}, {"OMP_DISPLAY_ENV=verbose", "OMP_WAIT_POLICY=active", "GOMP_SPINCOUNT"});
  EXPECT_NE(active.err.find("OMP_WAIT_POLICY = 'ACTIVE'"), std::string::npos) << active.err;
  EXPECT_EQ(active.err.find("'10000'"), std::string::npos) << active.err;
}

}  // namespace
}  // namespace cltv
