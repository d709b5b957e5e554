// Copyright 2026 The contend Authors.
//
// cpu_relax() and Backoff: how a contend thread burns time before it parks.

#ifndef CONTEND_SYNC_INTERNAL_BACKOFF_H_
#define CONTEND_SYNC_INTERNAL_BACKOFF_H_

#if !defined(__linux__)
#error "contend's platform layer supports Linux only (x86-64 and aarch64)"
#endif

#include <sched.h>

#include <cstdint>

#if defined(CONTEND_DSCHED)
#include "sync/internal/dsched_hooks.h"
#endif

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace contend::internal {

// Tells the CPU that the caller is in a spin-wait loop.
//
// - x86-64: `pause`. It de-pipelines the loop (no memory-order mis-speculation
//   flush when the watched line changes) and yields issue slots to the SMT
//   sibling. Its latency varies by an order of magnitude between cores
//   (~10 cycles on Zen 1 and pre-Skylake Intel, ~65 on Zen 2/3, ~140 on
//   Skylake-SP and later); measured here at 30 ns (~74 TSC cycles) on AMD
//   EPYC (Zen 3), see bench/sync/internal/RESULTS.md.
// - aarch64: `yield`, the architected spin-wait hint for SMT cores and
//   hypervisors. Not `wfe`: it sleeps until an event, which a plain store
//   from the lock holder does not send unless we also arm the exclusive
//   monitor (ldxr) on the word -- otherwise the wakeup waits for the kernel's
//   event stream tick (~100 us), far too long for a spin step. Not `isb`
//   (Rust's choice since 1.60): it gives a real delay only as a side effect of
//   a pipeline flush, whose cost is microarchitectural and undocumented. On
//   cores where `yield` is a no-op the spin phase is shorter in wall time;
//   the Backoff constants were tuned on x86 and need re-measuring on aarch64.
//   `yield` is also what Linux's arm64 cpu_relax() and Go's arm64
//   runtime.procyield issue. Under qemu-user (--config=aarch64) it is a no-op
//   too, so the emulated run checks that this branch compiles, not its timing.
// - Anything else: a compiler barrier so the loop is not collapsed.
inline void cpu_relax() noexcept {
#if defined(CONTEND_DSCHED)
  dsched::spin_point();  // the explorer may run the thread we wait for
#endif
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#else
  asm volatile("" ::: "memory");
#endif
}

// Backoff: exponential spinning, then yielding, then "give up and park"
// (crossbeam's Backoff, re-derived for our constants).
//
// Model: one counter, step() in [0, kYieldLimit + 1].
//
//   call       step before      action                       step after
//   spin()     s                2^min(s, kSpinLimit) pauses   min(s+1,
//   kSpinLimit+1) snooze()   s <= kSpinLimit  2^s pauses                    s+1
//   snooze()   s >  kSpinLimit  one sched_yield()             min(s+1,
//   kYieldLimit+1)
//
// is_completed() is true once step() > kYieldLimit, i.e. after
// kYieldLimit + 1 = 11 snooze() calls from a fresh Backoff. spin() alone
// never completes a Backoff (it stops counting at kSpinLimit + 1).
//
// Guarantees: never blocks in the kernel; spin() never yields.
// Thread safety: none; a Backoff is a local of one thread's retry loop, and
// copying it copies the progress.
// Cost: one uint32_t (sizeof 4). Worst-case time in one call: spin(): 64
// pauses = ~1.9 us; snooze(): one sched_yield (~0.8 us when nothing else is
// runnable, up to a scheduler time slice when something is).
//
// The constants, from costs measured on AMD EPYC (Zen 3, 2 vCPU KVM guest;
// bench/sync/internal/RESULTS.md): one pause = 30 ns; one idle sched_yield =
// 0.8 us; one futex park/unpark handoff between two threads = ~10 us of wall
// time (ParkerPingPong round trip 19.5 us / 2).
// - kSpinLimit = 6: the longest spin step is 2^6 = 64 pauses (~1.9 us); the
//   whole spin phase (steps 0..6) is 127 pauses (3.9 us measured). That
//   covers short critical sections without ever spinning in one step longer
//   than a fraction of a park. It also caps one CAS-retry spin() at ~2 us,
//   beyond which the caller's slow path should take over.
// - kYieldLimit = 10: after the spin phase, 4 yields (steps 7..10). A yield
//   lets a preempted lock holder that shares our CPU run; with nothing
//   runnable the 4 cost ~3 us. The full snooze() budget until is_completed()
//   is 7.1 us measured, below the ~10 us a park/unpark handoff costs, so a
//   waiter that spins and then parks pays at most ~2x the optimal choice
//   (the classic competitive-spinning bound).
//
// Example:
//   Backoff backoff;
//   while (!ready.load(std::memory_order_acquire)) {
//     if (backoff.is_completed()) { park(); backoff.reset(); continue; }
//     backoff.snooze();
//   }
class Backoff {
 public:
  static constexpr uint32_t kSpinLimit = 6;
  static constexpr uint32_t kYieldLimit = 10;
  static_assert(kSpinLimit < kYieldLimit);
  static_assert(kSpinLimit < 31, "1 << step must not overflow");

  constexpr Backoff() noexcept = default;

  // For CAS-retry loops (the word changed under us, retry soon): pauses
  // 2^min(step, kSpinLimit) times; never yields, never completes.
  void spin() noexcept {
    const uint32_t n = 1u << (step_ < kSpinLimit ? step_ : kSpinLimit);
    for (uint32_t i = 0; i < n; ++i) cpu_relax();
    if (step_ <= kSpinLimit) ++step_;
  }

  // For waiting on another thread to make progress: spins 2^step pauses while
  // step <= kSpinLimit, then yields the CPU once per call.
  void snooze() noexcept {
    if (step_ <= kSpinLimit) {
      const uint32_t n = 1u << step_;
      for (uint32_t i = 0; i < n; ++i) cpu_relax();
    } else {
#if defined(CONTEND_DSCHED)
      dsched::spin_point();
#endif
      sched_yield();
    }
    if (step_ <= kYieldLimit) ++step_;
  }

  // True when step() > kYieldLimit: the caller should block (park) instead of
  // snoozing again.
  bool is_completed() const noexcept { return step_ > kYieldLimit; }

  void reset() noexcept { step_ = 0; }

  uint32_t step() const noexcept { return step_; }

 private:
  uint32_t step_ = 0;
};

static_assert(sizeof(Backoff) == 4);

}  // namespace contend::internal

#endif  // CONTEND_SYNC_INTERNAL_BACKOFF_H_
