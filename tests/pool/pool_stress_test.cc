// Copyright 2026 The contend Authors.
//
// Pool<T> under concurrent get/put/trim: every object handed out is reset,
// none is handed to two threads at once, and the counts add up.

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "pool/pool.h"
#include "tests/testing/stress.h"

namespace contend {
namespace {

struct Obj {
  std::atomic<int> owner{0};
  uint64_t payload = 0;
};

TEST(PoolStress, ResetExclusiveAndCounted) {
  Pool<Obj>::Options o;
  o.reset = [](Obj& x) { x.payload = 0; };
  o.max_retained = 16;
  Pool<Obj> pool(std::move(o));
  testing::Watchdog watchdog("PoolStress.ResetExclusiveAndCounted");
  testing::StressDeadline deadline;
  std::vector<std::thread> ts;
  constexpr int kThreads = 4;
  for (int t = 1; t <= kThreads; ++t) {
    auto& me = watchdog.slot("getter " + std::to_string(t));
    ts.emplace_back([&, t, &me = me] {
      while (deadline.running()) {
        me.set_state("get");
        std::vector<Pool<Obj>::Handle> held;
        for (int k = 0; k < 3; ++k) {
          auto h = pool.get();
          EXPECT_EQ(h->payload, 0u) << "handed out unreset";
          int expected = 0;
          EXPECT_TRUE(h->owner.compare_exchange_strong(expected, t))
              << "object held by thread " << expected << " too";
          h->payload = static_cast<uint64_t>(t);
          held.push_back(std::move(h));
        }
        for (auto& h : held) h->owner.store(0);
        me.set_state("put");
        held.clear();
        me.tick();
      }
      me.finish();
    });
  }
  auto& tm = watchdog.slot("trimmer");
  ts.emplace_back([&] {
    while (deadline.running()) {
      pool.trim();
      tm.tick();
      std::this_thread::yield();
    }
    tm.finish();
  });
  for (auto& t : ts) t.join();
  PoolStats s = pool.stats();
  EXPECT_EQ(s.gets, s.hits + s.misses);
  EXPECT_EQ(s.gets, s.puts);
  EXPECT_LE(s.retained, 16 + kThreads);
  EXPECT_EQ(s.misses, s.retained + s.rejected + s.trimmed);
}

}  // namespace
}  // namespace contend
