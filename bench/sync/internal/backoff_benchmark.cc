// The costs Backoff's constants are derived from: one cpu_relax() (`pause`),
// one sched_yield() with nothing else runnable, and a whole snooze() budget
// (fresh Backoff snoozed until is_completed()).
//
//   bazel run -c opt //bench/sync/internal:backoff_benchmark --
//   --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true   (one line)

#include <sched.h>

#include <cstdint>
#include <thread>

#include "benchmark/benchmark.h"
#include "sync/internal/backoff.h"

namespace contend::internal {
namespace {

void BM_CpuRelax(benchmark::State& state) {
  for (auto _ : state) {
    cpu_relax();
  }
}
BENCHMARK(BM_CpuRelax);

// Peer: what std:: offers for the same purpose.
void BM_StdThisThreadYield(benchmark::State& state) {
  for (auto _ : state) {
    std::this_thread::yield();
  }
}
BENCHMARK(BM_StdThisThreadYield);

void BM_SchedYield(benchmark::State& state) {
  for (auto _ : state) {
    sched_yield();
  }
}
BENCHMARK(BM_SchedYield);

void BM_SpinFullSequence(benchmark::State& state) {
  for (auto _ : state) {
    Backoff b;
    for (uint32_t i = 0; i <= Backoff::kSpinLimit; ++i) b.spin();
    benchmark::DoNotOptimize(b);
  }
}
BENCHMARK(BM_SpinFullSequence);

void BM_SnoozeUntilCompleted(benchmark::State& state) {
  for (auto _ : state) {
    Backoff b;
    while (!b.is_completed()) b.snooze();
    benchmark::DoNotOptimize(b);
  }
}
BENCHMARK(BM_SnoozeUntilCompleted);

}  // namespace
}  // namespace contend::internal
