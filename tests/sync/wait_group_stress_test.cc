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

namespace contend {
namespace {

#if defined(CONTEND_TSAN) || defined(__SANITIZE_THREAD__)
constexpr int kBatches = 600;
#else
constexpr int kBatches = 3'000;
#endif

TEST(WaitGroupStress, ReusedBatchesWithManyWaiters) {
  constexpr int kWorkers = 3;
  constexpr int kExtraWaiters = 3;
  WaitGroup wg;
  for (int batch = 0; batch < kBatches; ++batch) {
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
    wg.wait();
    ASSERT_EQ(finished.load(), kWorkers);
    // Every waiter must have left wait() before the next batch's add():
    // joining them is what makes the reuse legal.
    for (auto& t : threads) t.join();
    ASSERT_EQ(early.load(), 0) << "batch " << batch;
  }
}

TEST(WaitGroupStress, GoBursts) {
  WaitGroup wg;
  std::atomic<int> ran{0};
  const int bursts = kBatches / 30 + 1;
  for (int b = 0; b < bursts; ++b) {
    for (int i = 0; i < 16; ++i) wg.go([&] { ran.fetch_add(1); });
    wg.wait();
    ASSERT_EQ(ran.load(), (b + 1) * 16);
  }
}

}  // namespace
}  // namespace contend
