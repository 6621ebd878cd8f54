// Tests of the generator's PRNG and samplers: reference vectors and moments of the distributions.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "cltv/generate/random.h"

namespace cltv::generate {
namespace {

TEST(GenerateRandom, MatchesReferenceVectors) {
  // splitmix64 seeded with 0: its first output is mix64 of the golden-ratio increment.
  EXPECT_EQ(mix64(0x9e3779b97f4a7c15ULL), 0xe220a8397b1dcdafULL);
  // xoshiro256** from the state {1, 2, 3, 4} (reference implementation by Blackman and Vigna).
  Rng rng(std::array<uint64_t, 4>{1, 2, 3, 4});
  EXPECT_EQ(rng.next(), 11520u);
  EXPECT_EQ(rng.next(), 0u);
  EXPECT_EQ(rng.next(), 1509978240u);
  EXPECT_EQ(rng.next(), 1215971899390074240u);
}

TEST(GenerateRandom, StreamsDependOnSeedIndexAndStreamOnly) {
  EXPECT_EQ(stream_seed(42, 7, 0), stream_seed(42, 7, 0));
  EXPECT_NE(stream_seed(42, 7, 0), stream_seed(43, 7, 0));
  EXPECT_NE(stream_seed(42, 7, 0), stream_seed(42, 8, 0));
  EXPECT_NE(stream_seed(42, 7, 0), stream_seed(42, 7, 1));
  Rng a(stream_seed(1, 2, 3)), b(stream_seed(1, 2, 3));
  for (int i = 0; i < 100; ++i) ASSERT_EQ(a.next(), b.next());
}

struct Moments {
  double mean = 0;
  double variance = 0;
};

template <class Draw>
Moments moments(int n, Draw draw) {
  std::vector<double> x(static_cast<size_t>(n));
  double sum = 0;
  for (auto& v : x) sum += v = draw();
  Moments m;
  m.mean = sum / n;
  for (const double v : x) m.variance += (v - m.mean) * (v - m.mean);
  m.variance /= n - 1;
  return m;
}

TEST(GenerateRandom, SamplerMomentsMatchTheirDistributions) {
  Rng rng(stream_seed(2024, 0, 0));
  const int n = 40000;
  const Moments uniform = moments(n, [&] { return rng.uniform(); });
  EXPECT_NEAR(uniform.mean, 0.5, 0.01);
  EXPECT_NEAR(uniform.variance, 1.0 / 12, 0.003);
  const Moments exponential = moments(n, [&] { return rng.exponential(); });
  EXPECT_NEAR(exponential.mean, 1.0, 0.03);
  EXPECT_NEAR(exponential.variance, 1.0, 0.08);
  const Moments normal = moments(n, [&] { return rng.normal(); });
  EXPECT_NEAR(normal.mean, 0.0, 0.03);
  EXPECT_NEAR(normal.variance, 1.0, 0.04);
  // Gamma(a, 1): mean a, variance a; both branches (a < 1 and a >= 1).
  for (const double shape : {0.3, 1.0, 4.5}) {
    const Moments g = moments(n, [&] { return rng.gamma(shape); });
    EXPECT_NEAR(g.mean, shape, 0.04 * shape + 0.01) << shape;
    EXPECT_NEAR(g.variance, shape, 0.1 * shape) << shape;
    const Moments log_g = moments(n, [&] { return std::exp(rng.log_gamma(shape)); });
    EXPECT_NEAR(log_g.mean, shape, 0.04 * shape + 0.01) << shape;
  }
  // Beta(2, 6): mean 0.25, variance ab / ((a+b)^2 (a+b+1)) = 12 / 576 = 0.0208333.
  const Moments beta = moments(n, [&] { return rng.beta(2, 6); });
  EXPECT_NEAR(beta.mean, 0.25, 0.005);
  EXPECT_NEAR(beta.variance, 12.0 / 576, 0.001);
}

TEST(GenerateRandom, TinyGammaShapesStayFiniteInLogSpace) {
  Rng rng(stream_seed(5, 5, 5));
  for (int i = 0; i < 1000; ++i) {
    const double x = rng.log_gamma(0.01);
    ASSERT_TRUE(std::isfinite(x));
    ASSERT_LT(x, 5.0);
  }
}

}  // namespace
}  // namespace cltv::generate
