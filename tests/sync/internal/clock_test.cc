#include "sync/internal/clock.h"

#include <time.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace contend::internal {
namespace {

using std::chrono::hours;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;
using std::chrono::system_clock;

constexpr int64_t kMs = 1'000'000;

TEST(ClockTest, MatchesClockGettimeMonotonic) {
  struct timespec ts;
  ASSERT_EQ(clock_gettime(CLOCK_MONOTONIC, &ts), 0);
  const int64_t before = ts.tv_sec * 1'000'000'000LL + ts.tv_nsec;
  const int64_t now = monotonic_now_ns();
  ASSERT_EQ(clock_gettime(CLOCK_MONOTONIC, &ts), 0);
  const int64_t after = ts.tv_sec * 1'000'000'000LL + ts.tv_nsec;
  EXPECT_LE(before, now);
  EXPECT_LE(now, after);
  EXPECT_GT(now, 0);
}

TEST(ClockTest, SteadyClockIsClockMonotonic) {
  const int64_t before = monotonic_now_ns();
  const int64_t steady =
      nanoseconds(steady_clock::now().time_since_epoch()).count();
  const int64_t after = monotonic_now_ns();
  EXPECT_LE(before, steady);
  EXPECT_LE(steady, after);
}

// A value published through an atomic carries its clock reading; a reader
// that sees it and then reads the clock must not see time go backwards, even
// when the two threads run on different CPUs.
TEST(ClockTest, NonDecreasingAcrossThreads) {
#if defined(__SANITIZE_THREAD__) || defined(CONTEND_TSAN) || \
    defined(CONTEND_EMULATED)
  constexpr int kIters = 20'000;
#else
  constexpr int kIters = 200'000;
#endif
  std::atomic<int64_t> published{0};
  std::atomic<int> violations{0};
  auto body = [&] {
    int64_t last_local = 0;
    for (int i = 0; i < kIters; ++i) {
      // Acquire: pairs with the release store below in the other thread, so
      // its clock read happens-before ours.
      const int64_t seen = published.load(std::memory_order_acquire);
      const int64_t now = monotonic_now_ns();
      if (now < seen || now < last_local) {
        // Relaxed: a counter read after join().
        violations.fetch_add(1, std::memory_order_relaxed);
      }
      last_local = now;
      // Release: pairs with the acquire load above in the other thread.
      published.store(now, std::memory_order_release);
    }
  };
  std::thread a(body);
  std::thread b(body);
  a.join();
  b.join();
  EXPECT_EQ(violations.load(std::memory_order_relaxed), 0);
}

TEST(ClockTest, DeadlineAfterAddsTheDuration) {
  const int64_t before = monotonic_now_ns();
  const int64_t d = deadline_after(milliseconds(250));
  const int64_t after = monotonic_now_ns();
  EXPECT_GE(d, before + 250 * kMs);
  EXPECT_LE(d, after + 250 * kMs);
}

TEST(ClockTest, DeadlineAfterRoundsUpSubNanosecond) {
  const int64_t before = monotonic_now_ns();
  using picoseconds = std::chrono::duration<int64_t, std::pico>;
  EXPECT_GE(deadline_after(picoseconds(1'500)), before + 2);
  EXPECT_GE(deadline_after(std::chrono::duration<double>(1e-9 / 3)),
            before + 1);
}

TEST(ClockTest, DeadlineAfterSaturates) {
  EXPECT_EQ(deadline_after(hours::max()), kNoDeadline);
  EXPECT_EQ(deadline_after(nanoseconds::max()), kNoDeadline);
  EXPECT_EQ(deadline_after(seconds(std::numeric_limits<int64_t>::max() / 2)),
            kNoDeadline);
  EXPECT_EQ(deadline_after(std::chrono::duration<double>(
                std::numeric_limits<double>::infinity())),
            kNoDeadline);
  EXPECT_EQ(deadline_after(std::chrono::duration<double>(1e300)), kNoDeadline);
  EXPECT_EQ(deadline_after(std::chrono::duration<uint64_t>(UINT64_MAX)),
            kNoDeadline);
  // Just below the limit stays finite.
  EXPECT_LT(deadline_after(hours(24 * 365 * 100)), kNoDeadline);
}

TEST(ClockTest, DeadlineAfterNegativeOrZeroIsNow) {
  const int64_t before = monotonic_now_ns();
  const int64_t neg = deadline_after(seconds(-5));
  const int64_t min = deadline_after(hours::min());
  const int64_t zero = deadline_after(nanoseconds(0));
  const int64_t ninf = deadline_after(
      std::chrono::duration<double>(-std::numeric_limits<double>::infinity()));
  const int64_t after = monotonic_now_ns();
  for (int64_t d : {neg, min, zero, ninf}) {
    EXPECT_GE(d, before);
    EXPECT_LE(d, after);
  }
}

TEST(ClockTest, SteadyTimePointMapsDirectly) {
  const auto tp = steady_clock::now() + milliseconds(300);
  EXPECT_EQ(to_monotonic_deadline(tp),
            nanoseconds(tp.time_since_epoch()).count());
  // Coarser durations are rounded up, never down.
  const auto coarse = std::chrono::time_point_cast<microseconds>(tp);
  EXPECT_EQ(to_monotonic_deadline(coarse),
            microseconds(coarse.time_since_epoch()).count() * 1000);
  EXPECT_EQ(to_monotonic_deadline(steady_clock::time_point::max()),
            kNoDeadline);
  EXPECT_EQ(to_monotonic_deadline(
                std::chrono::time_point<steady_clock, hours>::max()),
            kNoDeadline);
  EXPECT_EQ(to_monotonic_deadline(steady_clock::time_point::min()), 0);
}

TEST(ClockTest, SystemTimePointConvertsByDistance) {
  const int64_t before = monotonic_now_ns();
  const int64_t d = to_monotonic_deadline(system_clock::now() + seconds(2));
  const int64_t after = monotonic_now_ns();
  // The two clock reads inside are not simultaneous; allow 100 ms of skew.
  EXPECT_GE(d, before + 2'000 * kMs - 100 * kMs);
  EXPECT_LE(d, after + 2'000 * kMs + 100 * kMs);

  const int64_t past_before = monotonic_now_ns();
  const int64_t past = to_monotonic_deadline(system_clock::now() - hours(1));
  const int64_t past_after = monotonic_now_ns();
  EXPECT_GE(past, past_before);  // saturates at "now", not an hour ago
  EXPECT_LE(past, past_after);

  // system_clock's ns max is ~2262, still representable as a monotonic
  // deadline ~236 years out; the hours max is not, and saturates.
  EXPECT_GT(to_monotonic_deadline(system_clock::time_point::max()),
            monotonic_now_ns() + 5'000'000'000'000'000'000);
  EXPECT_EQ(to_monotonic_deadline(
                std::chrono::time_point<system_clock, hours>::max()),
            kNoDeadline);
  const int64_t min_before = monotonic_now_ns();
  const int64_t min = to_monotonic_deadline(system_clock::time_point::min());
  const int64_t min_after = monotonic_now_ns();
  EXPECT_GE(min, min_before);
  EXPECT_LE(min, min_after);
}

}  // namespace
}  // namespace contend::internal
