// Copyright 2026 The contend Authors.

#include "pool/resource_pool.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "sync/internal/wait_observer.h"
#include "tests/pool/fake_resource.h"
#include "tests/testing/wait.h"
#include "tests/testing/wait_counter.h"

namespace contend {
namespace {

using Pool = ResourcePool<testing::FakeConn>;
using std::chrono::milliseconds;
using testing::FakeConn;
using testing::FakeFactory;

Pool::Options options_for(FakeFactory& f, int max_open) {
  Pool::Options o;
  o.create = f.create_fn();
  o.max_open = max_open;
  return o;
}

// open == idle + in_use in every snapshot, and never above max_open.
void expect_consistent(const ResourcePoolStats& s) {
  EXPECT_EQ(s.open, s.idle + s.in_use);
  EXPECT_LE(s.open + s.creating, s.max_open);
}

// The header's example, kept compiling (Conn stands in for a client).
struct Conn {
  static absl::StatusOr<Conn> dial(const char*, Pool::Clock::time_point) {
    return Conn{};
  }
  bool query(const char*) { return true; }
};

absl::Status header_example() {
  contend::ResourcePool<Conn>::Options o;
  o.create = [](auto deadline) { return Conn::dial("db:5432", deadline); };
  o.max_open = 4;
  contend::ResourcePool<Conn> pool(std::move(o));
  absl::StatusOr<contend::ResourcePool<Conn>::Lease> c =
      pool.acquire_for(std::chrono::milliseconds(100));
  if (!c.ok()) return c.status();
  if (!(*c)->query("SELECT 1")) c->mark_broken();
  return absl::OkStatus();
}

TEST(ResourcePoolTest, HeaderExample) { EXPECT_TRUE(header_example().ok()); }

TEST(ResourcePoolTest, ReleasedResourceIsReused) {
  FakeFactory f;
  Pool pool(options_for(f, 2));
  int first_id;
  {
    auto l = pool.acquire();
    ASSERT_TRUE(l.ok()) << l.status();
    first_id = (*l)->id();
    expect_consistent(pool.stats());
    EXPECT_EQ(pool.stats().in_use, 1);
  }
  auto l = pool.acquire();
  ASSERT_TRUE(l.ok());
  EXPECT_EQ((*l)->id(), first_id);
  EXPECT_EQ(f.created(), 1);
  ResourcePoolStats s = pool.stats();
  EXPECT_EQ(s.creates, 1);
  EXPECT_EQ(s.open, 1);
  expect_consistent(s);
}

TEST(ResourcePoolTest, WaitersAreServedInFifoOrder) {
  FakeFactory f;
  Pool pool(options_for(f, 1));
  ASSERT_TRUE(pool.fill(1).ok());
  auto held = pool.acquire();
  ASSERT_TRUE(held.ok());
  std::mutex order_mu;
  std::vector<int> order;
  auto waiter = [&](int who) {
    return std::thread([&, who] {
      auto l = pool.acquire();
      ASSERT_TRUE(l.ok()) << l.status();
      std::lock_guard<std::mutex> g(order_mu);
      order.push_back(who);
    });
  };
  std::thread a = waiter(1);
  ASSERT_TRUE(testing::wait_until([&] { return pool.stats().waiters == 1; },
                                  "waiter 1 queued"));
  std::thread b = waiter(2);
  ASSERT_TRUE(testing::wait_until([&] { return pool.stats().waiters == 2; },
                                  "waiter 2 queued"));
  held->release();
  a.join();
  b.join();
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
  ResourcePoolStats s = pool.stats();
  EXPECT_EQ(s.wait_count, 2);
  EXPECT_GT(s.wait_duration.count(), 0);
  EXPECT_EQ(s.creates, 1);
  EXPECT_EQ(s.idle, 1);
  expect_consistent(s);
}

TEST(ResourcePoolTest, DeadlineExceededWhenExhausted) {
  FakeFactory f;
  Pool pool(options_for(f, 1));
  ASSERT_TRUE(pool.fill(1).ok());  // so the first acquire does not wait
  auto held = pool.acquire();
  ASSERT_TRUE(held.ok());
  auto l = pool.acquire_for(milliseconds(5));
  EXPECT_EQ(l.status().code(), absl::StatusCode::kDeadlineExceeded);
  auto past =
      pool.acquire_until(std::chrono::steady_clock::now() - milliseconds(1));
  EXPECT_EQ(past.status().code(), absl::StatusCode::kDeadlineExceeded);
  ResourcePoolStats s = pool.stats();
  EXPECT_EQ(s.acquire_timeouts, 2);
  EXPECT_EQ(s.wait_count, 1);  // the past deadline never queued
  EXPECT_EQ(s.waiters, 0);
  expect_consistent(s);
}

TEST(ResourcePoolTest, StopTokenCancelsAQueuedAcquire) {
  FakeFactory f;
  Pool pool(options_for(f, 1));
  auto held = pool.acquire();
  ASSERT_TRUE(held.ok());
  std::stop_source src;
  absl::Status got;
  std::thread t([&] { got = pool.acquire(src.get_token()).status(); });
  ASSERT_TRUE(testing::wait_until([&] { return pool.stats().waiters == 1; },
                                  "the acquirer queued"));
  src.request_stop();
  t.join();
  EXPECT_EQ(got.code(), absl::StatusCode::kCancelled);
  std::stop_source already;
  already.request_stop();
  EXPECT_EQ(pool.acquire(already.get_token()).status().code(),
            absl::StatusCode::kCancelled);
  ResourcePoolStats s = pool.stats();
  EXPECT_EQ(s.canceled_acquires, 2);
  EXPECT_EQ(s.waiters, 0);
  expect_consistent(s);
}

// HikariCP's rule: the acquirer waits on the pool, not in the factory; a
// cancelled acquirer leaves the shared creation running, and its result
// serves the next acquirer.
TEST(ResourcePoolTest, CancelledAcquireNeverCancelsTheCreation) {
  FakeFactory f;
  f.close_gate();
  Pool pool(options_for(f, 2));
  std::stop_source src;
  absl::Status got;
  std::thread t([&] { got = pool.acquire(src.get_token()).status(); });
  ASSERT_TRUE(testing::wait_until([&] { return f.at_gate() == 1; },
                                  "a creation started for the acquirer"));
  EXPECT_EQ(pool.stats().creating, 1);
  src.request_stop();  // the caller is not inside the factory: it returns
  t.join();
  EXPECT_EQ(got.code(), absl::StatusCode::kCancelled);
  f.open_gate();
  ASSERT_TRUE(testing::wait_until([&] { return pool.stats().idle == 1; },
                                  "the creation finished into the idle set"));
  auto l = pool.acquire();
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(f.created(), 1);
  expect_consistent(pool.stats());
}

// A spike is served by resources coming back, not by one creation per
// waiter: with one creation in flight, three waiters and a released lease,
// only one extra resource is ever made.
TEST(ResourcePoolTest, CreationIsElidedWhenDemandDisappears) {
  FakeFactory f;
  Pool pool(options_for(f, 4));
  ASSERT_TRUE(pool.fill(1).ok());
  auto held = pool.acquire();
  ASSERT_TRUE(held.ok());
  f.close_gate();
  std::atomic<int> served{0};
  std::vector<std::thread> ts;
  for (int i = 0; i < 3; ++i) {
    ts.emplace_back([&] {
      auto l = pool.acquire();
      ASSERT_TRUE(l.ok()) << l.status();
      served.fetch_add(1);
    });
  }
  ASSERT_TRUE(testing::wait_until([&] { return pool.stats().waiters == 3; },
                                  "three acquirers queued"));
  ASSERT_TRUE(testing::wait_until([&] { return f.at_gate() == 1; },
                                  "one creation in flight"));
  EXPECT_EQ(pool.stats().creating, 1);  // max_concurrent_creates = 1
  held->release();                      // serves all three, one after another
  for (auto& t : ts) t.join();
  EXPECT_EQ(served.load(), 3);
  f.open_gate();
  ASSERT_TRUE(testing::wait_until([&] { return pool.stats().creating == 0; },
                                  "the in-flight creation finished"));
  ResourcePoolStats s = pool.stats();
  EXPECT_EQ(s.creates, 2);
  EXPECT_EQ(s.open, 2);
  EXPECT_EQ(s.idle, 2);
  expect_consistent(s);
}

TEST(ResourcePoolTest, CreateFailureIsDeliveredToTheWaiter) {
  FakeFactory f;
  f.set_fail_always(true);
  Pool pool(options_for(f, 2));
  auto l = pool.acquire();
  EXPECT_EQ(l.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(l.status().message(), "fake: backend down");
  f.set_fail_always(false);
  auto ok = pool.acquire();
  ASSERT_TRUE(ok.ok()) << ok.status();
  ResourcePoolStats s = pool.stats();
  EXPECT_EQ(s.create_failures, 1);
  EXPECT_EQ(s.creates, 1);
  expect_consistent(s);
}

TEST(ResourcePoolTest, BrokenResourceIsDestroyedNotReused) {
  FakeFactory f;
  Pool pool(options_for(f, 2));
  int id;
  {
    auto l = pool.acquire();
    ASSERT_TRUE(l.ok());
    id = (*l)->id();
    l->mark_broken();
  }
  EXPECT_EQ(f.alive(), 0);
  auto l = pool.acquire();
  ASSERT_TRUE(l.ok());
  EXPECT_NE((*l)->id(), id);
  ResourcePoolStats s = pool.stats();
  EXPECT_EQ(s.closed_broken, 1);
  EXPECT_EQ(s.open, 1);
  expect_consistent(s);
}

TEST(ResourcePoolTest, HealthCheckOnAcquireAndRelease) {
  FakeFactory f;
  Pool::Options o = options_for(f, 2);
  o.health_check = [](FakeConn& c) { return c.healthy(); };
  o.check_on_release = true;
  Pool pool(std::move(o));
  {
    auto l = pool.acquire();
    ASSERT_TRUE(l.ok());
    (*l)->set_healthy(false);  // fails the release-time check
  }
  EXPECT_EQ(pool.stats().closed_broken, 1);
  EXPECT_EQ(pool.stats().open, 0);

  Pool::Options o2 = options_for(f, 2);
  int calls = 0;
  o2.health_check = [&calls](FakeConn&) { return ++calls > 1; };  // 1st fails
  Pool pool2(std::move(o2));
  ASSERT_TRUE(pool2.fill(1).ok());
  auto l = pool2.acquire();
  ASSERT_TRUE(l.ok());
  ResourcePoolStats s = pool2.stats();
  EXPECT_EQ(s.closed_broken, 1);
  EXPECT_EQ(s.creates, 2);
  expect_consistent(s);
}

TEST(ResourcePoolTest, HijackTakesTheResourceOut) {
  FakeFactory f;
  Pool pool(options_for(f, 1));
  auto l = pool.acquire();
  ASSERT_TRUE(l.ok());
  FakeConn c = l->hijack();
  EXPECT_FALSE(static_cast<bool>(*l));
  EXPECT_EQ(pool.stats().open, 0);
  auto l2 = pool.acquire();  // room for a new one
  ASSERT_TRUE(l2.ok());
  EXPECT_NE((*l2)->id(), c.id());
  expect_consistent(pool.stats());
}

TEST(ResourcePoolTest, MaxIdleDestroysTheSurplus) {
  FakeFactory f;
  Pool::Options o = options_for(f, 3);
  o.max_idle = 1;
  Pool pool(std::move(o));
  {
    std::vector<Pool::Lease> ls;
    for (int i = 0; i < 3; ++i) {
      auto l = pool.acquire();
      ASSERT_TRUE(l.ok());
      ls.push_back(*std::move(l));
    }
  }
  ResourcePoolStats s = pool.stats();
  EXPECT_EQ(s.idle, 1);
  EXPECT_EQ(s.closed_max_idle, 2);
  EXPECT_EQ(f.alive(), 1);
  expect_consistent(s);
}

TEST(ResourcePoolTest, MaxLifetimeExpiresOnRelease) {
  FakeFactory f;
  Pool::Options o = options_for(f, 1);
  o.max_lifetime = std::chrono::nanoseconds(1);
  Pool pool(std::move(o));
  { ASSERT_TRUE(pool.acquire().ok()); }
  ResourcePoolStats s = pool.stats();
  EXPECT_EQ(s.closed_max_lifetime, 1);
  EXPECT_EQ(s.open, 0);
}

TEST(ResourcePoolTest, HousekeepingClosesIdleResourcesAboveMinIdle) {
  FakeFactory f;
  Pool::Options o = options_for(f, 3);
  o.min_idle = 1;
  o.max_idle_time = milliseconds(1);
  o.housekeeping_interval = milliseconds(1);
  Pool pool(std::move(o));
  {
    auto a = pool.acquire();
    auto b = pool.acquire();
    ASSERT_TRUE(a.ok() && b.ok());
  }
  ASSERT_TRUE(testing::wait_until(
      [&] { return pool.stats().closed_max_idle_time >= 1; },
      "housekeeping closed an idle resource"));
  ASSERT_TRUE(testing::wait_until([&] { return pool.stats().idle == 1; },
                                  "min_idle resources kept"));
  expect_consistent(pool.stats());
}

TEST(ResourcePoolTest, MinIdleIsFilledInTheBackground) {
  FakeFactory f;
  Pool::Options o = options_for(f, 4);
  o.min_idle = 2;
  o.max_concurrent_creates = 2;
  Pool pool(std::move(o));
  ASSERT_TRUE(testing::wait_until([&] { return pool.stats().idle == 2; },
                                  "two idle resources made at start"));
  EXPECT_EQ(f.created(), 2);
}

TEST(ResourcePoolTest, CloseDrainsAndFailsAcquirers) {
  FakeFactory f;
  auto pool = std::make_unique<Pool>(options_for(f, 1));
  auto held = pool->acquire();
  ASSERT_TRUE(held.ok());
  absl::Status queued;
  std::thread waiter([&] { queued = pool->acquire().status(); });
  ASSERT_TRUE(testing::wait_until([&] { return pool->stats().waiters == 1; },
                                  "an acquirer queued"));
  std::atomic<bool> closed{false};
  std::thread closer([&] {
    pool->close();
    closed.store(true);
  });
  waiter.join();
  EXPECT_EQ(queued.code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(testing::wait_until(
      [&] {
        return pool->acquire().status().code() ==
               absl::StatusCode::kFailedPrecondition;
      },
      "acquire fails once closed"));
  EXPECT_FALSE(closed.load());  // still waiting for the lease
  held->release();              // destroyed on return
  closer.join();
  EXPECT_TRUE(closed.load());
  EXPECT_EQ(f.alive(), 0);
  EXPECT_EQ(pool->stats().open, 0);
  pool.reset();
}

TEST(ResourcePoolTest, AcquireWaitsAreProfiledAsResourcePool) {
  FakeFactory f;
  Pool::Options o = options_for(f, 1);
  o.label = "test.redis";
  Pool pool(std::move(o));
  auto held = pool.acquire();
  ASSERT_TRUE(held.ok());
  testing::WaitCounter waits;
  EXPECT_FALSE(pool.acquire_for(milliseconds(1)).ok());
  EXPECT_EQ(waits.ended(internal::WaitKind::kResourcePool,
                        internal::ParkStatus::kTimedOut),
            1);
}

TEST(ResourcePoolDeathTest, EmptyLeaseUse) {
  FakeFactory f;
  Pool pool(options_for(f, 1));
  Pool::Lease empty;
  EXPECT_DEATH((void)empty.get(),
               "contend: ResourcePool::Lease::get: empty lease");
  EXPECT_DEATH((void)empty->id(),
               "contend: ResourcePool::Lease::get: empty lease");
  EXPECT_DEATH(empty.mark_broken(),
               "contend: ResourcePool::Lease::mark_broken: empty lease");
  EXPECT_DEATH((void)empty.hijack(),
               "contend: ResourcePool::Lease::hijack: empty lease");
}

TEST(ResourcePoolDeathTest, BadOptions) {
  FakeFactory f;
  EXPECT_DEATH(
      Pool(options_for(f, 0)),
      "contend: ResourcePool::ResourcePool: max_open must be at least 1");
  EXPECT_DEATH(Pool(Pool::Options{}),
               "contend: ResourcePool::ResourcePool: no create function");
  Pool::Options o = options_for(f, 2);
  o.min_idle = 3;
  EXPECT_DEATH(Pool(std::move(o)),
               "contend: ResourcePool::ResourcePool: requires 0 <= min_idle");
}

TEST(ResourcePoolDeathTest, DestroyedWithLeasesOut) {
  EXPECT_DEATH(
      {
        FakeFactory f;
        auto* pool = new Pool(options_for(f, 1));
        auto l = pool->acquire();
        delete pool;
      },
      "contend: ResourcePool::~ResourcePool: leases still out");
}

}  // namespace
}  // namespace contend
