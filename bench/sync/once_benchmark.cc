// Copyright 2026 The contend Authors.
//
// The completed-Once fast path against its floor and its peers:
//
//   bazel run -c opt //bench/sync:once_benchmark -- --benchmark_repetitions=5
//
//  BareAcquireLoad       the floor: an acquire load of a "done" word, a
//                        compare and a predicted-not-taken branch to an
//                        out-of-line init, as a careful hand-written
//                        double-checked flag looks.
//  contend::Once         Once::call on a completed Once.
//  std::call_once        on a completed std::once_flag (libstdc++ 12:
//                        __gthread_once, i.e. pthread_once).
//  absl::call_once       on a completed absl::once_flag.
//  contend::OnceValue    operator() after the value exists.
//  contend::LazyRetry    get() after success (builds a Result: pointer, OK
//                        status, generation).
// Every case runs with 1 and 2 threads sharing the object (read-only sharing
// of one cache line, the realistic use of a lazily initialized global).
// Each benchmark iteration makes kCalls = 16 calls in straight-line code (a
// compiler barrier between them forces every load), and the counter
// ns_per_call is the figure to read: with one call per iteration the whole
// loop is 5 instructions, and identical loops measured up to 3x apart
// depending on where they fell relative to instruction-fetch blocks.

#include <atomic>
#include <cstdint>
#include <mutex>

#include "absl/base/attributes.h"
#include "absl/base/call_once.h"
#include "absl/base/optimization.h"
#include "absl/status/statusor.h"
#include "benchmark/benchmark.h"
#include "sync/lazy_retry.h"
#include "sync/once.h"

namespace contend::bench {
namespace {

constexpr int kCalls = 16;

#define CONTEND_REPEAT4(x) x x x x
#define CONTEND_REPEAT16(x) \
  CONTEND_REPEAT4(x) CONTEND_REPEAT4(x) CONTEND_REPEAT4(x) CONTEND_REPEAT4(x)

void set_per_call(benchmark::State& state) {
  state.counters["ns_per_call"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * kCalls,
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

int g_init_runs = 0;
ABSL_ATTRIBUTE_NOINLINE void init() { ++g_init_runs; }

std::atomic<uint32_t> g_done_word{0};
void BM_BareAcquireLoad(benchmark::State& state) {
  if (state.thread_index() == 0)
    g_done_word.store(1, std::memory_order_release);
  for (auto _ : state) {
    // The same shape as Once::call's fast path: load, compare, skip.
    CONTEND_REPEAT16(if (ABSL_PREDICT_FALSE(
                             g_done_word.load(std::memory_order_acquire) != 1))
                         init();
                     benchmark::ClobberMemory();)
  }
  set_per_call(state);
}
BENCHMARK(BM_BareAcquireLoad)
    ->Name("Once/BareAcquireLoad")
    ->Threads(1)
    ->Threads(2);

contend::Once g_once;
void BM_ContendOnce(benchmark::State& state) {
  g_once.call(init);
  for (auto _ : state) {
    CONTEND_REPEAT16(g_once.call(init); benchmark::ClobberMemory();)
  }
  set_per_call(state);
}
BENCHMARK(BM_ContendOnce)->Name("Once/contend::Once")->Threads(1)->Threads(2);

std::once_flag g_std_flag;
void BM_StdCallOnce(benchmark::State& state) {
  std::call_once(g_std_flag, init);
  for (auto _ : state) {
    CONTEND_REPEAT16(std::call_once(g_std_flag, init);
                     benchmark::ClobberMemory();)
  }
  set_per_call(state);
}
BENCHMARK(BM_StdCallOnce)->Name("Once/std::call_once")->Threads(1)->Threads(2);

absl::once_flag g_absl_flag;
void BM_AbslCallOnce(benchmark::State& state) {
  absl::call_once(g_absl_flag, init);
  for (auto _ : state) {
    CONTEND_REPEAT16(absl::call_once(g_absl_flag, init);
                     benchmark::ClobberMemory();)
  }
  set_per_call(state);
}
BENCHMARK(BM_AbslCallOnce)
    ->Name("Once/absl::call_once")
    ->Threads(1)
    ->Threads(2);

contend::OnceValue g_value([] { return 42; });
void BM_OnceValue(benchmark::State& state) {
  for (auto _ : state) {
    CONTEND_REPEAT16(benchmark::DoNotOptimize(g_value());
                     benchmark::ClobberMemory();)
  }
  set_per_call(state);
}
BENCHMARK(BM_OnceValue)
    ->Name("Once/contend::OnceValue")
    ->Threads(1)
    ->Threads(2);

contend::LazyRetry<int> g_lazy([]() -> absl::StatusOr<int> { return 7; });
void BM_LazyRetryGet(benchmark::State& state) {
  for (auto _ : state) {
    CONTEND_REPEAT16({
      auto r = g_lazy.get();
      benchmark::DoNotOptimize(r.generation());
    })
  }
  set_per_call(state);
}
BENCHMARK(BM_LazyRetryGet)
    ->Name("Once/contend::LazyRetry")
    ->Threads(1)
    ->Threads(2);

}  // namespace
}  // namespace contend::bench

BENCHMARK_MAIN();
