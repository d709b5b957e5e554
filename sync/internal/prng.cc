// Copyright 2026 The contend Authors.

#include "sync/internal/prng.h"

#include <pthread.h>

#include <atomic>
#include <cstdint>

#include "absl/base/attributes.h"
#include "sync/internal/atomic.h"
#include "sync/internal/clock.h"
#include "sync/internal/thread_id.h"

namespace contend::internal {
namespace prng_detail {
namespace {

// Distinguishes threads that share tid and clock reading (a fork child that
// reseeds at once); relaxed: only uniqueness of the returned value matters.
Atomic<uint64_t> g_seed_counter{0};

// In a fork() child the forking thread's state is a copy of the parent's;
// reseed so the two processes do not draw the same stream.
void reseed_in_child() noexcept { tls_state.seeded = false; }

}  // namespace

ABSL_ATTRIBUTE_COLD ABSL_ATTRIBUTE_NOINLINE void seed_from_entropy() noexcept {
  [[maybe_unused]] static const bool registered =
      pthread_atfork(nullptr, nullptr, &reseed_in_child) == 0;
  int stack_marker = 0;
  uint64_t h = mix64(static_cast<uint64_t>(current_thread_id()) + kGamma);
  h = mix64(h ^ static_cast<uint64_t>(monotonic_now_ns()));
  h = mix64(h ^ reinterpret_cast<uintptr_t>(&tls_state));
  h = mix64(h ^ reinterpret_cast<uintptr_t>(&stack_marker));
  // Relaxed: a unique ticket, no data is published through it.
  h = mix64(h ^ g_seed_counter.fetch_add(kGamma, std::memory_order_relaxed));
  tls_state.weyl = h;
  tls_state.seeded = true;
}

}  // namespace prng_detail

void seed_thread_random(uint64_t seed) noexcept {
  prng_detail::tls_state.weyl = seed;
  prng_detail::tls_state.seeded = true;
}

}  // namespace contend::internal
