// Copyright 2026 The contend Authors.
//
// Stress tests for contend::Event: no lost wakeup in 10^6 handoffs, broadcast
// rounds, timeouts racing set(), and publication checked by TSan.

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

// 10^6 handoffs (10^5 under TSan): A sets ping[i] and waits for pong[i]; B
// waits for ping[i] and sets pong[i]. Each Event is fresh (one-shot), and the
// payload is a plain int written before set() and read after the wait: TSan
// checks the happens-before edge every time.
TEST(EventStressTest, MillionHandoffsNoLostWakeup) {
  const int kRounds = 500000 / kScale;  // two handoffs per round
  auto ping = std::make_unique<Event[]>(static_cast<size_t>(kRounds));
  auto pong = std::make_unique<Event[]>(static_cast<size_t>(kRounds));
  std::vector<int> payload(static_cast<size_t>(kRounds) * 2);
  std::atomic<uint64_t> progress{0};
  Watchdog dog(progress);
  std::thread b([&] {
    for (int i = 0; i < kRounds; ++i) {
      const size_t k = static_cast<size_t>(i);
      wait_some_way(ping[k], i);
      EXPECT_EQ(payload[2 * k], i);
      payload[2 * k + 1] = -i;
      pong[k].set();
    }
  });
  for (int i = 0; i < kRounds; ++i) {
    const size_t k = static_cast<size_t>(i);
    payload[2 * k] = i;
    ping[k].set();
    wait_some_way(pong[k], i + 1);
    ASSERT_EQ(payload[2 * k + 1], -i);
    progress.fetch_add(1, std::memory_order_relaxed);
  }
  b.join();
}

// Many waiters per Event, many rounds: one set() releases them all.
TEST(EventStressTest, BroadcastRounds) {
  constexpr int kWaiters = 4;
  const int kRounds = 20000 / kScale;
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
        EXPECT_EQ(payload[k], i + 1);
        finished.fetch_add(1);
      }
    });
  }
  for (int i = 0; i < kRounds; ++i) {
    payload[static_cast<size_t>(i)] = i + 1;
    go[static_cast<size_t>(i)].set();
    // Wait for this round to complete before the next one (keeps waiters
    // parked on the same Event at the same time).
    while (finished.load() < (i + 1) * kWaiters) std::this_thread::yield();
    progress.fetch_add(1, std::memory_order_relaxed);
  }
  for (auto& t : waiters) t.join();
  EXPECT_EQ(finished.load(), kWaiters * kRounds);
}

// Timed waits racing set(): a true result always comes with the payload
// (TSan), a false one only while the Event was unset at the deadline, and a
// later untimed wait always returns.
TEST(EventStressTest, TimeoutsRacingSet) {
  const int kRounds = 20000 / kScale;
  std::atomic<uint64_t> progress{0};
  std::atomic<int> timeouts{0};
  Watchdog dog(progress);
  std::mt19937 rng(12345);
  for (int i = 0; i < kRounds; ++i) {
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
  std::printf("%d of %d timed waits timed out\n", timeouts.load(), kRounds);
}

}  // namespace
}  // namespace contend
