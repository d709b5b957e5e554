// Copyright 2026 The contend Authors.
//
// Calibrated busy work and a cheap timestamp for contention benchmarks.
//
// "50 ns inside the lock, 50 ns outside" must mean 50 ns of CPU on the
// machine that runs the benchmark, spent in work that (a) the compiler cannot
// delete or fold and (b) the CPU cannot overlap with the next piece of work.
// busy_chain() is a chain of dependent 64-bit LCG steps: each step needs the
// full result of the previous one (multiply latency), so n steps take
// n * (imul + add) cycles however wide the core is. Benchmarks thread ONE
// chain value through the inside and the outside work, so the outside work of
// one iteration cannot start before the inside work of the same iteration
// has finished.

#ifndef CONTEND_BENCH_SYNC_BUSY_WORK_H_
#define CONTEND_BENCH_SYNC_BUSY_WORK_H_

#include <cmath>
#include <cstdint>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

namespace contend::bench {

// n dependent LCG steps (Knuth's MMIX constants) continuing from x.
inline uint64_t busy_chain(uint64_t x, uint64_t steps) noexcept {
  for (uint64_t i = 0; i < steps; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    // The compiler must assume x is observed here (no folding, no
    // vectorization, no closed form), and the memory clobber keeps every
    // step on its side of the lock's atomics.
    asm volatile("" : "+r"(x) : : "memory");
  }
  return x;
}

// The machine's speeds, measured once per process (thread-safe; the first
// call takes ~50 ms).
struct BusyCalibration {
  double steps_per_ns = 0;  // busy_chain steps per nanosecond
  double ns_per_tick = 0;   // nanoseconds per ticks() unit
};
const BusyCalibration& busy_calibration();

// Steps that take about `ns` nanoseconds (0 for ns <= 0).
inline uint64_t busy_steps_for_ns(double ns) noexcept {
  if (ns <= 0) return 0;
  return static_cast<uint64_t>(
      std::llround(ns * busy_calibration().steps_per_ns));
}

uint64_t ticks_fallback() noexcept;  // CLOCK_MONOTONIC ns

// A cheap, monotonic-enough timestamp for latency samples: the TSC on x86
// (no serialization; fine for events of tens of ns and up), else
// CLOCK_MONOTONIC in ns. Convert differences with ns_per_tick.
inline uint64_t ticks() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  return __rdtsc();
#else
  return ticks_fallback();
#endif
}

// Machine-quietness helpers for benchmarks on shared machines (the reference
// VM has 2 cores shared with builds). CPU time is read from /proc/stat (all
// CPUs) and getrusage (this process) at 10 ms granularity.
//
// ForeignCpu measures how much CPU *other* processes used between start()
// and fraction(): 0 = the benchmark had the machine to itself, 1 = every
// CPU was busy with something else the whole time.
class ForeignCpu {
 public:
  void start() noexcept;
  double fraction() const noexcept;

 private:
  double machine_busy_s_ = 0;
  double self_s_ = 0;
  double wall_s_ = 0;
};

// Blocks until other processes used at most `max_fraction` of the machine
// over a 200 ms window, or until `timeout_s` passed. Returns whether the
// machine became quiet.
bool wait_for_quiet_machine(double max_fraction = 0.03,
                            double timeout_s = 600) noexcept;

}  // namespace contend::bench

#endif  // CONTEND_BENCH_SYNC_BUSY_WORK_H_
