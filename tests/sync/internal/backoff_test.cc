#include "sync/internal/backoff.h"

#include <atomic>
#include <cstdint>
#include <thread>

#include "gtest/gtest.h"

namespace contend::internal {
namespace {

TEST(BackoffTest, FreshBackoffStartsAtZero) {
  constexpr Backoff kFresh;  // constexpr default constructor
  EXPECT_EQ(kFresh.step(), 0u);
  EXPECT_FALSE(kFresh.is_completed());
}

TEST(BackoffTest, SnoozeStepsUpAndCompletesAfterYieldLimitPlusOne) {
  Backoff b;
  for (uint32_t i = 0; i <= Backoff::kYieldLimit; ++i) {
    EXPECT_EQ(b.step(), i);
    EXPECT_FALSE(b.is_completed()) << "after " << i << " snoozes";
    b.snooze();
  }
  // kYieldLimit + 1 = 11 snoozes: completed, and the counter stops there.
  EXPECT_EQ(b.step(), Backoff::kYieldLimit + 1);
  EXPECT_TRUE(b.is_completed());
  b.snooze();
  EXPECT_EQ(b.step(), Backoff::kYieldLimit + 1);
  EXPECT_TRUE(b.is_completed());
}

TEST(BackoffTest, SpinSaturatesAtSpinLimitAndNeverCompletes) {
  Backoff b;
  for (uint32_t i = 0; i <= Backoff::kSpinLimit; ++i) {
    EXPECT_EQ(b.step(), i);
    b.spin();
  }
  EXPECT_EQ(b.step(), Backoff::kSpinLimit + 1);
  for (int i = 0; i < 100; ++i) b.spin();
  EXPECT_EQ(b.step(), Backoff::kSpinLimit + 1);
  EXPECT_FALSE(b.is_completed());
}

TEST(BackoffTest, ResetStartsOver) {
  Backoff b;
  for (int i = 0; i < 20; ++i) b.snooze();
  ASSERT_TRUE(b.is_completed());
  b.reset();
  EXPECT_EQ(b.step(), 0u);
  EXPECT_FALSE(b.is_completed());
}

TEST(BackoffTest, CopiesCarryProgress) {
  Backoff a;
  a.snooze();
  a.snooze();
  Backoff b = a;
  EXPECT_EQ(b.step(), 2u);
  b.snooze();
  EXPECT_EQ(a.step(), 2u);
  EXPECT_EQ(b.step(), 3u);
}

// The header's example, kept compiling: a waiter snoozes, then "parks"
// (here: yields in a loop) once the Backoff is completed.
TEST(BackoffTest, HeaderExampleWaitsForAnotherThread) {
  std::atomic<bool> ready{false};
  int parks = 0;
  auto park = [&] {
    ++parks;
    std::this_thread::yield();
  };
  std::thread setter([&] {
    // Release: pairs with the acquire load in the loop below.
    ready.store(true, std::memory_order_release);
  });
  Backoff backoff;
  while (!ready.load(std::memory_order_acquire)) {
    if (backoff.is_completed()) {
      park();
      backoff.reset();
      continue;
    }
    backoff.snooze();
  }
  setter.join();
  EXPECT_TRUE(ready.load(std::memory_order_relaxed));
}

}  // namespace
}  // namespace contend::internal
