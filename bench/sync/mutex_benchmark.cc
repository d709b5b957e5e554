// Copyright 2026 The contend Authors.
//
// contend::Mutex against std::mutex, absl::Mutex and tbb::spin_mutex (a
// test-and-test-and-set spinlock with backoff: the bound for a lock that never
// sleeps), one binary:
//
//   bazel run -c opt //bench/sync:mutex_benchmark -- --benchmark_repetitions=5
//
// Workloads (T = threads):
//  W1/<lock>/threads:T   uncontended lock+unlock; every thread has its own
//                        lock on its own cache line. Time = per thread op.
//  W2/<lock>/T           contended: each thread loops {lock; ~50 ns busy
//                        work; unlock; ~50 ns busy work} for a fixed wall
//                        time. The inside and outside work are one dependent
//                        chain per thread; inside the lock the chain also
//                        passes through a load and a store of a word private
//                        to the thread, so the CPU can start the inside work
//                        only after the acquiring RMW and can release only
//                        after it (x86: locked RMWs order loads and drain the
//                        store buffer), without adding coherence traffic.
//                        Counter ns_per_op = wall / total ops (all threads);
//                        max_share = busiest thread's share of the ops (1/T
//                        is perfectly even).
//  Latency/<lock>/T      W2 plus a timestamp around every lock() call;
//                        counters p50/p99/max acquisition latency in ns.
//  With --wait_quiet (our flag, stripped before Google Benchmark sees the
//  arguments), every W2/Latency/Hog measurement waits until other processes
//  are idle and is repeated (up to 20 times) until they stayed idle during
//  the run; counter foreign_cpu_pct reports how much of the machine others
//  used during the kept run. W1 waits for a quiet machine before starting.
//
//  Hog/<lock>            fairness: one thread re-acquires in a tight loop
//                        with ~100 us inside; a victim thread takes the lock
//                        every ~100 us; counters: victim acquisitions and its
//                        p50/max acquisition latency.

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "bench/sync/busy_work.h"
#include "benchmark/benchmark.h"
#include "sync/internal/cache_padded.h"
#include "sync/internal/clock.h"
#include "sync/mutex.h"
#include "tbb/spin_mutex.h"

namespace contend::bench {
namespace {

using internal::CachePadded;
using internal::monotonic_now_ns;

// --- Lock adapters ----------------------------------------------------------

struct ContendMutexLock {
  static constexpr const char* kName = "contend::Mutex";
  contend::Mutex mu;
  void lock() { mu.lock(); }
  void unlock() { mu.unlock(); }
};

struct StdMutexLock {
  static constexpr const char* kName = "std::mutex";
  std::mutex mu;
  void lock() { mu.lock(); }
  void unlock() { mu.unlock(); }
};

struct TbbSpinMutexLock {
  static constexpr const char* kName = "tbb::spin_mutex";
  tbb::spin_mutex mu;
  void lock() { mu.lock(); }
  void unlock() { mu.unlock(); }
};

struct AbslMutexLock {
  static constexpr const char* kName = "absl::Mutex";
  absl::Mutex mu;
  void lock() ABSL_NO_THREAD_SAFETY_ANALYSIS { mu.Lock(); }
  void unlock() ABSL_NO_THREAD_SAFETY_ANALYSIS { mu.Unlock(); }
};

// --- Latency histogram ------------------------------------------------------

// Log-linear histogram of nanosecond values: 32 sub-buckets per power of two
// (~3% resolution), no allocation while recording.
class Histogram {
 public:
  void record(uint64_t ns) noexcept {
    ++counts_[index(ns)];
    max_ = std::max(max_, ns);
    ++total_;
  }
  void merge(const Histogram& o) noexcept {
    for (size_t i = 0; i < kBuckets; ++i) counts_[i] += o.counts_[i];
    max_ = std::max(max_, o.max_);
    total_ += o.total_;
  }
  // Upper edge of the bucket holding quantile q.
  double quantile(double q) const noexcept {
    if (total_ == 0) return 0;
    const uint64_t rank =
        static_cast<uint64_t>(q * static_cast<double>(total_));
    uint64_t seen = 0;
    for (size_t i = 0; i < kBuckets; ++i) {
      seen += counts_[i];
      if (seen > rank) return static_cast<double>(upper(i));
    }
    return static_cast<double>(max_);
  }
  uint64_t max() const noexcept { return max_; }
  uint64_t total() const noexcept { return total_; }

 private:
  static constexpr int kSubBits = 5;
  static constexpr size_t kBuckets = 64 << kSubBits;
  static size_t index(uint64_t v) noexcept {
    if (v < (1u << kSubBits)) return static_cast<size_t>(v);
    const int msb = 63 - __builtin_clzll(v);
    const int shift = msb - kSubBits;
    const uint64_t sub = (v >> shift) & ((1u << kSubBits) - 1);
    return static_cast<size_t>((shift + 1) << kSubBits) + sub;
  }
  static uint64_t upper(size_t i) noexcept {
    if (i < (1u << kSubBits)) return i;
    const int shift = static_cast<int>(i >> kSubBits) - 1;
    const uint64_t sub = i & ((1u << kSubBits) - 1);
    return (((uint64_t{1} << kSubBits) | sub) + 1) << shift;
  }
  uint64_t counts_[kBuckets] = {};
  uint64_t max_ = 0;
  uint64_t total_ = 0;
};

bool g_wait_quiet = false;

// Runs `measure` until the machine stayed quiet during it (with
// --wait_quiet); returns the foreign CPU fraction of the kept run.
template <class F>
double quiet_run(F&& measure) {
  double foreign = 0;
  for (int attempt = 0; attempt < 20; ++attempt) {
    if (g_wait_quiet) wait_for_quiet_machine();
    ForeignCpu meter;
    meter.start();
    measure();
    foreign = meter.fraction();
    if (!g_wait_quiet || foreign <= 0.03) break;
  }
  return foreign;
}

// --- W1: uncontended ------------------------------------------------------

template <class Lock>
void BM_W1(benchmark::State& state) {
  static CachePadded<Lock> locks[8];
  Lock& lock = *locks[state.thread_index()];
  if (g_wait_quiet && state.thread_index() == 0) wait_for_quiet_machine();
  for (auto _ : state) {
    lock.lock();
    lock.unlock();
  }
  state.SetLabel(Lock::kName);
}

// --- W2 / Latency: contended ---------------------------------------------

constexpr int64_t kRunNs = 300'000'000;  // wall time per measurement
constexpr double kInsideNs = 50;
constexpr double kOutsideNs = 50;

struct RunResult {
  int64_t wall_ns = 0;
  uint64_t ops = 0;
  uint64_t max_thread_ops = 0;
  Histogram latency;  // ticks converted to ns
};

template <class Lock, bool kSampleLatency>
RunResult run_contended(int threads) {
  auto lock = std::make_unique<CachePadded<Lock>>();
  CachePadded<std::atomic<bool>> go{false};
  CachePadded<std::atomic<bool>> stop{false};
  std::vector<CachePadded<uint64_t>> ops(static_cast<size_t>(threads));
  std::vector<std::unique_ptr<Histogram>> hists;
  hists.reserve(static_cast<size_t>(threads));
  for (int t = 0; t < threads; ++t) {
    hists.push_back(std::make_unique<Histogram>());
  }
  const uint64_t in_steps = busy_steps_for_ns(kInsideNs);
  const uint64_t out_steps = busy_steps_for_ns(kOutsideNs);
  const double ns_per_tick = busy_calibration().ns_per_tick;

  std::vector<std::thread> workers;
  workers.reserve(static_cast<size_t>(threads));
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      Lock& l = **lock;
      Histogram& h = *hists[static_cast<size_t>(t)];
      // The thread's own word (own cache line), touched inside the lock.
      auto own = std::make_unique<CachePadded<std::atomic<uint64_t>>>(0);
      uint64_t x = static_cast<uint64_t>(t) + 1;
      uint64_t n = 0;
      while (!go->load(std::memory_order_acquire)) {
      }
      while (!stop->load(std::memory_order_relaxed)) {
        uint64_t t0 = 0;
        if constexpr (kSampleLatency) t0 = ticks();
        l.lock();
        if constexpr (kSampleLatency) {
          h.record(static_cast<uint64_t>(static_cast<double>(ticks() - t0) *
                                         ns_per_tick));
        }
        // Inside. Relaxed: a private word; only its position between the
        // lock's RMWs matters.
        x = busy_chain(x + (*own)->load(std::memory_order_relaxed), in_steps);
        (*own)->store(x, std::memory_order_relaxed);
        l.unlock();
        // Outside: same chain.
        x = busy_chain(x, out_steps);
        ++n;
      }
      *ops[static_cast<size_t>(t)] = n;
      benchmark::DoNotOptimize(x);
    });
  }
  const int64_t t0 = monotonic_now_ns();
  go->store(true, std::memory_order_release);
  std::this_thread::sleep_for(std::chrono::nanoseconds(kRunNs));
  stop->store(true, std::memory_order_relaxed);
  const int64_t t1 = monotonic_now_ns();
  for (auto& w : workers) w.join();

  RunResult r;
  r.wall_ns = t1 - t0;
  for (int t = 0; t < threads; ++t) {
    const uint64_t n = *ops[static_cast<size_t>(t)];
    r.ops += n;
    r.max_thread_ops = std::max(r.max_thread_ops, n);
    r.latency.merge(*hists[static_cast<size_t>(t)]);
  }
  return r;
}

template <class Lock>
void BM_W2(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  RunResult r;
  double foreign = 0;
  for (auto _ : state) {
    foreign = quiet_run([&] { r = run_contended<Lock, false>(threads); });
    state.SetIterationTime(static_cast<double>(r.wall_ns) * 1e-9);
  }
  state.counters["foreign_cpu_pct"] = 100 * foreign;
  state.counters["ns_per_op"] =
      static_cast<double>(r.wall_ns) / static_cast<double>(r.ops);
  state.counters["max_share"] =
      static_cast<double>(r.max_thread_ops) / static_cast<double>(r.ops);
  state.SetLabel(Lock::kName);
}

template <class Lock>
void BM_Latency(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  RunResult r;
  double foreign = 0;
  for (auto _ : state) {
    foreign = quiet_run([&] { r = run_contended<Lock, true>(threads); });
    state.SetIterationTime(static_cast<double>(r.wall_ns) * 1e-9);
  }
  state.counters["foreign_cpu_pct"] = 100 * foreign;
  state.counters["ns_per_op"] =
      static_cast<double>(r.wall_ns) / static_cast<double>(r.ops);
  state.counters["p50_ns"] = r.latency.quantile(0.50);
  state.counters["p99_ns"] = r.latency.quantile(0.99);
  state.counters["max_ns"] = static_cast<double>(r.latency.max());
  state.SetLabel(Lock::kName);
}

// --- Hog: fairness under a tight re-acquire loop ----------------------------

template <class Lock>
void BM_Hog(benchmark::State& state) {
  constexpr int64_t kHogRunNs = 1'000'000'000;
  constexpr double kHoldNs = 100'000;
  Histogram victim;
  double foreign = 0;
  for (auto _ : state) {
    if (g_wait_quiet) wait_for_quiet_machine();
    ForeignCpu meter;
    meter.start();
    auto lock = std::make_unique<CachePadded<Lock>>();
    std::atomic<bool> stop{false};
    victim = Histogram();
    const uint64_t hold = busy_steps_for_ns(kHoldNs);
    const int64_t t0 = monotonic_now_ns();
    const int64_t deadline = t0 + kHogRunNs;
    // The hog also stops at the deadline by itself: an unfair lock
    // (tbb::spin_mutex here) can starve the victim for tens of seconds, and the
    // victim would never get to set `stop`. A victim still waiting then gets
    // the lock once the hog is gone, so victim_max_ns stays under the run
    // length, and a victim_max_ns near it (with few victim_ops) reads as
    // starvation for the rest of the run.
    // It reads the clock while holding the lock, so the gap between its unlock
    // and its next lock is as short as it was with the `stop` check alone.
    std::thread hog([&] {
      uint64_t x = 1;
      for (bool done = false; !done;) {
        (*lock)->lock();
        x = busy_chain(x, hold);
        done = stop.load(std::memory_order_relaxed) ||
               monotonic_now_ns() >= deadline;
        (*lock)->unlock();
      }
      benchmark::DoNotOptimize(x);
    });
    while (monotonic_now_ns() < deadline) {
      const int64_t a = monotonic_now_ns();
      (*lock)->lock();
      const int64_t b = monotonic_now_ns();
      (*lock)->unlock();
      victim.record(static_cast<uint64_t>(b - a));
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    stop.store(true, std::memory_order_relaxed);
    hog.join();
    state.SetIterationTime(static_cast<double>(monotonic_now_ns() - t0) * 1e-9);
    foreign = meter.fraction();
  }
  state.counters["foreign_cpu_pct"] = 100 * foreign;
  state.counters["victim_ops"] = static_cast<double>(victim.total());
  state.counters["victim_p50_ns"] = victim.quantile(0.5);
  state.counters["victim_max_ns"] = static_cast<double>(victim.max());
  state.SetLabel(Lock::kName);
}

#define CONTEND_MUTEX_BENCH(Lock)                                      \
  BENCHMARK_TEMPLATE(BM_W1, Lock)->Threads(1)->Threads(2)->Threads(4); \
  BENCHMARK_TEMPLATE(BM_W2, Lock)                                      \
      ->Arg(1)                                                         \
      ->Arg(2)                                                         \
      ->Arg(4)                                                         \
      ->UseManualTime()                                                \
      ->Iterations(1)                                                  \
      ->Unit(benchmark::kMillisecond);                                 \
  BENCHMARK_TEMPLATE(BM_Latency, Lock)                                 \
      ->Arg(2)                                                         \
      ->Arg(4)                                                         \
      ->UseManualTime()                                                \
      ->Iterations(1)                                                  \
      ->Unit(benchmark::kMillisecond);                                 \
  BENCHMARK_TEMPLATE(BM_Hog, Lock)                                     \
      ->UseManualTime()                                                \
      ->Iterations(1)                                                  \
      ->Unit(benchmark::kMillisecond)

CONTEND_MUTEX_BENCH(ContendMutexLock);
CONTEND_MUTEX_BENCH(StdMutexLock);
CONTEND_MUTEX_BENCH(AbslMutexLock);
CONTEND_MUTEX_BENCH(TbbSpinMutexLock);

}  // namespace
}  // namespace contend::bench

int main(int argc, char** argv) {
  // Debian builds Abseil without NDEBUG, which leaves deadlock detection on
  // and makes absl::Mutex ~3.5x slower than a release build (measured here).
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  // Strip our own flag before Google Benchmark parses the rest.
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--wait_quiet") {
      contend::bench::g_wait_quiet = true;
    } else {
      argv[kept++] = argv[i];
    }
  }
  argc = kept;
  if (contend::bench::g_wait_quiet) contend::bench::wait_for_quiet_machine();
  contend::bench::busy_calibration();  // before any timing
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
