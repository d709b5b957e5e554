// Copyright 2026 The contend Authors.
//
// Deterministic-schedule scenarios for contend::ResourcePool (tests/dsched).

#include <chrono>
#include <memory>
#include <stop_token>
#include <utility>

#include "absl/status/statusor.h"
#include "pool/resource_pool.h"
#include "tests/dsched/dsched.h"

namespace contend {
namespace {

using dsched::Env;

struct Res {
  int id;
};

using Pool = ResourcePool<Res>;

std::unique_ptr<Pool> one_resource_pool() {
  Pool::Options o;
  o.create = [](Pool::Clock::time_point) -> absl::StatusOr<Res> {
    return Res{1};
  };
  o.max_open = 1;
  auto pool = std::make_unique<Pool>(std::move(o));
  DSCHED_CHECK(pool->fill(1).ok());
  return pool;
}

// A release racing a cancelled acquire: whichever wins, "cancelled" holds
// nothing and the one resource ends idle, never lost or double-granted.
DSCHED_SCENARIO("resource_pool_release_vs_cancelled_acquire", [](Env& env) {
  std::shared_ptr<Pool> pool = one_resource_pool();
  auto held = std::make_shared<Pool::Lease>(*pool->acquire());
  auto src = std::make_shared<std::stop_source>();
  env.spawn([pool, src] {
    absl::StatusOr<Pool::Lease> l = pool->acquire(src->get_token());
    if (l.ok()) {
      DSCHED_CHECK((*l)->id == 1);
      DSCHED_CHECK(pool->stats().in_use == 1);
    } else {
      DSCHED_CHECK(l.status().code() == absl::StatusCode::kCancelled);
    }
  });
  env.spawn([held] { held->release(); });
  env.spawn([src] { src->request_stop(); });
  env.run();
  const ResourcePoolStats s = pool->stats();
  DSCHED_CHECK(s.open == 1 && s.idle == 1 && s.in_use == 0 && s.waiters == 0);
  DSCHED_CHECK(pool->acquire().ok());
});

// Two queued acquirers with deadlines and a barging acquirer around one
// release: the bound holds, every outcome is a lease or a deadline, and the
// resource is back in the pool at the end.
DSCHED_SCENARIO("resource_pool_grant_vs_barger_and_deadline", [](Env& env) {
  std::shared_ptr<Pool> pool = one_resource_pool();
  auto held = std::make_shared<Pool::Lease>(*pool->acquire());
  for (int i = 0; i < 2; ++i) {
    env.spawn([pool] {
      absl::StatusOr<Pool::Lease> l =
          pool->acquire_for(std::chrono::microseconds(20));
      if (l.ok()) {
        DSCHED_CHECK(pool->stats().in_use == 1);
      } else {
        DSCHED_CHECK(l.status().code() == absl::StatusCode::kDeadlineExceeded);
      }
    });
  }
  env.spawn([held] { held->release(); });
  env.spawn([pool] {
    absl::StatusOr<Pool::Lease> l =
        pool->acquire_until(Pool::Clock::time_point::min());
    if (l.ok()) DSCHED_CHECK(pool->stats().in_use == 1);
  });
  env.run();
  const ResourcePoolStats s = pool->stats();
  DSCHED_CHECK(s.open == 1 && s.idle == 1 && s.in_use == 0 && s.waiters == 0);
});

}  // namespace
}  // namespace contend
