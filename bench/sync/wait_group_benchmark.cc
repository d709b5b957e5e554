// Copyright 2026 The contend Authors.
//
// contend::WaitGroup costs:
//
//   bazel run -c opt //bench/sync:wait_group_benchmark --
//   --benchmark_repetitions=5
//
//  AddDone/contend::WaitGroup       add(1); done() on a private WaitGroup.
//  AddDone/atomic_fetch_add_pair    the floor: two fetch_adds on a word.
//  AddDone/.../threads:2            both threads on one shared WaitGroup
//                                   (cache-line ping-pong, the cost of many
//                                   workers reporting to one group).
//  GoWait/contend::WaitGroup        go(trivial task) + wait(): one thread
//                                   creation and one wake-up per iteration.
//  GoWait/std::thread+join          the same work written with std::thread.

#include <atomic>
#include <cstdint>
#include <thread>

#include "benchmark/benchmark.h"
#include "sync/wait_group.h"

namespace contend::bench {
namespace {

void BM_AddDone(benchmark::State& state) {
  static contend::WaitGroup shared;
  contend::WaitGroup own;
  contend::WaitGroup& wg = state.threads() > 1 ? shared : own;
  for (auto _ : state) {
    wg.add(1);
    wg.done();
  }
}
BENCHMARK(BM_AddDone)
    ->Name("AddDone/contend::WaitGroup")
    ->Threads(1)
    ->Threads(2);

void BM_AtomicPair(benchmark::State& state) {
  static std::atomic<uint64_t> shared{0};
  std::atomic<uint64_t> own{0};
  std::atomic<uint64_t>& word = state.threads() > 1 ? shared : own;
  for (auto _ : state) {
    word.fetch_add(uint64_t{1} << 32, std::memory_order_release);
    word.fetch_add(~uint64_t{0} << 32, std::memory_order_release);
  }
}
BENCHMARK(BM_AtomicPair)
    ->Name("AddDone/atomic_fetch_add_pair")
    ->Threads(1)
    ->Threads(2);

void BM_GoWait(benchmark::State& state) {
  contend::WaitGroup wg;
  std::atomic<int> ran{0};
  for (auto _ : state) {
    wg.go([&ran] { ran.fetch_add(1, std::memory_order_relaxed); });
    wg.wait();
  }
  benchmark::DoNotOptimize(ran.load());
}
BENCHMARK(BM_GoWait)->Name("GoWait/contend::WaitGroup")->UseRealTime();

void BM_ThreadJoin(benchmark::State& state) {
  std::atomic<int> ran{0};
  for (auto _ : state) {
    std::thread t([&ran] { ran.fetch_add(1, std::memory_order_relaxed); });
    t.join();
  }
  benchmark::DoNotOptimize(ran.load());
}
BENCHMARK(BM_ThreadJoin)->Name("GoWait/std::thread+join")->UseRealTime();

}  // namespace
}  // namespace contend::bench

BENCHMARK_MAIN();
