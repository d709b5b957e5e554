// Copyright 2026 The contend Authors.
//
// Once, OnceFunc and OnceValue under contention, round after round for a
// fixed time: exactly one run per object, every caller sees its writes, a
// throwing run is retried by exactly one waiter (Once) or rethrown to all
// (OnceFunc), and a lost wakeup fails through the watchdog.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "sync/once.h"
#include "tests/testing/stress.h"

namespace contend {
namespace {

constexpr int kThreads = 6;

// All threads call() the same Once at the same moment. f fails on the first
// `failures` attempts (0, 1 or 2 by round), so waiters take over after a
// throw; exactly one attempt succeeds and every caller returns after it.
TEST(OnceStress, RoundsOfContendedCallsWithThrowingRuns) {
  testing::Watchdog watchdog(testing::current_test_name());
  std::vector<testing::Watchdog::Slot*> slots;
  for (int t = 0; t < kThreads; ++t) {
    slots.push_back(&watchdog.slot("caller " + std::to_string(t)));
  }
  const testing::StressDeadline deadline;
  int rounds = 0;
  while (deadline.running()) {
    const int failures = rounds % 3;
    Once once;
    std::atomic<int> attempts{0};
    std::atomic<int> successes{0};
    std::atomic<int> threw{0};
    std::atomic<int> bad{0};
    std::atomic<int> ready{0};
    std::string payload;  // plain: written by the successful f only
    std::vector<std::thread> pool;
    for (int t = 0; t < kThreads; ++t) {
      pool.emplace_back([&, t] {
        testing::Watchdog::Slot& me = *slots[static_cast<size_t>(t)];
        ready.fetch_add(1);
        while (ready.load() < kThreads) std::this_thread::yield();
        me.set_state("once.call()");
        for (;;) {
          try {
            once.call([&] {
              if (attempts.fetch_add(1) < failures) {
                throw std::runtime_error("attempt failed");
              }
              payload = "initialized";
              successes.fetch_add(1);
            });
            break;
          } catch (const std::runtime_error&) {
            threw.fetch_add(1);  // this caller ran a failing f; call again
          }
        }
        if (payload != "initialized") bad.fetch_add(1);
        me.set_state("between rounds");
        me.tick();
      });
    }
    for (auto& th : pool) th.join();
    ASSERT_EQ(successes.load(), 1) << "round " << rounds;
    ASSERT_EQ(attempts.load(), failures + 1) << "round " << rounds;
    ASSERT_EQ(threw.load(), failures) << "round " << rounds;
    ASSERT_EQ(bad.load(), 0) << "round " << rounds;
    ++rounds;
  }
  for (auto* s : slots) s->finish();
  EXPECT_GT(rounds, 0);
}

// OnceFunc (a throw counts as the run) and OnceValue under the same pattern.
TEST(OnceStress, OnceFuncAndOnceValueRounds) {
  testing::Watchdog watchdog(testing::current_test_name());
  auto& driver = watchdog.slot("round driver (main)");
  const testing::StressDeadline deadline;
  for (int round = 0; deadline.running(); ++round) {
    driver.tick();
    std::atomic<int> func_runs{0};
    std::atomic<int> value_runs{0};
    std::atomic<int> caught{0};
    std::atomic<int> bad{0};
    const bool throws = round % 2 == 0;
    OnceFunc f([&] {
      func_runs.fetch_add(1);
      if (throws) throw std::logic_error("boom");
    });
    OnceValue v([&] {
      value_runs.fetch_add(1);
      return int64_t{round};
    });
    std::vector<std::thread> pool;
    for (int t = 0; t < kThreads; ++t) {
      pool.emplace_back([&] {
        try {
          f();
        } catch (const std::logic_error&) {
          caught.fetch_add(1);
        }
        if (v() != round) bad.fetch_add(1);
      });
    }
    driver.set_state("joining callers of OnceFunc/OnceValue");
    for (auto& th : pool) th.join();
    ASSERT_EQ(func_runs.load(), 1) << "round " << round;
    ASSERT_EQ(value_runs.load(), 1) << "round " << round;
    ASSERT_EQ(caught.load(), throws ? kThreads : 0) << "round " << round;
    ASSERT_EQ(bad.load(), 0) << "round " << round;
  }
}

}  // namespace
}  // namespace contend
