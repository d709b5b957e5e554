// Copyright 2026 The contend Authors.
//
// ResourcePool under mixed load: leases, broken resources, injected create
// failures, deadlines and cancellations, with a watchdog on every thread.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "pool/resource_pool.h"
#include "tests/pool/fake_resource.h"
#include "tests/testing/stress.h"

namespace contend {
namespace {

using Pool = ResourcePool<testing::FakeConn>;

TEST(ResourcePoolStress, BoundHoldsAndNothingLeaks) {
  testing::FakeFactory f;
  constexpr int kMaxOpen = 3;
  Pool::Options o;
  o.create = f.create_fn();
  o.max_open = kMaxOpen;
  o.max_idle = 2;
  o.max_concurrent_creates = 2;
  o.health_check = [](testing::FakeConn& c) { return c.healthy(); };
  auto pool = std::make_unique<Pool>(std::move(o));
  std::atomic<int> holding{0};
  std::atomic<int> max_holding{0};
  std::atomic<uint64_t> ok{0}, failed{0};
  testing::Watchdog watchdog("ResourcePoolStress.BoundHoldsAndNothingLeaks");
  testing::StressDeadline deadline;
  std::vector<std::thread> ts;
  for (int t = 0; t < 8; ++t) {
    auto& me = watchdog.slot("acquirer " + std::to_string(t));
    ts.emplace_back([&, t, &me = me] {
      uint64_t i = 0;
      std::stop_source src;
      while (deadline.running()) {
        ++i;
        me.set_state("acquire");
        absl::StatusOr<Pool::Lease> l =
            (i % 7 == 0) ? pool->acquire_for(std::chrono::microseconds(50))
                         : pool->acquire(src.get_token());
        if (!l.ok()) {
          failed.fetch_add(1, std::memory_order_relaxed);
          me.tick();
          continue;
        }
        const int h = holding.fetch_add(1) + 1;
        int m = max_holding.load();
        while (h > m && !max_holding.compare_exchange_weak(m, h)) {
        }
        if ((i + static_cast<uint64_t>(t)) % 11 == 0) l->mark_broken();
        if ((i + static_cast<uint64_t>(t)) % 13 == 0) (*l)->set_healthy(false);
        if (i % 17 == 0) f.fail_next(absl::UnavailableError("injected"));
        ResourcePoolStats s = pool->stats();
        EXPECT_EQ(s.open, s.idle + s.in_use);
        EXPECT_LE(s.open + s.creating, kMaxOpen);
        holding.fetch_sub(1);
        me.set_state("release");
        l->release();
        ok.fetch_add(1, std::memory_order_relaxed);
        me.tick();
      }
      me.finish();
    });
  }
  // A canceller: acquirers with their own stop sources that get cancelled.
  auto& cm = watchdog.slot("canceller");
  ts.emplace_back([&] {
    while (deadline.running()) {
      std::stop_source src;
      std::thread a([&] { (void)pool->acquire(src.get_token()); });
      src.request_stop();
      a.join();
      cm.tick();
    }
    cm.finish();
  });
  for (auto& t : ts) t.join();
  ResourcePoolStats s = pool->stats();
  EXPECT_LE(max_holding.load(), kMaxOpen);
  EXPECT_EQ(s.in_use, 0);
  EXPECT_EQ(s.waiters, 0);
  EXPECT_EQ(s.open, s.idle);
  EXPECT_GT(ok.load(), 0u);
  pool->close();
  EXPECT_EQ(f.alive(), 0);
  s = pool->stats();
  EXPECT_EQ(s.creates, f.created());
  EXPECT_EQ(s.open, 0);
}

}  // namespace
}  // namespace contend
