// Copyright 2026 The contend Authors.
//
// Cost of each source of internal::current_cpu() (shard/internal/cpu_id.h),
// with the raw getcpu syscall as the peer the rseq read replaces.
//   bazel run -c opt //bench/shard:cpu_id_benchmark --
//     --benchmark_repetitions=5 --benchmark_report_aggregates_only=true

#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>

#include "benchmark/benchmark.h"
#include "shard/internal/cpu_id.h"

namespace contend::internal {
namespace {

void run_source(benchmark::State& state, CpuIdSource source) {
  if (!set_cpu_id_source_for_testing(source)) {
    state.SkipWithError("source unavailable on this machine");
    return;
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(current_cpu());
  }
  (void)set_cpu_id_source_for_testing(CpuIdSource::kUnknown);
}

void BM_CurrentCpu_Rseq(benchmark::State& state) {
  run_source(state, CpuIdSource::kRseq);
}
void BM_CurrentCpu_SchedGetcpu(benchmark::State& state) {
  run_source(state, CpuIdSource::kSchedGetcpu);
}
void BM_CurrentCpu_ThreadSlot(benchmark::State& state) {
  run_source(state, CpuIdSource::kThreadSlot);
}
// Peer: what sched_getcpu() costs when neither rseq nor the vDSO serves it.
void BM_GetcpuSyscall(benchmark::State& state) {
  for (auto _ : state) {
    unsigned cpu = 0;
    syscall(SYS_getcpu, &cpu, nullptr, nullptr);
    benchmark::DoNotOptimize(cpu);
  }
}
// Peer: glibc's own sched_getcpu() (on glibc >= 2.35 it reads rseq too).
void BM_SchedGetcpuDirect(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(sched_getcpu());
}

BENCHMARK(BM_CurrentCpu_Rseq);
BENCHMARK(BM_CurrentCpu_SchedGetcpu);
BENCHMARK(BM_CurrentCpu_ThreadSlot);
BENCHMARK(BM_GetcpuSyscall);
BENCHMARK(BM_SchedGetcpuDirect);

}  // namespace
}  // namespace contend::internal

BENCHMARK_MAIN();
