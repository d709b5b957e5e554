// Copyright 2026 The contend Authors.

#include "shard/keyed_mutex.h"

#include <atomic>
#include <chrono>
#include <stop_token>
#include <string>
#include <thread>
#include <utility>

#include "gtest/gtest.h"
#include "tests/testing/wait.h"

namespace contend {
namespace {

TEST(KeyedMutexTest, ExampleFromTheHeader) {
  contend::KeyedMutex<std::string> accounts;
  {
    auto g = accounts.lock("alice");
    EXPECT_TRUE(g.owns_lock());
    EXPECT_EQ(accounts.entries(), 1u);
  }
  auto both = accounts.lock_many({"bob", "alice"});  // any order is safe
  EXPECT_EQ(accounts.entries(), 2u);
  both.unlock();
  EXPECT_EQ(accounts.entries(), 0u);
}

TEST(KeyedMutexTest, ExcludesTheSameKeyOnly) {
  KeyedMutex<int> km;
  auto g = km.lock(1);
  std::thread other([&] {
    EXPECT_FALSE(km.try_lock(1).owns_lock());
    EXPECT_TRUE(km.try_lock(2).owns_lock());
    EXPECT_FALSE(km.try_lock_for(1, std::chrono::milliseconds(5)).owns_lock());
    EXPECT_FALSE(km.try_lock_until(1, std::chrono::steady_clock::now() +
                                          std::chrono::milliseconds(5))
                     .owns_lock());
  });
  other.join();
  EXPECT_EQ(km.entries(), 1u);  // failed attempts leave nothing behind
  g.unlock();
  EXPECT_EQ(km.entries(), 0u);
}

TEST(KeyedMutexTest, WaiterGetsTheKeyAfterRelease) {
  KeyedMutex<int> km;
  auto g = km.lock(7);
  std::atomic<bool> got{false};
  std::thread waiter([&] {
    auto w = km.lock(7);
    got.store(true, std::memory_order_release);  // pairs with the load below
  });
  ASSERT_TRUE(testing::wait_until([&] { return km.entries() == 1; },
                                  "one entry for key 7"));
  EXPECT_FALSE(got.load(std::memory_order_acquire));
  g.unlock();
  waiter.join();
  EXPECT_TRUE(got.load(std::memory_order_acquire));
  EXPECT_EQ(km.entries(), 0u);
}

TEST(KeyedMutexTest, StopTokenCancelsAWait) {
  KeyedMutex<int> km;
  auto g = km.lock(3);
  std::stop_source stop;
  std::thread waiter([&] {
    auto w = km.lock(3, stop.get_token());
    EXPECT_FALSE(w.owns_lock());
  });
  stop.request_stop();
  waiter.join();
  EXPECT_EQ(km.entries(), 1u);
}

TEST(KeyedMutexTest, GuardIsMovable) {
  KeyedMutex<int> km;
  KeyedMutex<int>::Guard outer;
  EXPECT_FALSE(outer.owns_lock());
  {
    auto g = km.lock(5);
    outer = std::move(g);
    EXPECT_FALSE(g.owns_lock());  // NOLINT(bugprone-use-after-move)
  }
  EXPECT_TRUE(outer.owns_lock());
  EXPECT_EQ(km.entries(), 1u);
  KeyedMutex<int>::Guard moved(std::move(outer));
  moved.unlock();
  EXPECT_EQ(km.entries(), 0u);
}

TEST(KeyedMutexTest, LockManyDeduplicates) {
  KeyedMutex<int> km;
  auto g = km.lock_many({3, 1, 3, 2, 1});
  EXPECT_EQ(km.entries(), 3u);
  std::thread other([&] {
    EXPECT_FALSE(km.try_lock(1).owns_lock());
    EXPECT_FALSE(km.try_lock(2).owns_lock());
    EXPECT_FALSE(km.try_lock(3).owns_lock());
    EXPECT_TRUE(km.try_lock(4).owns_lock());
  });
  other.join();
  g.unlock();
  EXPECT_EQ(km.entries(), 0u);
}

// 10^6 distinct keys (-c opt; 2 x 10^5 in debug builds, fewer under a
// sanitizer, to stay within seconds) locked in sequence by two threads leave
// at most two entries alive at any time, and none at the end.
#ifdef NDEBUG
constexpr int kDistinctKeys = 1'000'000;
#else
constexpr int kDistinctKeys = 200'000;
#endif

TEST(KeyedMutexTest, MemoryIsBoundedByKeysInUse) {
  constexpr int kThreads = 2;
  const int keys = kDistinctKeys / testing::kSanitizerSlowdown;
  KeyedMutex<int> km;
  std::atomic<size_t> max_seen{0};
  std::thread threads[kThreads];
  for (int t = 0; t < kThreads; ++t) {
    threads[t] = std::thread([&, t] {
      for (int k = t; k < keys; k += kThreads) {
        auto g = km.lock(k);
        if (k % 1024 < kThreads) {
          const size_t n = km.entries();
          size_t m = max_seen.load(std::memory_order_relaxed);
          while (n > m && !max_seen.compare_exchange_weak(
                              m, n, std::memory_order_relaxed)) {
          }
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_LE(max_seen.load(), size_t{kThreads});
  EXPECT_GE(max_seen.load(), 1u);
  EXPECT_EQ(km.entries(), 0u);
}

// Beyond max_entries keys share stripes: still exclusive, entries capped.
TEST(KeyedMutexTest, CapFallsBackToStripes) {
  KeyedMutex<int> km({.max_entries = 1, .stripes = 4});
  auto a = km.lock(1);
  auto b = km.lock(2);  // stripe (may share with nothing we hold)
  EXPECT_EQ(km.entries(), 1u);
  std::thread other([&] {
    EXPECT_FALSE(km.try_lock(1).owns_lock());
    EXPECT_FALSE(km.try_lock(2).owns_lock());
  });
  other.join();
  a.unlock();
  // Key 2 is on its stripe; while that stripe is referenced, key 2 cannot
  // get an entry (one lock per key at a time).
  std::thread again([&] { EXPECT_FALSE(km.try_lock(2).owns_lock()); });
  again.join();
  b.unlock();
  EXPECT_EQ(km.entries(), 0u);
  auto c = km.lock(2);
  EXPECT_EQ(km.entries(), 1u);
}

#ifndef NDEBUG
TEST(KeyedMutexDeathTest, RelockByTheHolderAborts) {
  KeyedMutex<int> km;
  EXPECT_DEATH(
      {
        auto g = km.lock(1);
        auto h = km.lock(1);
      },
      "contend: KeyedMutex::lock: the calling thread already holds this "
      "key's lock");
}

TEST(KeyedMutexTest, TryLockByTheHolderFails) {
  KeyedMutex<int> km;
  auto g = km.lock(1);
  EXPECT_FALSE(km.try_lock(1).owns_lock());
  EXPECT_EQ(km.entries(), 1u);
}
#endif

}  // namespace
}  // namespace contend
