// Deterministic random numbers for the synthetic data generator: splitmix64 seeding, xoshiro256**
// and samplers written here, because std:: distributions are implementation-defined and the
// generator promises the same bytes for the same seed on every platform and thread count.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>

namespace cltv::generate {

// The splitmix64 finaliser: a bijective 64-bit mix.
constexpr uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Counter-based seed of one random stream: a customer's draws depend only on (SEED, INDEX,
// STREAM), never on the order in which customers are generated.
constexpr uint64_t stream_seed(uint64_t seed, uint64_t index, uint64_t stream) {
  return mix64(mix64(seed + 0x9e3779b97f4a7c15ULL) ^ mix64(index * 0x100000001b3ULL + stream + 1));
}

class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (auto& word : state_) {
      seed += 0x9e3779b97f4a7c15ULL;
      word = mix64(seed);
    }
  }

  // Starts from an explicit xoshiro256** state (not all zero), as in the reference vectors.
  explicit Rng(const std::array<uint64_t, 4>& state) : state_(state) {}

  // xoshiro256**.
  uint64_t next() {
    const uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }

  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  // Uniform in (0, 1): safe to take the logarithm of.
  double uniform_open() { return (static_cast<double>(next() >> 11) + 0.5) * 0x1.0p-53; }
  bool bernoulli(double probability) { return uniform() < probability; }
  // Uniform integer in [0, n).
  uint64_t below(uint64_t n) { return static_cast<uint64_t>(uniform() * static_cast<double>(n)); }
  // Exponential with mean 1.
  double exponential() { return -std::log(uniform_open()); }
  // Standard normal (Marsaglia's polar method; the second variate is discarded).
  double normal();
  // Gamma(SHAPE, scale 1), SHAPE > 0 (Marsaglia and Tsang; shapes below 1 through the U^(1/a) boost).
  double gamma(double shape);
  // log of a Gamma(SHAPE, 1) variate, finite even for shapes so small that the variate underflows.
  double log_gamma(double shape);
  // Beta(A, B) as X / (X + Y) of two gammas.
  double beta(double a, double b);

 private:
  static constexpr uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::array<uint64_t, 4> state_;
};

}  // namespace cltv::generate
