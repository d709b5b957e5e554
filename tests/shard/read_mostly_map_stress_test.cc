// Copyright 2026 The contend Authors.
//
// ReadMostlyMap under contention: per-key invariants that a lost or doubled
// write would break (exactly one load_or_store per key stores; CAS
// increments lose nothing), with readers checking that every loaded value is
// one a writer stored.

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "shard/read_mostly_map.h"
#include "tests/testing/stress.h"

namespace contend {
namespace {

TEST(ReadMostlyMapStress, OneLoadOrStoreWinsPerKey) {
  constexpr int kThreads = 4;
  const int keys = 2000 / testing::kScale;
  ReadMostlyMap<int, int> m;
  testing::Watchdog watchdog(testing::current_test_name());
  std::atomic<int> stored{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    auto& me = watchdog.slot("thread " + std::to_string(t));
    threads.emplace_back([&, t] {
      for (int k = 0; k < keys; ++k) {
        me.set_state("load_or_store");
        auto [v, loaded] = m.load_or_store(k, t);
        if (!loaded) {
          stored.fetch_add(1);
          EXPECT_EQ(v, t);
        }
        EXPECT_EQ(m.load(k), v) << "the winner's value is the one kept";
        me.tick();
      }
      me.finish();
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(stored.load(), keys);
  EXPECT_EQ(m.size(), static_cast<std::size_t>(keys));
}

TEST(ReadMostlyMapStress, CompareAndSwapIncrementsLoseNothing) {
  constexpr int kKeys = 8;
  ReadMostlyMap<int, int64_t> m;
  for (int k = 0; k < kKeys; ++k) m.store(k, 0);
  testing::Watchdog watchdog(testing::current_test_name());
  testing::StressDeadline deadline(
      testing::stress_duration(std::chrono::milliseconds(300)));
  std::atomic<int64_t> wins[kKeys] = {};
  std::atomic<bool> stop{false};
  std::atomic<bool> bad{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    auto& me = watchdog.slot("incrementer " + std::to_string(t));
    threads.emplace_back([&, t] {
      uint32_t i = static_cast<uint32_t>(t);
      while (deadline.running()) {
        me.set_state("compare_and_swap");
        const int k = static_cast<int>(i++ % kKeys);
        const int64_t v = *m.load(k);
        if (m.compare_and_swap(k, v, v + 1)) wins[k].fetch_add(1);
        me.tick();
      }
      me.finish();
    });
  }
  auto& rd = watchdog.slot("reader");
  threads.emplace_back([&] {
    std::vector<int64_t> last(kKeys, 0);
    while (!stop.load()) {
      rd.set_state("load/range");
      for (int k = 0; k < kKeys; ++k) {
        const auto v = m.load(k);
        if (!v || *v < last[static_cast<size_t>(k)]) bad = true;
        last[static_cast<size_t>(k)] = *v;
      }
      std::size_t n = 0;
      m.range([&](const int&, const int64_t&) { return ++n, true; });
      if (n != kKeys) bad = true;
      rd.tick();
    }
    rd.finish();
  });
  for (size_t i = 0; i + 1 < threads.size(); ++i) threads[i].join();
  stop = true;
  threads.back().join();
  EXPECT_FALSE(bad.load()) << "a reader saw a key missing or going back";
  for (int k = 0; k < kKeys; ++k) {
    EXPECT_EQ(*m.load(k), wins[k].load()) << "key " << k;
  }
}

TEST(ReadMostlyMapStress, MixedVerbsKeepTheMapConsistent) {
  ReadMostlyMap<std::string, std::string> m;
  testing::Watchdog watchdog(testing::current_test_name());
  testing::StressDeadline deadline(
      testing::stress_duration(std::chrono::milliseconds(300)));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    auto& me = watchdog.slot("mixer " + std::to_string(t));
    threads.emplace_back([&, t] {
      uint64_t x = 0x9E3779B97F4A7C15ULL * static_cast<uint64_t>(t + 1);
      while (deadline.running()) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        const std::string k = "k" + std::to_string(x % 64);
        const std::string v = "v" + k;  // every value is "v" + its key
        me.set_state("op");
        switch (x % 7) {
          case 0:
            m.store(k, v);
            break;
          case 1:
            (void)m.load_or_store(k, v);
            break;
          case 2:
            (void)m.load_and_delete(k);
            break;
          case 3:
            (void)m.swap(k, v);
            break;
          case 4:
            (void)m.compare_and_swap(k, v, v);
            break;
          case 5:
            (void)m.compare_and_delete(k, v);
            break;
          default: {
            auto got = m.load(k);
            EXPECT_TRUE(!got || *got == v);
          }
        }
        me.tick();
      }
      me.finish();
    });
  }
  for (auto& th : threads) th.join();
  std::size_t n = 0;
  m.range([&](const std::string& k, const std::string& v) {
    EXPECT_EQ(v, "v" + k);
    ++n;
    return true;
  });
  EXPECT_EQ(n, m.size());
}

}  // namespace
}  // namespace contend
