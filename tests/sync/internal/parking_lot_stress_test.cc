// Copyright 2026 The contend Authors.
//
// Races between park, unpark, timeout, cancel and requeue. Each test checks an
// accounting invariant that a lost or doubled dequeue would break (INV-ONCE in
// parking_lot.cc), and hangs (test timeout) on a lost wakeup.

#include <atomic>
#include <cstdint>
#include <mutex>
#include <stop_token>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "sync/internal/clock.h"
#include "sync/internal/parking_lot.h"
#include "sync/internal/prng.h"
#include "tests/testing/stress.h"

namespace contend::internal {
namespace {

using testing::kScale;

// Two threads alternate through a turn word; every handoff parks the loser.
// A lost wakeup hangs.
TEST(ParkingLotStressTest, PingPongNoLostWakeup) {
  const int kRounds = 100000 / kScale;
  std::atomic<uint32_t> turn{0};
  testing::Watchdog watchdog(testing::current_test_name());
  testing::Watchdog::Slot* slots[2] = {
      &watchdog.slot("player 0 (parked waiting for its turn)"),
      &watchdog.slot("player 1 (parked waiting for its turn)")};
  auto player = [&](uint32_t me) {
    for (int i = 0; i < kRounds; ++i) {
      slots[me]->tick();
      // Acquire: pairs with the release store of the other player.
      while (turn.load(std::memory_order_acquire) != me) {
        ParkingLot::park(
            &turn, [&] { return turn.load(std::memory_order_relaxed) != me; },
            ParkOptions{});
      }
      // Release: pairs with the acquire load of the other player.
      turn.store(1 - me, std::memory_order_release);
      ParkingLot::unpark_all(&turn);
    }
    slots[me]->finish();
  };
  std::thread a(player, 0u);
  std::thread b(player, 1u);
  a.join();
  b.join();
  EXPECT_EQ(ParkingLot::waiter_count(&turn), 0u);
}

// Waiters park with short deadlines and cancellable tokens while unparkers
// and a canceller race them. Every park() must end exactly once, so the number
// of kUnparked results equals the sum of UnparkResult::unparked.
TEST(ParkingLotStressTest, UnparkTimeoutCancelRace) {
  const int kIters = 20000 / kScale;
  constexpr int kWaiters = 3;
  int key = 0;
  std::atomic<bool> done{false};
  std::atomic<int64_t> unparked_by_unparkers{0};
  std::atomic<int64_t> status_count[4] = {};
  std::mutex slot_mu;
  std::vector<std::stop_source> slots;  // guarded by slot_mu

  std::vector<std::thread> waiters;
  for (int w = 0; w < kWaiters; ++w) {
    waiters.emplace_back([&] {
      for (int i = 0; i < kIters; ++i) {
        std::stop_source source;
        {
          std::lock_guard<std::mutex> l(slot_mu);
          slots.push_back(source);
        }
        const std::stop_token token = source.get_token();
        ParkOptions o;
        o.stop = &token;
        o.deadline_ns = monotonic_now_ns() +
                        static_cast<int64_t>(thread_random_below(50000));
        const ParkResult r = ParkingLot::park(
            &key, [] { return true; }, o);
        status_count[static_cast<int>(r.status)].fetch_add(
            1, std::memory_order_relaxed);
      }
    });
  }
  std::thread unparker([&] {
    while (!done.load(std::memory_order_relaxed)) {
      const UnparkResult r = ParkingLot::unpark_one(
          &key, [](const UnparkResult&) -> uintptr_t { return 1; });
      unparked_by_unparkers.fetch_add(static_cast<int64_t>(r.unparked),
                                      std::memory_order_relaxed);
      if (thread_random_below(4) == 0) {
        unparked_by_unparkers.fetch_add(
            static_cast<int64_t>(ParkingLot::unpark_all(&key, 1)),
            std::memory_order_relaxed);
      }
    }
  });
  std::thread canceller([&] {
    while (!done.load(std::memory_order_relaxed)) {
      std::vector<std::stop_source> take;
      {
        std::lock_guard<std::mutex> l(slot_mu);
        take.swap(slots);
      }
      for (auto& s : take) {
        if (thread_random_below(3) == 0) s.request_stop();
      }
      std::this_thread::yield();
    }
  });
  for (auto& t : waiters) t.join();
  done.store(true, std::memory_order_relaxed);
  unparker.join();
  canceller.join();

  const int64_t total = kIters * kWaiters;
  int64_t sum = 0;
  for (auto& c : status_count) sum += c.load();
  EXPECT_EQ(sum, total);
  EXPECT_EQ(status_count[static_cast<int>(ParkStatus::kInvalid)].load(), 0);
  EXPECT_EQ(status_count[static_cast<int>(ParkStatus::kUnparked)].load(),
            unparked_by_unparkers.load());
  EXPECT_EQ(ParkingLot::waiter_count(&key), 0u);
  // All three endings actually happened (the race was exercised).
  EXPECT_GT(status_count[static_cast<int>(ParkStatus::kUnparked)].load(), 0);
  EXPECT_GT(status_count[static_cast<int>(ParkStatus::kTimedOut)].load(), 0);
  EXPECT_GT(status_count[static_cast<int>(ParkStatus::kCancelled)].load(), 0);
}

// Waiters time out while requeuers shuffle them between two keys and
// unparkers wake them from either: no waiter is lost or woken twice.
TEST(ParkingLotStressTest, RequeueRace) {
  const int kIters = 10000 / kScale;
  constexpr int kWaiters = 3;
  int a = 0;
  int b = 0;
  std::atomic<bool> done{false};
  std::atomic<int64_t> woken_by_unparkers{0};
  std::atomic<int64_t> unparked_results{0};
  std::vector<std::thread> waiters;
  for (int w = 0; w < kWaiters; ++w) {
    waiters.emplace_back([&, w] {
      for (int i = 0; i < kIters; ++i) {
        ParkOptions o;
        o.deadline_ns = monotonic_now_ns() +
                        static_cast<int64_t>(thread_random_below(30000));
        const ParkResult r = ParkingLot::park((w + i) % 2 == 0 ? &a : &b,
                                              [] { return true; }, o);
        if (r.status == ParkStatus::kUnparked) {
          unparked_results.fetch_add(1, std::memory_order_relaxed);
        }
      }
    });
  }
  std::thread requeuer([&] {
    while (!done.load(std::memory_order_relaxed)) {
      const bool forward = thread_random_below(2) == 0;
      const int op = static_cast<int>(thread_random_below(3));
      const UnparkResult r = ParkingLot::unpark_requeue(
          forward ? &a : &b, forward ? &b : &a,
          [&] {
            return op == 0   ? RequeueOp::kRequeueAll
                   : op == 1 ? RequeueOp::kUnparkOneRequeueRest
                             : RequeueOp::kUnparkOne;
          },
          [](RequeueOp, const UnparkResult&) -> uintptr_t { return 0; });
      woken_by_unparkers.fetch_add(static_cast<int64_t>(r.unparked),
                                   std::memory_order_relaxed);
    }
  });
  std::thread unparker([&] {
    while (!done.load(std::memory_order_relaxed)) {
      const UnparkResult r = ParkingLot::unpark_one(
          thread_random_below(2) == 0 ? &a : &b,
          [](const UnparkResult&) -> uintptr_t { return 0; });
      woken_by_unparkers.fetch_add(static_cast<int64_t>(r.unparked),
                                   std::memory_order_relaxed);
      std::this_thread::yield();
    }
  });
  for (auto& t : waiters) t.join();
  done.store(true, std::memory_order_relaxed);
  requeuer.join();
  unparker.join();
  EXPECT_EQ(unparked_results.load(), woken_by_unparkers.load());
  EXPECT_EQ(ParkingLot::waiter_count(&a), 0u);
  EXPECT_EQ(ParkingLot::waiter_count(&b), 0u);
}

// A counting semaphore on the ParkingLot: many producers and consumers; every
// permit is consumed exactly once and nobody sleeps forever.
TEST(ParkingLotStressTest, SemaphoreNoLostWakeup) {
  const int kPerThread = 100000 / kScale;
  constexpr int kThreads = 4;
  std::atomic<int64_t> permits{0};
  std::atomic<int64_t> consumed{0};
  auto acquire = [&] {
    for (;;) {
      int64_t p = permits.load(std::memory_order_relaxed);
      while (p > 0) {
        // Acquire: pairs with the release fetch_add in release.
        if (permits.compare_exchange_weak(p, p - 1, std::memory_order_acquire,
                                          std::memory_order_relaxed)) {
          return;
        }
      }
      ParkingLot::park(
          &permits,
          [&] { return permits.load(std::memory_order_relaxed) <= 0; },
          ParkOptions{});
    }
  };
  auto release = [&] {
    // Release: pairs with the acquire CAS in acquire.
    permits.fetch_add(1, std::memory_order_release);
    ParkingLot::unpark_one(&permits,
                           [](const UnparkResult&) -> uintptr_t { return 0; });
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        acquire();
        consumed.fetch_add(1, std::memory_order_relaxed);
      }
    });
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) release();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(consumed.load(), int64_t{kPerThread} * kThreads);
  EXPECT_EQ(permits.load(), 0);
  EXPECT_EQ(ParkingLot::waiter_count(&permits), 0u);
}

}  // namespace
}  // namespace contend::internal
