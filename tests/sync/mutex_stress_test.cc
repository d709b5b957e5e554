// Copyright 2026 The contend Authors.
//
// Mutual exclusion under contention, in every acquisition mode, with and
// without oversubscription. A non-atomic counter detects a broken exclusion
// (lost increments; TSan also reports the race), and a hang is a lost wakeup.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "sync/internal/parking_lot.h"
#include "sync/internal/prng.h"
#include "sync/mutex.h"
#include "tests/testing/stress.h"
#include "tests/testing/wait.h"

namespace contend {
namespace {

using testing::kScale;

// The Mutex is back in its uncontended state and still wakes a parked
// waiter: no stale bit (woken, starving, a leaked waiter count) survived.
void expect_healthy(Mutex& mu) {
  ASSERT_TRUE(mu.try_lock()) << "the fast path fails on a free Mutex";
  std::thread waiter([&] {
    mu.lock();
    mu.unlock();
  });
  EXPECT_TRUE(testing::wait_until_parked(&mu, 1));
  mu.unlock();
  waiter.join();
  EXPECT_EQ(internal::ParkingLot::waiter_count(&mu), 0u);
  EXPECT_TRUE(mu.try_lock());
  mu.unlock();
}

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
  testing::Watchdog watchdog(testing::current_test_name());
  std::vector<std::thread> threads;
  for (int t = 0; t < n; ++t) {
    auto& me = watchdog.slot("incrementer " + std::to_string(t));
    me.set_state("lock()");
    threads.emplace_back([&] {
      for (int i = 0; i < m; ++i) {
        MutexLock lock(mu);
        ++counter;
        me.tick();
      }
      me.finish();
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
  Mutex mu;
  int64_t guarded = 0;  // guarded by mu
  std::atomic<int64_t> acquisitions{0};
  std::atomic<int64_t> attempts{0};
  testing::Watchdog watchdog(testing::current_test_name());
  const testing::StressDeadline deadline;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    auto& me = watchdog.slot("locker " + std::to_string(t));
    threads.emplace_back([&, t] {
      for (int i = 0; deadline.running(); ++i) {
        me.tick();
        attempts.fetch_add(1, std::memory_order_relaxed);
        bool got = false;
        static constexpr const char* kModes[] = {
            "lock()", "try_lock()", "try_lock_for(<200 us)", "lock(stop)",
            "try_lock_until(+50 us)"};
        me.set_state(kModes[(t + i) % 5]);
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
        me.set_state("unlock()");
        mu.unlock();
        acquisitions.fetch_add(1, std::memory_order_relaxed);
      }
      me.finish();
    });
  }
  for (auto& t : threads) t.join();
  {
    MutexLock lock(mu);
    EXPECT_EQ(guarded, acquisitions.load());
  }
  // Every lock() (a fifth of the attempts) succeeds.
  EXPECT_GE(acquisitions.load(), attempts.load() / 5);
  expect_healthy(mu);
}

// Cancellation racing with unlock: a stopped lock() must either fail cleanly
// (holding nothing) or hold the lock; the Mutex stays usable. Both outcomes
// must occur, or the race was not exercised.
TEST(MutexStressTest, StopRacesUnlock) {
  Mutex mu;
  int64_t successes = 0;  // written by the waiter holding mu
  int64_t failures = 0;
  testing::Watchdog watchdog(testing::current_test_name());
  auto& driver = watchdog.slot("round driver (main)");
  const testing::StressDeadline deadline;
  for (int round = 0; deadline.running(); ++round) {
    driver.tick();
    std::stop_source source;
    mu.lock();
    bool got = false;
    std::thread waiter([&] {
      got = mu.lock(source.get_token());
      if (got) mu.unlock();
    });
    if (round % 2 == 0) std::this_thread::yield();
    std::thread stopper([&] { source.request_stop(); });
    mu.unlock();
    driver.set_state("joining the stopper and the stopped lock()");
    stopper.join();
    waiter.join();
    (got ? successes : failures)++;
    // A failed lock(stop) holds nothing; a successful one released.
    ASSERT_TRUE(mu.try_lock())
        << "round " << round << ": lock(stop) "
        << (got ? "succeeded" : "failed") << " and left the Mutex held";
    mu.unlock();
  }
  std::printf("lock(stop): %lld acquired, %lld cancelled\n",
              static_cast<long long>(successes),
              static_cast<long long>(failures));
  EXPECT_GT(successes, 0);
  EXPECT_GT(failures, 0);
  expect_healthy(mu);
}

}  // namespace
}  // namespace contend
