// Copyright 2026 The contend Authors.
//
// The lab workload for any Lockable / SharedLockable type: the body that
// run_workload() drives, and the RunFn a module registers for its lock.

#ifndef CONTEND_BENCH_LAB_LOCK_WORKLOAD_H_
#define CONTEND_BENCH_LAB_LOCK_WORKLOAD_H_

#include <cstdint>
#include <memory>

#include "bench/lab/harness.h"
#include "bench/lab/registry.h"
#include "bench/lab/workload.h"

namespace contend::lab {

// True for types with lock_shared()/unlock_shared() (SharedLockable).
template <class L>
concept SharedLockable = requires(L& l) {
  l.lock_shared();
  l.unlock_shared();
};

// The lock and the data it protects, on separate cache lines. What an op does
// to the data depends only on its kind, never on the lock type, so every
// lock is compared on the same work: an exclusive op reads `counter`, feeds
// the value into the critical work and writes it back incremented only at the
// end, so the read-modify-write spans the whole critical section (two sections
// that overlap at all lose an update, and verify() sees it); a shared op only
// reads it.
// Types without a shared mode take the exclusive lock for shared ops.
template <class Lock>
struct LockWorkloadState {
  alignas(128) Lock lock;
  alignas(128) uint64_t counter = 0;

  uint64_t op(OpContext& ctx, bool shared, uint64_t chain) {
    ctx.start_acquire();
    if constexpr (SharedLockable<Lock>) {
      if (shared) {
        lock.lock_shared();
        ctx.acquired(true);
        chain = ctx.critical(chain ^ counter);
        lock.unlock_shared();
        return chain;
      }
    }
    lock.lock();
    ctx.acquired(shared);
    const uint64_t seen = counter;
    chain = ctx.critical(chain ^ seen);
    if (!shared) counter = seen + 1;
    lock.unlock();
    return chain;
  }

  bool verify(const Result& r) const {
    return counter == static_cast<uint64_t>(r.writes);
  }
};

// A RunFn for Lock: register it with CONTEND_LAB_REGISTER.
template <class Lock>
Result run_lock_workload(const Workload& w, const RunControl& ctl) {
  auto state = std::make_unique<LockWorkloadState<Lock>>();
  return run_workload(w, ctl, *state);
}

}  // namespace contend::lab

#endif  // CONTEND_BENCH_LAB_LOCK_WORKLOAD_H_
