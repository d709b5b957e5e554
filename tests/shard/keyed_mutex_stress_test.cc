// Copyright 2026 The contend Authors.
//
// lock_many with random key sets in random orders never deadlocks (the
// watchdog fails the test if any thread stops making progress) and gives
// mutual exclusion: each key's counter is modified only by its holder.

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "shard/keyed_mutex.h"
#include "tests/testing/stress.h"

namespace contend {
namespace {

TEST(KeyedMutexStress, RandomOrderLockManyNeverDeadlocks) {
  constexpr int kThreads = 4;
  constexpr int kKeys = 8;
  for (size_t max_entries : {size_t{1} << 16, size_t{2}}) {
    KeyedMutex<int> km({.max_entries = max_entries, .stripes = 4});
    std::vector<int64_t> counters(kKeys, 0);
    std::vector<int64_t> expected_total(kThreads, 0);
    testing::Watchdog watchdog(testing::current_test_name());
    testing::StressDeadline deadline(testing::stress_duration() / 2);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      auto& me = watchdog.slot("locker " + std::to_string(t));
      threads.emplace_back([&, t] {
        std::mt19937 rng(static_cast<uint32_t>(t) + 1);
        while (deadline.running()) {
          std::vector<int> keys(1 + rng() % 4);
          for (int& k : keys) k = static_cast<int>(rng() % kKeys);
          std::shuffle(keys.begin(), keys.end(), rng);
          me.set_state("lock_many()");
          auto g = km.lock_many(keys);
          me.set_state("holding");
          std::sort(keys.begin(), keys.end());
          keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
          for (int k : keys) {
            // Non-atomic read-modify-write: a lost update (or TSan) shows
            // a broken exclusion.
            const int64_t v = counters[static_cast<size_t>(k)];
            counters[static_cast<size_t>(k)] = v + 1;
          }
          expected_total[static_cast<size_t>(t)] +=
              static_cast<int64_t>(keys.size());
          me.tick();
        }
        me.finish();
      });
    }
    for (auto& th : threads) th.join();
    int64_t total = 0, want = 0;
    for (int64_t c : counters) total += c;
    for (int64_t e : expected_total) want += e;
    EXPECT_EQ(total, want);
    EXPECT_GT(want, 0);
    EXPECT_EQ(km.entries(), 0u);
  }
}

}  // namespace
}  // namespace contend
