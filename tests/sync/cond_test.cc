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
#include "sync/internal/wait_observer.h"
#include "sync/mutex.h"
#include "tests/testing/wait.h"

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
    ASSERT_TRUE(
        testing::wait_until_parked(key_of(cond), static_cast<size_t>(i) + 1));
  }
  for (int i = 0; i < 3; ++i) {
    cond.signal();
    // Exactly one more waiter leaves the Cond's queue per signal().
    ASSERT_TRUE(testing::wait_until(
        [&] {
          MutexLock l(mu);
          return woken.size() == static_cast<size_t>(i) + 1;
        },
        "signal() woke one more waiter"));
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
      // Stay inside a while: a waiter woken without the Mutex would be
      // counted here at the same time.
      for (int spin = 0; spin < 100; ++spin) std::this_thread::yield();
      --inside;
      ++done;
    });
  }
  ASSERT_TRUE(testing::wait_until_parked(key_of(cond), kWaiters));
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
    ASSERT_TRUE(
        testing::wait_until_parked(key_of(cond), static_cast<size_t>(i) + 1));
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
  ASSERT_TRUE(testing::wait_until_parked(key_of(cond), kWaiters));
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
    EXPECT_TRUE(testing::wait_until_parked(key_of(cond), 1));
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
  ASSERT_TRUE(testing::wait_until_parked(key_of(cond), 1));
  cond.signal();
  t.join();
}

// A waiter requeued onto the Mutex by broadcast() has been released: its
// deadline, which keeps running on the Mutex's queue, may expire there, but
// the wait still reports no_timeout and returns holding the Mutex. Whether
// the broadcast came before the deadline is decided by the clock readings,
// not assumed: an attempt where the machine was too slow to broadcast in time
// is retried with a longer timeout.
TEST(CondTest, WaitersTimingOutAfterRequeueStillReturnWithMutex) {
  bool decided = false;
  for (auto timeout = milliseconds(50);
       !decided && timeout <= milliseconds(3200); timeout *= 4) {
    Mutex mu;
    Cond cond;
    std::atomic<int> status{-1};
    steady_clock::time_point wait_started{};
    std::thread t([&] {
      MutexLock l(mu);
      wait_started = steady_clock::now();
      status = static_cast<int>(cond.wait_for(mu, timeout));
    });
    ASSERT_TRUE(testing::wait_until_parked(key_of(cond), 1));
    mu.lock();
    const auto broadcast_at = steady_clock::now();
    cond.broadcast();  // moved onto mu's queue; its deadline still runs there
    const size_t on_mutex = ParkingLot::waiter_count(key_of(mu));
    // Hold mu past the deadline (that is the case under test).
    std::this_thread::sleep_until(broadcast_at + timeout + milliseconds(20));
    mu.unlock();
    t.join();
    // wait_started is read after join (ordered by it); the deadline is at or
    // after wait_started + timeout.
    if (broadcast_at >= wait_started + timeout) continue;  // too late: retry
    decided = true;
    EXPECT_EQ(on_mutex, 1u);
    EXPECT_EQ(status.load(), static_cast<int>(std::cv_status::no_timeout));
  }
  EXPECT_TRUE(decided) << "never broadcast before a 3.2 s deadline";
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

// --- Stray unparks ----------------------------------------------------------
// A primitive whose wake is "by address only" (Event, WaitGroup, Once,
// ErrGroup, LazyRetry, Singleflight: ParkingLot::unpark_all(&state_) after the
// release) may run that unpark after its memory was freed and reused by a
// Cond. The tests make that stale unpark directly, with the default token.

// Polls pred for up to 10 s; the failure names `what`.
template <class Pred>
::testing::AssertionResult eventually(const char* what, Pred pred) {
  return testing::wait_until(pred, what);
}

// Starts a thread that waits on `cond` (untimed) and then sets `returned`;
// returns once that thread is parked as the Cond's `nth` waiter.
std::thread start_waiter(Mutex& mu, Cond& cond, std::atomic<bool>& returned,
                         size_t nth) {
  std::thread t([m = &mu, c = &cond, r = &returned] {
    MutexLock l(*m);
    c->wait(*m);
    *r = true;
  });
  EXPECT_TRUE(eventually("the waiter parked on the Cond", [&] {
    return ParkingLot::waiter_count(key_of(cond)) == nth;
  }));
  return t;
}

// An untimed wait() does not return on a foreign unpark: the waiter parks
// again on the Cond and a real signal() still wakes it.
TEST(CondTest, StaleUnparkAllDoesNotEndAnUntimedWait) {
  Mutex mu;
  Cond cond;
  std::atomic<bool> returned{false};
  std::thread t = start_waiter(mu, cond, returned, 1);
  ASSERT_EQ(ParkingLot::unpark_all(key_of(cond)), 1u);  // the stale unpark
  // Either it returned (the defect) or it is parked on the Cond again.
  ASSERT_TRUE(
      eventually("the waiter returned or parked on the Cond again", [&] {
        return returned.load() || ParkingLot::waiter_count(key_of(cond)) == 1;
      }));
  EXPECT_FALSE(returned.load()) << "wait() returned without a signal";
  cond.signal();
  t.join();
  EXPECT_TRUE(returned.load());
}

// A timed wait keeps its deadline across the re-park: a foreign unpark
// neither ends it early nor extends it, and it reports timeout.
TEST(CondTest, StaleUnparkAllDoesNotEndATimedWait) {
  constexpr auto kTimeout = milliseconds(300);
  Mutex mu;
  Cond cond;
  std::atomic<int> status{-1};  // -1: still waiting; else the cv_status
  steady_clock::duration waited{};
  std::thread t([&] {
    MutexLock l(mu);
    const auto start = steady_clock::now();
    const std::cv_status s = cond.wait_for(mu, kTimeout);
    waited = steady_clock::now() - start;
    status = static_cast<int>(s);
  });
  ASSERT_TRUE(eventually("the timed waiter parked on the Cond", [&] {
    return ParkingLot::waiter_count(key_of(cond)) == 1;
  }));
  if (ParkingLot::unpark_all(key_of(cond)) != 1) {
    t.join();
    GTEST_SKIP() << "the wait timed out before the stale unpark";
  }
  t.join();
  EXPECT_EQ(status.load(), static_cast<int>(std::cv_status::timeout))
      << "wait_for() reported a release nobody made";
  EXPECT_GE(waited, kTimeout);
  EXPECT_LT(waited, kTimeout + kSlack);
}

// A waiter that signal() already moved onto the Mutex's queue has been
// released: a stray unpark there (at the Mutex's address) must not send it
// back to the Cond, where it would wait for a second signal.
TEST(CondTest, StaleUnparkOfARequeuedWaiterStillReturns) {
  Mutex mu;
  Cond cond;
  std::atomic<bool> first_returned{false};
  std::atomic<bool> second_returned{false};
  std::thread first = start_waiter(mu, cond, first_returned, 1);
  std::thread second = start_waiter(mu, cond, second_returned, 2);
  mu.lock();
  cond.signal();  // held: the oldest waiter moves onto mu's queue
  ASSERT_EQ(ParkingLot::waiter_count(key_of(mu)), 1u);
  ASSERT_EQ(ParkingLot::unpark_all(key_of(mu)), 1u);  // the stale unpark
  mu.unlock();
  const bool first_woke = eventually("the requeued waiter returned",
                                     [&] { return first_returned.load(); });
  EXPECT_TRUE(first_woke) << "the requeued waiter went back to the Cond";
  EXPECT_FALSE(second_returned.load());
  cond.broadcast();  // releases the second (and the first, if it regressed)
  first.join();
  second.join();
}

// A signal() that comes while a waiter is off the queue -- dequeued by a
// foreign unpark, not yet parked again -- finds nobody queued. The waiter must
// not then sleep through it: it sees the Cond's queue was emptied meanwhile
// and returns as released. The window is held open by a WaitObserver, which
// runs in the waiter's thread after the dequeue and before park() returns.
std::atomic<const void*> hold_key{nullptr};
std::atomic<bool> holding{false};
void hold_after_dequeue(const internal::WaitEvent& e) {
  if (e.key != hold_key.load() || e.status != internal::ParkStatus::kUnparked) {
    return;
  }
  holding = true;
  const auto give_up = steady_clock::now() + std::chrono::seconds(10);
  while (hold_key.load() == e.key && steady_clock::now() < give_up) {
    std::this_thread::yield();
  }
  holding = false;
}
const internal::WaitObserver kHoldObserver{&hold_after_dequeue, nullptr};

TEST(CondTest, SignalBetweenAStaleUnparkAndTheReparkIsNotLost) {
  Mutex mu;
  Cond cond;
  std::atomic<bool> returned{false};
  std::thread t = start_waiter(mu, cond, returned, 1);
  hold_key = key_of(cond);
  internal::set_wait_observer(&kHoldObserver);
  ASSERT_EQ(ParkingLot::unpark_all(key_of(cond)), 1u);  // the stale unpark
  ASSERT_TRUE(eventually("the waiter held in the window after the stale unpark",
                         [&] { return holding.load(); }));
  cond.signal();  // nobody queued: the waiter is in the window
  hold_key = nullptr;
  const bool woke =
      eventually("the waiter returned", [&] { return returned.load(); });
  internal::set_wait_observer(nullptr);
  if (!woke) cond.signal();  // rescue the waiter so the test can end
  t.join();
  EXPECT_TRUE(woke) << "the signal made during the window was lost";
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
        ASSERT_TRUE(testing::wait_until_parked(key_of(cond), 1));
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
