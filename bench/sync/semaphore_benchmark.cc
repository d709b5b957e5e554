// Copyright 2026 The contend Authors.
//
// contend::Semaphore against std::counting_semaphore:
//
//   bazel run -c opt //bench/sync:semaphore_benchmark --
//   --benchmark_repetitions=5
//
//  Uncontended/<sem>/<count>  one thread: acquire(1); release(1) on a
//                             semaphore with `count` tokens (1: the count
//                             goes 1 -> 0 -> 1 every iteration; 16: it never
//                             reaches 0).
//  Handoff/<sem>              2 threads share a count-1 semaphore as a lock
//                             around ~nothing: every release finds the other
//                             thread waiting or about to wait (time per
//                             acquire+release, per thread).
//  Weighted/contend           acquire(4); release(4) on count 16, one thread
//                             (std::counting_semaphore has no weighted form).

#include <semaphore>

#include "benchmark/benchmark.h"
#include "sync/semaphore.h"

namespace contend::bench {
namespace {

void BM_ContendUncontended(benchmark::State& state) {
  contend::Semaphore sem(state.range(0));
  for (auto _ : state) {
    sem.acquire(1);
    sem.release(1);
  }
}
BENCHMARK(BM_ContendUncontended)
    ->Name("Uncontended/contend::Semaphore")
    ->Arg(1)
    ->Arg(16);

void BM_StdUncontended(benchmark::State& state) {
  std::counting_semaphore<> sem(state.range(0));
  for (auto _ : state) {
    sem.acquire();
    sem.release();
  }
}
BENCHMARK(BM_StdUncontended)
    ->Name("Uncontended/std::counting_semaphore")
    ->Arg(1)
    ->Arg(16);

void BM_ContendWeighted(benchmark::State& state) {
  contend::Semaphore sem(16);
  for (auto _ : state) {
    sem.acquire(4);
    sem.release(4);
  }
}
BENCHMARK(BM_ContendWeighted)->Name("Weighted/contend::Semaphore");

void BM_ContendHandoff(benchmark::State& state) {
  static contend::Semaphore sem(1);
  for (auto _ : state) {
    sem.acquire();
    benchmark::ClobberMemory();
    sem.release();
  }
}
BENCHMARK(BM_ContendHandoff)
    ->Name("Handoff/contend::Semaphore")
    ->Threads(2)
    ->UseRealTime();

void BM_StdHandoff(benchmark::State& state) {
  static std::counting_semaphore<> sem(1);
  for (auto _ : state) {
    sem.acquire();
    benchmark::ClobberMemory();
    sem.release();
  }
}
BENCHMARK(BM_StdHandoff)
    ->Name("Handoff/std::counting_semaphore")
    ->Threads(2)
    ->UseRealTime();

}  // namespace
}  // namespace contend::bench

BENCHMARK_MAIN();
