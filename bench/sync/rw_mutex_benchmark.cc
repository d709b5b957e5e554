// Copyright 2026 The contend Authors.
//
// contend::RWMutex against std::shared_mutex, absl::Mutex (reader mode),
// contend::Mutex and std::mutex, one binary:
//
//   bazel run -c opt //bench/sync:rw_mutex_benchmark --
//       --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//   (one command line)
//
// Workloads:
//  W1Read/<lock>/threads:T   uncontended read lock+unlock; every thread has
//                            its own lock on its own cache line. Time = per
//                            thread op.
//  W1Write/<lock>/threads:1  uncontended write lock+unlock.
//  ReadShared/<lock>/T       T threads read-lock+unlock ONE lock, no work:
//                            the reader-count cache line bouncing that
//                            *sync — Senior* blames. Counter ns_per_op = wall /
//                            total ops.
//  W3/<lock>/<cs_ns>         the article's table: 4 readers + 1 writer, each
//                            critical section <cs_ns> of calibrated busy work
//                            (50 and 5000), no work outside. Each thread does
//                            a fixed share (1/5) of the ops, so a lock's
//                            fairness cannot change the read/write mix.
//                            Counter ns_per_op = wall (first start to last
//                            finish) / total ops. Ideal on 2 CPUs:
//                            cs * (1/5 + (4/5)/2) = 0.6 * cs, i.e. 30 ns and
//                            3,000 ns (writes serial, reads two at a time).
//                            Exclusive-only locks (Mutex, std::mutex) take
//                            read locks as write locks: ideal cs.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "bench/sync/busy_work.h"
#include "benchmark/benchmark.h"
#include "sync/internal/cache_padded.h"
#include "sync/internal/clock.h"
#include "sync/mutex.h"
#include "sync/rw_mutex.h"

namespace contend::bench {
namespace {

using internal::CachePadded;
using internal::monotonic_now_ns;

// --- Lock adapters: lock/unlock/lock_shared/unlock_shared -------------------

struct ContendRWMutex {
  static constexpr const char* kName = "contend::RWMutex";
  contend::RWMutex mu;
  void lock() ABSL_NO_THREAD_SAFETY_ANALYSIS { mu.lock(); }
  void unlock() ABSL_NO_THREAD_SAFETY_ANALYSIS { mu.unlock(); }
  void lock_shared() ABSL_NO_THREAD_SAFETY_ANALYSIS { mu.lock_shared(); }
  void unlock_shared() ABSL_NO_THREAD_SAFETY_ANALYSIS { mu.unlock_shared(); }
};

struct StdSharedMutex {
  static constexpr const char* kName = "std::shared_mutex";
  std::shared_mutex mu;
  void lock() ABSL_NO_THREAD_SAFETY_ANALYSIS { mu.lock(); }
  void unlock() ABSL_NO_THREAD_SAFETY_ANALYSIS { mu.unlock(); }
  void lock_shared() ABSL_NO_THREAD_SAFETY_ANALYSIS { mu.lock_shared(); }
  void unlock_shared() ABSL_NO_THREAD_SAFETY_ANALYSIS { mu.unlock_shared(); }
};

struct AbslMutexRW {
  static constexpr const char* kName = "absl::Mutex";
  absl::Mutex mu;
  void lock() ABSL_NO_THREAD_SAFETY_ANALYSIS { mu.Lock(); }
  void unlock() ABSL_NO_THREAD_SAFETY_ANALYSIS { mu.Unlock(); }
  void lock_shared() ABSL_NO_THREAD_SAFETY_ANALYSIS { mu.ReaderLock(); }
  void unlock_shared() ABSL_NO_THREAD_SAFETY_ANALYSIS { mu.ReaderUnlock(); }
};

// Exclusive-only peers: a read is a write.
struct ContendMutexX {
  static constexpr const char* kName = "contend::Mutex";
  contend::Mutex mu;
  void lock() ABSL_NO_THREAD_SAFETY_ANALYSIS { mu.lock(); }
  void unlock() ABSL_NO_THREAD_SAFETY_ANALYSIS { mu.unlock(); }
  void lock_shared() ABSL_NO_THREAD_SAFETY_ANALYSIS { mu.lock(); }
  void unlock_shared() ABSL_NO_THREAD_SAFETY_ANALYSIS { mu.unlock(); }
};

struct StdMutexX {
  static constexpr const char* kName = "std::mutex";
  std::mutex mu;
  void lock() ABSL_NO_THREAD_SAFETY_ANALYSIS { mu.lock(); }
  void unlock() ABSL_NO_THREAD_SAFETY_ANALYSIS { mu.unlock(); }
  void lock_shared() ABSL_NO_THREAD_SAFETY_ANALYSIS { mu.lock(); }
  void unlock_shared() ABSL_NO_THREAD_SAFETY_ANALYSIS { mu.unlock(); }
};

// Machine capacity reference for W3: no lock at all (the writer's data is an
// atomic, so the race is benign). Shows what 5 threads of busy work get from
// the CPUs at the moment of measurement.
struct NoLock {
  static constexpr const char* kName = "no lock (capacity)";
  void lock() {}
  void unlock() {}
  void lock_shared() {}
  void unlock_shared() {}
};

// --- W1: uncontended
// ----------------------------------------------------------

template <class Lock>
void BM_W1Read(benchmark::State& state) {
  static CachePadded<Lock> locks[8];
  Lock& lock = *locks[state.thread_index()];
  for (auto _ : state) {
    lock.lock_shared();
    lock.unlock_shared();
  }
  state.SetLabel(Lock::kName);
}

template <class Lock>
void BM_W1Write(benchmark::State& state) {
  static CachePadded<Lock> locks[8];
  Lock& lock = *locks[state.thread_index()];
  for (auto _ : state) {
    lock.lock();
    lock.unlock();
  }
  state.SetLabel(Lock::kName);
}

// --- ReadShared: readers only, one lock
// ---------------------------------------

template <class Lock>
void BM_ReadShared(benchmark::State& state) {
  constexpr uint64_t kOpsPerThread = 2'000'000;
  const int threads = static_cast<int>(state.range(0));
  double ns_per_op = 0;
  for (auto _ : state) {
    auto lock = std::make_unique<CachePadded<Lock>>();
    std::atomic<int> ready{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> workers;
    workers.reserve(static_cast<size_t>(threads));
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&] {
        ready.fetch_add(1);
        while (!go.load(std::memory_order_acquire)) {
        }
        for (uint64_t i = 0; i < kOpsPerThread; ++i) {
          (*lock)->lock_shared();
          (*lock)->unlock_shared();
        }
      });
    }
    while (ready.load() < threads) {
    }
    const int64_t t0 = monotonic_now_ns();
    go.store(true, std::memory_order_release);
    for (auto& w : workers) w.join();
    const int64_t wall = monotonic_now_ns() - t0;
    state.SetIterationTime(static_cast<double>(wall) * 1e-9);
    ns_per_op =
        static_cast<double>(wall) /
        static_cast<double>(kOpsPerThread * static_cast<uint64_t>(threads));
  }
  state.counters["ns_per_op"] = ns_per_op;
  state.SetLabel(Lock::kName);
}

// --- W3: 4 readers + 1 writer, fixed shares
// -----------------------------------

constexpr int kReaders = 4;
constexpr int kWriters = 1;

struct W3Result {
  int64_t wall_ns = 0;
  uint64_t ops = 0;
  int64_t writer_done_ns = 0;  // when the writer finished, from start
};

template <class Lock>
W3Result run_w3(double cs_ns, uint64_t ops_per_thread) {
  struct Shared {
    Lock lock;
    // Guarded by lock. Atomic only so that the NoLock reference is not a
    // data race; relaxed loads/stores compile to plain moves.
    alignas(internal::kCacheLineSize) std::atomic<uint64_t> data{1};
  };
  auto shared = std::make_unique<CachePadded<Shared>>();
  CachePadded<std::atomic<int>> ready{0};
  CachePadded<std::atomic<bool>> go{false};
  const uint64_t steps = busy_steps_for_ns(cs_ns);
  constexpr int kThreads = kReaders + kWriters;
  std::vector<int64_t> finish_ns(kThreads);

  std::vector<std::thread> workers;
  workers.reserve(static_cast<size_t>(kThreads));
  for (int t = 0; t < kThreads; ++t) {
    workers.emplace_back([&, t] {
      Shared& s = **shared;
      const bool writer = t < kWriters;
      uint64_t x = static_cast<uint64_t>(t) + 1;
      ready->fetch_add(1);
      while (!go->load(std::memory_order_acquire)) {
      }
      for (uint64_t i = 0; i < ops_per_thread; ++i) {
        if (writer) {
          s.lock.lock();
          x = busy_chain(x + s.data.load(std::memory_order_relaxed), steps);
          s.data.store(x, std::memory_order_relaxed);
          s.lock.unlock();
        } else {
          s.lock.lock_shared();
          x = busy_chain(x + s.data.load(std::memory_order_relaxed), steps);
          s.lock.unlock_shared();
        }
      }
      finish_ns[static_cast<size_t>(t)] = monotonic_now_ns();
      benchmark::DoNotOptimize(x);
    });
  }
  while (ready->load() < kThreads) {
  }
  const int64_t t0 = monotonic_now_ns();
  go->store(true, std::memory_order_release);
  for (auto& w : workers) w.join();
  W3Result r;
  r.wall_ns = *std::max_element(finish_ns.begin(), finish_ns.end()) - t0;
  r.writer_done_ns = finish_ns[0] - t0;
  r.ops = ops_per_thread * kThreads;
  return r;
}

template <class Lock>
void BM_W3(benchmark::State& state) {
  const double cs_ns = static_cast<double>(state.range(0));
  // ~0.15-0.3 s per run at the ideal rate; slow locks take longer.
  const uint64_t ops_per_thread = cs_ns < 1000 ? 1'000'000 : 20'000;
  W3Result r;
  for (auto _ : state) {
    r = run_w3<Lock>(cs_ns, ops_per_thread);
    state.SetIterationTime(static_cast<double>(r.wall_ns) * 1e-9);
  }
  state.counters["ns_per_op"] =
      static_cast<double>(r.wall_ns) / static_cast<double>(r.ops);
  // Fraction of the run after which the writer had done its share: ~1 when
  // the writer is served last (readers preferred), small when it runs early.
  state.counters["writer_done"] =
      static_cast<double>(r.writer_done_ns) / static_cast<double>(r.wall_ns);
  state.SetLabel(Lock::kName);
}

#define CONTEND_RW_W1(Lock)                                                \
  BENCHMARK_TEMPLATE(BM_W1Read, Lock)->Threads(1)->Threads(2)->Threads(4); \
  BENCHMARK_TEMPLATE(BM_W1Write, Lock)->Threads(1)

#define CONTEND_RW_SHARED(Lock)           \
  BENCHMARK_TEMPLATE(BM_ReadShared, Lock) \
      ->Arg(1)                            \
      ->Arg(2)                            \
      ->Arg(4)                            \
      ->UseManualTime()                   \
      ->Iterations(1)                     \
      ->Unit(benchmark::kMillisecond)

#define CONTEND_RW_W3(Lock)       \
  BENCHMARK_TEMPLATE(BM_W3, Lock) \
      ->Arg(50)                   \
      ->Arg(5000)                 \
      ->UseManualTime()           \
      ->Iterations(1)             \
      ->Unit(benchmark::kMillisecond)

CONTEND_RW_W1(ContendRWMutex);
CONTEND_RW_W1(StdSharedMutex);
CONTEND_RW_W1(AbslMutexRW);

CONTEND_RW_SHARED(ContendRWMutex);
CONTEND_RW_SHARED(StdSharedMutex);
CONTEND_RW_SHARED(AbslMutexRW);

CONTEND_RW_W3(ContendRWMutex);
CONTEND_RW_W3(ContendMutexX);
CONTEND_RW_W3(StdSharedMutex);
CONTEND_RW_W3(StdMutexX);
CONTEND_RW_W3(AbslMutexRW);
CONTEND_RW_W3(NoLock);

}  // namespace
}  // namespace contend::bench

int main(int argc, char** argv) {
  // Debian builds Abseil without NDEBUG, which leaves deadlock detection on
  // and makes absl::Mutex ~3.5x slower than a release build (measured here).
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  contend::bench::busy_calibration();  // before any timing
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
