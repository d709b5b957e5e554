// Copyright 2026 The contend Authors.
//
// Deterministic-schedule scenarios for KeyedMutex (tests/dsched): the
// reference count and eviction protocol around each key's Mutex, run on the
// real KeyedMutex (its _dsched twin, so the table and entry Mutexes are
// explored) under every strategy.

#include <array>
#include <chrono>
#include <memory>

#include "shard/keyed_mutex.h"
#include "sync/internal/atomic.h"
#include "tests/dsched/dsched.h"

namespace contend {
namespace {

using dsched::Env;
using internal::Atomic;
using Keyed = KeyedMutex<int>;

// Counts threads inside one key's critical section; a second is a failure.
struct Exclusion {
  Atomic<int> inside{0};
  int count = 0;  // guarded by the key under test
  void enter() {
    // relaxed: the check needs only atomicity; the key's lock orders count.
    DSCHED_CHECK(inside.fetch_add(1, std::memory_order_relaxed) == 0);
    ++count;
    inside.fetch_sub(1, std::memory_order_relaxed);
  }
};

// A release that drops key 1's last reference (and evicts its entry) racing
// a new lock of key 1 and a lock of key 2 (which may reuse the evicted
// node): exclusion on key 1, no lost wakeup, no entry left behind.
DSCHED_SCENARIO("keyed_mutex_evict_vs_lock", [](Env& env) {
  auto km = std::make_shared<Keyed>();
  auto one = std::make_shared<Exclusion>();
  auto two = std::make_shared<Exclusion>();
  for (int t = 0; t < 2; ++t) {
    env.spawn([km, one] {
      auto g = km->lock(1);
      one->enter();
    });
  }
  env.spawn([km, two] {
    auto g = km->lock(2);
    two->enter();
  });
  env.run();
  DSCHED_CHECK(one->count == 2 && two->count == 1);
  DSCHED_CHECK(km->entries() == 0);
  DSCHED_CHECK(km->try_lock(1).owns_lock());
});

// lock_many of the same two keys named in opposite orders (one with a
// duplicate): no deadlock (the explorer fails a run where every thread
// is blocked), exclusion on both keys. Run uncapped, then with max_entries
// = 1 so that one key is served by a stripe and the global order mixes an
// entry and a stripe.
void lock_many_orders(Env& env, Keyed::Options options) {
  auto km = std::make_shared<Keyed>(options);
  auto one = std::make_shared<Exclusion>();
  auto two = std::make_shared<Exclusion>();
  env.spawn([km, one, two] {
    auto g = km->lock_many({1, 2});
    one->enter();
    two->enter();
  });
  env.spawn([km, one, two] {
    auto g = km->lock_many({2, 1, 2});
    two->enter();
    one->enter();
  });
  env.run();
  DSCHED_CHECK(one->count == 2 && two->count == 2);
  DSCHED_CHECK(km->entries() == 0);
}

DSCHED_SCENARIO("keyed_mutex_lock_many_orders",
                [](Env& env) { lock_many_orders(env, {}); });

DSCHED_SCENARIO("keyed_mutex_lock_many_orders_capped", [](Env& env) {
  lock_many_orders(env, {.max_entries = 1, .stripes = 2});
});

// try_lock_for on a held key timing out while the holder releases (time is
// virtual: the explorer decides when the deadline passes): either it gets
// the key after the release or it fails, and a failed attempt leaves no
// entry behind and does not keep the key from the next locker.
DSCHED_SCENARIO("keyed_mutex_try_lock_for_vs_release", [](Env& env) {
  auto km = std::make_shared<Keyed>();
  auto one = std::make_shared<Exclusion>();
  auto timed_out = std::make_shared<Atomic<int>>(0);
  env.spawn([km, one] {
    auto g = km->lock(1);
    one->enter();
  });
  env.spawn([km, one, timed_out] {
    auto g = km->try_lock_for(1, std::chrono::microseconds(5));
    if (g) {
      one->enter();
    } else {
      // relaxed: read by the body after run(), which joins the threads.
      timed_out->fetch_add(1, std::memory_order_relaxed);
    }
  });
  env.spawn([km, one] {
    auto g = km->lock(1);
    one->enter();
  });
  env.run();
  DSCHED_CHECK(one->count + timed_out->load(std::memory_order_relaxed) == 3);
  DSCHED_CHECK(km->entries() == 0);
  DSCHED_CHECK(km->try_lock(1).owns_lock());
});

}  // namespace
}  // namespace contend
