// Copyright 2026 The contend Authors.
//
// Unit tests for contend::RWMutex (sync/rw_mutex.h).

#include "sync/rw_mutex.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "gtest/gtest.h"
#include "sync/internal/parking_lot.h"
#include "sync/internal/wait_observer.h"
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

// Generous upper margin for "returns promptly" on a noisy 2-core machine
// (tests run two at a time; TSan is slower still).
constexpr auto kSlack = std::chrono::seconds(2);

// The main ParkingLot key of an RWMutex is its state word, at offset 0.
const void* main_key(const RWMutex& mu) { return &mu; }

// The key a writer parks on while it waits for the readers to drain.
const void* drain_key(const RWMutex& mu) {
  return reinterpret_cast<const char*>(main_key(mu)) + 1;
}

// Waits until a writer has claimed `mu` (try_lock_shared fails only then,
// while the lock is read-held by the caller or free of writers).
::testing::AssertionResult wait_until_writer_queued(RWMutex& mu) {
  return testing::wait_until(
      [&] {
        if (!mu.try_lock_shared()) return true;
        mu.unlock_shared();
        return false;
      },
      "a writer queued (try_lock_shared failing)");
}

constinit RWMutex global_mu;  // constexpr constructor

TEST(RWMutexTest, SizeAndTraits) {
  static_assert(sizeof(RWMutex) <= 16);
  static_assert(!std::is_copy_constructible_v<RWMutex>);
  static_assert(!std::is_move_constructible_v<RWMutex>);
  static_assert(!std::is_copy_assignable_v<RWMutex>);
  static_assert(std::is_nothrow_default_constructible_v<RWMutex>);
  global_mu.lock();
  global_mu.unlock();
}

TEST(RWMutexTest, LabelIsRegisteredAndCleared) {
  // Placement new so the storage (and the key addresses) outlive the RWMutex.
  alignas(RWMutex) unsigned char storage[sizeof(RWMutex)];
  RWMutex* mu = new (storage) RWMutex("config.table");
  // The main ParkingLot key (the object) and the drain key (one byte in).
  EXPECT_STREQ(internal::wait_label(storage), "config.table");
  EXPECT_STREQ(internal::wait_label(storage + 1), "config.table");
  mu->lock_shared();
  mu->unlock_shared();
  mu->lock();
  mu->unlock();
  mu->~RWMutex();
  EXPECT_EQ(internal::wait_label(storage), nullptr);
  EXPECT_EQ(internal::wait_label(storage + 1), nullptr);
  RWMutex unlabeled;
  EXPECT_EQ(internal::wait_label(&unlabeled), nullptr);
}

TEST(RWMutexTest, ExclusiveExcludesEverything) {
  RWMutex mu;
  mu.lock();
  std::thread t([&] {
    EXPECT_FALSE(mu.try_lock());
    EXPECT_FALSE(mu.try_lock_shared());
  });
  t.join();
  mu.unlock();
  ASSERT_TRUE(mu.try_lock());
  mu.unlock();
  ASSERT_TRUE(mu.try_lock_shared());
  mu.unlock_shared();
}

TEST(RWMutexTest, ReadersShareWritersWait) {
  RWMutex mu;
  mu.lock_shared();
  std::thread t([&] {
    ASSERT_TRUE(mu.try_lock_shared());  // a second reader gets in
    EXPECT_FALSE(mu.try_lock());        // a writer does not
    mu.unlock_shared();
  });
  t.join();
  EXPECT_FALSE(mu.try_lock());
  mu.unlock_shared();
  ASSERT_TRUE(mu.try_lock());
  mu.unlock();
}

TEST(RWMutexTest, RecursiveReadWithoutWriterSucceeds) {
  RWMutex mu;
  mu.lock_shared();
  mu.lock_shared();  // allowed while no writer is queued (as in Go)
  EXPECT_TRUE(mu.try_lock_shared());
  mu.unlock_shared();
  mu.unlock_shared();
  mu.unlock_shared();
  EXPECT_TRUE(mu.try_lock());
  mu.unlock();
}

TEST(RWMutexTest, StdLockTypesInterop) {
  RWMutex mu;
  {
    std::shared_lock<RWMutex> r1(mu);
    std::shared_lock<RWMutex> r2(mu, std::try_to_lock);
    EXPECT_TRUE(r2.owns_lock());
    std::unique_lock<RWMutex> w(mu, std::try_to_lock);
    EXPECT_FALSE(w.owns_lock());
    std::shared_lock<RWMutex> r3(mu, milliseconds(1));  // try_lock_shared_for
    EXPECT_TRUE(r3.owns_lock());
  }
  {
    std::unique_lock<RWMutex> w(mu, milliseconds(10));  // try_lock_for
    EXPECT_TRUE(w.owns_lock());
    std::shared_lock<RWMutex> r(mu, std::defer_lock);
    EXPECT_FALSE(r.try_lock_until(steady_clock::now() + milliseconds(5)));
  }
  { std::scoped_lock both(mu); }
  RWMutex other;
  {
    std::scoped_lock two(mu, other);  // std::lock's try_lock protocol
  }
  EXPECT_TRUE(mu.try_lock());
  mu.unlock();
}

TEST(RWMutexTest, ConditionVariableAnyWithExclusiveAndSharedLocks) {
  RWMutex mu;
  std::condition_variable_any cv;
  int stage = 0;
  std::thread t([&] {
    {
      std::unique_lock<RWMutex> l(mu);
      stage = 1;
    }
    cv.notify_all();
    std::shared_lock<RWMutex> l(mu);
    cv.wait(l, [&] { return stage == 2; });  // waits holding a read lock
  });
  {
    std::unique_lock<RWMutex> l(mu);
    cv.wait(l, [&] { return stage == 1; });
    stage = 2;
  }
  cv.notify_all();
  t.join();
  EXPECT_EQ(stage, 2);
}

TEST(RWMutexTest, QueuedWriterBlocksNewReadersAndGoesFirst) {
  RWMutex mu;
  std::atomic<int> order{0};
  std::atomic<int> writer_at{-1};
  std::atomic<int> reader_at{-1};
  mu.lock_shared();  // reader A
  std::thread writer([&] {
    mu.lock();
    writer_at = order.fetch_add(1);
    mu.unlock();
  });
  ASSERT_TRUE(wait_until_writer_queued(mu));
  std::thread reader_b([&] {
    mu.lock_shared();
    reader_at = order.fetch_add(1);
    mu.unlock_shared();
  });
  // Writer preference: B parks behind the queued writer instead of barging.
  ASSERT_TRUE(testing::wait_until_parked(main_key(mu), 1));
  EXPECT_EQ(reader_at.load(), -1);
  EXPECT_EQ(writer_at.load(), -1);
  mu.unlock_shared();
  writer.join();
  reader_b.join();
  EXPECT_EQ(writer_at.load(), 0);
  EXPECT_EQ(reader_at.load(), 1);
}

TEST(RWMutexTest, WriterUnlockHandsOffToAllParkedReadersAtOnce) {
  constexpr int kReaders = 4;
  RWMutex mu;
  std::atomic<int> inside{0};
  std::atomic<int> max_inside{0};
  mu.lock();
  std::vector<std::thread> readers;
  readers.reserve(static_cast<size_t>(kReaders));
  for (int i = 0; i < kReaders; ++i) {
    readers.emplace_back([&] {
      mu.lock_shared();
      const int n = inside.fetch_add(1) + 1;
      int m = max_inside.load();
      while (n > m && !max_inside.compare_exchange_weak(m, n)) {
      }
      // Stay until every reader is in: only possible if they share the lock.
      const auto deadline = steady_clock::now() + std::chrono::seconds(10);
      while (inside.load() < kReaders && steady_clock::now() < deadline) {
        std::this_thread::yield();
      }
      mu.unlock_shared();
    });
  }
  ASSERT_TRUE(testing::wait_until_parked(main_key(mu),
                                         kReaders));  // all spun out and parked
  mu.unlock();
  for (auto& t : readers) t.join();
  EXPECT_EQ(max_inside.load(), kReaders);
  EXPECT_EQ(ParkingLot::waiter_count(main_key(mu)), 0u);
  EXPECT_TRUE(mu.try_lock());
  mu.unlock();
}

TEST(RWMutexTest, WriterUnlockAlternatesReadersThenNextWriter) {
  RWMutex mu;
  std::atomic<int> order{0};
  std::atomic<int> reader_at{-1};
  std::atomic<int> writer2_at{-1};
  mu.lock();
  std::thread reader([&] {
    mu.lock_shared();
    reader_at = order.fetch_add(1);
    std::this_thread::sleep_for(milliseconds(20));
    mu.unlock_shared();
  });
  ASSERT_TRUE(testing::wait_until_parked(main_key(mu), 1));
  std::thread writer2([&] {
    mu.lock();
    writer2_at = order.fetch_add(1);
    mu.unlock();
  });
  ASSERT_TRUE(testing::wait_until_parked(main_key(mu), 2));
  mu.unlock();
  reader.join();
  writer2.join();
  // The parked reader was let in by this unlock, before the next writer.
  EXPECT_EQ(reader_at.load(), 0);
  EXPECT_EQ(writer2_at.load(), 1);
}

// INV-WOKEN: a writer unlock that barges wakes only the oldest parked
// thread. When that is a reader, it must in turn wake the writer parked
// behind it once it holds the read lock, or that writer would wait for an
// unlock that never comes. Odd rounds wait until the oldest has been parked
// for 2 ms, so they take the granting path for certain; even rounds unlock
// at once, which takes the barging path whenever the unlock comes within
// 1 ms (most rounds, even on a loaded machine).
TEST(RWMutexTest, ParkedWriterBehindWokenReaderIsNotStranded) {
  for (int i = 0; i < 30; ++i) {
    RWMutex mu;
    mu.lock();
    std::thread reader([&] {
      mu.lock_shared();
      std::this_thread::sleep_for(milliseconds(1));
      mu.unlock_shared();
    });
    ASSERT_TRUE(testing::wait_until_parked(main_key(mu), 1)) << i;
    const auto reader_parked = steady_clock::now();
    std::atomic<bool> writer_locked{false};
    std::thread writer2([&] {
      writer_locked = mu.try_lock_for(std::chrono::seconds(20));
      if (writer_locked) mu.unlock();
    });
    ASSERT_TRUE(testing::wait_until_parked(main_key(mu), 2)) << i;
    if (i % 2 == 1) {
      std::this_thread::sleep_until(reader_parked + milliseconds(2));
    }
    mu.unlock();
    reader.join();
    writer2.join();
    EXPECT_TRUE(writer_locked.load())
        << "round " << i << ": the writer was stranded";
    EXPECT_EQ(ParkingLot::waiter_count(main_key(mu)), 0u);
  }
}

TEST(RWMutexTest, TryLockForTimesOutWithinBounds) {
  RWMutex mu;
  mu.lock_shared();
  std::thread t([&] {
    const auto start = steady_clock::now();
    EXPECT_FALSE(mu.try_lock_for(milliseconds(50)));
    const auto elapsed = steady_clock::now() - start;
    EXPECT_GE(elapsed, milliseconds(50));
    EXPECT_LT(elapsed, milliseconds(50) + kSlack);
  });
  t.join();
  // The abandoned claim was released: readers and writers get in again.
  EXPECT_TRUE(mu.try_lock_shared());
  mu.unlock_shared();
  mu.unlock_shared();
  EXPECT_TRUE(mu.try_lock());
  mu.unlock();
}

TEST(RWMutexTest, TryLockSharedForTimesOutWithinBounds) {
  RWMutex mu;
  mu.lock();
  std::thread t([&] {
    const auto start = steady_clock::now();
    EXPECT_FALSE(mu.try_lock_shared_for(milliseconds(50)));
    const auto elapsed = steady_clock::now() - start;
    EXPECT_GE(elapsed, milliseconds(50));
    EXPECT_LT(elapsed, milliseconds(50) + kSlack);
    const auto start2 = steady_clock::now();
    EXPECT_FALSE(mu.try_lock_shared_until(std::chrono::system_clock::now() +
                                          milliseconds(30)));
    EXPECT_GE(steady_clock::now() - start2, milliseconds(29));
    EXPECT_FALSE(mu.try_lock_until(steady_clock::now() + milliseconds(20)));
  });
  t.join();
  EXPECT_EQ(ParkingLot::waiter_count(main_key(mu)), 0u);
  mu.unlock();
  EXPECT_TRUE(mu.try_lock_shared_for(milliseconds(0)));
  mu.unlock_shared();
}

TEST(RWMutexTest, TimedLocksSucceedWhenReleasedInTime) {
  RWMutex mu;
  mu.lock();
  std::thread t([&] {
    EXPECT_TRUE(mu.try_lock_shared_for(std::chrono::seconds(30)));
    mu.unlock_shared();
    EXPECT_TRUE(mu.try_lock_for(std::chrono::seconds(30)));
    mu.unlock();
  });
  ASSERT_TRUE(testing::wait_until_parked(main_key(mu), 1));
  mu.unlock();
  t.join();
}

// A writer that gives up while draining (here: cancelled, so the moment is
// the test's choice, not a timer's) lets the readers queued behind it in,
// while the first reader still holds the lock.
TEST(RWMutexTest, WriterGivingUpWhileDrainingLetsQueuedReadersIn) {
  RWMutex mu;
  mu.lock_shared();  // reader A, held throughout
  std::stop_source stop;
  std::atomic<bool> b_in{false};
  std::thread writer([&] { EXPECT_FALSE(mu.lock(stop.get_token())); });
  ASSERT_TRUE(wait_until_writer_queued(mu));
  ASSERT_TRUE(testing::wait_until_parked(drain_key(mu), 1));
  std::thread reader_b([&] {
    mu.lock_shared();  // blocked by the queued writer...
    b_in = true;
    mu.unlock_shared();
  });
  ASSERT_TRUE(testing::wait_until_parked(main_key(mu), 1));
  EXPECT_FALSE(b_in.load()) << "reader B barged past the queued writer";
  stop.request_stop();
  writer.join();
  reader_b.join();  // ...and let in when it gives up, while A still reads
  EXPECT_TRUE(b_in.load());
  mu.unlock_shared();
}

// The same through the timeout path. The timeout may expire before reader B
// queues (a loaded machine); then B simply gets in. Either way B must get in
// while A still reads, and nothing is left parked.
TEST(RWMutexTest, WriterTimingOutWhileDrainingLetsQueuedReadersIn) {
  RWMutex mu;
  mu.lock_shared();  // reader A, held throughout
  std::atomic<bool> writer_done{false};
  std::thread writer([&] {
    EXPECT_FALSE(mu.try_lock_for(milliseconds(100)));
    writer_done = true;
  });
  std::thread reader_b([&] {
    mu.lock_shared();
    mu.unlock_shared();
  });
  writer.join();
  reader_b.join();
  EXPECT_TRUE(writer_done.load());
  EXPECT_EQ(ParkingLot::waiter_count(main_key(mu)), 0u);
  EXPECT_EQ(ParkingLot::waiter_count(drain_key(mu)), 0u);
  mu.unlock_shared();
  EXPECT_TRUE(mu.try_lock());
  mu.unlock();
}

TEST(RWMutexTest, StopTokenCancelsParkedWriterAndReaderPromptly) {
  RWMutex mu;
  mu.lock();
  std::stop_source writer_stop;
  std::stop_source reader_stop;
  std::atomic<bool> writer_done{false};
  std::atomic<bool> reader_done{false};
  std::thread writer([&] {
    EXPECT_FALSE(mu.lock(writer_stop.get_token()));
    writer_done = true;
  });
  std::thread reader([&] {
    EXPECT_FALSE(mu.lock_shared(reader_stop.get_token()));
    reader_done = true;
  });
  ASSERT_TRUE(testing::wait_until_parked(main_key(mu), 2));
  auto start = steady_clock::now();
  writer_stop.request_stop();
  writer.join();
  EXPECT_LT(steady_clock::now() - start, kSlack);
  EXPECT_FALSE(reader_done.load());
  start = steady_clock::now();
  reader_stop.request_stop();
  reader.join();
  EXPECT_LT(steady_clock::now() - start, kSlack);
  EXPECT_EQ(ParkingLot::waiter_count(main_key(mu)), 0u);
  mu.unlock();
  std::stop_source unused;
  EXPECT_TRUE(mu.lock(unused.get_token()));
  mu.unlock();
  EXPECT_TRUE(mu.lock_shared(unused.get_token()));
  mu.unlock_shared();
}

TEST(RWMutexTest, StopTokenCancelsDrainingWriterAndReleasesClaim) {
  RWMutex mu;
  mu.lock_shared();
  std::stop_source stop;
  std::thread writer([&] { EXPECT_FALSE(mu.lock(stop.get_token())); });
  ASSERT_TRUE(wait_until_writer_queued(mu));
  // Let it spin out and park on the drain key (state word + 1).
  ASSERT_TRUE(testing::wait_until_parked(drain_key(mu), 1));
  const auto start = steady_clock::now();
  stop.request_stop();
  writer.join();
  EXPECT_LT(steady_clock::now() - start, kSlack);
  EXPECT_TRUE(mu.try_lock_shared());  // no writer queued any more
  mu.unlock_shared();
  mu.unlock_shared();
}

TEST(RWMutexTest, UnlockSharedHappensBeforeNextLock) {
  RWMutex mu;
  int data = 0;  // written by the writer after the reader read it
  int seen = -1;
  mu.lock_shared();
  std::thread writer([&] {
    mu.lock();
    data = 1;  // TSan: ordered after the reader's read by unlock_shared
    mu.unlock();
  });
  ASSERT_TRUE(wait_until_writer_queued(mu));
  seen = data;
  mu.unlock_shared();
  writer.join();
  EXPECT_EQ(seen, 0);
  EXPECT_EQ(data, 1);
}

// Misuse: always checked.
TEST(RWMutexDeathTest, UnlockOfUnlocked) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  RWMutex mu;
  EXPECT_DEATH(mu.unlock(), "contend: RWMutex::unlock: not locked for writing");
}

TEST(RWMutexDeathTest, UnlockWhileReadLocked) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        RWMutex mu;
        mu.lock_shared();
        mu.unlock();
      },
      "contend: RWMutex::unlock: not locked for writing");
}

TEST(RWMutexDeathTest, UnlockSharedWithNoReaders) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  RWMutex mu;
  EXPECT_DEATH(mu.unlock_shared(),
               "contend: RWMutex::unlock_shared: no reader holds the lock");
  EXPECT_DEATH(
      {
        RWMutex m2;
        m2.lock();
        m2.unlock_shared();
      },
      "contend: RWMutex::unlock_shared: no reader holds the lock");
}

// Debug-only: the RLock recursion deadlock (*sync — Senior*, section 4) aborts.
TEST(RWMutexDeathTest, RecursiveReadLockWithQueuedWriterAbortsInDebug) {
#ifdef NDEBUG
  GTEST_SKIP() << "read-lock tracking is debug-only";
#else
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        RWMutex mu;
        mu.lock_shared();
        std::thread writer([&] {
          mu.lock();
          mu.unlock();
        });
        ASSERT_TRUE(wait_until_writer_queued(mu));
        mu.lock_shared();  // would hang forever in a release build (and Go)
        writer.join();
      },
      "contend: RWMutex::lock_shared: RLock recursion deadlock");
#endif
}

TEST(RWMutexDeathTest, TimedRecursiveReadLockWithQueuedWriterAbortsInDebug) {
#ifdef NDEBUG
  GTEST_SKIP() << "read-lock tracking is debug-only";
#else
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        RWMutex mu;
        ReaderMutexLock outer(mu);
        std::thread writer(
            [&] { (void)mu.try_lock_for(std::chrono::hours(1)); });
        ASSERT_TRUE(wait_until_writer_queued(mu));
        (void)mu.try_lock_shared_for(std::chrono::hours(1));
        writer.join();
      },
      "contend: RWMutex::lock_shared: RLock recursion deadlock");
#endif
}

TEST(RWMutexDeathTest, UpgradeAbortsInDebug) {
#ifdef NDEBUG
  GTEST_SKIP() << "read-lock tracking is debug-only";
#else
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        RWMutex mu;
        mu.lock_shared();
        mu.lock();
      },
      "contend: RWMutex::lock: called while holding the read lock");
#endif
}

TEST(RWMutexTest, ReadLockTrackingForgetsReleasedLocks) {
  // After a read lock is released, the same thread may block on a writer
  // without tripping the debug recursion check.
  RWMutex mu;
  mu.lock_shared();
  mu.unlock_shared();
  std::atomic<bool> locked{false};
  std::atomic<bool> release{false};
  std::thread w([&] {
    mu.lock();
    locked = true;
    EXPECT_TRUE(testing::wait_until([&] { return release.load(); },
                                    "the reader parked behind the writer"));
    mu.unlock();
  });
  ASSERT_TRUE(testing::wait_until([&] { return locked.load(); },
                                  "the writer holds the lock"));
  std::thread releaser([&] {
    EXPECT_TRUE(testing::wait_until_parked(main_key(mu), 1));
    release = true;
  });
  mu.lock_shared();  // slow path with kWriter set
  mu.unlock_shared();
  w.join();
  releaser.join();
}

#if defined(__clang__)
#pragma clang diagnostic pop
#endif

// The header example, compiled and run.
class Table {
 public:
  int lookup(const std::string& k) {
    contend::ReaderMutexLock l(mu);
    auto it = table.find(k);
    return it == table.end() ? -1 : it->second;
  }
  void store(const std::string& k, int v) {
    contend::WriterMutexLock l(mu);
    table[k] = v;
  }

 private:
  contend::RWMutex mu;
  std::map<std::string, int> table ABSL_GUARDED_BY(mu);
};

TEST(RWMutexTest, HeaderExample) {
  Table t;
  EXPECT_EQ(t.lookup("a"), -1);
  std::thread w([&] { t.store("a", 1); });
  w.join();
  EXPECT_EQ(t.lookup("a"), 1);
}

}  // namespace

// Reaches the state word, so that tests can put it into states that threads
// reach only in narrow windows (flag bits on a free lock).
class RWMutexTestPeer {
 public:
  static constexpr uint32_t kParked = RWMutex::kParked;
  static constexpr uint32_t kWoken = RWMutex::kWoken;
  static constexpr uint32_t kStarving = RWMutex::kStarving;
  static constexpr uint32_t kFlags = RWMutex::kParked | RWMutex::kWriterParked |
                                     RWMutex::kWoken | RWMutex::kStarving;

  // Relaxed: single-threaded set-up, or bits that carry no data (as the
  // RWMutex's own flag updates).
  static uint32_t word(const RWMutex& mu) {
    return mu.state_.load(std::memory_order_relaxed);
  }
  static void set_flags(RWMutex& mu, uint32_t bits) {
    mu.state_.fetch_or(bits, std::memory_order_relaxed);
  }
  static void clear_flags(RWMutex& mu, uint32_t bits) {
    mu.state_.fetch_and(~bits, std::memory_order_relaxed);
  }
  // Plays a thread that was woken to retry (it owns kWoken, INV-WOKEN) and
  // gives up without acquiring.
  static void woken_gave_up(RWMutex& mu) { mu.woken_gave_up(); }
};

namespace {

// Issue 10, fix 3. A free RWMutex (no writer, no reader) whose word carries
// only flag bits -- parked waiters (kParked), a woken thread retrying or a
// watcher (kWoken), a starvation request whose threads gave up (kStarving)
// -- is free: try_lock() must take it (the header's "no spurious failure"),
// and try_lock_shared() too. Each state is set directly with the peer; the
// lock must then work normally.
class RWMutexFreeWithFlagsTest : public ::testing::TestWithParam<uint32_t> {};

TEST_P(RWMutexFreeWithFlagsTest, TryLockAndTryLockSharedSucceed) {
  const uint32_t flags = GetParam();
  RWMutex mu;
  RWMutexTestPeer::set_flags(mu, flags);
  ASSERT_TRUE(mu.try_lock()) << "word " << RWMutexTestPeer::word(mu);
  // Held for writing now: everyone else is kept out.
  EXPECT_FALSE(mu.try_lock());
  EXPECT_FALSE(mu.try_lock_shared());
  mu.unlock();

  ASSERT_TRUE(mu.try_lock_shared()) << "word " << RWMutexTestPeer::word(mu);
  EXPECT_FALSE(mu.try_lock());  // read-locked: a writer cannot try in
  mu.unlock_shared();

  // Other threads lock normally afterwards (the stale bits are at worst an
  // extra wake call).
  std::thread other([&] {
    mu.lock();
    mu.unlock();
    mu.lock_shared();
    mu.unlock_shared();
  });
  other.join();
  // Discharge what nobody owns any more, as the thread that owned it would.
  RWMutexTestPeer::clear_flags(mu, RWMutexTestPeer::kFlags);
  EXPECT_TRUE(mu.try_lock());
  mu.unlock();
  EXPECT_EQ(RWMutexTestPeer::word(mu), 0u);
}

INSTANTIATE_TEST_SUITE_P(
    Flags, RWMutexFreeWithFlagsTest,
    ::testing::Values(RWMutexTestPeer::kWoken, RWMutexTestPeer::kParked,
                      RWMutexTestPeer::kStarving,
                      RWMutexTestPeer::kWoken | RWMutexTestPeer::kParked,
                      RWMutexTestPeer::kParked | RWMutexTestPeer::kStarving,
                      RWMutexTestPeer::kWoken | RWMutexTestPeer::kParked |
                          RWMutexTestPeer::kStarving),
    [](const ::testing::TestParamInfo<uint32_t>& param_info) {
      std::string name;
      if ((param_info.param & RWMutexTestPeer::kWoken) != 0) name += "Woken";
      if ((param_info.param & RWMutexTestPeer::kParked) != 0) name += "Parked";
      if ((param_info.param & RWMutexTestPeer::kStarving) != 0)
        name += "Starving";
      return name;
    });

// The same with a real parked thread: the state a watcher leaves (INV-WOKEN)
// after the writer it watched stops re-locking -- kParked | kWoken, free,
// a writer parked. try_lock() takes the free lock; the parked writer gets it
// once the woken thread (played by the test) gives up and wakes it.
TEST(RWMutexTest, TryLockSucceedsWhileAWokenThreadOwesARetry) {
  RWMutex mu;
  mu.lock();
  std::thread writer([&] {
    mu.lock();
    mu.unlock();
  });
  ASSERT_TRUE(testing::wait_until_parked(main_key(mu), 1));
  RWMutexTestPeer::set_flags(mu, RWMutexTestPeer::kWoken);
  mu.unlock();  // kWoken covers the parked writer: released without a wake
  ASSERT_EQ(ParkingLot::waiter_count(main_key(mu)), 1u);
  ASSERT_EQ(RWMutexTestPeer::word(mu),
            RWMutexTestPeer::kParked | RWMutexTestPeer::kWoken);

  const bool got = mu.try_lock();
  EXPECT_TRUE(got) << "the lock is free, word " << RWMutexTestPeer::word(mu);
  if (got) mu.unlock();
  EXPECT_TRUE(mu.try_lock_shared());
  mu.unlock_shared();

  RWMutexTestPeer::woken_gave_up(mu);  // wakes the parked writer
  writer.join();
  EXPECT_EQ(ParkingLot::waiter_count(main_key(mu)), 0u);
  EXPECT_TRUE(mu.try_lock());
  mu.unlock();
  EXPECT_EQ(RWMutexTestPeer::word(mu), 0u);
}

}  // namespace
}  // namespace contend
