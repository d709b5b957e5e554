// Copyright 2026 The contend Authors.

#include "bench/sync/busy_work.h"

#include <cstdint>
#include <thread>

#include "gtest/gtest.h"
#include "sync/internal/clock.h"

namespace contend::bench {
namespace {

using internal::monotonic_now_ns;

TEST(BusyWorkTest, CalibrationIsPositiveAndStepsScaleWithTime) {
  const BusyCalibration& cal = busy_calibration();
  EXPECT_GT(cal.steps_per_ns, 0.0);
  EXPECT_GT(cal.ns_per_tick, 0.0);
  EXPECT_EQ(busy_steps_for_ns(0), 0u);
  EXPECT_EQ(busy_steps_for_ns(-5), 0u);
  const uint64_t s100 = busy_steps_for_ns(100);
  const uint64_t s10000 = busy_steps_for_ns(10'000);
  EXPECT_GT(s10000, 50 * s100);
  EXPECT_LT(s10000, 150 * s100 + 150);
}

TEST(BusyWorkTest, ChainTakesAboutTheCalibratedTime) {
  // 20 ms of work: long enough that scheduling noise is a small share; the
  // bounds are loose (a busy machine or a sanitizer slows the loop).
  const uint64_t steps = busy_steps_for_ns(20e6);
  const int64_t t0 = monotonic_now_ns();
  const uint64_t x = busy_chain(1, steps);
  const int64_t took = monotonic_now_ns() - t0;
  EXPECT_NE(x, 1u);
  EXPECT_GE(took, 5'000'000);
}

TEST(ForeignCpuTest, WaitForQuietMachineHonoursThresholdAndTimeout) {
  // Any load is at most 100% of the machine: returns after one window.
  int64_t t0 = monotonic_now_ns();
  EXPECT_TRUE(wait_for_quiet_machine(/*max_fraction=*/1.0, /*timeout_s=*/5));
  EXPECT_LT(monotonic_now_ns() - t0, 2'000'000'000);
  // No load is below 0: gives up at the timeout (windows are 200 ms).
  t0 = monotonic_now_ns();
  EXPECT_FALSE(wait_for_quiet_machine(/*max_fraction=*/-1.0,
                                      /*timeout_s=*/0.5));
  const int64_t took = monotonic_now_ns() - t0;
  EXPECT_GE(took, 500'000'000);
  EXPECT_LT(took, 3'000'000'000);
}

}  // namespace
}  // namespace contend::bench
