// Copyright 2026 The contend Authors.
//
// Many ErrGroup rounds with a limit, random failures (status or exception)
// and cancellation: the limit is never exceeded, every started task runs
// exactly once, wait() reports a failure exactly when one was injected, and
// the stop request reaches the tasks still waiting for it.

#include <atomic>
#include <random>
#include <stdexcept>
#include <stop_token>
#include <thread>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "sync/errgroup.h"
#include "tests/testing/stress.h"

namespace contend {
namespace {

TEST(ErrGroupStress, LimitFailuresAndCancellation) {
  std::mt19937 rng(2026);
  testing::Watchdog watchdog(testing::current_test_name());
  auto& driver = watchdog.slot("round driver (main)");
  std::atomic<uint64_t> task_steps{0};
  watchdog.slot("tasks (all rounds)", task_steps);
  const testing::StressDeadline deadline;
  for (int round = 0; deadline.running(); ++round) {
    driver.tick();
    const int limit = 1 + static_cast<int>(rng() % 4);
    const int tasks = 4 + static_cast<int>(rng() % 20);
    const int fail_at = static_cast<int>(rng() % (tasks + 4));  // may be none
    const bool throw_it = rng() % 2 == 0;
    auto g = ErrGroup::with_cancel();
    g.set_limit(limit);
    std::atomic<int> current{0}, max_seen{0}, ran{0};
    driver.set_state("go() (blocks at the limit)");
    for (int i = 0; i < tasks; ++i) {
      g.go([&, i](std::stop_token stop) -> absl::Status {
        ran.fetch_add(1);
        task_steps.fetch_add(1, std::memory_order_relaxed);
        const int now = current.fetch_add(1) + 1;
        int seen = max_seen.load();
        while (now > seen && !max_seen.compare_exchange_weak(seen, now)) {
        }
        // A little work, cut short by cancellation.
        for (int spin = 0; spin < 50 && !stop.stop_requested(); ++spin) {
          std::this_thread::yield();
        }
        current.fetch_sub(1);
        if (i == fail_at) {
          if (throw_it) throw std::runtime_error("injected");
          return absl::InternalError("injected");
        }
        return absl::OkStatus();
      });
    }
    bool threw = false;
    absl::Status status;
    driver.set_state("g.wait()");
    try {
      status = g.wait();
    } catch (const std::runtime_error&) {
      threw = true;
    }
    ASSERT_LE(max_seen.load(), limit) << "round " << round;
    ASSERT_EQ(ran.load(), tasks);
    const bool injected = fail_at < tasks;
    ASSERT_EQ(threw, injected && throw_it) << "round " << round;
    ASSERT_EQ(!status.ok(), injected && !throw_it) << "round " << round;
    ASSERT_TRUE(g.stop_token().stop_requested());
  }
}

}  // namespace
}  // namespace contend
