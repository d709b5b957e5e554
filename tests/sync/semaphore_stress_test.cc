// Copyright 2026 The contend Authors.
//
// Semaphore under random weighted load with timeouts and cancellations: the
// tokens in use never exceed the capacity, nothing leaks, nothing hangs.

#include <atomic>
#include <chrono>
#include <cstdio>
#include <random>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "sync/semaphore.h"
#include "tests/testing/stress.h"

namespace contend {
namespace {

constexpr int kThreads = 6;
constexpr int64_t kCapacity = 10;

TEST(SemaphoreStress, WeightedMixNeverExceedsCapacityAndLeaksNothing) {
  Semaphore sem(kCapacity);
  std::atomic<int64_t> in_use{0};
  std::atomic<int64_t> max_in_use{0};
  std::atomic<int> over{0};
  std::atomic<int64_t> acquired_ops{0}, failed_ops{0};
  std::atomic<bool> done{false};
  testing::Watchdog watchdog(testing::current_test_name());
  const testing::StressDeadline deadline;

  std::vector<std::thread> workers;
  for (int t = 0; t < kThreads; ++t) {
    auto& me = watchdog.slot("worker " + std::to_string(t));
    workers.emplace_back([&, t] {
      std::mt19937 rng(static_cast<uint32_t>(t * 7919 + 1));
      std::uniform_int_distribution<int64_t> weight(1, kCapacity);
      std::uniform_int_distribution<int> mode(0, 3);
      while (deadline.running()) {
        me.tick();
        const int64_t n = weight(rng);
        bool got = false;
        switch (mode(rng)) {
          case 0:
            me.set_state("acquire(n)");
            sem.acquire(n);
            got = true;
            break;
          case 1:
            me.set_state("try_acquire(n)");
            got = sem.try_acquire(n);
            break;
          case 2:
            me.set_state("try_acquire_for(n, 50 us)");
            got = sem.try_acquire_for(n, std::chrono::microseconds(50));
            break;
          default: {
            me.set_state("acquire(n, stop)");
            std::stop_source src;  // never requested: a blocking acquire
            got = sem.acquire(n, src.get_token());
            break;
          }
        }
        if (!got) {
          failed_ops.fetch_add(1, std::memory_order_relaxed);
          continue;
        }
        acquired_ops.fetch_add(1, std::memory_order_relaxed);
        const int64_t now = in_use.fetch_add(n) + n;
        if (now > kCapacity) over.fetch_add(1);
        int64_t seen = max_in_use.load();
        while (now > seen && !max_in_use.compare_exchange_weak(seen, now)) {
        }
        in_use.fetch_sub(n);
        me.set_state("release(n)");
        sem.release(n);
      }
      me.finish();
    });
  }
  // A canceller racing stop requests against grants.
  auto& canceller_slot = watchdog.slot("canceller");
  std::thread canceller([&] {
    std::mt19937 rng(12345);
    while (!done.load()) {
      canceller_slot.tick();
      canceller_slot.set_state("joining a cancelled acquire(capacity)");
      std::stop_source src;
      Semaphore* s = &sem;
      std::thread victim([s, token = src.get_token()] {
        if (s->acquire(kCapacity, token)) s->release(kCapacity);
      });
      std::this_thread::sleep_for(std::chrono::microseconds(rng() % 200));
      src.request_stop();
      victim.join();
    }
    canceller_slot.finish();
  });
  for (auto& w : workers) w.join();
  done = true;
  canceller.join();

  EXPECT_EQ(over.load(), 0);
  EXPECT_LE(max_in_use.load(), kCapacity);
  EXPECT_EQ(sem.available(), kCapacity);
  EXPECT_GT(acquired_ops.load(), 0);
  std::printf("acquired %lld, failed %lld, max in use %lld\n",
              static_cast<long long>(acquired_ops.load()),
              static_cast<long long>(failed_ops.load()),
              static_cast<long long>(max_in_use.load()));
}

}  // namespace
}  // namespace contend
