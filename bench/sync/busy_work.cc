// Copyright 2026 The contend Authors.

#include "bench/sync/busy_work.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <thread>

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

namespace {

// Seconds of CPU all CPUs spent outside idle/iowait, from /proc/stat.
double machine_busy_s() noexcept {
  std::FILE* f = std::fopen("/proc/stat", "r");
  if (f == nullptr) return 0;
  unsigned long long v[8] = {};
  const int n =
      std::fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
                  &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
  std::fclose(f);
  if (n != 8) return 0;
  // user nice system [idle iowait] irq softirq steal
  const double ticks =
      static_cast<double>(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]);
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double self_cpu_s() noexcept {
  rusage r;
  getrusage(RUSAGE_SELF, &r);
  return static_cast<double>(r.ru_utime.tv_sec + r.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(r.ru_utime.tv_usec + r.ru_stime.tv_usec);
}

double wall_s() noexcept {
  return static_cast<double>(monotonic_now_ns()) * 1e-9;
}

}  // namespace

void ForeignCpu::start() noexcept {
  machine_busy_s_ = machine_busy_s();
  self_s_ = self_cpu_s();
  wall_s_ = wall_s();
}

double ForeignCpu::fraction() const noexcept {
  const double wall = wall_s() - wall_s_;
  if (wall <= 0) return 0;
  const double foreign =
      (machine_busy_s() - machine_busy_s_) - (self_cpu_s() - self_s_);
  const double cpus = static_cast<double>(sysconf(_SC_NPROCESSORS_ONLN));
  return std::clamp(foreign / (wall * cpus), 0.0, 1.0);
}

bool wait_for_quiet_machine(double max_fraction, double timeout_s) noexcept {
  const double deadline = wall_s() + timeout_s;
  while (wall_s() < deadline) {
    ForeignCpu meter;
    meter.start();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    if (meter.fraction() <= max_fraction) return true;
  }
  return false;
}

uint64_t ticks_fallback() noexcept {
  return static_cast<uint64_t>(monotonic_now_ns());
}

}  // namespace contend::bench
