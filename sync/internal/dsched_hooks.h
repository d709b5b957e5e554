// Copyright 2026 The contend Authors.
//
// The replaceable platform calls of a dsched variant (CONTEND_DSCHED=1): the
// deterministic-schedule explorer (tests/dsched) installs a Hooks table for
// the duration of a run, and contend's atomics, futex, clock and spin hints
// call through it. With no table installed every call behaves as in a normal
// build. Normal builds never include this header (see atomic.h).

#ifndef CONTEND_SYNC_INTERNAL_DSCHED_HOOKS_H_
#define CONTEND_SYNC_INTERNAL_DSCHED_HOOKS_H_

#include <atomic>
#include <cstdint>

namespace contend::internal::dsched {

// Every function may be called from any thread; the explorer decides which
// calling threads it controls (the others run as if no table were there).
struct Hooks {
  // Before every atomic operation on `addr` (internal::Atomic): the explorer
  // may run another thread here.
  void (*switch_point)(const void* addr);
  // A spin-wait hint (cpu_relax, sched_yield): a switch point that also tells
  // the explorer the caller is waiting for another thread.
  void (*spin_point)();
  // futex_wait/futex_wake on `word` (futex.h); the result is a FutexResult.
  int (*futex_wait)(const std::atomic<uint32_t>* word, uint32_t expected,
                    int64_t deadline_ns);
  int (*futex_wake)(const std::atomic<uint32_t>* word, int count);
  // The monotonic clock (clock.h): the explorer's virtual time.
  int64_t (*now_ns)();
};

// The installed table, or null. A plain std::atomic: this is the seam itself.
extern std::atomic<const Hooks*> g_hooks;

inline const Hooks* hooks() noexcept {
  // Acquire: pairs with the release store in install_hooks(), so a thread
  // that sees the table sees its contents.
  return g_hooks.load(std::memory_order_acquire);
}

inline void switch_point(const void* addr) noexcept {
  if (const Hooks* h = hooks()) h->switch_point(addr);
}

inline void spin_point() noexcept {
  if (const Hooks* h = hooks()) h->spin_point();
}

// Installs (or, with null, removes) the table. Only the explorer calls it,
// while no controlled thread runs.
void install_hooks(const Hooks* h) noexcept;

}  // namespace contend::internal::dsched

#endif  // CONTEND_SYNC_INTERNAL_DSCHED_HOOKS_H_
