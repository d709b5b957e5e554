// Copyright 2026 The contend Authors.

#include "sync/wait_group.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <stop_token>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "sync/internal/parking_lot.h"
#include "sync/internal/wait_observer.h"
#include "tests/testing/wait.h"
#include "tests/testing/wait_counter.h"

namespace contend {
namespace {

using internal::ParkingLot;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

int compute(int x) { return x * x; }

// Header example, compiled.
TEST(WaitGroupExample, GoAndWait) {
  std::vector<int> inputs{1, 2, 3, 4, 5, 6, 7, 8};
  contend::WaitGroup wg;
  std::vector<int> results(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    wg.go([&, i] { results[i] = compute(inputs[i]); });
  }
  wg.wait();  // every results[i] is written and visible here
  for (size_t i = 0; i < inputs.size(); ++i) {
    EXPECT_EQ(results[i], compute(inputs[i]));
  }
}

static_assert(sizeof(WaitGroup) == 8);

TEST(WaitGroup, WaitOnZeroReturnsImmediately) {
  WaitGroup wg;
  wg.wait();
  EXPECT_TRUE(wg.wait_for(milliseconds(0)));
  EXPECT_TRUE(wg.wait_until(steady_clock::now()));
  std::stop_source stopped;
  stopped.request_stop();
  // A zero counter wins over an already requested stop.
  EXPECT_TRUE(wg.wait(stopped.get_token()));
}

// add/done from plain threads; the plain writes before done() are visible
// after wait() (TSan checks the edge).
TEST(WaitGroup, AddDoneWaitPublishesWrites) {
  constexpr int kTasks = 16;
  WaitGroup wg;
  std::vector<int> out(kTasks, 0);
  std::vector<std::thread> pool;
  wg.add(kTasks);
  for (int i = 0; i < kTasks; ++i) {
    pool.emplace_back([&, i] {
      std::this_thread::sleep_for(milliseconds(1));
      out[static_cast<size_t>(i)] = i + 1;
      wg.done();
    });
  }
  wg.wait();
  for (int i = 0; i < kTasks; ++i)
    EXPECT_EQ(out[static_cast<size_t>(i)], i + 1);
  for (auto& t : pool) t.join();
}

TEST(WaitGroup, WaitBlocksUntilTheLastDone) {
  WaitGroup wg;
  wg.add(2);
  std::atomic<bool> returned{false};
  std::thread waiter([&] {
    wg.wait();
    returned = true;
  });
  ASSERT_TRUE(
      testing::wait_until([&] { return ParkingLot::waiter_count(&wg) == 1; },
                          "ParkingLot::waiter_count(&wg) == 1"));
  wg.done();
  std::this_thread::sleep_for(milliseconds(20));
  EXPECT_FALSE(returned.load());
  wg.done();
  waiter.join();
  EXPECT_TRUE(returned.load());
}

TEST(WaitGroup, ReleasesAllWaiters) {
  WaitGroup wg;
  wg.add(1);
  std::atomic<int> released{0};
  std::vector<std::thread> waiters;
  for (int i = 0; i < 8; ++i) {
    waiters.emplace_back([&] {
      wg.wait();
      released++;
    });
  }
  ASSERT_TRUE(
      testing::wait_until([&] { return ParkingLot::waiter_count(&wg) == 8; },
                          "ParkingLot::waiter_count(&wg) == 8"));
  EXPECT_EQ(released.load(), 0);
  wg.done();
  for (auto& t : waiters) t.join();
  EXPECT_EQ(released.load(), 8);
}

TEST(WaitGroup, WaitForTimesOutWithinBounds) {
  WaitGroup wg;
  wg.add(1);
  const auto start = steady_clock::now();
  EXPECT_FALSE(wg.wait_for(milliseconds(50)));
  const auto elapsed = steady_clock::now() - start;
  EXPECT_GE(elapsed, milliseconds(50));
  EXPECT_LT(elapsed, milliseconds(50 + 1000));
  EXPECT_FALSE(wg.wait_until(steady_clock::now() + milliseconds(10)));
  wg.done();
  EXPECT_TRUE(wg.wait_for(milliseconds(50)));
}

TEST(WaitGroup, WaitForSucceedsWhenDoneArrives) {
  WaitGroup wg;
  wg.add(1);
  std::thread t([&] {
    EXPECT_TRUE(testing::wait_until_parked(&wg, 1));
    wg.done();
  });
  EXPECT_TRUE(wg.wait_for(std::chrono::seconds(30)));
  t.join();
}

TEST(WaitGroup, StopTokenCancelsAWaitPromptly) {
  WaitGroup wg;
  wg.add(1);
  std::stop_source source;
  std::atomic<int> result{-1};
  std::thread waiter([&] { result = wg.wait(source.get_token()) ? 1 : 0; });
  ASSERT_TRUE(
      testing::wait_until([&] { return ParkingLot::waiter_count(&wg) == 1; },
                          "ParkingLot::waiter_count(&wg) == 1"));
  const auto start = steady_clock::now();
  source.request_stop();
  waiter.join();
  EXPECT_LT(steady_clock::now() - start, milliseconds(1000));
  EXPECT_EQ(result.load(), 0);
  // Already requested and counter non-zero: false without blocking.
  EXPECT_FALSE(wg.wait(source.get_token()));
  wg.done();
  wg.wait();
}

TEST(WaitGroup, ReusableForSequentialBatches) {
  WaitGroup wg;
  for (int batch = 0; batch < 20; ++batch) {
    std::atomic<int> sum{0};
    for (int i = 0; i < 4; ++i) wg.go([&sum] { sum++; });
    wg.wait();
    EXPECT_EQ(sum.load(), 4);
  }
}

// go(f) destroys f's captures before done(), so when wait() returns nothing
// of the task is still alive.
TEST(WaitGroup, GoDestroysTheTaskBeforeDone) {
  auto token = std::make_shared<int>(0);
  WaitGroup wg;
  for (int i = 0; i < 8; ++i) {
    wg.go([token] { std::this_thread::sleep_for(milliseconds(1)); });
  }
  wg.wait();
  EXPECT_EQ(token.use_count(), 1);
}

TEST(WaitGroup, GoAcceptsMoveOnlyCallables) {
  WaitGroup wg;
  auto p = std::make_unique<int>(5);
  std::atomic<int> seen{0};
  wg.go([p = std::move(p), &seen] { seen = *p; });
  wg.wait();
  EXPECT_EQ(seen.load(), 5);
}

TEST(WaitGroup, WaitsAreReportedAsKindWaitGroup) {
  WaitGroup wg;
  testing::WaitCounter waits(&wg);
  wg.add(1);
  std::thread waiter([&] { wg.wait(); });
  ASSERT_TRUE(testing::wait_until_parked(&wg, 1));
  wg.done();
  waiter.join();
  EXPECT_EQ(waits.ended(internal::WaitKind::kWaitGroup,
                        internal::ParkStatus::kUnparked),
            1);
  EXPECT_EQ(waits.ended(internal::WaitKind::kWaitGroup), 1);
}

// --- Always-checked misuse -----------------------------------------------

// Death tests here run in processes with threads: re-exec instead of fork.
class WaitGroupDeathTest : public ::testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

TEST_F(WaitGroupDeathTest, DoneWithoutAddTerminates) {
  EXPECT_DEATH(
      {
        WaitGroup wg;
        wg.done();
      },
      "contend: WaitGroup::done: negative counter");
}

TEST_F(WaitGroupDeathTest, NegativeAddTerminates) {
  EXPECT_DEATH(
      {
        WaitGroup wg;
        wg.add(2);
        wg.add(-3);
      },
      "contend: WaitGroup::add: negative counter");
}

TEST_F(WaitGroupDeathTest, CounterOverflowTerminates) {
  EXPECT_DEATH(
      {
        WaitGroup wg;
        wg.add(INT32_MAX);
        wg.add(1);
      },
      "contend: WaitGroup::add: counter overflow");
}

// Go's "WaitGroup is reused before previous Wait has returned": a new batch's
// add() while a waiter released by the previous zero is still inside wait().
// done() wakes the waiter through a futex; the add() right after it runs
// long before the woken thread can leave wait(), so the first iteration
// practically always hits the window -- the loop only removes the
// "practically".
TEST_F(WaitGroupDeathTest, AddRacingAReleasedWaitTerminates) {
  EXPECT_DEATH(
      {
        for (int i = 0; i < 1000; ++i) {
          WaitGroup wg;
          wg.add(1);
          std::thread waiter([&] { wg.wait(); });
          while (ParkingLot::waiter_count(&wg) != 1) std::this_thread::yield();
          wg.done();
          wg.add(1);  // the misuse: races the returning wait()
          wg.done();
          waiter.join();
        }
      },
      "contend: WaitGroup::add: reused before previous wait\\(\\) has "
      "returned");
}

// go(f) policy: a throwing task terminates with the exception's message.
TEST_F(WaitGroupDeathTest, ThrowingTaskTerminatesWithItsMessage) {
  EXPECT_DEATH(
      {
        WaitGroup wg;
        wg.go([] { throw std::runtime_error("disk on fire"); });
        wg.wait();
      },
      "contend: WaitGroup::go: task threw: disk on fire");
}

}  // namespace
}  // namespace contend
