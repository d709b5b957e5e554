// Copyright 2026 The contend Authors.
//
// Singleflight under random keys, forget() and early-leaving followers:
// every result belongs to its key, every run of fn is delivered to at least
// its leader, a caller marked shared=false got a result nobody else got,
// and no flight is left behind.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <random>
#include <set>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "sync/singleflight.h"
#include "tests/testing/stress.h"

namespace contend {
namespace {

constexpr int kThreads = 6;
constexpr int kKeys = 4;

TEST(SingleflightStress, RandomKeysForgetAndCancellation) {
  Singleflight<int, int64_t> sf;
  std::atomic<int64_t> next_run{1};
  std::atomic<int64_t> runs{0};
  std::mutex mu;
  std::multiset<int64_t> delivered;  // run ids received (not cancelled)
  std::multiset<int64_t> unshared;   // run ids received with shared=false
  std::atomic<int> bad_key{0}, cancelled{0};

  testing::Watchdog watchdog(testing::current_test_name());
  const testing::StressDeadline deadline;
  std::vector<std::thread> pool;
  for (int t = 0; t < kThreads; ++t) {
    auto& me = watchdog.slot("caller " + std::to_string(t));
    pool.emplace_back([&, t] {
      std::mt19937 rng(static_cast<uint32_t>(t + 1));
      while (deadline.running()) {
        me.tick();
        me.set_state("call(key, fn)");
        const int key = static_cast<int>(rng() % kKeys);
        const int action = static_cast<int>(rng() % 16);
        if (action == 0) {
          sf.forget(key);
          continue;
        }
        auto fn = [&, key]() -> int64_t {
          runs.fetch_add(1);
          const int64_t id = next_run.fetch_add(1);
          std::this_thread::yield();
          return id * kKeys + key;
        };
        Singleflight<int, int64_t>::Result r;
        if (action == 1) {
          std::stop_source src;
          src.request_stop();  // a follower leaves at once
          r = sf.call(key, fn, src.get_token());
        } else {
          r = sf.call(key, fn);
        }
        if (!r.value.ok()) {
          cancelled.fetch_add(1);
          continue;
        }
        if (*r.value % kKeys != key) bad_key.fetch_add(1);
        std::lock_guard<std::mutex> l(mu);
        delivered.insert(*r.value / kKeys);
        if (!r.shared) unshared.insert(*r.value / kKeys);
      }
      me.finish();
    });
  }
  for (auto& th : pool) th.join();

  EXPECT_EQ(bad_key.load(), 0);
  // Every run reached at least its leader.
  std::set<int64_t> distinct(delivered.begin(), delivered.end());
  EXPECT_EQ(static_cast<int64_t>(distinct.size()), runs.load());
  // shared == false means nobody else received that run's result.
  for (int64_t id : unshared) EXPECT_EQ(delivered.count(id), 1u) << id;
  for (int k = 0; k < kKeys; ++k) EXPECT_EQ(sf.callers(k), 0);
  std::printf("runs %lld, deliveries %zu, cancelled %d\n",
              static_cast<long long>(runs.load()), delivered.size(),
              cancelled.load());
}

}  // namespace
}  // namespace contend
