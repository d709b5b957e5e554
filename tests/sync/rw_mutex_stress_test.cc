// Copyright 2026 The contend Authors.
//
// Stress tests for contend::RWMutex: exclusion, happens-before (under TSan),
// starvation bounds in both directions, and timeouts/cancellation racing
// unlocks.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <stop_token>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "sync/rw_mutex.h"
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
using std::chrono::steady_clock;

using testing::kScale;
using testing::stress_duration;
using testing::StressDeadline;
using testing::Watchdog;

void busy(int iterations) {
  for (int i = 0; i < iterations; ++i) {
    asm volatile("" ::: "memory");  // keep the loop
  }
}

TEST(RWMutexStressTest, CounterUnderExclusiveLockEqualsNTimesM) {
  constexpr int kThreads = 4;
  const int kIters = 100000 / kScale;
  RWMutex mu;
  int64_t counter = 0;  // deliberately non-atomic
  std::atomic<uint64_t> progress{0};
  Watchdog dog(progress);
  std::vector<std::thread> threads;
  threads.reserve(static_cast<size_t>(kThreads));
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::stop_source never;
      for (int i = 0; i < kIters; ++i) {
        switch ((i + t) % 5) {
          case 0:
            mu.lock();
            break;
          case 1:
            while (!mu.try_lock()) std::this_thread::yield();
            break;
          case 2:
            while (!mu.try_lock_for(microseconds(20))) {
            }
            break;
          case 3:
            ASSERT_TRUE(mu.lock(never.get_token()));
            break;
          default: {
            WriterMutexLock l(mu);
            ++counter;
            progress.fetch_add(1, std::memory_order_relaxed);
            continue;
          }
        }
        ++counter;
        progress.fetch_add(1, std::memory_order_relaxed);
        mu.unlock();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(counter, int64_t{kThreads} * kIters);
}

// Sentinels: writers make `a` and `b` briefly differ inside the critical
// section; readers must never see them differ, never overlap a writer, and
// writers never overlap anyone. Non-atomic fields also let TSan check that
// unlock() happens-before later lock_shared()/lock().
TEST(RWMutexStressTest, ReaderWriterExclusionWithSentinels) {
  constexpr int kReaders = 4;
  constexpr int kWriters = 2;
  const int kReaderOps = 200000 / kScale;
  const int kWriterOps = 50000 / kScale;
  RWMutex mu;
  int64_t a = 0;
  int64_t b = 0;
  std::atomic<int> readers_in{0};
  std::atomic<int> writers_in{0};
  std::atomic<int> violations{0};
  std::atomic<uint64_t> progress{0};
  Watchdog dog(progress);
  std::vector<std::thread> threads;
  threads.reserve(size_t{kWriters} + size_t{kReaders});
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < kWriterOps; ++i) {
        if (i % 3 == 0) {
          while (!mu.try_lock_for(microseconds(50))) {
          }
        } else {
          mu.lock();
        }
        if (writers_in.fetch_add(1) != 0) violations.fetch_add(1);
        if (readers_in.load() != 0) violations.fetch_add(1);
        const int64_t v = int64_t{w} * 1'000'000 + i + 1;
        a = v;
        busy(20);
        b = v;
        writers_in.fetch_sub(1);
        mu.unlock();
        progress.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  for (int r = 0; r < kReaders; ++r) {
    threads.emplace_back([&, r] {
      std::stop_source never;
      for (int i = 0; i < kReaderOps; ++i) {
        switch ((i + r) % 4) {
          case 0:
            mu.lock_shared();
            break;
          case 1:
            while (!mu.try_lock_shared()) std::this_thread::yield();
            break;
          case 2:
            while (!mu.try_lock_shared_for(microseconds(30))) {
            }
            break;
          default:
            ASSERT_TRUE(mu.lock_shared(never.get_token()));
        }
        readers_in.fetch_add(1);
        if (writers_in.load() != 0) violations.fetch_add(1);
        const int64_t va = a;
        busy(10);
        const int64_t vb = b;
        if (va != vb) violations.fetch_add(1);
        readers_in.fetch_sub(1);
        mu.unlock_shared();
        progress.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(violations.load(), 0);
  EXPECT_EQ(a, b);
}

// Writer preference: readers that keep the read lock continuously held
// (overlapping sections) cannot starve a writer; each lock() completes within
// a bound that only depends on the readers present when it queued.
TEST(RWMutexStressTest, WriterNotStarvedByStreamOfReaders) {
  constexpr int kReaders = 4;
  const int kWriterOps = 200 / kScale;
  RWMutex mu;
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> progress{0};
  std::atomic<uint64_t> reads{0};
  Watchdog dog(progress);
  std::vector<std::thread> readers;
  readers.reserve(static_cast<size_t>(kReaders));
  for (int r = 0; r < kReaders; ++r) {
    readers.emplace_back([&] {
      while (!stop.load(std::memory_order_relaxed)) {
        ReaderMutexLock l(mu);
        busy(2000);  // ~ a few us held, overlapping the other readers
        reads.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  while (reads.load() < 100) std::this_thread::yield();
  auto worst = steady_clock::duration::zero();
  for (int i = 0; i < kWriterOps; ++i) {
    const auto start = steady_clock::now();
    mu.lock();
    const auto waited = steady_clock::now() - start;
    if (waited > worst) worst = waited;
    mu.unlock();
    progress.fetch_add(1, std::memory_order_relaxed);
    std::this_thread::sleep_for(microseconds(100));
  }
  stop = true;
  for (auto& t : readers) t.join();
  std::printf("worst writer wait %lld us\n",
              static_cast<long long>(
                  std::chrono::duration_cast<microseconds>(worst).count()));
  // Generous: a writer waits for at most the readers already inside (a few
  // us each, plus preemption on 2 noisy cores).
  EXPECT_LT(worst, std::chrono::seconds(1))
      << "worst writer wait "
      << std::chrono::duration_cast<microseconds>(worst).count() << " us";
}

// And readers are not starved by a stream of writers: a writer unlock lets
// every parked reader in before the next writer.
TEST(RWMutexStressTest, ReaderNotStarvedByStreamOfWriters) {
  constexpr int kWriters = 3;
  const int kReaderOps = 200 / kScale;
  RWMutex mu;
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> progress{0};
  Watchdog dog(progress);
  std::vector<std::thread> writers;
  writers.reserve(static_cast<size_t>(kWriters));
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&] {
      while (!stop.load(std::memory_order_relaxed)) {
        WriterMutexLock l(mu);
        busy(500);
      }
    });
  }
  auto worst = steady_clock::duration::zero();
  for (int i = 0; i < kReaderOps; ++i) {
    const auto start = steady_clock::now();
    mu.lock_shared();
    const auto waited = steady_clock::now() - start;
    if (waited > worst) worst = waited;
    mu.unlock_shared();
    progress.fetch_add(1, std::memory_order_relaxed);
    std::this_thread::sleep_for(microseconds(100));
  }
  stop = true;
  for (auto& t : writers) t.join();
  std::printf("worst reader wait %lld us\n",
              static_cast<long long>(
                  std::chrono::duration_cast<microseconds>(worst).count()));
  EXPECT_LT(worst, std::chrono::seconds(1))
      << "worst reader wait "
      << std::chrono::duration_cast<microseconds>(worst).count() << " us";
}

// Timeouts and cancellations racing with unlocks and handoffs: every path
// that abandons a claim or a parked wait must leave the word consistent, so
// the exclusion checks hold and nothing hangs (watchdog). Each thread stops
// at kOps or at the deadline (a loaded machine), with a floor on the total.
TEST(RWMutexStressTest, TimeoutsAndCancellationsRacingUnlocks) {
  constexpr int kThreads = 6;
  const int kOps = 20000 / kScale;
  const int kMinOps = 600 / kScale;
  const StressDeadline deadline(stress_duration(std::chrono::seconds(3)));
  std::atomic<int> ops{0};
  RWMutex mu;
  std::atomic<int> readers_in{0};
  std::atomic<int> writers_in{0};
  std::atomic<int> violations{0};
  std::atomic<uint64_t> progress{0};
  std::atomic<uint64_t> gave_up{0};
  Watchdog dog(progress);
  std::vector<std::thread> threads;
  threads.reserve(static_cast<size_t>(kThreads));
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(static_cast<unsigned>(t) * 7919u + 1u);
      for (int i = 0; i < kOps && deadline.running(); ++i) {
        ops.fetch_add(1, std::memory_order_relaxed);
        const auto pick = static_cast<unsigned>(rng() % 6);
        const bool write = pick % 2 == 0;
        bool ok = false;
        const auto timeout = microseconds(rng() % 40);
        if (pick < 2) {
          if (write) {
            mu.lock();
          } else {
            mu.lock_shared();
          }
          ok = true;
        } else if (pick < 4) {
          ok = write ? mu.try_lock_for(timeout)
                     : mu.try_lock_shared_for(timeout);
        } else {
          // Cancel from another thread after a short random delay.
          std::stop_source source;
          std::jthread canceller([&source, delay = timeout] {
            std::this_thread::sleep_for(delay);
            source.request_stop();
          });
          ok = write ? mu.lock(source.get_token())
                     : mu.lock_shared(source.get_token());
        }
        if (!ok) {
          gave_up.fetch_add(1, std::memory_order_relaxed);
          progress.fetch_add(1, std::memory_order_relaxed);
          continue;
        }
        if (write) {
          if (writers_in.fetch_add(1) != 0 || readers_in.load() != 0) {
            violations.fetch_add(1);
          }
          busy(static_cast<int>(rng() % 300));
          writers_in.fetch_sub(1);
          mu.unlock();
        } else {
          readers_in.fetch_add(1);
          if (writers_in.load() != 0) violations.fetch_add(1);
          busy(static_cast<int>(rng() % 300));
          readers_in.fetch_sub(1);
          mu.unlock_shared();
        }
        progress.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(violations.load(), 0);
  // The word is back to free: both kinds of lock are immediately available.
  EXPECT_TRUE(mu.try_lock());
  mu.unlock();
  EXPECT_TRUE(mu.try_lock_shared());
  mu.unlock_shared();
  std::printf("gave up %llu of %d ops (op limit %d)\n",
              static_cast<unsigned long long>(gave_up.load()), ops.load(),
              kThreads * kOps);
  EXPECT_GE(ops.load(), kMinOps);
}

}  // namespace
}  // namespace contend

#if defined(__clang__)
#pragma clang diagnostic pop
#endif
