// Copyright 2026 The contend Authors.
//
// Lab workloads for shard/'s per-CPU types:
//  - distributed_rwmutex: contend::DistributedRWMutex as a lock (shared mode),
//    for the article's postmortem "RWMutex worse than Mutex" (a 100 ns read
//    path at 200:1 reads:writes; compare with mutex and rwmutex);
//  - sharded_counter / atomic_counter: a counter, for the section 3 crossover
//    ("per-P sharding wins when write:read > 100:1"). Shaped as a lock
//    workload: an exclusive op is an increment, a shared op a read of the
//    total (ShardedCounter::load(), a sum over the slots; one load of the
//    atomic), so read_share = 1 / (R + 1) is one read per R writes. The
//    critical-section work runs after the counter op (critical_ns = 0 is
//    the plain counter); verify() checks the total equals the increments.

#include <atomic>
#include <cstdint>
#include <memory>

#include "bench/lab/harness.h"
#include "bench/lab/lock_workload.h"
#include "bench/lab/registry.h"
#include "bench/lab/workload.h"
#include "shard/distributed_rw_mutex.h"
#include "shard/sharded_counter.h"

namespace contend::lab {
namespace {

// The peer: one word every thread increments (std::atomic is the thing
// measured here, not a contend primitive).
struct AtomicCounter {
  std::atomic<int64_t> value{0};
  void add(int64_t n) { value.fetch_add(n, std::memory_order_relaxed); }
  int64_t load() const { return value.load(std::memory_order_relaxed); }
};

template <class Counter>
struct CounterWorkloadState {
  alignas(128) Counter counter;

  uint64_t op(OpContext& ctx, bool shared, uint64_t chain) {
    ctx.start_acquire();
    if (shared) {
      const auto total = static_cast<uint64_t>(counter.load());
      ctx.acquired(true);
      return ctx.critical(chain ^ total);
    }
    counter.add(1);
    ctx.acquired(false);
    return ctx.critical(chain);
  }

  bool verify(const Result& r) const {
    return counter.load() == static_cast<int64_t>(r.writes);
  }
};

template <class Counter>
Result run_counter_workload(const Workload& w, const RunControl& ctl) {
  auto state = std::make_unique<CounterWorkloadState<Counter>>();
  return run_workload(w, ctl, *state);
}

CONTEND_LAB_REGISTER(distributed_rwmutex, "distributed_rwmutex",
                     "contend::DistributedRWMutex",
                     "BRAVO reader/writer lock: a reader writes only its own "
                     "slot's line; writers revoke the bias",
                     true, &run_lock_workload<contend::DistributedRWMutex>);
CONTEND_LAB_REGISTER(sharded_counter, "sharded_counter",
                     "contend::ShardedCounter",
                     "counter, one line per CPU: writes = add(1), reads = "
                     "load() (sum over slots)",
                     true, &run_counter_workload<contend::ShardedCounter>);
CONTEND_LAB_REGISTER(atomic_counter, "atomic_counter", "std::atomic counter",
                     "counter, one shared word: writes = fetch_add(1), reads "
                     "= load()",
                     true, &run_counter_workload<AtomicCounter>);

}  // namespace
}  // namespace contend::lab
