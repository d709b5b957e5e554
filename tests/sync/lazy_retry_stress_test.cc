// Copyright 2026 The contend Authors.
//
// LazyRetry under contention for a fixed time: attempts never overlap, init
// never runs after a success, every result names a generation that exists,
// cancelled waiters leave with CancelledError, and a lost wakeup fails
// through the watchdog.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "sync/lazy_retry.h"
#include "tests/testing/stress.h"

namespace contend {
namespace {

constexpr int kThreads = 6;

TEST(LazyRetryStress, ContendedRetriesThenOneSuccess) {
  testing::Watchdog watchdog(testing::current_test_name());
  std::vector<testing::Watchdog::Slot*> slots;
  for (int t = 0; t < kThreads; ++t) {
    slots.push_back(&watchdog.slot("getter " + std::to_string(t)));
  }
  const testing::StressDeadline deadline;
  int rounds = 0;
  while (deadline.running()) {
    // Fails `fail_first` attempts, then succeeds; no backoff, so getters
    // race each retry.
    const int fail_first = 1 + rounds % 4;
    std::atomic<int> attempts{0};
    std::atomic<int> inside{0};
    std::atomic<int> overlaps{0};
    std::atomic<int> bad{0};
    std::atomic<int> cancelled{0};
    LazyRetryOptions options;
    options.initial_backoff = std::chrono::nanoseconds(0);
    options.max_backoff = std::chrono::nanoseconds(0);
    LazyRetry<int64_t> lazy(
        [&]() -> absl::StatusOr<int64_t> {
          if (inside.fetch_add(1) != 0) overlaps.fetch_add(1);
          const int n = attempts.fetch_add(1) + 1;
          std::this_thread::yield();  // let getters arrive and wait
          inside.fetch_sub(1);
          if (n <= fail_first) return absl::UnavailableError("not yet");
          return int64_t{n};
        },
        options);
    std::vector<std::thread> pool;
    for (int t = 0; t < kThreads; ++t) {
      pool.emplace_back([&, t] {
        testing::Watchdog::Slot& me = *slots[static_cast<size_t>(t)];
        std::stop_source stop;
        if (t == 0) stop.request_stop();  // a waiter that leaves at once
        for (int i = 0; i < 100; ++i) {
          me.set_state(t == 0 ? "lazy.get(stopped token)" : "lazy.get()");
          const auto r = t == 0 ? lazy.get(stop.get_token()) : lazy.get();
          const bool was_cancelled =
              r.status().code() == absl::StatusCode::kCancelled;
          // A finished attempt's result names an attempt that ran (a
          // cancelled wait may name the one still starting).
          if (r.generation() == 0 ||
              (!was_cancelled &&
               r.generation() > static_cast<uint64_t>(attempts.load()))) {
            bad.fetch_add(1);
          }
          if (r.ok()) {
            if (*r != fail_first + 1) bad.fetch_add(1);
            break;
          }
          if (was_cancelled) {
            cancelled.fetch_add(1);
          } else if (r.status().code() != absl::StatusCode::kUnavailable) {
            bad.fetch_add(1);
          }
        }
        me.set_state("between rounds");
        me.tick();
      });
    }
    for (auto& th : pool) th.join();
    ASSERT_EQ(overlaps.load(), 0) << "round " << rounds;
    ASSERT_EQ(bad.load(), 0) << "round " << rounds;
    // The success is final: init ran exactly fail_first + 1 times, as long
    // as some getter kept calling until it succeeded.
    ASSERT_EQ(attempts.load(), fail_first + 1) << "round " << rounds;
    const auto after = lazy.get();
    ASSERT_TRUE(after.ok());
    EXPECT_EQ(after.generation(), static_cast<uint64_t>(fail_first + 1));
    ++rounds;
  }
  for (auto* s : slots) s->finish();
  EXPECT_GT(rounds, 0);
}

}  // namespace
}  // namespace contend
