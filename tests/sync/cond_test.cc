// Copyright 2026 The contend Authors.
//
// Unit tests for contend::Cond (sync/cond.h).

#include "sync/cond.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <thread>
#include <type_traits>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "gtest/gtest.h"
#include "sync/internal/parking_lot.h"
#include "sync/mutex.h"

// The tests drive locks across threads, through std lock types and into
// deliberate misuse, which clang's thread-safety analysis cannot follow; it is
// switched off for them (the header examples at the end stay analyzed).
#if defined(__clang__)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wthread-safety-analysis"
#endif

namespace contend {
namespace {

using internal::ParkingLot;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr auto kSlack = std::chrono::seconds(2);

// ParkingLot keys: Cond's waiter-Mutex word and Mutex's state word, both at
// offset 0.
const void* key_of(const Cond& c) { return &c; }
const void* key_of(const Mutex& m) { return &m; }

void wait_until_parked(const void* key, size_t n) {
  while (ParkingLot::waiter_count(key) < n) {
    std::this_thread::sleep_for(milliseconds(1));
  }
}

constinit Cond global_cond;  // constexpr constructor

TEST(CondTest, Traits) {
  static_assert(sizeof(Cond) == 8);
  static_assert(!std::is_copy_constructible_v<Cond>);
  static_assert(!std::is_move_constructible_v<Cond>);
  static_assert(std::is_nothrow_default_constructible_v<Cond>);
  global_cond.signal();  // no waiters: nothing happens
  global_cond.broadcast();
}

TEST(CondTest, SignalWakesOneWaiterInFifoOrder) {
  Mutex mu;
  Cond cond;
  std::vector<int> woken;  // guarded by mu
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back([&, i] {
      MutexLock l(mu);
      cond.wait(mu);
      woken.push_back(i);
    });
    wait_until_parked(key_of(cond), static_cast<size_t>(i) + 1);
  }
  for (int i = 0; i < 3; ++i) {
    cond.signal();
    // Exactly one more waiter leaves the Cond's queue per signal().
    while (true) {
      MutexLock l(mu);
      if (woken.size() == static_cast<size_t>(i) + 1) break;
    }
    EXPECT_EQ(ParkingLot::waiter_count(key_of(cond)),
              static_cast<size_t>(2 - i));
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(woken, (std::vector<int>{0, 1, 2}));
}

TEST(CondTest, BroadcastRequeuesOntoTheHeldMutex) {
  constexpr int kWaiters = 4;
  Mutex mu;
  Cond cond;
  bool go = false;     // guarded by mu
  int inside = 0;      // guarded by mu; checks exclusion on the way out
  int max_inside = 0;  // guarded by mu
  int done = 0;        // guarded by mu
  std::vector<std::thread> threads;
  threads.reserve(static_cast<size_t>(kWaiters));
  for (int i = 0; i < kWaiters; ++i) {
    threads.emplace_back([&] {
      MutexLock l(mu);
      cond.wait(mu, [&] { return go; });
      ++inside;
      if (inside > max_inside) max_inside = inside;
      --inside;
      ++done;
    });
  }
  wait_until_parked(key_of(cond), kWaiters);
  mu.lock();
  go = true;
  cond.broadcast();
  // Nobody was woken: all moved to the Mutex's queue behind the holder.
  EXPECT_EQ(ParkingLot::waiter_count(key_of(cond)), 0u);
  EXPECT_EQ(ParkingLot::waiter_count(key_of(mu)),
            static_cast<size_t>(kWaiters));
  mu.unlock();
  for (auto& t : threads) t.join();
  EXPECT_EQ(done, kWaiters);
  EXPECT_EQ(max_inside, 1);
}

// signal() under the Mutex moves the oldest waiter onto the Mutex's queue
// (no wakeup into a held Mutex); the unlock() wakes it.
TEST(CondTest, SignalWithHeldMutexRequeuesTheOldestWaiter) {
  Mutex mu;
  Cond cond;
  int turn = -1;           // guarded by mu
  std::vector<int> woken;  // guarded by mu
  std::vector<std::thread> threads;
  for (int i = 0; i < 2; ++i) {
    threads.emplace_back([&, i] {
      MutexLock l(mu);
      cond.wait(mu, [&] { return turn >= i; });
      woken.push_back(i);
    });
    wait_until_parked(key_of(cond), static_cast<size_t>(i) + 1);
  }
  mu.lock();
  turn = 0;
  cond.signal();
  EXPECT_EQ(ParkingLot::waiter_count(key_of(cond)), 1u);
  EXPECT_EQ(ParkingLot::waiter_count(key_of(mu)), 1u);
  mu.unlock();
  threads[0].join();
  {
    MutexLock l(mu);
    EXPECT_EQ(woken, std::vector<int>{0});
    turn = 1;
  }
  // Without the Mutex held, signal() wakes the waiter directly.
  cond.signal();
  threads[1].join();
  EXPECT_EQ(woken, (std::vector<int>{0, 1}));
  EXPECT_EQ(ParkingLot::waiter_count(key_of(cond)), 0u);
  EXPECT_EQ(ParkingLot::waiter_count(key_of(mu)), 0u);
}

TEST(CondTest, BroadcastWithFreeMutexWakesOneAndRequeuesRest) {
  constexpr int kWaiters = 3;
  Mutex mu;
  Cond cond;
  bool go = false;  // guarded by mu
  int done = 0;     // guarded by mu
  std::vector<std::thread> threads;
  threads.reserve(static_cast<size_t>(kWaiters));
  for (int i = 0; i < kWaiters; ++i) {
    threads.emplace_back([&] {
      MutexLock l(mu);
      cond.wait(mu, [&] { return go; });
      ++done;
    });
  }
  wait_until_parked(key_of(cond), kWaiters);
  {
    MutexLock l(mu);
    go = true;
  }
  cond.broadcast();  // Mutex free: one is woken, the rest requeued
  EXPECT_EQ(ParkingLot::waiter_count(key_of(cond)), 0u);
  for (auto& t : threads) t.join();
  EXPECT_EQ(done, kWaiters);
}

TEST(CondTest, WaitForTimesOutWithinBoundsAndReacquires) {
  Mutex mu;
  Cond cond;
  MutexLock l(mu);
  const auto start = steady_clock::now();
  EXPECT_EQ(cond.wait_for(mu, milliseconds(50)), std::cv_status::timeout);
  const auto elapsed = steady_clock::now() - start;
  EXPECT_GE(elapsed, milliseconds(50));
  EXPECT_LT(elapsed, milliseconds(50) + kSlack);
  std::thread t([&] { EXPECT_FALSE(mu.try_lock()); });  // we hold it again
  t.join();
  EXPECT_EQ(ParkingLot::waiter_count(key_of(cond)), 0u);
  // Already-expired deadline: returns at once, still holding mu.
  EXPECT_EQ(cond.wait_until(mu, steady_clock::now() - milliseconds(1)),
            std::cv_status::timeout);
  EXPECT_EQ(
      cond.wait_until(mu, std::chrono::system_clock::now() + milliseconds(20)),
      std::cv_status::timeout);
}

TEST(CondTest, PredicateTimedWaits) {
  Mutex mu;
  Cond cond;
  bool flag = false;  // guarded by mu
  {
    MutexLock l(mu);
    const auto start = steady_clock::now();
    EXPECT_FALSE(cond.wait_for(mu, milliseconds(30), [&] { return flag; }));
    EXPECT_GE(steady_clock::now() - start, milliseconds(30));
  }
  std::thread setter([&] {
    std::this_thread::sleep_for(milliseconds(20));
    {
      MutexLock l(mu);
      flag = true;
    }
    cond.signal();
  });
  {
    MutexLock l(mu);
    EXPECT_TRUE(
        cond.wait_for(mu, std::chrono::seconds(30), [&] { return flag; }));
    EXPECT_TRUE(cond.wait_until(mu, steady_clock::now() + milliseconds(1),
                                [&] { return flag; }));
  }
  setter.join();
}

TEST(CondTest, SignalledTimedWaitReportsNoTimeout) {
  Mutex mu;
  Cond cond;
  std::thread t([&] {
    MutexLock l(mu);
    EXPECT_EQ(cond.wait_for(mu, std::chrono::hours(1)),
              std::cv_status::no_timeout);
  });
  wait_until_parked(key_of(cond), 1);
  cond.signal();
  t.join();
}

TEST(CondTest, WaitersTimingOutAfterRequeueStillReturnWithMutex) {
  Mutex mu;
  Cond cond;
  std::thread t([&] {
    MutexLock l(mu);
    EXPECT_EQ(cond.wait_for(mu, milliseconds(50)), std::cv_status::no_timeout);
  });
  wait_until_parked(key_of(cond), 1);
  mu.lock();
  cond.broadcast();  // moved onto mu's queue; its deadline still runs there
  EXPECT_EQ(ParkingLot::waiter_count(key_of(mu)), 1u);
  std::this_thread::sleep_for(milliseconds(100));
  mu.unlock();
  t.join();
}

TEST(CondTest, CondIsReusableWithAnotherMutexOnceIdle) {
  Mutex a;
  Mutex b;
  Cond cond;
  {
    MutexLock l(a);
    EXPECT_EQ(cond.wait_for(a, milliseconds(1)), std::cv_status::timeout);
  }
  {
    MutexLock l(b);
    EXPECT_EQ(cond.wait_for(b, milliseconds(1)), std::cv_status::timeout);
  }
}

TEST(CondDeathTest, WaitWithoutMutexHeld) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  Mutex mu;
  Cond cond;
  EXPECT_DEATH(cond.wait(mu) /* NOLINT */,
               "contend: Cond::wait: Mutex not held by the caller");
  EXPECT_DEATH((void)cond.wait_for(mu, milliseconds(1)),
               "contend: Cond::wait_for: Mutex not held by the caller");
  EXPECT_DEATH((void)cond.wait_until(mu, steady_clock::now()),
               "contend: Cond::wait_until: Mutex not held by the caller");
}

TEST(CondDeathTest, TwoMutexesAtOnce) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        Mutex a;
        Mutex b;
        Cond cond;
        std::thread t([&] {
          MutexLock l(a);
          cond.wait(a);
        });
        wait_until_parked(key_of(cond), 1);
        MutexLock l(b);
        cond.wait(b);
      },
      "contend: Cond::wait: two different Mutexes used with one Cond");
}

#if defined(__clang__)
#pragma clang diagnostic pop
#endif

// The header example, compiled and run.
class Queue {
 public:
  void push(int v) {
    {
      contend::MutexLock l(mu);
      queue.push_back(v);
    }
    cond.signal();
  }
  int pop() {
    contend::MutexLock l(mu);
    cond.wait(
        mu, [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return !queue.empty(); });
    int v = queue.front();
    queue.pop_front();
    return v;
  }

 private:
  contend::Mutex mu;
  contend::Cond cond;
  std::deque<int> queue ABSL_GUARDED_BY(mu);
};

TEST(CondTest, HeaderExample) {
  Queue q;
  std::thread consumer([&] {
    EXPECT_EQ(q.pop(), 1);
    EXPECT_EQ(q.pop(), 2);
  });
  q.push(1);
  q.push(2);
  consumer.join();
}

}  // namespace
}  // namespace contend
