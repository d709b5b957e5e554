// Cost of reading the monotonic clock: contend's monotonic_now_ns() against
// its peers std::chrono::steady_clock::now() and CLOCK_MONOTONIC_COARSE
// (cheaper, but only jiffy resolution, so unusable for deadlines).
//
//   bazel run -c opt //bench/sync/internal:clock_benchmark --
//   --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true   (one line)

#include <time.h>

#include <chrono>
#include <cstdint>

#include "benchmark/benchmark.h"
#include "sync/internal/clock.h"

namespace contend::internal {
namespace {

void BM_MonotonicNowNs(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(monotonic_now_ns());
  }
}
BENCHMARK(BM_MonotonicNowNs);

void BM_SteadyClockNow(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(std::chrono::steady_clock::now());
  }
}
BENCHMARK(BM_SteadyClockNow);

void BM_ClockGettimeMonotonicCoarse(benchmark::State& state) {
  struct timespec ts;
  for (auto _ : state) {
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    benchmark::DoNotOptimize(ts);
  }
}
BENCHMARK(BM_ClockGettimeMonotonicCoarse);

void BM_DeadlineAfter(benchmark::State& state) {
  const std::chrono::milliseconds d(10);
  for (auto _ : state) {
    benchmark::DoNotOptimize(deadline_after(d));
  }
}
BENCHMARK(BM_DeadlineAfter);

void BM_ToMonotonicDeadlineSystemClock(benchmark::State& state) {
  const auto tp = std::chrono::system_clock::now() + std::chrono::seconds(10);
  for (auto _ : state) {
    benchmark::DoNotOptimize(to_monotonic_deadline(tp));
  }
}
BENCHMARK(BM_ToMonotonicDeadlineSystemClock);

}  // namespace
}  // namespace contend::internal
