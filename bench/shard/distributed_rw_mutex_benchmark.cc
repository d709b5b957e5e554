// Copyright 2026 The contend Authors.
//
// Reader locks: contend::DistributedRWMutex against contend::RWMutex,
// std::shared_mutex and contend::Mutex (read locks taken as write locks),
// one binary:
//
//   bazel run -c opt //bench/shard:distributed_rw_mutex_benchmark --
//       --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//   (one command line)
//
// Workloads:
//  W1Read/<lock>               uncontended read lock+unlock, one thread.
//  ReadShared/<lock>/threads:T T threads read-lock+unlock ONE lock with no
//                              work: the reader-count line bouncing of the
//                              article's postmortem. Time = per-thread op
//                              (real time), so throughput = T / time.
//  Postmortem/<lock>/threads:T the postmortem "RWMutex worse than Mutex": a
//                              100 ns read path, 200 reads per write, every
//                              thread mixing both. Counter writer_p99_ns:
//                              the 99th percentile of the time a write
//                              waited in lock() (per thread, averaged over
//                              the threads).

#include <algorithm>
#include <cstdint>
#include <mutex>
#include <shared_mutex>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "bench/sync/busy_work.h"
#include "benchmark/benchmark.h"
#include "shard/distributed_rw_mutex.h"
#include "sync/internal/clock.h"
#include "sync/mutex.h"
#include "sync/rw_mutex.h"

namespace contend::bench {
namespace {

// --- Lock adapters -----------------------------------------------------------

struct Distributed {
  contend::DistributedRWMutex mu;
  void lock() ABSL_NO_THREAD_SAFETY_ANALYSIS { mu.lock(); }
  void unlock() ABSL_NO_THREAD_SAFETY_ANALYSIS { mu.unlock(); }
  void lock_shared() ABSL_NO_THREAD_SAFETY_ANALYSIS { mu.lock_shared(); }
  void unlock_shared() ABSL_NO_THREAD_SAFETY_ANALYSIS { mu.unlock_shared(); }
};

struct RW {
  contend::RWMutex mu;
  void lock() ABSL_NO_THREAD_SAFETY_ANALYSIS { mu.lock(); }
  void unlock() ABSL_NO_THREAD_SAFETY_ANALYSIS { mu.unlock(); }
  void lock_shared() ABSL_NO_THREAD_SAFETY_ANALYSIS { mu.lock_shared(); }
  void unlock_shared() ABSL_NO_THREAD_SAFETY_ANALYSIS { mu.unlock_shared(); }
};

struct StdShared {
  std::shared_mutex mu;
  void lock() ABSL_NO_THREAD_SAFETY_ANALYSIS { mu.lock(); }
  void unlock() ABSL_NO_THREAD_SAFETY_ANALYSIS { mu.unlock(); }
  void lock_shared() ABSL_NO_THREAD_SAFETY_ANALYSIS { mu.lock_shared(); }
  void unlock_shared() ABSL_NO_THREAD_SAFETY_ANALYSIS { mu.unlock_shared(); }
};

struct Exclusive {
  contend::Mutex mu;
  void lock() ABSL_NO_THREAD_SAFETY_ANALYSIS { mu.lock(); }
  void unlock() ABSL_NO_THREAD_SAFETY_ANALYSIS { mu.unlock(); }
  void lock_shared() ABSL_NO_THREAD_SAFETY_ANALYSIS { mu.lock(); }
  void unlock_shared() ABSL_NO_THREAD_SAFETY_ANALYSIS { mu.unlock(); }
};

template <class L>
void BM_W1Read(benchmark::State& state) {
  L l;
  for (auto _ : state) {
    l.lock_shared();
    benchmark::ClobberMemory();
    l.unlock_shared();
  }
}

// Each run gets a fresh lock shared by its threads: thread 0 replaces it
// before the loop, whose start is a barrier for the run's threads, and every
// thread reads the pointer inside the loop (after the barrier).
template <class L>
L*& shared_lock_ptr() {
  static L* lock = nullptr;
  return lock;
}
template <class L>
void replace_shared(benchmark::State& state) {
  if (state.thread_index() == 0) {
    delete shared_lock_ptr<L>();
    shared_lock_ptr<L>() = new L();
  }
}

template <class L>
void BM_ReadShared(benchmark::State& state) {
  replace_shared<L>(state);
  for (auto _ : state) {
    L* l = shared_lock_ptr<L>();
    l->lock_shared();
    benchmark::ClobberMemory();
    l->unlock_shared();
  }
}

template <class L>
void BM_Postmortem(benchmark::State& state) {
  constexpr int kReadsPerWrite = 200;
  const uint64_t steps = busy_steps_for_ns(100);
  replace_shared<L>(state);
  std::vector<int64_t> waits;
  waits.reserve(1 << 16);
  uint64_t x = static_cast<uint64_t>(state.thread_index()) + 1;
  int i = state.thread_index() * 37;  // threads write at different moments
  for (auto _ : state) {
    L* l = shared_lock_ptr<L>();
    if (++i % (kReadsPerWrite + 1) == 0) {
      const int64_t t0 = internal::monotonic_now_ns();
      l->lock();
      waits.push_back(internal::monotonic_now_ns() - t0);
      x = busy_chain(x, steps);
      l->unlock();
    } else {
      l->lock_shared();
      x = busy_chain(x, steps);
      l->unlock_shared();
    }
  }
  benchmark::DoNotOptimize(x);
  double p99 = 0;
  if (!waits.empty()) {
    const size_t k = (waits.size() * 99) / 100;
    std::nth_element(waits.begin(), waits.begin() + static_cast<long>(k),
                     waits.end());
    p99 = static_cast<double>(waits[k]);
  }
  state.counters["writer_p99_ns"] =
      benchmark::Counter(p99, benchmark::Counter::kAvgThreads);
  state.SetItemsProcessed(state.iterations());
}

#define CONTEND_READER_LOCK(L, NAME)                      \
  BENCHMARK_TEMPLATE(BM_W1Read, L)->Name("W1Read/" NAME); \
  BENCHMARK_TEMPLATE(BM_ReadShared, L)                    \
      ->Name("ReadShared/" NAME)                          \
      ->Threads(1)                                        \
      ->Threads(2)                                        \
      ->Threads(4)                                        \
      ->UseRealTime();                                    \
  BENCHMARK_TEMPLATE(BM_Postmortem, L)                    \
      ->Name("Postmortem/" NAME)                          \
      ->Threads(2)                                        \
      ->Threads(4)                                        \
      ->UseRealTime()

CONTEND_READER_LOCK(Distributed, "DistributedRWMutex");
CONTEND_READER_LOCK(RW, "RWMutex");
CONTEND_READER_LOCK(StdShared, "std::shared_mutex");
CONTEND_READER_LOCK(Exclusive, "Mutex");

}  // namespace
}  // namespace contend::bench

BENCHMARK_MAIN();
