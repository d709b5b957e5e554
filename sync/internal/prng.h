// Copyright 2026 The contend Authors.
//
// A per-thread pseudo-random generator for sampling decisions (profiling
// rates, randomized backoff, shard choice). Not for cryptography.

#ifndef CONTEND_SYNC_INTERNAL_PRNG_H_
#define CONTEND_SYNC_INTERNAL_PRNG_H_

#if !defined(__linux__)
#error "contend's platform layer supports Linux only (x86-64 and aarch64)"
#endif

#include <cstdint>

#include "absl/base/optimization.h"

namespace contend::internal {

namespace prng_detail {

// SplitMix64 (Steele, Lea, Flood, "Fast splittable pseudorandom number
// generators", OOPSLA 2014): a Weyl sequence with step kGamma fed through a
// 64-bit finalizer. Period 2^64 per thread, passes BigCrush, one add and
// two multiplies per draw, 8 bytes of state (vs 32 for xoshiro256**).
inline constexpr uint64_t kGamma = 0x9e3779b97f4a7c15ULL;

constexpr uint64_t mix64(uint64_t z) noexcept {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

struct State {
  uint64_t weyl;
  bool seeded;
};

inline constinit thread_local State tls_state{0, false};

// Seeds the calling thread's generator from its thread id, the monotonic
// clock and address (ASLR) entropy. Out of line and cold.
void seed_from_entropy() noexcept;

}  // namespace prng_detail

// Returns 64 pseudo-random bits from the calling thread's generator.
//
// Guarantees: each thread has its own stream, seeded lazily on first use from
// (thread id, CLOCK_MONOTONIC, TLS and stack addresses), so threads -- and a
// fork() child versus its parent -- draw different streams; after
// seed_thread_random(s) the sequence is a pure function of s.
// Thread safety: touches only thread-local state; no synchronization.
// Cost: a TLS access, one add, two multiplies; no syscall after the first
// call of a thread.
inline uint64_t thread_random() noexcept {
  prng_detail::State& st = prng_detail::tls_state;
  if (ABSL_PREDICT_FALSE(!st.seeded)) prng_detail::seed_from_entropy();
  st.weyl += prng_detail::kGamma;
  return prng_detail::mix64(st.weyl);
}

// Returns a value in [0, n) for n > 0 (0 when n == 0), by Lemire's
// multiply-shift: the high 64 bits of thread_random() * n. Bias is at most
// n / 2^64 per value, i.e. nil for every n a sampler uses.
inline uint64_t thread_random_below(uint64_t n) noexcept {
  return static_cast<uint64_t>(
      (static_cast<unsigned __int128>(thread_random()) * n) >> 64);
}

// Returns a double uniformly spaced in [0, 1): the top 53 bits scaled by
// 2^-53, so 1.0 is never returned.
inline double thread_random_unit() noexcept {
  return static_cast<double>(thread_random() >> 11) * 0x1.0p-53;
}

// Reseeds the calling thread's generator deterministically (tests,
// reproducible runs). Other threads are unaffected.
void seed_thread_random(uint64_t seed) noexcept;

}  // namespace contend::internal

#endif  // CONTEND_SYNC_INTERNAL_PRNG_H_
