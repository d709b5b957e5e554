// Copyright 2026 The contend Authors.
//
// Deterministic-schedule scenarios for contend::Semaphore (tests/dsched).

#include <chrono>
#include <cstdint>
#include <memory>
#include <stop_token>

#include "sync/internal/atomic.h"
#include "sync/semaphore.h"
#include "tests/dsched/dsched.h"

namespace contend {
namespace {

using dsched::Env;
using internal::Atomic;

// Tokens in use never exceed the capacity, and all come back.
DSCHED_SCENARIO("semaphore_weighted_acquirers", [](Env& env) {
  auto sem = std::make_shared<Semaphore>(3);
  auto held = std::make_shared<Atomic<int64_t>>(0);
  for (int64_t n : {1, 2, 3}) {
    env.spawn([sem, held, n] {
      sem->acquire(n);
      DSCHED_CHECK(held->fetch_add(n, std::memory_order_relaxed) + n <= 3);
      held->fetch_sub(n, std::memory_order_relaxed);
      sem->release(n);
    });
  }
  env.run();
  DSCHED_CHECK(sem->try_acquire(3));
  sem->release(3);
});

// A grant racing a deadline and a cancellation: "false" always means the
// caller holds nothing (its tokens go to the others), so the capacity is
// whole at the end.
DSCHED_SCENARIO("semaphore_grant_vs_timeout_and_stop", [](Env& env) {
  auto sem = std::make_shared<Semaphore>(2);
  auto src = std::make_shared<std::stop_source>();
  DSCHED_CHECK(
      sem->try_acquire(2));  // the body's tokens; a thread returns them
  env.spawn([sem] {
    if (sem->try_acquire_for(2, std::chrono::microseconds(5))) sem->release(2);
  });
  env.spawn([sem, src] {
    if (sem->acquire(1, src->get_token())) sem->release(1);
  });
  env.spawn([sem, src] {
    src->request_stop();
    sem->release(2);
  });
  env.run();
  DSCHED_CHECK(sem->try_acquire(2));
  sem->release(2);
});

// Defect 4 for Semaphore: the release that grants a parked acquirer must
// not touch the semaphore afterwards; the acquirer releases and destroys it.
DSCHED_SCENARIO("semaphore_destroy_after_last_release", [](Env& env) {
  auto* sem = new Semaphore(1);
  DSCHED_CHECK(sem->try_acquire(1));
  env.spawn([sem] {
    sem->acquire(1);
    sem->release(1);
    dsched::mark_destroyed(sem, sizeof(Semaphore));
  });
  env.spawn([sem] { sem->release(1); });
  env.run();
  delete sem;
});

}  // namespace
}  // namespace contend
