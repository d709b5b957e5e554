// Copyright 2026 The contend Authors.
//
// Unit tests for contend::Event (sync/event.h).

#include "sync/event.h"

#include <array>
#include <atomic>
#include <cassert>
#include <chrono>
#include <memory>
#include <stop_token>
#include <thread>
#include <type_traits>
#include <vector>

#include "gtest/gtest.h"
#include "sync/internal/parking_lot.h"
#include "tests/testing/wait.h"

namespace contend {
namespace {

using internal::ParkingLot;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr auto kSlack = std::chrono::seconds(2);

// An Event's ParkingLot key is its state word, at offset 0.
const void* key_of(const Event& ev) { return &ev; }

constinit Event global_event;  // constexpr constructor

TEST(EventTest, Traits) {
  static_assert(sizeof(Event) == 4);
  static_assert(!std::is_copy_constructible_v<Event>);
  static_assert(!std::is_move_constructible_v<Event>);
  static_assert(std::is_nothrow_default_constructible_v<Event>);
  EXPECT_FALSE(global_event.is_set());
}

TEST(EventTest, SetIsStickyAndIdempotent) {
  Event ev;
  EXPECT_FALSE(ev.is_set());
  ev.set();
  EXPECT_TRUE(ev.is_set());
  ev.set();  // harmless
  EXPECT_TRUE(ev.is_set());
  ev.wait();
  EXPECT_TRUE(ev.wait_for(milliseconds(0)));
  EXPECT_TRUE(ev.wait_until(steady_clock::now() - milliseconds(1)));
  std::stop_source stop;
  stop.request_stop();
  EXPECT_TRUE(ev.wait(stop.get_token()));  // set wins over a stop
}

TEST(EventTest, WaitForTimesOutWithinBounds) {
  Event ev;
  const auto start = steady_clock::now();
  EXPECT_FALSE(ev.wait_for(milliseconds(50)));
  const auto elapsed = steady_clock::now() - start;
  EXPECT_GE(elapsed, milliseconds(50));
  EXPECT_LT(elapsed, milliseconds(50) + kSlack);
  EXPECT_EQ(ParkingLot::waiter_count(key_of(ev)), 0u);
  EXPECT_FALSE(ev.is_set());
}

TEST(EventTest, WaitUntilTimesOutWithinBoundsForBothClocks) {
  Event ev;
  auto start = steady_clock::now();
  EXPECT_FALSE(ev.wait_until(steady_clock::now() + milliseconds(30)));
  EXPECT_GE(steady_clock::now() - start, milliseconds(30));
  EXPECT_LT(steady_clock::now() - start, milliseconds(30) + kSlack);
  start = steady_clock::now();
  EXPECT_FALSE(
      ev.wait_until(std::chrono::system_clock::now() + milliseconds(30)));
  // system_clock is converted once at the call; allow its rounding.
  EXPECT_GE(steady_clock::now() - start, milliseconds(29));
  EXPECT_LT(steady_clock::now() - start, milliseconds(30) + kSlack);
  EXPECT_FALSE(ev.wait_for(milliseconds(-5)));  // past deadline: at once
}

TEST(EventTest, SetWakesEveryParkedWaiter) {
  constexpr int kWaiters = 6;
  Event ev;
  std::atomic<int> woken{0};
  std::vector<std::thread> waiters;
  waiters.reserve(static_cast<size_t>(kWaiters));
  for (int i = 0; i < kWaiters; ++i) {
    waiters.emplace_back([&, i] {
      switch (i % 3) {
        case 0:
          ev.wait();
          break;
        case 1:
          EXPECT_TRUE(ev.wait_for(std::chrono::hours(1)));
          break;
        default: {
          std::stop_source never;
          EXPECT_TRUE(ev.wait(never.get_token()));
        }
      }
      woken.fetch_add(1);
    });
  }
  ASSERT_TRUE(testing::wait_until_parked(key_of(ev), kWaiters));
  EXPECT_EQ(woken.load(), 0);
  ev.set();
  for (auto& t : waiters) t.join();
  EXPECT_EQ(woken.load(), kWaiters);
  EXPECT_EQ(ParkingLot::waiter_count(key_of(ev)), 0u);
}

TEST(EventTest, TimedOutWaiterDoesNotDisturbOthers) {
  Event ev;
  std::thread long_waiter(
      [&] { EXPECT_TRUE(ev.wait_for(std::chrono::hours(1))); });
  ASSERT_TRUE(testing::wait_until_parked(key_of(ev), 1));
  EXPECT_FALSE(ev.wait_for(milliseconds(20)));  // times out, not the last
  ev.set();
  long_waiter.join();
}

TEST(EventTest, StopTokenWakesParkedWaiterPromptly) {
  Event ev;
  std::stop_source stop;
  std::atomic<bool> returned{false};
  std::thread waiter([&] {
    EXPECT_FALSE(ev.wait(stop.get_token()));
    returned = true;
  });
  ASSERT_TRUE(testing::wait_until_parked(key_of(ev), 1));
  std::this_thread::sleep_for(milliseconds(10));
  EXPECT_FALSE(returned.load());
  const auto start = steady_clock::now();
  stop.request_stop();
  waiter.join();
  EXPECT_LT(steady_clock::now() - start, kSlack);
  EXPECT_EQ(ParkingLot::waiter_count(key_of(ev)), 0u);
  // A stop requested on entry returns at once.
  EXPECT_FALSE(ev.wait(stop.get_token()));
  EXPECT_FALSE(ev.is_set());
}

// The section 10 example of *sync — Senior*, written with Event: the
// unsynchronized `ready` flag becomes an Event, whose set() happens-before
// wait()'s return. TSan reports a data race on `data` if it does not.
struct Big {
  std::array<int, 256> values;
};
Big compute_big() {
  Big b;
  for (int i = 0; i < 256; ++i) b.values[static_cast<size_t>(i)] = i * i;
  return b;
}

TEST(EventTest, SeedHappensBeforeExample) {
  for (int round = 0; round < 100; ++round) {
    Event ready;
    Big data{};
    std::thread writer([&] {
      data = compute_big();
      ready.set();
    });
    ready.wait();
    long sum = 0;
    for (int v : data.values) sum += v;
    EXPECT_EQ(sum, 255L * 256 * 511 / 6);
    writer.join();
  }
}

TEST(EventTest, IsSetPublishesToo) {
  Event ready;
  int data = 0;
  std::thread writer([&] {
    data = 7;
    ready.set();
  });
  while (!ready.is_set()) std::this_thread::yield();
  EXPECT_EQ(data, 7);  // TSan: is_set()'s acquire pairs with set()
  writer.join();
}

TEST(EventTest, WaiterMayDestroyEventWhileSetIsReturning) {
  // The absl::Notification pattern: the Event lives with the waiter, which
  // frees it as soon as wait() returns.
  for (int i = 0; i < 200; ++i) {
    auto ev = std::make_unique<Event>();
    Event* raw = ev.get();
    std::thread setter([raw] { raw->set(); });
    ev->wait();
    ev.reset();
    setter.join();
  }
}

TEST(EventTest, HeaderExample) {
  contend::Event ready;
  int data = 0;
  std::thread producer([&] {
    data = 42;
    ready.set();
  });
  ready.wait();
  assert(data == 42);  // set() happens-before wait() returns
  EXPECT_EQ(data, 42);
  producer.join();
}

}  // namespace
}  // namespace contend
