// Copyright 2026 The contend Authors.

#include "shard/distributed_rw_mutex.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "gtest/gtest.h"
#include "shard/internal/cpu_id.h"
#include "sync/internal/parking_lot.h"
#include "tests/testing/wait.h"

namespace contend {

class DistributedRWMutexTestPeer {
 public:
  static bool biased(const DistributedRWMutex& mu) {
    return (mu.bias_.load(std::memory_order_relaxed) &
            DistributedRWMutex::kBias) != 0;
  }
  static bool writer_held(const DistributedRWMutex& mu) {
    return (mu.bias_.load(std::memory_order_relaxed) &
            DistributedRWMutex::kWriterHeld) != 0;
  }
  // The slot the calling thread uses.
  static const void* my_slot(const DistributedRWMutex& mu) {
    return &mu.slot_of(internal::thread_slot());
  }
  static uint64_t my_slot_value(const DistributedRWMutex& mu) {
    return mu.slot_of(internal::thread_slot()).load(std::memory_order_relaxed);
  }
  static bool holds_my_slot(const DistributedRWMutex& mu) {
    return (my_slot_value(mu) & ~DistributedRWMutex::kDrainWaiter) ==
           DistributedRWMutex::tag(internal::thread_slot());
  }
  static int64_t inhibit_until_ns(const DistributedRWMutex& mu) {
    return mu.inhibit_until_ns_.load(std::memory_order_relaxed);
  }
  static void allow_bias_now(DistributedRWMutex& mu) {
    mu.inhibit_until_ns_.store(0, std::memory_order_relaxed);
  }
};

namespace {

using Peer = DistributedRWMutexTestPeer;

// The header's example, kept compiling.
namespace example {
contend::DistributedRWMutex mu;
std::map<std::string, int> table ABSL_GUARDED_BY(mu);
int lookup(const std::string& k) {
  contend::DistributedReaderMutexLock l(mu);
  auto it = table.find(k);
  return it == table.end() ? -1 : it->second;
}
void store(const std::string& k, int v) {
  contend::DistributedWriterMutexLock l(mu);
  table[k] = v;
}
}  // namespace example

TEST(DistributedRWMutexTest, HeaderExample) {
  EXPECT_EQ(example::lookup("a"), -1);
  example::store("a", 1);
  EXPECT_EQ(example::lookup("a"), 1);
}

TEST(DistributedRWMutexTest, SlotCountAndBiasAtStart) {
  DistributedRWMutex mu;
  const size_t n = mu.slot_count();
  EXPECT_EQ(n & (n - 1), 0u);
  EXPECT_GE(n, 4u);
  EXPECT_GE(n, 2 * size_t{internal::cpu_slot_count()});
  EXPECT_TRUE(Peer::biased(mu));
}

TEST(DistributedRWMutexTest, BiasedReaderUsesOnlyItsSlot) {
  DistributedRWMutex mu;
  mu.lock_shared();
  EXPECT_TRUE(Peer::holds_my_slot(mu));
  mu.unlock_shared();
  EXPECT_EQ(Peer::my_slot_value(mu), 0u);
}

TEST(DistributedRWMutexTest, ReadersShareWritersExclude) {
  DistributedRWMutex mu;
  mu.lock_shared();
  EXPECT_FALSE(mu.try_lock());
  std::thread t([&] {
    EXPECT_TRUE(mu.try_lock_shared());
    EXPECT_FALSE(mu.try_lock());
    mu.unlock_shared();
  });
  t.join();
  mu.unlock_shared();
  ASSERT_TRUE(mu.try_lock());
  std::thread u([&] {
    EXPECT_FALSE(mu.try_lock_shared());
    EXPECT_FALSE(mu.try_lock());
    EXPECT_FALSE(mu.try_lock_shared_for(std::chrono::milliseconds(1)));
    EXPECT_FALSE(mu.try_lock_for(std::chrono::milliseconds(1)));
  });
  u.join();
  mu.unlock();
  EXPECT_TRUE(mu.try_lock_shared());
  mu.unlock_shared();
}

// A failed try_lock() against a biased reader gives the bias back.
TEST(DistributedRWMutexTest, FailedTryLockRestoresTheBias) {
  DistributedRWMutex mu;
  mu.lock_shared();
  std::thread t([&] { EXPECT_FALSE(mu.try_lock()); });
  t.join();
  EXPECT_TRUE(Peer::biased(mu));
  EXPECT_FALSE(Peer::writer_held(mu));
  mu.unlock_shared();
  mu.lock();
  mu.unlock();
}

TEST(DistributedRWMutexTest, WriterRevokesAndWaitsForTheBiasedReader) {
  DistributedRWMutex mu;
  int data = 0;
  mu.lock_shared();
  const void* slot = Peer::my_slot(mu);
  std::atomic<bool> wrote{false};
  std::thread writer([&] {
    mu.lock();
    data = 1;
    wrote.store(true);
    mu.unlock();
  });
  // The writer revokes, then parks on this thread's slot.
  ASSERT_TRUE(testing::wait_until_parked(slot, 1));
  EXPECT_FALSE(Peer::biased(mu));
  EXPECT_TRUE(Peer::writer_held(mu));
  EXPECT_FALSE(wrote.load());
  EXPECT_EQ(data, 0);
  mu.unlock_shared();
  writer.join();
  EXPECT_TRUE(wrote.load());
  EXPECT_FALSE(Peer::biased(mu));  // bias stays off until the back-off ends
  EXPECT_GE(Peer::inhibit_until_ns(mu), 0);
}

TEST(DistributedRWMutexTest, SlowReaderReEnablesTheBiasAfterTheBackOff) {
  DistributedRWMutex mu;
  mu.lock();  // revokes (no readers)
  mu.unlock();
  EXPECT_FALSE(Peer::biased(mu));
  // Within the back-off a slow reader leaves the bias off.
  if (Peer::inhibit_until_ns(mu) > internal::monotonic_now_ns()) {
    mu.lock_shared();
    EXPECT_FALSE(Peer::holds_my_slot(mu));
    mu.unlock_shared();
  }
  Peer::allow_bias_now(mu);
  mu.lock_shared();  // central; turns the bias back on
  mu.unlock_shared();
  EXPECT_TRUE(Peer::biased(mu));
  mu.lock_shared();  // biased now
  EXPECT_TRUE(Peer::holds_my_slot(mu));
  mu.unlock_shared();
}

TEST(DistributedRWMutexTest, BackOffIsProportionalToTheRevocation) {
  DistributedRWMutex mu;
  mu.lock_shared();
  std::thread writer([&] {
    const int64_t before = internal::monotonic_now_ns();
    mu.lock();
    const int64_t after = internal::monotonic_now_ns();
    // inhibit_until = end + 9 x (end - start), start >= before, end <= after.
    EXPECT_LE(
        Peer::inhibit_until_ns(mu),
        after + DistributedRWMutex::kBiasInhibitFactor * (after - before));
    mu.unlock();
  });
  ASSERT_TRUE(testing::wait_until_parked(Peer::my_slot(mu), 1));
  const int64_t held_from = internal::monotonic_now_ns();
  std::this_thread::sleep_for(std::chrono::milliseconds(2));  // a long read
  mu.unlock_shared();
  writer.join();
  // The revocation waited >= the 2 ms read; the back-off is 9x that.
  EXPECT_GE(Peer::inhibit_until_ns(mu),
            held_from + 2'000'000 + 9 * 2'000'000 - 1'000'000);
}

// A thread holding both a biased and a central read lock releases both.
TEST(DistributedRWMutexTest, RecursiveReadsWithoutWriterMixPaths) {
  DistributedRWMutex mu;
  mu.lock_shared();  // biased
  mu.lock_shared();  // own slot taken: central
  EXPECT_TRUE(Peer::holds_my_slot(mu));
  mu.unlock_shared();
  mu.unlock_shared();
  EXPECT_EQ(Peer::my_slot_value(mu), 0u);
  ASSERT_TRUE(mu.try_lock());
  mu.unlock();
}

TEST(DistributedRWMutexTest, ManyThreadsShareSlots) {
  DistributedRWMutex mu;
  const int threads = static_cast<int>(mu.slot_count()) * 3;
  std::atomic<int> inside{0};
  std::atomic<int> go{0};
  std::vector<std::thread> ts;
  for (int i = 0; i < threads; ++i) {
    ts.emplace_back([&] {
      mu.lock_shared();
      inside.fetch_add(1);
      EXPECT_TRUE(testing::wait_until([&] { return go.load() == 1; },
                                      "every reader inside"));
      mu.unlock_shared();
    });
  }
  ASSERT_TRUE(testing::wait_until([&] { return inside.load() == threads; },
                                  "all readers in at once"));
  EXPECT_FALSE(mu.try_lock());
  go.store(1);
  for (auto& t : ts) t.join();
  ASSERT_TRUE(mu.try_lock());
  mu.unlock();
}

TEST(DistributedRWMutexTest, StopTokenCancelsAWriterDrainingReaders) {
  DistributedRWMutex mu;
  mu.lock_shared();
  std::stop_source stop;
  std::thread writer([&] { EXPECT_FALSE(mu.lock(stop.get_token())); });
  ASSERT_TRUE(testing::wait_until_parked(Peer::my_slot(mu), 1));
  stop.request_stop();
  writer.join();
  EXPECT_TRUE(Peer::biased(mu));  // restored for the readers still inside
  mu.unlock_shared();
  ASSERT_TRUE(mu.try_lock());
  mu.unlock();
}

TEST(DistributedRWMutexTest, StopTokenCancelsAReaderBehindAWriter) {
  DistributedRWMutex mu;
  mu.lock();
  std::stop_source stop;
  std::thread reader([&] { EXPECT_FALSE(mu.lock_shared(stop.get_token())); });
  ASSERT_TRUE(testing::wait_until(
      [&] { return testing::parked_within(mu) == 0 ? false : true; },
      "the reader parked"));
  stop.request_stop();
  reader.join();
  mu.unlock();
  std::stop_source fresh;
  ASSERT_TRUE(mu.lock_shared(fresh.get_token()));
  mu.unlock_shared();
  ASSERT_TRUE(mu.lock(fresh.get_token()));
  mu.unlock();
}

TEST(DistributedRWMutexTest, TimedWriterGivesUpOnALongRead) {
  DistributedRWMutex mu;
  mu.lock_shared();
  std::thread writer([&] {
    EXPECT_FALSE(mu.try_lock_for(std::chrono::milliseconds(5)));
    EXPECT_FALSE(mu.try_lock_until(std::chrono::steady_clock::now() +
                                   std::chrono::milliseconds(1)));
  });
  writer.join();
  mu.unlock_shared();
  std::thread w2([&] {
    EXPECT_TRUE(mu.try_lock_for(std::chrono::seconds(10)));
    mu.unlock();
    EXPECT_TRUE(mu.try_lock_shared_until(std::chrono::system_clock::now() +
                                         std::chrono::seconds(10)));
    mu.unlock_shared();
  });
  w2.join();
}

TEST(DistributedRWMutexTest, WorksWithStandardLockAdaptors) {
  DistributedRWMutex mu;
  std::condition_variable_any cv;
  bool ready = false;
  std::thread t([&] {
    std::unique_lock<DistributedRWMutex> l(mu);
    ready = true;
    cv.notify_one();
  });
  {
    std::unique_lock<DistributedRWMutex> l(mu);
    cv.wait(l, [&] { return ready; });
  }
  t.join();
  {
    std::shared_lock<DistributedRWMutex> r(mu);
    EXPECT_TRUE(r.owns_lock());
  }
  std::scoped_lock s(mu);
}

// Readers see the writes of the writer before them, also through the bias.
TEST(DistributedRWMutexTest, WriterDataVisibleToLaterBiasedReaders) {
  DistributedRWMutex mu;
  int data = 0;
  for (int round = 1; round <= 50; ++round) {
    std::thread w([&] {
      DistributedWriterMutexLock l(mu);
      data = round;
    });
    w.join();
    Peer::allow_bias_now(mu);
    std::thread r([&] {
      mu.lock_shared();
      EXPECT_EQ(data, round);
      mu.unlock_shared();
    });
    r.join();
  }
}

// Misuse: always checked.
TEST(DistributedRWMutexDeathTest, UnlockOfUnlocked) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  DistributedRWMutex mu;
  EXPECT_DEATH(mu.unlock(),
               "contend: DistributedRWMutex::unlock: not locked for writing");
  EXPECT_DEATH(
      {
        DistributedRWMutex m2;
        m2.lock_shared();
        m2.unlock();
      },
      "contend: DistributedRWMutex::unlock: not locked for writing");
}

TEST(DistributedRWMutexDeathTest, UnlockSharedWithNoReader) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  DistributedRWMutex mu;
#ifdef NDEBUG
  EXPECT_DEATH(mu.unlock_shared(),
               "contend: RWMutex::unlock_shared: no reader holds the lock");
#else
  EXPECT_DEATH(mu.unlock_shared(),
               "contend: DistributedRWMutex::unlock_shared: this thread holds "
               "no read lock");
#endif
}

TEST(DistributedRWMutexDeathTest, RecursiveReadWithQueuedWriterAbortsInDebug) {
#ifdef NDEBUG
  GTEST_SKIP() << "read-lock tracking is debug-only";
#else
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        DistributedRWMutex mu;
        mu.lock_shared();  // biased
        std::thread writer([&] {
          mu.lock();
          mu.unlock();
        });
        ASSERT_TRUE(testing::wait_until([&] { return Peer::writer_held(mu); },
                                        "the writer revoked"));
        mu.lock_shared();  // would hang forever in a release build
        writer.join();
      },
      "contend: DistributedRWMutex::lock_shared: RLock recursion deadlock");
#endif
}

TEST(DistributedRWMutexDeathTest, UpgradeAbortsInDebug) {
#ifdef NDEBUG
  GTEST_SKIP() << "read-lock tracking is debug-only";
#else
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        DistributedRWMutex mu;
        mu.lock_shared();
        mu.lock();
      },
      "contend: DistributedRWMutex::lock: called while holding the read lock");
#endif
}

}  // namespace
}  // namespace contend
