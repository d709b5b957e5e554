// Copyright 2026 The contend Authors.
//
// Mutual exclusion under contention, in every acquisition mode, with and
// without oversubscription. A non-atomic counter detects a broken exclusion
// (lost increments; TSan also reports the race), and a hang is a lost wakeup.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <stop_token>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "sync/internal/parking_lot.h"
#include "sync/internal/prng.h"
#include "sync/mutex.h"

namespace contend {
namespace {

#if defined(CONTEND_TSAN) || defined(__SANITIZE_THREAD__)
constexpr int kScale = 20;
#else
constexpr int kScale = 1;
#endif

struct Param {
  int threads;
  int iterations;
};

class MutexCounterTest : public ::testing::TestWithParam<Param> {};

// N threads x M increments of a non-atomic counter == N*M.
TEST_P(MutexCounterTest, CounterIsExact) {
  const int n = GetParam().threads;
  const int m = GetParam().iterations / kScale;
  Mutex mu;
  int64_t counter = 0;  // guarded by mu
  std::vector<std::thread> threads;
  for (int t = 0; t < n; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < m; ++i) {
        MutexLock lock(mu);
        ++counter;
      }
    });
  }
  for (auto& t : threads) t.join();
  MutexLock lock(mu);
  EXPECT_EQ(counter, int64_t{n} * m);
}

INSTANTIATE_TEST_SUITE_P(Threads, MutexCounterTest,
                         ::testing::Values(Param{2, 500000}, Param{4, 250000},
                                           Param{16, 40000}));

// Critical sections of varying length (some long enough to park waiters and
// trigger starvation mode) mixed with every acquisition API. Successful
// acquisitions are counted separately; the guarded counter must match.
TEST(MutexStressTest, MixedApisAndStarvationChurn) {
  constexpr int kThreads = 6;
  const int kIters = 20000 / kScale;
  Mutex mu;
  int64_t guarded = 0;  // guarded by mu
  std::atomic<int64_t> acquisitions{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kIters; ++i) {
        bool got = false;
        switch ((t + i) % 5) {
          case 0:
            mu.lock();
            got = true;
            break;
          case 1:
            got = mu.try_lock();
            break;
          case 2:
            got = mu.try_lock_for(
                std::chrono::microseconds(internal::thread_random_below(200)));
            break;
          case 3: {
            std::stop_source source;
            if (internal::thread_random_below(2) == 0) source.request_stop();
            got = mu.lock(source.get_token());
            break;
          }
          case 4:
            got = mu.try_lock_until(std::chrono::steady_clock::now() +
                                    std::chrono::microseconds(50));
            break;
        }
        if (!got) continue;
        ++guarded;
        // Occasionally hold for a while (> 1 ms sometimes) so waiters park
        // and the Mutex flips into starvation mode and back.
        const uint64_t r = internal::thread_random_below(1000);
        if (r == 0) {
          std::this_thread::sleep_for(std::chrono::microseconds(1500));
        } else if (r < 20) {
          std::this_thread::sleep_for(std::chrono::microseconds(20));
        }
        mu.unlock();
        acquisitions.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  for (auto& t : threads) t.join();
  MutexLock lock(mu);
  EXPECT_EQ(guarded, acquisitions.load());
  EXPECT_GT(acquisitions.load(), int64_t{kThreads} * kIters / 5);
  EXPECT_EQ(internal::ParkingLot::waiter_count(&mu), 0u);
}

// Cancellation racing with unlock: a stopped lock() must either fail cleanly
// or hold the lock; the Mutex stays usable.
TEST(MutexStressTest, StopRacesUnlock) {
  const int kRounds = 3000 / kScale;
  Mutex mu;
  int64_t guarded = 0;  // guarded by mu
  int64_t successes = 0;
  for (int round = 0; round < kRounds; ++round) {
    std::stop_source source;
    mu.lock();
    std::thread waiter([&] {
      if (mu.lock(source.get_token())) {
        ++guarded;
        ++successes;
        mu.unlock();
      }
    });
    if (round % 2 == 0) std::this_thread::yield();
    std::thread stopper([&] { source.request_stop(); });
    mu.unlock();
    stopper.join();
    waiter.join();
  }
  MutexLock lock(mu);
  EXPECT_EQ(guarded, successes);
  EXPECT_EQ(internal::ParkingLot::waiter_count(&mu), 0u);
}

}  // namespace
}  // namespace contend
