// Copyright 2026 The contend Authors.
//
// DistributedRWMutex under load: readers on every path (biased, central,
// try, timed, stop_token) against writers that keep revoking the bias, with
// sentinels that a torn write would expose; writers must keep making
// progress while readers never stop (no writer starvation). Readers are
// re-pinned between CPUs mid-run (their slot follows the thread, not the
// CPU, so this must not matter).

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <stop_token>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "shard/distributed_rw_mutex.h"
#include "tests/shard/pinning.h"
#include "tests/testing/stress.h"

namespace contend {
namespace {

using std::chrono::microseconds;
using testing::kScale;
using testing::Watchdog;

TEST(DistributedRWMutexStress, ExclusionWithSentinelsAndWriterProgress) {
  constexpr int kReaders = 4;
  constexpr int kWriters = 2;
  const std::vector<int> cpus = testing::allowed_cpus();
  ASSERT_FALSE(cpus.empty());
  DistributedRWMutex mu;
  int64_t a = 0;  // deliberately non-atomic: TSan checks the orderings
  int64_t b = 0;
  std::atomic<int> readers_in{0};
  std::atomic<int> writers_in{0};
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> progress{0};
  std::atomic<uint64_t> reads{0};
  std::atomic<uint64_t> writes{0};
  {
    Watchdog dog(progress);
    std::vector<std::thread> threads;
    for (int r = 0; r < kReaders; ++r) {
      threads.emplace_back([&, r] {
        std::stop_source never;
        for (uint64_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
          if (i % 512 == 0) {
            ASSERT_TRUE(testing::pin_thread(
                0, cpus[(i / 512 + static_cast<uint64_t>(r)) % cpus.size()]));
          }
          bool locked = true;
          switch ((i + static_cast<uint64_t>(r)) % 6) {
            case 0:
              locked = mu.try_lock_shared();
              break;
            case 1:
              locked = mu.try_lock_shared_for(microseconds(50));
              break;
            case 2:
              locked = mu.lock_shared(never.get_token());
              break;
            default:
              mu.lock_shared();
          }
          if (!locked) continue;
          readers_in.fetch_add(1, std::memory_order_relaxed);
          EXPECT_EQ(writers_in.load(std::memory_order_relaxed), 0);
          EXPECT_EQ(a, b);
          readers_in.fetch_sub(1, std::memory_order_relaxed);
          mu.unlock_shared();
          reads.fetch_add(1, std::memory_order_relaxed);
          progress.fetch_add(1, std::memory_order_relaxed);
        }
      });
    }
    for (int w = 0; w < kWriters; ++w) {
      threads.emplace_back([&, w] {
        std::stop_source never;
        for (uint64_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
          bool locked = true;
          switch ((i + static_cast<uint64_t>(w)) % 4) {
            case 0:
              locked = mu.try_lock();
              break;
            case 1:
              locked = mu.try_lock_for(microseconds(100));
              break;
            case 2:
              locked = mu.lock(never.get_token());
              break;
            default:
              mu.lock();
          }
          if (!locked) continue;
          EXPECT_EQ(writers_in.fetch_add(1, std::memory_order_relaxed), 0);
          EXPECT_EQ(readers_in.load(std::memory_order_relaxed), 0);
          ++a;
          ++b;
          writers_in.fetch_sub(1, std::memory_order_relaxed);
          mu.unlock();
          writes.fetch_add(1, std::memory_order_relaxed);
          progress.fetch_add(1, std::memory_order_relaxed);
          // Let readers in between writes, so the bias gets re-enabled and
          // revoked again (the back-off is short: revocations are short).
          std::this_thread::yield();
        }
      });
    }
    testing::StressDeadline deadline(
        testing::stress_duration(std::chrono::milliseconds(500)));
    while (deadline.running()) std::this_thread::yield();
    stop.store(true, std::memory_order_relaxed);
    for (auto& t : threads) t.join();
  }
  EXPECT_EQ(a, b);
  EXPECT_EQ(static_cast<uint64_t>(a), writes.load());
  // Writers never starve: they kept completing while readers never paused.
  EXPECT_GT(writes.load(), 10u * kWriters) << reads.load() << " reads";
  EXPECT_GT(reads.load(), 0u);
  ASSERT_TRUE(mu.try_lock());
  mu.unlock();
}

// Many short-lived threads (more than slots, ordinals never reused): every
// read lock must still be released on the right path.
TEST(DistributedRWMutexStress, ShortLivedReadersAndAWriter) {
  DistributedRWMutex mu;
  int64_t value = 0;
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> progress{0};
  Watchdog dog(progress);
  std::thread writer([&] {
    while (!stop.load(std::memory_order_relaxed)) {
      DistributedWriterMutexLock l(mu);
      ++value;
      progress.fetch_add(1, std::memory_order_relaxed);
    }
  });
  const int rounds = 200 / kScale;
  for (int round = 0; round < rounds; ++round) {
    std::vector<std::thread> readers;
    for (int r = 0; r < 4; ++r) {
      readers.emplace_back([&] {
        for (int i = 0; i < 20; ++i) {
          DistributedReaderMutexLock l(mu);
          EXPECT_GE(value, 0);
          progress.fetch_add(1, std::memory_order_relaxed);
        }
      });
    }
    for (auto& t : readers) t.join();
  }
  stop.store(true, std::memory_order_relaxed);
  writer.join();
  ASSERT_TRUE(mu.try_lock());
  mu.unlock();
}

}  // namespace
}  // namespace contend
