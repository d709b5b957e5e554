// Copyright 2026 The contend Authors.
//
// Deterministic-schedule scenarios for contend::Cond (tests/dsched): signal
// and broadcast with the Mutex held (the requeue onto the Mutex's queue)
// and released, racing timeouts.

#include <chrono>
#include <memory>

#include "sync/cond.h"
#include "sync/internal/parking_lot.h"
#include "sync/mutex.h"
#include "tests/dsched/dsched.h"

namespace contend {
namespace {

using dsched::Env;

struct Shared {
  Mutex mu;
  Cond cond;
  int ready = 0;  // guarded by mu
  int woke = 0;   // guarded by mu
};

// Two waiters, one broadcaster holding the Mutex (requeue path): both wake,
// and the Mutex ends free.
DSCHED_SCENARIO("cond_broadcast_with_mutex_held", [](Env& env) {
  auto s = std::make_shared<Shared>();
  for (int w = 0; w < 2; ++w) {
    env.spawn([s] {
      s->mu.lock();
      while (s->ready == 0) s->cond.wait(s->mu);
      ++s->woke;
      s->mu.unlock();
    });
  }
  env.spawn([s] {
    s->mu.lock();
    s->ready = 1;
    s->cond.broadcast();
    s->mu.unlock();
  });
  env.run();
  DSCHED_CHECK(s->woke == 2);
  DSCHED_CHECK(s->mu.try_lock());
  s->mu.unlock();
});

// Two signals, one with and one without the Mutex held, for two waiters.
DSCHED_SCENARIO("cond_signal_each_waiter", [](Env& env) {
  auto s = std::make_shared<Shared>();
  for (int w = 0; w < 2; ++w) {
    env.spawn([s] {
      s->mu.lock();
      while (s->ready == 0) s->cond.wait(s->mu);
      --s->ready;
      ++s->woke;
      s->mu.unlock();
    });
  }
  env.spawn([s] {
    s->mu.lock();
    ++s->ready;
    s->cond.signal();  // held: requeued onto the Mutex
    s->mu.unlock();
    s->mu.lock();
    ++s->ready;
    s->mu.unlock();
    s->cond.signal();  // released: woken directly
  });
  env.run();
  DSCHED_CHECK(s->woke == 2);
  DSCHED_CHECK(s->ready == 0);
});

// A timed wait racing the signal: it returns with the Mutex held either way,
// and a timeout is only reported when the predicate is still false.
DSCHED_SCENARIO("cond_wait_for_vs_signal", [](Env& env) {
  auto s = std::make_shared<Shared>();
  env.spawn([s] {
    s->mu.lock();
    const bool got = s->cond.wait_for(s->mu, std::chrono::microseconds(5),
                                      [&] { return s->ready != 0; });
    DSCHED_CHECK(got == (s->ready != 0));
    s->mu.unlock();
  });
  env.spawn([s] {
    s->mu.lock();
    s->ready = 1;
    s->cond.signal();
    s->mu.unlock();
  });
  env.run();
  DSCHED_CHECK(s->mu.try_lock());
  s->mu.unlock();
});

// Defect 7 of the core-correctness review: an unpark that was meant for
// another primitive that used the same address earlier (here played by a
// direct unpark_all on the Cond's key, with the default token) must not end
// a wait(): the header promises no spurious wakeups. Only the real signal,
// which comes after `ready` is set, may end it.
DSCHED_SCENARIO("cond_stale_unpark_is_not_a_wakeup", [](Env& env) {
  auto s = std::make_shared<Shared>();
  env.spawn([s] {
    s->mu.lock();
    while (s->ready == 0) {
      s->cond.wait(s->mu);
      // The only signal comes after ready = 1 (under the Mutex), so a
      // return that finds ready == 0 is a spurious wakeup.
      DSCHED_CHECK(s->ready == 1);
    }
    s->mu.unlock();
  });
  // The Cond's ParkingLot key is its first (and only) word.
  env.spawn([s] { internal::ParkingLot::unpark_all(&s->cond); });
  env.spawn([s] {
    s->mu.lock();
    s->ready = 1;
    s->cond.signal();
    s->mu.unlock();
  });
  env.run();
});

}  // namespace
}  // namespace contend
