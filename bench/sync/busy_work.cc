// Copyright 2026 The contend Authors.

#include "bench/sync/busy_work.h"

#include <algorithm>
#include <cstdint>
#include <limits>

#include "sync/internal/clock.h"

namespace contend::bench {
namespace {

using internal::monotonic_now_ns;

BusyCalibration calibrate() noexcept {
  BusyCalibration cal;
  // Warm up (frequency ramp), then keep the fastest of several ~2 ms runs:
  // the fastest is the one least disturbed by preemption.
  uint64_t x = busy_chain(1, 2'000'000);
  constexpr uint64_t kSteps = 2'000'000;
  double best_ns = std::numeric_limits<double>::infinity();
  for (int run = 0; run < 9; ++run) {
    const int64_t t0 = monotonic_now_ns();
    x = busy_chain(x, kSteps);
    const int64_t t1 = monotonic_now_ns();
    best_ns = std::min(best_ns, static_cast<double>(t1 - t0));
  }
  cal.steps_per_ns = static_cast<double>(kSteps) / std::max(best_ns, 1.0);

  // ticks per ns over ~20 ms of wall time.
  const int64_t n0 = monotonic_now_ns();
  const uint64_t k0 = ticks();
  while (monotonic_now_ns() - n0 < 20'000'000) {
    x = busy_chain(x, 1000);
  }
  const int64_t n1 = monotonic_now_ns();
  const uint64_t k1 = ticks();
  cal.ns_per_tick = static_cast<double>(n1 - n0) /
                    static_cast<double>(std::max<uint64_t>(k1 - k0, 1));
  asm volatile("" : : "r"(x));
  return cal;
}

}  // namespace

const BusyCalibration& busy_calibration() {
  static const BusyCalibration cal = calibrate();
  return cal;
}

uint64_t ticks_fallback() noexcept {
  return static_cast<uint64_t>(monotonic_now_ns());
}

}  // namespace contend::bench
