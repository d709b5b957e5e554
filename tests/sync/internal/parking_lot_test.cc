// Copyright 2026 The contend Authors.

#include "sync/internal/parking_lot.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <stop_token>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "sync/internal/clock.h"
#include "sync/internal/thread_id.h"
#include "sync/internal/wait_observer.h"

namespace contend::internal {
namespace {

using std::chrono::milliseconds;

constexpr int64_t kMs = 1'000'000;
// Generous upper margin for anything that depends on the scheduler (2 noisy
// cores, tests run two at a time, TSan 5-15x slower).
constexpr int64_t kSlackNs = 500 * kMs;

// Sleeps until `key` has `n` waiters parked (or fails after ~10 s).
void wait_for_waiters(const void* key, size_t n) {
  for (int i = 0; i < 10000; ++i) {
    if (ParkingLot::waiter_count(key) == n) return;
    std::this_thread::sleep_for(milliseconds(1));
  }
  FAIL() << "waiter_count never reached " << n;
}

ParkResult park_always(const void* key, ParkOptions options = {}) {
  return ParkingLot::park(
      key, [] { return true; }, options);
}

TEST(ParkingLotTest, InvalidWhenValidateFails) {
  int key = 0;
  bool slept = false;
  bool timed_out_called = false;
  const ParkResult r = ParkingLot::park(
      &key, [] { return false; }, [&] { slept = true; },
      [&](bool) { timed_out_called = true; }, ParkOptions{});
  EXPECT_EQ(r.status, ParkStatus::kInvalid);
  EXPECT_EQ(r.token, kDefaultUnparkToken);
  EXPECT_FALSE(slept);
  EXPECT_FALSE(timed_out_called);
  EXPECT_EQ(ParkingLot::waiter_count(&key), 0u);
}

TEST(ParkingLotTest, UnparkOneWithNoWaitersStillRunsCallback) {
  int key = 0;
  int calls = 0;
  const UnparkResult r =
      ParkingLot::unpark_one(&key, [&](const UnparkResult& res) -> uintptr_t {
        ++calls;
        EXPECT_EQ(res.unparked, 0u);
        EXPECT_FALSE(res.have_more);
        return 7;
      });
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(r.unparked, 0u);
  EXPECT_EQ(ParkingLot::unpark_all(&key), 0u);
}

TEST(ParkingLotTest, UnparkOneIsFifoAndDeliversToken) {
  int key = 0;
  constexpr int kThreads = 5;
  std::vector<uintptr_t> got(kThreads, 0);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    // Enqueue strictly in index order.
    threads.emplace_back([&, i] { got[i] = park_always(&key).token; });
    wait_for_waiters(&key, static_cast<size_t>(i) + 1);
  }
  for (int i = 0; i < kThreads; ++i) {
    const UnparkResult r =
        ParkingLot::unpark_one(&key, [&](const UnparkResult& res) -> uintptr_t {
          EXPECT_EQ(res.unparked, 1u);
          EXPECT_EQ(res.have_more, i + 1 < kThreads);
          EXPECT_GE(res.waited_ns, 0);
          return 100 + static_cast<uintptr_t>(i);
        });
    EXPECT_EQ(r.unparked, 1u);
  }
  for (auto& t : threads) t.join();
  // The i-th unpark carried token 100+i and must have reached the i-th parker.
  for (int i = 0; i < kThreads; ++i) {
    EXPECT_EQ(got[i], 100 + static_cast<uintptr_t>(i)) << "waiter " << i;
  }
}

TEST(ParkingLotTest, UnparkAllWakesEveryWaiterOnKeyOnly) {
  int key = 0;
  int other = 0;
  std::atomic<int> woken{0};
  std::vector<std::thread> threads;
  threads.reserve(3);
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back([&] {
      EXPECT_EQ(park_always(&key).token, 42u);
      woken.fetch_add(1, std::memory_order_relaxed);
    });
  }
  std::thread bystander([&] { park_always(&other); });
  wait_for_waiters(&key, 3);
  wait_for_waiters(&other, 1);
  EXPECT_EQ(ParkingLot::unpark_all(&key, 42), 3u);
  for (auto& t : threads) t.join();
  EXPECT_EQ(woken.load(), 3);
  EXPECT_EQ(ParkingLot::waiter_count(&other), 1u);
  EXPECT_EQ(ParkingLot::unpark_all(&other), 1u);
  bystander.join();
}

TEST(ParkingLotTest, TimeoutRespectsBothBounds) {
  int key = 0;
  int calls = 0;
  bool last = false;
  ParkOptions options;
  const int64_t start = monotonic_now_ns();
  options.deadline_ns = start + 50 * kMs;
  const ParkResult r = ParkingLot::park(
      &key, [] { return true; }, [] {},
      [&](bool was_last) {
        ++calls;
        last = was_last;
      },
      options);
  const int64_t elapsed = monotonic_now_ns() - start;
  EXPECT_EQ(r.status, ParkStatus::kTimedOut);
  EXPECT_GE(elapsed, 50 * kMs);
  EXPECT_LE(elapsed, 50 * kMs + kSlackNs);
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(last);
  EXPECT_EQ(ParkingLot::waiter_count(&key), 0u);
}

TEST(ParkingLotTest, PastDeadlineTimesOutAtOnce) {
  int key = 0;
  ParkOptions options;
  options.deadline_ns = monotonic_now_ns() - kMs;
  const int64_t start = monotonic_now_ns();
  EXPECT_EQ(park_always(&key, options).status, ParkStatus::kTimedOut);
  EXPECT_LE(monotonic_now_ns() - start, kSlackNs);
}

TEST(ParkingLotTest, TimedOutReportsWasLastFalseWhileOthersWait) {
  int key = 0;
  std::thread other([&] { park_always(&key); });
  wait_for_waiters(&key, 1);
  bool last = true;
  ParkOptions options;
  options.deadline_ns = monotonic_now_ns() + 20 * kMs;
  const ParkResult r = ParkingLot::park(
      &key, [] { return true; }, [] {}, [&](bool was_last) { last = was_last; },
      options);
  EXPECT_EQ(r.status, ParkStatus::kTimedOut);
  EXPECT_FALSE(last);
  EXPECT_EQ(ParkingLot::unpark_all(&key), 1u);
  other.join();
}

TEST(ParkingLotTest, StopRequestedOnEntryReturnsCancelledWithoutValidate) {
  int key = 0;
  std::stop_source source;
  source.request_stop();
  const std::stop_token token = source.get_token();
  bool validated = false;
  ParkOptions options;
  options.stop = &token;
  const ParkResult r = ParkingLot::park(
      &key,
      [&] {
        validated = true;
        return true;
      },
      options);
  EXPECT_EQ(r.status, ParkStatus::kCancelled);
  EXPECT_FALSE(validated);
}

TEST(ParkingLotTest, CancelPromptlyWakesParkedWaiter) {
  int key = 0;
  std::stop_source source;
  const std::stop_token token = source.get_token();
  int calls = 0;
  bool last = false;
  ParkResult r{};
  int64_t woke_at = 0;
  std::thread waiter([&] {
    ParkOptions options;
    options.stop = &token;
    r = ParkingLot::park(
        &key, [] { return true; }, [] {},
        [&](bool was_last) {
          ++calls;
          last = was_last;
        },
        options);
    woke_at = monotonic_now_ns();
  });
  wait_for_waiters(&key, 1);
  std::this_thread::sleep_for(milliseconds(20));
  const int64_t requested_at = monotonic_now_ns();
  source.request_stop();
  waiter.join();
  EXPECT_EQ(r.status, ParkStatus::kCancelled);
  EXPECT_LE(woke_at - requested_at, kSlackNs);
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(last);
  EXPECT_EQ(ParkingLot::waiter_count(&key), 0u);
}

TEST(ParkingLotTest, UnparkedWaiterIgnoresLaterStop) {
  int key = 0;
  std::stop_source source;
  const std::stop_token token = source.get_token();
  ParkResult r{};
  std::thread waiter([&] {
    ParkOptions options;
    options.stop = &token;
    r = park_always(&key, options);
  });
  wait_for_waiters(&key, 1);
  EXPECT_EQ(ParkingLot::unpark_all(&key, 5), 1u);
  waiter.join();
  source.request_stop();  // the stop_callback is gone: nothing happens
  EXPECT_EQ(r.status, ParkStatus::kUnparked);
  EXPECT_EQ(r.token, 5u);
}

TEST(ParkingLotTest, FilterSkipsAndStops) {
  int key = 0;
  // Park tokens 1,2,1,2,1 in that order.
  constexpr int kThreads = 5;
  std::vector<ParkResult> results(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      ParkOptions options;
      options.park_token = static_cast<uintptr_t>(1 + i % 2);
      results[i] = park_always(&key, options);
    });
    wait_for_waiters(&key, static_cast<size_t>(i) + 1);
  }
  // Unpark the token-2 waiters only.
  UnparkResult r = ParkingLot::unpark_filter(
      &key,
      [](uintptr_t t) { return t == 2 ? FilterOp::kUnpark : FilterOp::kSkip; },
      [](const UnparkResult& res) -> uintptr_t {
        EXPECT_EQ(res.unparked, 2u);
        EXPECT_TRUE(res.have_more);
        return 9;
      });
  EXPECT_EQ(r.unparked, 2u);
  EXPECT_TRUE(r.have_more);
  threads[1].join();
  threads[3].join();
  EXPECT_EQ(results[1].token, 9u);
  EXPECT_EQ(results[3].token, 9u);
  EXPECT_EQ(ParkingLot::waiter_count(&key), 3u);
  // Unpark one, then stop: only the oldest (index 0) wakes.
  int seen = 0;
  r = ParkingLot::unpark_filter(
      &key,
      [&](uintptr_t) {
        return seen++ == 0 ? FilterOp::kUnpark : FilterOp::kStop;
      },
      [](const UnparkResult&) -> uintptr_t { return 11; });
  EXPECT_EQ(r.unparked, 1u);
  EXPECT_TRUE(r.have_more);
  EXPECT_EQ(seen, 2);
  threads[0].join();
  EXPECT_EQ(results[0].token, 11u);
  EXPECT_EQ(ParkingLot::unpark_all(&key), 2u);
  threads[2].join();
  threads[4].join();
}

TEST(ParkingLotTest, RequeueMovesWaitersInFifoOrder) {
  int from = 0;
  int to = 0;
  constexpr int kThreads = 4;
  std::vector<uintptr_t> got(kThreads, 0);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] { got[i] = park_always(&from).token; });
    wait_for_waiters(&from, static_cast<size_t>(i) + 1);
  }
  // Abort: nothing moves, callback not called.
  bool cb_called = false;
  UnparkResult r = ParkingLot::unpark_requeue(
      &from, &to, [] { return RequeueOp::kAbort; },
      [&](RequeueOp, const UnparkResult&) -> uintptr_t {
        cb_called = true;
        return 0;
      });
  EXPECT_FALSE(cb_called);
  EXPECT_EQ(ParkingLot::waiter_count(&from), 4u);

  // Wake index 0, move 1..3 to `to`.
  r = ParkingLot::unpark_requeue(
      &from, &to, [] { return RequeueOp::kUnparkOneRequeueRest; },
      [](RequeueOp op, const UnparkResult& res) -> uintptr_t {
        EXPECT_EQ(op, RequeueOp::kUnparkOneRequeueRest);
        EXPECT_EQ(res.unparked, 1u);
        EXPECT_EQ(res.requeued, 3u);
        EXPECT_FALSE(res.have_more);
        return 50;
      });
  EXPECT_EQ(r.unparked, 1u);
  EXPECT_EQ(r.requeued, 3u);
  threads[0].join();
  EXPECT_EQ(got[0], 50u);
  EXPECT_EQ(ParkingLot::waiter_count(&from), 0u);
  EXPECT_EQ(ParkingLot::waiter_count(&to), 3u);
  // FIFO preserved on `to`.
  for (int i = 1; i < kThreads; ++i) {
    ParkingLot::unpark_one(&to, [&](const UnparkResult&) -> uintptr_t {
      return 60 + static_cast<uintptr_t>(i);
    });
    threads[i].join();
    EXPECT_EQ(got[i], 60 + static_cast<uintptr_t>(i));
  }
}

TEST(ParkingLotTest, RequeueAllAndUnparkOneOps) {
  int from = 0;
  int to = 0;
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back([&] { park_always(&from); });
    wait_for_waiters(&from, static_cast<size_t>(i) + 1);
  }
  UnparkResult r = ParkingLot::unpark_requeue(
      &from, &to, [] { return RequeueOp::kUnparkOne; },
      [](RequeueOp, const UnparkResult&) -> uintptr_t { return 0; });
  EXPECT_EQ(r.unparked, 1u);
  EXPECT_EQ(r.requeued, 0u);
  EXPECT_TRUE(r.have_more);
  wait_for_waiters(&from, 2);
  r = ParkingLot::unpark_requeue(
      &from, &to, [] { return RequeueOp::kRequeueAll; },
      [](RequeueOp, const UnparkResult&) -> uintptr_t { return 0; });
  EXPECT_EQ(r.unparked, 0u);
  EXPECT_EQ(r.requeued, 2u);
  EXPECT_FALSE(r.have_more);
  EXPECT_EQ(ParkingLot::waiter_count(&to), 2u);
  EXPECT_EQ(ParkingLot::unpark_all(&to), 2u);
  for (auto& t : threads) t.join();
}

// kRequeueOne (Cond::signal with the Mutex held): only the oldest waiter
// moves, nobody wakes, and the moved one is woken from its new queue; its
// ParkResult says it was requeued, the others' do not.
TEST(ParkingLotTest, RequeueOneMovesOnlyTheOldestWaiter) {
  int from = 0;
  int to = 0;
  std::vector<ParkResult> got(3, ParkResult{});
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back([&, i] { got[i] = park_always(&from); });
    wait_for_waiters(&from, static_cast<size_t>(i) + 1);
  }
  UnparkResult r = ParkingLot::unpark_requeue(
      &from, &to, [] { return RequeueOp::kRequeueOne; },
      [](RequeueOp op, const UnparkResult& res) -> uintptr_t {
        EXPECT_EQ(op, RequeueOp::kRequeueOne);
        EXPECT_EQ(res.unparked, 0u);
        EXPECT_EQ(res.requeued, 1u);
        EXPECT_TRUE(res.have_more);
        return 0;
      });
  EXPECT_EQ(r.unparked, 0u);
  EXPECT_EQ(r.requeued, 1u);
  EXPECT_EQ(ParkingLot::waiter_count(&from), 2u);
  EXPECT_EQ(ParkingLot::waiter_count(&to), 1u);
  // The one on `to` is the oldest (index 0).
  ParkingLot::unpark_one(&to,
                         [](const UnparkResult&) -> uintptr_t { return 70; });
  threads[0].join();
  EXPECT_EQ(got[0].token, 70u);
  EXPECT_TRUE(got[0].requeued);
  EXPECT_EQ(ParkingLot::unpark_all(&from), 2u);
  threads[1].join();
  threads[2].join();
  for (int i = 1; i < 3; ++i) {
    EXPECT_EQ(got[i].token, kDefaultUnparkToken);
    EXPECT_FALSE(got[i].requeued);
  }
}

TEST(ParkingLotTest, RequeuedWaiterTimesOutFromItsNewQueue) {
  int from = 0;
  int to = 0;
  bool timed_out_called = false;
  ParkResult r{};
  std::thread waiter([&] {
    ParkOptions options;
    options.deadline_ns = monotonic_now_ns() + 200 * kMs;
    r = ParkingLot::park(
        &from, [] { return true; }, [] {},
        [&](bool) { timed_out_called = true; }, options);
  });
  wait_for_waiters(&from, 1);
  ParkingLot::unpark_requeue(
      &from, &to, [] { return RequeueOp::kRequeueAll; },
      [](RequeueOp, const UnparkResult&) -> uintptr_t { return 0; });
  EXPECT_EQ(ParkingLot::waiter_count(&to), 1u);
  waiter.join();
  EXPECT_EQ(r.status, ParkStatus::kTimedOut);
  EXPECT_FALSE(timed_out_called);  // documented: not on the park() key
  EXPECT_EQ(ParkingLot::waiter_count(&to), 0u);
  EXPECT_EQ(ParkingLot::waiter_count(&from), 0u);
}

TEST(ParkingLotTest, RequeuedWaiterCanBeCancelled) {
  int from = 0;
  int to = 0;
  std::stop_source source;
  const std::stop_token token = source.get_token();
  ParkResult r{};
  std::thread waiter([&] {
    ParkOptions options;
    options.stop = &token;
    r = park_always(&from, options);
  });
  wait_for_waiters(&from, 1);
  ParkingLot::unpark_requeue(
      &from, &to, [] { return RequeueOp::kRequeueAll; },
      [](RequeueOp, const UnparkResult&) -> uintptr_t { return 0; });
  source.request_stop();
  waiter.join();
  EXPECT_EQ(r.status, ParkStatus::kCancelled);
  EXPECT_EQ(ParkingLot::waiter_count(&to), 0u);
}

TEST(ParkingLotTest, BeforeSleepRunsAfterEnqueueOutsideTheLock) {
  int key = 0;
  size_t seen = 0;
  ParkOptions options;
  options.deadline_ns = monotonic_now_ns() + 5 * kMs;
  ParkingLot::park(
      &key, [] { return true; },
      // waiter_count takes the queue lock: this would deadlock if
      // before_sleep ran under it.
      [&] { seen = ParkingLot::waiter_count(&key); }, [](bool) {}, options);
  EXPECT_EQ(seen, 1u);
}

// Fibonacci hashing spreads the address layouts primitives actually have.
// This is the measurement behind the table size comment in parking_lot.cc.
// ParkOptions::front: a waiter that parks at the front is dequeued before
// the ones already queued, and wait_start_ns makes waited_ns count from the
// caller's first park.
TEST(ParkingLotTest, FrontParkJoinsTheHeadAndWaitStartCounts) {
  int key = 0;
  int other = 0;
  std::vector<int> order;  // written by the woken threads, one at a time
  std::mutex order_mu;
  std::thread a([&] {
    park_always(&key);
    std::lock_guard<std::mutex> l(order_mu);
    order.push_back(0);
  });
  wait_for_waiters(&key, 1);
  // Another key's waiter in the same bucket walk must not matter.
  std::thread b([&] { park_always(&other); });
  wait_for_waiters(&other, 1);
  const int64_t start = monotonic_now_ns() - 50 * kMs;
  std::thread c([&] {
    ParkOptions o;
    o.front = true;
    o.wait_start_ns = start;
    park_always(&key, o);
    std::lock_guard<std::mutex> l(order_mu);
    order.push_back(1);
  });
  wait_for_waiters(&key, 2);
  int64_t waited = 0;
  ParkingLot::unpark_one(&key, [&](const UnparkResult& r) -> uintptr_t {
    waited = r.waited_ns;
    return 0;
  });
  c.join();  // the front waiter was the one dequeued
  EXPECT_GE(waited, 50 * kMs);
  ParkingLot::unpark_one(&key,
                         [](const UnparkResult&) -> uintptr_t { return 0; });
  a.join();
  ParkingLot::unpark_all(&other);
  b.join();
  EXPECT_EQ(order, (std::vector<int>{1, 0}));
}

// A park from inside a ParkingLot callback (here before_sleep, and a
// WaitObserver callback) would consume the thread's permit while its outer
// waiter record is still queued; debug builds refuse.
#ifndef NDEBUG
TEST(ParkingLotDeathTest, ParkFromBeforeSleepDies) {
  EXPECT_DEATH(
      {
        int key = 0;
        int inner = 0;
        ParkOptions o;
        o.deadline_ns = monotonic_now_ns() + kMs;
        ParkingLot::park(
            &key, [] { return true; }, [&] { park_always(&inner, o); },
            [](bool) {}, o);
      },
      "contend: ParkingLot::park: called from a ParkingLot callback");
}

void park_in_observer(const WaitEvent&) {
  int inner = 0;
  ParkOptions o;
  o.deadline_ns = monotonic_now_ns() + kMs;
  park_always(&inner, o);
}

// Installs an observer whose on_wait_end parks, then makes a wait end.
void wait_with_parking_observer() {
  static const WaitObserver kParking{&park_in_observer, nullptr};
  set_wait_observer(&kParking);
  int key = 0;
  ParkOptions o;
  o.deadline_ns = monotonic_now_ns() + kMs;
  park_always(&key, o);  // times out, then reports its wait
}

TEST(ParkingLotDeathTest, ParkFromObserverCallbackDies) {
  EXPECT_DEATH(wait_with_parking_observer(),
               "contend: ParkingLot::park: called from a ParkingLot callback");
}
#endif

TEST(ParkingLotTest, BucketSpread) {
  using parking_lot_detail::bucket_index;
  using parking_lot_detail::kBucketCount;
  constexpr size_t kKeys = 4 * kBucketCount;
  auto max_load = [&](const std::vector<const void*>& keys) {
    std::vector<int> load(kBucketCount, 0);
    for (const void* k : keys) ++load[bucket_index(k)];
    const int m = *std::max_element(load.begin(), load.end());
    std::printf("bucket spread: %zu keys, %zu buckets, max load %d\n",
                keys.size(), kBucketCount, m);
    return m;
  };
  // Adjacent 8-byte words (an array of Mutexes).
  std::vector<uint64_t> words(kKeys);
  std::vector<const void*> keys;
  keys.reserve(words.size());
  for (auto& w : words) keys.push_back(&w);
  EXPECT_LE(max_load(keys), 6) << "adjacent words";
  // 64-byte-strided fields (one Mutex per cache-line-sized struct).
  struct alignas(64) Line {
    uint64_t word;
  };
  std::vector<Line> lines(kKeys);
  keys.clear();
  for (auto& l : lines) keys.push_back(&l.word);
  EXPECT_LE(max_load(keys), 6) << "strided";
  // Separate heap objects.
  std::vector<std::unique_ptr<uint64_t>> heap;
  keys.clear();
  for (size_t i = 0; i < kKeys; ++i) {
    heap.push_back(std::make_unique<uint64_t>(i));
    keys.push_back(heap.back().get());
  }
  EXPECT_LE(max_load(keys), 12) << "heap";  // mean 4; <= 3x the mean
}

// ---------------------------------------------------------------------------
// WaitObserver reporting.

struct Recorder {
  std::mutex mu;
  std::vector<WaitEvent> waits;
  std::vector<ReleaseEvent> releases;
};
Recorder* g_recorder = nullptr;

void record_wait(const WaitEvent& e) {
  std::lock_guard<std::mutex> l(g_recorder->mu);
  g_recorder->waits.push_back(e);
}
void record_release(const ReleaseEvent& e) {
  std::lock_guard<std::mutex> l(g_recorder->mu);
  g_recorder->releases.push_back(e);
}

class ObserverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    g_recorder = &recorder_;
    set_wait_observer(&observer_);
  }
  void TearDown() override {
    set_wait_observer(nullptr);
    g_recorder = nullptr;
  }
  Recorder recorder_;
  const WaitObserver observer_{&record_wait, &record_release};
};

TEST_F(ObserverTest, ReportsWaitAndExactReleaseDelays) {
  int key = 0;
  std::atomic<uint32_t> tid_a{0};
  std::atomic<uint32_t> tid_c{0};
  // A parks at t0, C at ~t0+50ms.
  std::thread a([&] {
    tid_a.store(current_thread_id());
    ParkOptions o;
    o.kind = WaitKind::kMutex;
    park_always(&key, o);
  });
  wait_for_waiters(&key, 1);
  const int64_t t0 = monotonic_now_ns();
  std::this_thread::sleep_for(milliseconds(50));
  std::thread c([&] {
    tid_c.store(current_thread_id());
    ParkOptions o;
    o.kind = WaitKind::kMutex;
    park_always(&key, o);
  });
  wait_for_waiters(&key, 2);
  const int64_t t1 = monotonic_now_ns();
  std::this_thread::sleep_for(milliseconds(50));
  // First release: charges A (since its enqueue, <= t0) and C (since its
  // enqueue, in [t0, t1]); wakes A.
  const int64_t r1_before = monotonic_now_ns();
  ParkingLot::unpark_one(
      &key, [](const UnparkResult&) -> uintptr_t { return 0; }, true);
  const int64_t r1_after = monotonic_now_ns();
  a.join();
  std::this_thread::sleep_for(milliseconds(50));
  // Second release: charges C only since the first charge.
  const int64_t r2_before = monotonic_now_ns();
  ParkingLot::unpark_one(
      &key, [](const UnparkResult&) -> uintptr_t { return 0; }, true);
  const int64_t r2_after = monotonic_now_ns();
  c.join();

  std::lock_guard<std::mutex> l(recorder_.mu);
  ASSERT_EQ(recorder_.releases.size(), 2u);
  ASSERT_EQ(recorder_.waits.size(), 2u);
  const ReleaseEvent& e1 = recorder_.releases[0];
  const ReleaseEvent& e2 = recorder_.releases[1];
  EXPECT_EQ(e1.key, &key);
  EXPECT_EQ(e1.kind, WaitKind::kMutex);
  EXPECT_EQ(e1.waiters, 2u);
  EXPECT_EQ(e2.waiters, 1u);
  EXPECT_EQ(e1.releaser_tid, current_thread_id());
  EXPECT_GE(e1.now_ns, r1_before);
  EXPECT_LE(e1.now_ns, r1_after);
  EXPECT_GE(e2.now_ns, r2_before);
  EXPECT_LE(e2.now_ns, r2_after);

  // Find the two waits by tid.
  const WaitEvent* wa = nullptr;
  const WaitEvent* wc = nullptr;
  for (const WaitEvent& w : recorder_.waits) {
    if (w.waiter_tid == tid_a.load()) wa = &w;
    if (w.waiter_tid == tid_c.load()) wc = &w;
  }
  ASSERT_NE(wa, nullptr);
  ASSERT_NE(wc, nullptr);
  EXPECT_EQ(wa->status, ParkStatus::kUnparked);
  EXPECT_EQ(wa->waker_tid, current_thread_id());
  EXPECT_EQ(wa->kind, WaitKind::kMutex);
  EXPECT_EQ(wa->key, &key);
  EXPECT_LE(wa->start_ns, t0);
  EXPECT_EQ(wa->end_ns, e1.now_ns);
  EXPECT_GE(wc->start_ns, t0);
  EXPECT_LE(wc->start_ns, t1);
  EXPECT_EQ(wc->end_ns, e2.now_ns);

  // Exact accounting: e1 = (now1 - startA) + (now1 - startC);
  // e2 = now2 - now1 (C was charged up to now1).
  EXPECT_EQ(e1.delay_ns,
            (e1.now_ns - wa->start_ns) + (e1.now_ns - wc->start_ns));
  EXPECT_EQ(e2.delay_ns, e2.now_ns - e1.now_ns);
  // And the script's timing, within tolerance: ~100 + ~50 ms, then ~50 ms.
  EXPECT_GE(e1.delay_ns, 150 * kMs);
  EXPECT_LE(e1.delay_ns, 150 * kMs + 2 * kSlackNs);
  EXPECT_GE(e2.delay_ns, 50 * kMs);
  EXPECT_LE(e2.delay_ns, 50 * kMs + kSlackNs);
  // The releaser of e1 is charged for both waits; their sum over both events
  // equals the total blocked time of the two waiters.
  EXPECT_EQ(e1.delay_ns + e2.delay_ns,
            (wa->end_ns - wa->start_ns) + (wc->end_ns - wc->start_ns));
}

TEST_F(ObserverTest, TimeoutAndCancelReportNoWaker) {
  int key = 0;
  ParkOptions o;
  o.kind = WaitKind::kEvent;
  o.deadline_ns = monotonic_now_ns() + 10 * kMs;
  EXPECT_EQ(park_always(&key, o).status, ParkStatus::kTimedOut);
  std::stop_source source;
  const std::stop_token token = source.get_token();
  std::thread t([&] {
    ParkOptions oc;
    oc.stop = &token;
    oc.kind = WaitKind::kCond;
    park_always(&key, oc);
  });
  wait_for_waiters(&key, 1);
  source.request_stop();
  t.join();
  // Invalid parks and non-release unparks report nothing.
  ParkingLot::park(
      &key, [] { return false; }, ParkOptions{});
  ParkingLot::unpark_one(&key,
                         [](const UnparkResult&) -> uintptr_t { return 0; });

  std::lock_guard<std::mutex> l(recorder_.mu);
  ASSERT_EQ(recorder_.waits.size(), 2u);
  EXPECT_EQ(recorder_.waits[0].status, ParkStatus::kTimedOut);
  EXPECT_EQ(recorder_.waits[0].kind, WaitKind::kEvent);
  EXPECT_EQ(recorder_.waits[0].waker_tid, 0u);
  EXPECT_GE(recorder_.waits[0].end_ns - recorder_.waits[0].start_ns, 10 * kMs);
  EXPECT_EQ(recorder_.waits[1].status, ParkStatus::kCancelled);
  EXPECT_EQ(recorder_.waits[1].kind, WaitKind::kCond);
  EXPECT_EQ(recorder_.waits[1].waker_tid, 0u);
  EXPECT_TRUE(recorder_.releases.empty());
}

TEST_F(ObserverTest, NonReleaseUnparkIsNotCharged) {
  int key = 0;
  std::thread t([&] { park_always(&key); });
  wait_for_waiters(&key, 1);
  EXPECT_EQ(ParkingLot::unpark_all(&key), 1u);
  t.join();
  std::lock_guard<std::mutex> l(recorder_.mu);
  EXPECT_TRUE(recorder_.releases.empty());
  ASSERT_EQ(recorder_.waits.size(), 1u);
  EXPECT_EQ(recorder_.waits[0].waker_tid, current_thread_id());
}

TEST(WaitObserverTest, KindNamesAndLabels) {
  EXPECT_STREQ(wait_kind_name(WaitKind::kMutex), "Mutex");
  EXPECT_STREQ(wait_kind_name(WaitKind::kRWMutexReader), "RWMutex.read");
  EXPECT_STREQ(wait_kind_name(WaitKind::kRWMutexWriter), "RWMutex.write");
  EXPECT_STREQ(wait_kind_name(WaitKind::kResourcePool), "ResourcePool");
  EXPECT_STREQ(wait_kind_name(WaitKind::kOther), "Other");
  EXPECT_STREQ(wait_kind_name(static_cast<WaitKind>(200)), "?");
  int key = 0;
  EXPECT_EQ(wait_label(&key), nullptr);
  set_wait_label(&key, "cache.shard");
  EXPECT_STREQ(wait_label(&key), "cache.shard");
  set_wait_label(&key, "other");
  EXPECT_STREQ(wait_label(&key), "other");
  clear_wait_label(&key);
  EXPECT_EQ(wait_label(&key), nullptr);
  clear_wait_label(&key);  // no-op
  EXPECT_EQ(wait_observer(), nullptr);
}

}  // namespace
}  // namespace contend::internal
