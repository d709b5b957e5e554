// Copyright 2026 The contend Authors.
//
// Stress tests for contend::Event: no lost wakeup in up to 10^6 handoffs,
// broadcast rounds, timeouts racing set(), and publication checked by TSan.
// Each loop stops at its round count or its deadline, whichever comes first
// (a fixed count alone can outlast the per-test time limit on a loaded
// machine), and asserts a floor on the rounds it did, so that it cannot pass
// having tested nothing.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <stop_token>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "sync/event.h"
#include "tests/testing/stress.h"

namespace contend {
namespace {

using std::chrono::microseconds;

using testing::kScale;
using testing::stress_duration;
using testing::StressDeadline;
using testing::Watchdog;

// Waits on `ev` in one of four ways; all must see the set.
void wait_some_way(Event& ev, int how) {
  switch (how % 4) {
    case 0:
      ev.wait();
      break;
    case 1:
      ASSERT_TRUE(ev.wait_for(std::chrono::hours(1)));
      break;
    case 2: {
      std::stop_source never;
      ASSERT_TRUE(ev.wait(never.get_token()));
      break;
    }
    default:
      while (!ev.is_set()) std::this_thread::yield();
  }
}

// Up to 10^6 handoffs (fewer under a sanitizer): A sets ping[i] and waits for
// pong[i]; B waits for ping[i] and sets pong[i]. Each Event is fresh
// (one-shot), and the payload is a plain int written before set() and read
// after the wait: TSan checks the happens-before edge every time. At the
// deadline A writes the payload -1 into ping[i] instead: B stops there.
TEST(EventStressTest, MillionHandoffsNoLostWakeup) {
  const int kRounds = 500000 / kScale;  // two handoffs per round
  const int kMinRounds = 10000 / kScale;
  auto ping = std::make_unique<Event[]>(static_cast<size_t>(kRounds));
  auto pong = std::make_unique<Event[]>(static_cast<size_t>(kRounds));
  std::vector<int> payload(static_cast<size_t>(kRounds) * 2);
  std::atomic<uint64_t> progress{0};
  Watchdog dog(progress);
  const StressDeadline deadline(stress_duration(std::chrono::seconds(3)));
  std::thread b([&] {
    for (int i = 0; i < kRounds; ++i) {
      const size_t k = static_cast<size_t>(i);
      wait_some_way(ping[k], i);
      if (payload[2 * k] == -1) return;
      EXPECT_EQ(payload[2 * k], i);
      payload[2 * k + 1] = -i;
      pong[k].set();
    }
  });
  int rounds = 0;
  for (; rounds < kRounds; ++rounds) {
    const size_t k = static_cast<size_t>(rounds);
    if (!deadline.running()) {
      payload[2 * k] = -1;
      ping[k].set();
      break;
    }
    payload[2 * k] = rounds;
    ping[k].set();
    wait_some_way(pong[k], rounds + 1);
    ASSERT_EQ(payload[2 * k + 1], -rounds);
    progress.fetch_add(1, std::memory_order_relaxed);
  }
  b.join();
  std::printf("%d of %d rounds\n", rounds, kRounds);
  EXPECT_GE(rounds, kMinRounds);
}

// Many waiters per Event, many rounds: one set() releases them all. At the
// deadline the payload of go[i] is -1 instead, and the waiters stop there.
TEST(EventStressTest, BroadcastRounds) {
  constexpr int kWaiters = 4;
  const int kRounds = 20000 / kScale;
  const int kMinRounds = 500 / kScale;
  auto go = std::make_unique<Event[]>(static_cast<size_t>(kRounds));
  std::vector<int> payload(static_cast<size_t>(kRounds));
  std::atomic<int> finished{0};
  std::atomic<uint64_t> progress{0};
  Watchdog dog(progress);
  std::vector<std::thread> waiters;
  waiters.reserve(static_cast<size_t>(kWaiters));
  for (int w = 0; w < kWaiters; ++w) {
    waiters.emplace_back([&, w] {
      for (int i = 0; i < kRounds; ++i) {
        const size_t k = static_cast<size_t>(i);
        wait_some_way(go[k], i + w);
        if (payload[k] == -1) return;
        EXPECT_EQ(payload[k], i + 1);
        finished.fetch_add(1);
      }
    });
  }
  const StressDeadline deadline(stress_duration(std::chrono::seconds(3)));
  int rounds = 0;
  for (; rounds < kRounds; ++rounds) {
    const size_t k = static_cast<size_t>(rounds);
    if (!deadline.running()) {
      payload[k] = -1;
      go[k].set();
      break;
    }
    payload[k] = rounds + 1;
    go[k].set();
    // Wait for this round to complete before the next one (keeps waiters
    // parked on the same Event at the same time).
    while (finished.load() < (rounds + 1) * kWaiters) {
      std::this_thread::yield();
    }
    progress.fetch_add(1, std::memory_order_relaxed);
  }
  for (auto& t : waiters) t.join();
  EXPECT_EQ(finished.load(), kWaiters * rounds);
  std::printf("%d of %d rounds\n", rounds, kRounds);
  EXPECT_GE(rounds, kMinRounds);
}

// Timed waits racing set(): a true result always comes with the payload
// (TSan), a false one only while the Event was unset at the deadline, and a
// later untimed wait always returns.
TEST(EventStressTest, TimeoutsRacingSet) {
  const int kRounds = 20000 / kScale;
  const int kMinRounds = 200 / kScale;
  std::atomic<uint64_t> progress{0};
  std::atomic<int> timeouts{0};
  Watchdog dog(progress);
  const StressDeadline deadline(stress_duration(std::chrono::seconds(3)));
  std::mt19937 rng(12345);
  int rounds = 0;
  for (; rounds < kRounds && deadline.running(); ++rounds) {
    const int i = rounds;
    Event ev;
    int payload = 0;
    const auto delay = microseconds(rng() % 50);
    const auto timeout = microseconds(rng() % 50);
    std::thread setter([&] {
      std::this_thread::sleep_for(delay);
      payload = i;
      ev.set();
    });
    if (ev.wait_for(timeout)) {
      ASSERT_EQ(payload, i);
    } else {
      timeouts.fetch_add(1);
    }
    ev.wait();
    ASSERT_EQ(payload, i);
    setter.join();
    progress.fetch_add(1, std::memory_order_relaxed);
  }
  std::printf("%d of %d timed waits timed out (round limit %d)\n",
              timeouts.load(), rounds, kRounds);
  EXPECT_GE(rounds, kMinRounds);
}

}  // namespace
}  // namespace contend
