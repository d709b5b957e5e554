// Copyright 2026 The contend Authors.
//
// Stress tests for contend::Cond: no lost wakeup in up to 10^6 handoffs, a
// bounded producer/consumer queue mixing signal/broadcast and timed waits,
// and a broadcast barrier (requeue onto the Mutex under load).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <stop_token>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "sync/cond.h"
#include "sync/mutex.h"
#include "tests/testing/stress.h"

// The tests drive locks across threads, through std lock types and into
// deliberate misuse, which clang's thread-safety analysis cannot follow; it is
// switched off for them (the header examples at the end stay analyzed).
#if defined(__clang__)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wthread-safety-analysis"
#endif

namespace contend {
namespace {

using std::chrono::microseconds;

using testing::kScale;
using testing::stress_duration;
using testing::StressDeadline;
using testing::Watchdog;

// Up to 10^6 handoffs (fewer under a sanitizer) of a turn between two threads;
// each handoff needs the other thread's signal. Signals are sent both with the
// Mutex held and after releasing it. At the deadline (a loaded machine) the
// player holding the turn lowers the limit to the count so far; both stop.
TEST(CondStressTest, MillionHandoffsNoLostWakeup) {
  const int kMinHandoffs = 20000 / kScale;
  const StressDeadline deadline(stress_duration(std::chrono::seconds(3)));
  Mutex mu;
  Cond cond;
  int limit = 1000000 / kScale;  // guarded by mu: handoffs to make
  int turn = 0;                  // guarded by mu: whose turn (0 or 1)
  int count = 0;                 // guarded by mu: handoffs so far
  int last = 1;         // guarded by mu: the player who made the last handoff
  int out_of_turn = 0;  // guarded by mu: handoffs by the same player twice
  int handoffs[2] = {0, 0};  // guarded by mu: handoffs per player
  std::atomic<uint64_t> progress{0};
  Watchdog dog(progress);
  auto player = [&](int me) {
    for (;;) {
      mu.lock();
      cond.wait(mu, [&] { return turn == me || count >= limit; });
      if (count >= limit) {
        mu.unlock();
        cond.signal();
        return;
      }
      if (last == me) ++out_of_turn;
      last = me;
      ++handoffs[me];
      turn = 1 - me;
      ++count;
      if (!deadline.running()) limit = count;
      const bool signal_inside = (count & 1) != 0;
      if (signal_inside) cond.signal();
      mu.unlock();
      if (!signal_inside) cond.signal();
      progress.fetch_add(1, std::memory_order_relaxed);
    }
  };
  std::thread a(player, 0);
  std::thread b(player, 1);
  a.join();
  b.join();
  // A wait that returned without its turn (a wakeup mistaken for the
  // predicate) shows up as a player handing off twice in a row.
  EXPECT_EQ(out_of_turn, 0);
  EXPECT_EQ(handoffs[0], (count + 1) / 2);
  EXPECT_EQ(handoffs[1], count / 2);
  std::printf("%d handoffs\n", count);
  EXPECT_GE(count, kMinHandoffs);
}

// Bounded queue, 2 producers and 3 consumers; consumers use timed waits
// (short timeouts racing signals); producers wake consumers with signal()
// or broadcast(). Every item is consumed exactly once.
TEST(CondStressTest, BoundedQueueNoLostItems) {
  constexpr int kProducers = 2;
  constexpr int kConsumers = 3;
  const int kItemsPerProducer = 100000 / kScale;
  constexpr size_t kCapacity = 8;
  Mutex mu;
  Cond not_empty;
  Cond not_full;
  std::deque<int64_t> queue;        // guarded by mu
  int producers_left = kProducers;  // guarded by mu
  std::atomic<int64_t> sum{0};
  std::atomic<int64_t> consumed{0};
  std::atomic<uint64_t> progress{0};
  Watchdog dog(progress);
  std::vector<std::thread> threads;
  threads.reserve(size_t{kProducers} + size_t{kConsumers});
  for (int p = 0; p < kProducers; ++p) {
    threads.emplace_back([&, p] {
      for (int i = 1; i <= kItemsPerProducer; ++i) {
        mu.lock();
        not_full.wait(mu, [&] { return queue.size() < kCapacity; });
        queue.push_back(int64_t{i});
        mu.unlock();
        if ((i + p) % 4 == 0) {
          not_empty.broadcast();
        } else {
          not_empty.signal();
        }
      }
      mu.lock();
      --producers_left;
      mu.unlock();
      not_empty.broadcast();
    });
  }
  for (int c = 0; c < kConsumers; ++c) {
    threads.emplace_back([&, c] {
      for (;;) {
        mu.lock();
        while (queue.empty() && producers_left > 0) {
          if (c == 0) {
            not_empty.wait(mu);
          } else {
            (void)not_empty.wait_for(mu, microseconds(20 * c));
          }
        }
        if (queue.empty()) {
          mu.unlock();
          return;
        }
        const int64_t v = queue.front();
        queue.pop_front();
        mu.unlock();
        not_full.signal();
        sum.fetch_add(v, std::memory_order_relaxed);
        consumed.fetch_add(1, std::memory_order_relaxed);
        progress.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  for (auto& t : threads) t.join();
  const int64_t n = kItemsPerProducer;
  EXPECT_EQ(consumed.load(), int64_t{kProducers} * n);
  EXPECT_EQ(sum.load(), int64_t{kProducers} * n * (n + 1) / 2);
}

// A generation barrier built from Mutex + Cond::broadcast: every round moves
// all waiters onto the Mutex (requeue) while the last arriver still holds it.
TEST(CondStressTest, BroadcastBarrierRounds) {
  constexpr int kThreads = 4;
  const int kRounds = 20000 / kScale;
  Mutex mu;
  Cond cond;
  int arrived = 0;          // guarded by mu
  uint64_t generation = 0;  // guarded by mu
  int64_t shared_sum = 0;   // guarded by mu
  std::atomic<uint64_t> progress{0};
  Watchdog dog(progress);
  std::vector<std::thread> threads;
  threads.reserve(static_cast<size_t>(kThreads));
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int r = 0; r < kRounds; ++r) {
        MutexLock l(mu);
        shared_sum += 1;
        const uint64_t gen = generation;
        if (++arrived == kThreads) {
          arrived = 0;
          ++generation;
          cond.broadcast();  // with mu held: requeue all
          progress.fetch_add(1, std::memory_order_relaxed);
        } else {
          cond.wait(mu, [&] { return generation != gen; });
        }
        // Everybody of this round has arrived before anyone leaves it.
        EXPECT_GE(shared_sum, int64_t{kThreads} * (r + 1));
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(generation, static_cast<uint64_t>(kRounds));
}

}  // namespace
}  // namespace contend

#if defined(__clang__)
#pragma clang diagnostic pop
#endif
