#include "sync/internal/futex.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

#include "gtest/gtest.h"
#include "sync/internal/clock.h"

namespace contend::internal {
namespace {

constexpr int64_t kMs = 1'000'000;

TEST(FutexTest, MismatchedValueReturnsAtOnce) {
  std::atomic<uint32_t> word{7};
  const int64_t start = monotonic_now_ns();
  EXPECT_EQ(futex_wait(&word, 8, kNoDeadline), FutexResult::kValueMismatch);
  EXPECT_LT(monotonic_now_ns() - start, 500 * kMs);
}

TEST(FutexTest, TimeoutRespectsBothBounds) {
  std::atomic<uint32_t> word{0};
  const int64_t timeout = 50 * kMs;
  const int64_t start = monotonic_now_ns();
  FutexResult r;
  // A spurious wakeup is allowed by the contract; retry with the same absolute
  // deadline, which must not extend the wait.
  do {
    r = futex_wait(&word, 0, start + timeout);
  } while (r == FutexResult::kWoken || r == FutexResult::kInterrupted);
  const int64_t elapsed = monotonic_now_ns() - start;
  EXPECT_EQ(r, FutexResult::kTimedOut);
  EXPECT_GE(elapsed, timeout);
  EXPECT_LE(elapsed, timeout + 500 * kMs);
}

TEST(FutexTest, PastDeadlineTimesOutWithoutLookingAtTheWord) {
  std::atomic<uint32_t> word{0};
  const int64_t start = monotonic_now_ns();
  EXPECT_EQ(futex_wait(&word, 0, start - 1), FutexResult::kTimedOut);
  EXPECT_EQ(futex_wait(&word, 0, 0), FutexResult::kTimedOut);
  EXPECT_EQ(futex_wait(&word, 0, INT64_MIN), FutexResult::kTimedOut);
  // Even a mismatched value reports the expired deadline: no syscall was made.
  EXPECT_EQ(futex_wait(&word, 1, start - 1), FutexResult::kTimedOut);
  EXPECT_LT(monotonic_now_ns() - start, 100 * kMs);
}

TEST(FutexTest, WakeFromAnotherThreadReturnsWoken) {
  std::atomic<uint32_t> word{0};
  std::atomic<bool> about_to_wait{false};
  FutexResult result = FutexResult::kTimedOut;
  std::thread waiter([&] {
    // Release: pairs with the acquire load in the waking loop below.
    about_to_wait.store(true, std::memory_order_release);
    const int64_t deadline = monotonic_now_ns() + 30'000 * kMs;
    FutexResult r;
    do {
      r = futex_wait(&word, 0, deadline);
      // Relaxed: the word itself is the only data; the futex re-checks it.
    } while (r != FutexResult::kTimedOut &&
             word.load(std::memory_order_relaxed) == 0);
    result = r;
  });
  // Acquire: pairs with the release store in the waiter.
  while (!about_to_wait.load(std::memory_order_acquire)) {
    std::this_thread::yield();
  }
  // Give the waiter time to enter the kernel, then wake it until it has left.
  // futex_wake returning 1 proves a thread was asleep on the word.
  int woken = 0;
  const int64_t give_up = monotonic_now_ns() + 20'000 * kMs;
  while (woken == 0 && monotonic_now_ns() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    // Relaxed: the futex syscalls order the word with the waiter's check.
    word.store(1, std::memory_order_relaxed);
    woken = futex_wake(&word, 1);
    if (woken == 0) word.store(0, std::memory_order_relaxed);
  }
  word.store(1, std::memory_order_relaxed);
  waiter.join();
  ASSERT_EQ(woken, 1);
  // The wake that found it asleep ended its last wait, and the word was 1.
  EXPECT_EQ(result, FutexResult::kWoken);
}

TEST(FutexTest, WakeWithoutWaitersReturnsZero) {
  std::atomic<uint32_t> word{0};
  EXPECT_EQ(futex_wake(&word, 1), 0);
  EXPECT_EQ(futex_wake(&word, INT32_MAX), 0);
}

TEST(FutexTest, WakeCountLimitsHowManyWake) {
  std::atomic<uint32_t> word{0};
  std::atomic<int> exited{0};
  constexpr int kWaiters = 3;
  std::thread waiters[kWaiters];
  for (auto& t : waiters) {
    t = std::thread([&] {
      // Relaxed: the word is the only shared datum and the futex re-checks it.
      while (word.load(std::memory_order_relaxed) == 0) {
        futex_wait(&word, 0, kNoDeadline);
      }
      // Relaxed: a counter read only after join() or as a loose progress hint.
      exited.fetch_add(1, std::memory_order_relaxed);
    });
  }
  // Let the waiters reach the kernel (not guaranteed; the checks below hold
  // either way).
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  word.store(1, std::memory_order_relaxed);
  int total = futex_wake(&word, 1);
  EXPECT_LE(total, 1);
  total += futex_wake(&word, INT32_MAX);
  for (auto& t : waiters) t.join();
  EXPECT_EQ(exited.load(std::memory_order_relaxed), kWaiters);
  EXPECT_LE(total, kWaiters);
}

}  // namespace
}  // namespace contend::internal
