// Copyright 2026 The contend Authors.
//
// StripedMap under load: concurrent read-modify-writes through every
// mutating form lose no update, while readers range, size and load.

#include <atomic>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "shard/striped_map.h"
#include "sync/rw_mutex.h"
#include "tests/testing/stress.h"

namespace contend {
namespace {

constexpr int kKeys = 64;
constexpr int kWriters = 3;
constexpr int kReaders = 2;

// Each writer adds 1 to a random key per iteration through one of compute,
// update (after load_or_store), or a load + compare_and_swap retry loop;
// at the end every key holds the number of increments made to it.
template <class Map>
void run_counter_stress(Map& m) {
  testing::Watchdog watchdog(testing::current_test_name());
  testing::StressDeadline deadline;
  std::vector<std::vector<int64_t>> added(kWriters,
                                          std::vector<int64_t>(kKeys, 0));
  std::atomic<bool> writers_done{false};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    auto& me = watchdog.slot("writer " + std::to_string(w));
    threads.emplace_back([&, w] {
      std::mt19937 rng(static_cast<uint32_t>(w) + 1);
      while (deadline.running()) {
        const int k = static_cast<int>(rng() % kKeys);
        switch (rng() % 3) {
          case 0:
            me.set_state("compute()");
            m.compute(k,
                      [](std::optional<int64_t>& v) { v = v.value_or(0) + 1; });
            break;
          case 1:
            me.set_state("load_or_store() + update()");
            (void)m.load_or_store(k, 0);
            ASSERT_TRUE(m.update(k, [](int64_t& v) { ++v; }));
            break;
          default: {
            me.set_state("compare_and_swap() loop");
            for (;;) {
              auto [cur, loaded] = m.load_or_store(k, 0);
              (void)loaded;
              if (m.compare_and_swap(k, cur, cur + 1)) break;
            }
            break;
          }
        }
        ++added[static_cast<size_t>(w)][static_cast<size_t>(k)];
        me.tick();
      }
      me.finish();
    });
  }
  for (int r = 0; r < kReaders; ++r) {
    auto& me = watchdog.slot("reader " + std::to_string(r));
    threads.emplace_back([&, r] {
      std::mt19937 rng(static_cast<uint32_t>(r) + 100);
      int64_t last_total = 0;
      while (!writers_done.load(std::memory_order_acquire)) {
        me.set_state("range()");
        int64_t total = 0;
        m.range([&](const int& k, const int64_t& v) {
          EXPECT_GE(k, 0);
          EXPECT_LT(k, kKeys);
          total += v;
          return true;
        });
        // Counters only grow, but a range is not a snapshot: only a
        // shard-by-shard lower bound holds, so compare loosely.
        EXPECT_GE(total, 0);
        last_total = total;
        me.set_state("size() / load()");
        EXPECT_LE(m.size(), size_t{kKeys});
        (void)m.load(static_cast<int>(rng() % kKeys));
        me.tick();
      }
      (void)last_total;
      me.finish();
    });
  }
  for (int w = 0; w < kWriters; ++w) threads[static_cast<size_t>(w)].join();
  writers_done.store(true,
                     std::memory_order_release);  // pairs with readers' load
  for (size_t i = kWriters; i < threads.size(); ++i) threads[i].join();
  int64_t grand = 0;
  for (int k = 0; k < kKeys; ++k) {
    int64_t want = 0;
    for (int w = 0; w < kWriters; ++w) {
      want += added[static_cast<size_t>(w)][static_cast<size_t>(k)];
    }
    grand += want;
    EXPECT_EQ(m.load(k).value_or(0), want) << "key " << k;
  }
  EXPECT_GT(grand, 0);
}

TEST(StripedMapStress, CountersLoseNoUpdateMutex) {
  StripedMap<int, int64_t> m({.shards = 8, .label = "striped_map_stress"});
  run_counter_stress(m);
}

TEST(StripedMapStress, CountersLoseNoUpdateRWMutex) {
  StripedMap<int, int64_t, absl::Hash<int>, std::equal_to<int>, RWMutex> m(
      {.shards = 8});
  run_counter_stress(m);
}

// Insert/erase churn with a per-key owner: each thread owns keys k with
// k % kThreads == t, so its own view of them is exact, while clear() and
// range() run against it from another thread... except clear() would break
// ownership, so the auditor only ranges and sizes.
TEST(StripedMapStress, ChurnKeepsOwnersViewExact) {
  constexpr int kThreads = 3;
  constexpr int kPerThread = 200;
  StripedMap<int, int> m({.shards = 16});
  testing::Watchdog watchdog(testing::current_test_name());
  testing::StressDeadline deadline;
  std::atomic<bool> done{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    auto& me = watchdog.slot("owner " + std::to_string(t));
    threads.emplace_back([&, t] {
      std::mt19937 rng(static_cast<uint32_t>(t) + 7);
      std::vector<std::optional<int>> mine(kPerThread);
      while (deadline.running()) {
        const size_t i = rng() % kPerThread;
        const int k = static_cast<int>(i) * kThreads + t;
        const int v = static_cast<int>(rng() % 1000);
        switch (rng() % 6) {
          case 0:
            me.set_state("store()");
            m.store(k, v);
            mine[i] = v;
            break;
          case 1:
            me.set_state("erase()");
            ASSERT_EQ(m.erase(k), mine[i].has_value());
            mine[i].reset();
            break;
          case 2:
            me.set_state("swap()");
            ASSERT_EQ(m.swap(k, v), mine[i]);
            mine[i] = v;
            break;
          case 3:
            me.set_state("load_and_delete()");
            ASSERT_EQ(m.load_and_delete(k), mine[i]);
            mine[i].reset();
            break;
          case 4:
            me.set_state("compare_and_delete()");
            ASSERT_EQ(m.compare_and_delete(k, v), mine[i] == v);
            if (mine[i] == v) mine[i].reset();
            break;
          default:
            me.set_state("load()");
            ASSERT_EQ(m.load(k), mine[i]);
            break;
        }
        me.tick();
      }
      me.finish();
    });
  }
  auto& auditor = watchdog.slot("auditor");
  threads.emplace_back([&] {
    while (!done.load(std::memory_order_acquire)) {
      auditor.set_state("range()");
      size_t n = 0;
      m.range([&](const int&, const int&) { return ++n > 0; });
      EXPECT_LE(n, size_t{kThreads * kPerThread});
      auditor.set_state("size()");
      EXPECT_LE(m.size(), size_t{kThreads * kPerThread});
      auditor.tick();
    }
    auditor.finish();
  });
  for (int t = 0; t < kThreads; ++t) threads[static_cast<size_t>(t)].join();
  done.store(true, std::memory_order_release);  // pairs with the auditor's load
  threads.back().join();
}

}  // namespace
}  // namespace contend
