// Copyright 2026 The contend Authors.
//
// WaitGroup batches reused back to back with several waiters (plain, timed
// and cancellable): every wait of a batch returns after the batch's last
// done(), none is lost, and no misuse check fires on correct reuse.

#include <atomic>
#include <chrono>
#include <stop_token>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "sync/wait_group.h"
#include "tests/testing/stress.h"

namespace contend {
namespace {

TEST(WaitGroupStress, ReusedBatchesWithManyWaiters) {
  constexpr int kWorkers = 3;
  constexpr int kExtraWaiters = 3;
  WaitGroup wg;
  testing::Watchdog watchdog(testing::current_test_name());
  auto& driver = watchdog.slot("batch driver (main)");
  const testing::StressDeadline deadline;
  for (int batch = 0; deadline.running(); ++batch) {
    driver.tick();
    std::atomic<int> finished{0};
    std::atomic<int> early{0};
    wg.add(kWorkers);
    std::vector<std::thread> threads;
    for (int w = 0; w < kWorkers; ++w) {
      threads.emplace_back([&] {
        finished.fetch_add(1);
        wg.done();
      });
    }
    for (int w = 0; w < kExtraWaiters; ++w) {
      threads.emplace_back([&, w] {
        switch (w) {
          case 0:
            wg.wait();
            break;
          case 1:
            while (!wg.wait_for(std::chrono::microseconds(30))) {
            }
            break;
          default: {
            std::stop_source never;
            if (!wg.wait(never.get_token())) early.fetch_add(1);
            break;
          }
        }
        if (finished.load() != kWorkers) early.fetch_add(1);
      });
    }
    driver.set_state("wg.wait() for the batch's 3 done()s");
    wg.wait();
    ASSERT_EQ(finished.load(), kWorkers);
    // Every waiter must have left wait() before the next batch's add():
    // joining them is what makes the reuse legal.
    driver.set_state("joining the batch's waiters (a waiter missed the wake)");
    for (auto& t : threads) t.join();
    ASSERT_EQ(early.load(), 0) << "batch " << batch;
  }
}

TEST(WaitGroupStress, GoBursts) {
  WaitGroup wg;
  std::atomic<int> ran{0};
  testing::Watchdog watchdog(testing::current_test_name());
  auto& driver = watchdog.slot("burst driver (main)");
  const testing::StressDeadline deadline;
  for (int b = 0; deadline.running(); ++b) {
    driver.tick();
    for (int i = 0; i < 16; ++i) wg.go([&] { ran.fetch_add(1); });
    driver.set_state("wg.wait() for a burst of 16 go()s");
    wg.wait();
    ASSERT_EQ(ran.load(), (b + 1) * 16);
  }
}

}  // namespace
}  // namespace contend
