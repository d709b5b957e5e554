// Copyright 2026 The contend Authors.
//
// W5: counter increments, contend::ShardedCounter against its peers, one
// binary:
//
//   bazel run -c opt //bench/shard:sharded_counter_benchmark --
//       --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//   (one command line)
//
// Workloads:
//  W5Add/<counter>/threads:T   every thread increments one shared counter
//                              object; time = per-thread op. Peers:
//                              SharedAtomic (one std::atomic fetch_add),
//                              PaddedFetchAdd (a padded slot per thread,
//                              fetch_add), PaddedOwnerStore (a padded slot
//                              per thread, load + store: the lower bound,
//                              correct only because each slot has one
//                              writer), TbbCombinable, TbbEts
//                              (enumerable_thread_specific), Sharded.
//  W5Load/<counter>            the cost of one read (sum) of a counter that
//                              T=2 threads have written; label: slots.
//  W5Crossover/<counter>/R     2 threads, each doing R increments then one
//                              read, repeatedly: time per increment (the
//                              read amortized); where Sharded starts to beat
//                              SharedAtomic is the article's "write:read
//                              > 100:1" (section 3).
//  W5Interleave/pinned:P       2 threads fetch_add one std::atomic (the
//                              SharedAtomic peer), each pinned to a CPU of
//                              its own when P=1; counter `interleaved`: the
//                              fraction of increments that found the word
//                              last written by the other thread, i.e. how
//                              often the line actually moved between cores.
//                              ~1 when both threads run at once; ~0 when a
//                              loaded machine time-slices them (then no
//                              contended row measures contention).

#include <sched.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <type_traits>

#include "benchmark/benchmark.h"
#include "shard/sharded_counter.h"
#include "sync/internal/cache_padded.h"
#include "tbb/combinable.h"
#include "tbb/enumerable_thread_specific.h"

namespace contend::bench {
namespace {

using internal::CachePadded;

constexpr int kMaxThreads = 64;

// --- Counter adapters: add(thread, n) and read() -----------------------------

struct SharedAtomic {
  std::atomic<int64_t> v{0};
  void add(int /*thread*/, int64_t n) {
    v.fetch_add(n, std::memory_order_relaxed);
  }
  int64_t read() const { return v.load(std::memory_order_relaxed); }
};

struct PaddedFetchAdd {
  CachePadded<std::atomic<int64_t>> slots[kMaxThreads];
  void add(int thread, int64_t n) {
    slots[thread]->fetch_add(n, std::memory_order_relaxed);
  }
  int64_t read() const {
    int64_t s = 0;
    for (const auto& slot : slots) s += slot->load(std::memory_order_relaxed);
    return s;
  }
};

struct PaddedOwnerStore {
  CachePadded<std::atomic<int64_t>> slots[kMaxThreads];
  void add(int thread, int64_t n) {
    auto& s = *slots[thread];
    s.store(s.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  int64_t read() const {
    int64_t s = 0;
    for (const auto& slot : slots) s += slot->load(std::memory_order_relaxed);
    return s;
  }
};

struct TbbCombinable {
  tbb::combinable<int64_t> c{[] { return int64_t{0}; }};
  void add(int /*thread*/, int64_t n) { c.local() += n; }
  int64_t read() {
    return c.combine([](int64_t a, int64_t b) { return a + b; });
  }
};

struct TbbEts {
  tbb::enumerable_thread_specific<int64_t> e{int64_t{0}};
  void add(int /*thread*/, int64_t n) { e.local() += n; }
  int64_t read() {
    return e.combine([](int64_t a, int64_t b) { return a + b; });
  }
};

struct Sharded {
  ShardedCounter c;
  void add(int /*thread*/, int64_t n) { c.add(n); }
  int64_t read() const { return c.load(); }
};

// Each benchmark run gets a fresh counter object shared by its threads:
// thread 0 replaces it before the loop, and the loop's start is a barrier
// for all the run's threads, so they all see the new one.
template <class C>
void BM_W5Add(benchmark::State& state) {
  static C* counter = nullptr;
  if (state.thread_index() == 0) {
    delete counter;
    counter = new C();
  }
  const int t = state.thread_index();
  for (auto _ : state) {
    counter->add(t, 1);
  }
  state.SetItemsProcessed(state.iterations());
}

template <class C>
void BM_W5Load(benchmark::State& state) {
  C c;
  // Two threads' worth of writes, so every slot in use is populated.
  std::thread other([&] { c.add(1, 1); });
  other.join();
  c.add(0, 1);
  for (auto _ : state) {
    benchmark::DoNotOptimize(c.read());
  }
  if constexpr (std::is_same_v<C, Sharded>) {
    state.SetLabel(std::to_string(c.c.slot_count()) + " slots");
  }
}

template <class C>
void BM_W5Crossover(benchmark::State& state) {
  static C* counter = nullptr;
  if (state.thread_index() == 0) {
    delete counter;
    counter = new C();
  }
  const int t = state.thread_index();
  const int64_t r = state.range(0);
  int64_t sink = 0;
  for (auto _ : state) {
    for (int64_t i = 0; i < r; ++i) counter->add(t, 1);
    sink += counter->read();
  }
  benchmark::DoNotOptimize(sink);
  state.SetItemsProcessed(state.iterations() * r);
}

void BM_W5Interleave(benchmark::State& state) {
  static std::atomic<int64_t>* word = nullptr;
  if (state.thread_index() == 0) {
    delete word;
    word = new std::atomic<int64_t>(0);
  }
  cpu_set_t before;
  CPU_ZERO(&before);
  const bool pin = state.range(0) != 0 &&
                   sched_getaffinity(0, sizeof(before), &before) == 0 &&
                   CPU_COUNT(&before) >= state.threads();
  if (pin) {
    // The thread_index()-th CPU of the allowed set.
    int seen = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
      if (CPU_ISSET(cpu, &before) && seen++ == state.thread_index()) {
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(cpu, &one);
        sched_setaffinity(0, sizeof(one), &one);
        break;
      }
    }
  }
  int64_t mine = -1;  // the value this thread's last increment produced
  int64_t interleaved = 0;
  for (auto _ : state) {
    const int64_t prev = word->fetch_add(1, std::memory_order_relaxed);
    interleaved += prev != mine ? 1 : 0;
    mine = prev + 1;
  }
  if (pin) sched_setaffinity(0, sizeof(before), &before);
  state.counters["interleaved"] = benchmark::Counter(
      static_cast<double>(interleaved) /
          static_cast<double>(std::max<int64_t>(1, state.iterations())),
      benchmark::Counter::kAvgThreads);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_W5Interleave)
    ->Name("W5Interleave")
    ->ArgName("pinned")
    ->Arg(0)
    ->Arg(1)
    ->Threads(2)
    ->UseRealTime();

#define CONTEND_W5(C)                                   \
  BENCHMARK_TEMPLATE(BM_W5Add, C)                       \
      ->Name("W5Add/" #C)                               \
      ->Threads(1)                                      \
      ->Threads(2)                                      \
      ->Threads(4)                                      \
      ->UseRealTime();                                  \
  BENCHMARK_TEMPLATE(BM_W5Load, C)->Name("W5Load/" #C); \
  BENCHMARK_TEMPLATE(BM_W5Crossover, C)                 \
      ->Name("W5Crossover/" #C)                         \
      ->Arg(1)                                          \
      ->Arg(10)                                         \
      ->Arg(100)                                        \
      ->Arg(1000)                                       \
      ->Arg(10000)                                      \
      ->Threads(2)                                      \
      ->UseRealTime()

CONTEND_W5(SharedAtomic);
CONTEND_W5(PaddedFetchAdd);
CONTEND_W5(PaddedOwnerStore);
CONTEND_W5(TbbCombinable);
CONTEND_W5(TbbEts);
CONTEND_W5(Sharded);

}  // namespace
}  // namespace contend::bench

BENCHMARK_MAIN();
