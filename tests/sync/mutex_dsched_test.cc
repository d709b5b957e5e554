// Copyright 2026 The contend Authors.
//
// Deterministic-schedule scenarios for contend::Mutex (tests/dsched). Each
// runs the real Mutex (its _dsched twin) under every strategy; a failure
// prints a --dsched_replay flag for this binary.

#include <cstdint>
#include <memory>
#include <stop_token>

#include "sync/internal/atomic.h"
#include "sync/mutex.h"
#include "tests/dsched/dsched.h"

namespace contend {
namespace {

using dsched::Env;
using internal::Atomic;

// Counts threads inside the critical section; a second one is a failure.
struct Exclusion {
  Atomic<int> inside{0};
  int count = 0;  // guarded by the Mutex under test
  void enter() {
    DSCHED_CHECK(inside.fetch_add(1, std::memory_order_relaxed) == 0);
    ++count;
    inside.fetch_sub(1, std::memory_order_relaxed);
  }
};

// Mutual exclusion and no lost wakeup with three threads, two rounds each.
DSCHED_SCENARIO("mutex_three_threads", [](Env& env) {
  auto mu = std::make_shared<Mutex>();
  auto ex = std::make_shared<Exclusion>();
  for (int t = 0; t < 3; ++t) {
    env.spawn([mu, ex] {
      for (int i = 0; i < 2; ++i) {
        mu->lock();
        ex->enter();
        mu->unlock();
      }
    });
  }
  env.run();
  DSCHED_CHECK(ex->count == 6);
});

// Defect 1 of the core-correctness review: a lock(stop) whose stop is
// already requested, racing an unlock(), while another thread is parked. If
// the cancelled caller claims kWoken (so the unlock skips its wakeup) and
// then gives up without waking anyone, the parked lock() sleeps forever with
// the Mutex free: a lost wakeup.
DSCHED_SCENARIO("mutex_lock_stop_vs_unlock", [](Env& env) {
  auto mu = std::make_shared<Mutex>();
  auto ex = std::make_shared<Exclusion>();
  mu->lock();           // held by the body; the "holder" thread releases it
  env.spawn([mu, ex] {  // a parked waiter
    mu->lock();
    ex->enter();
    mu->unlock();
  });
  env.spawn([mu, ex] {  // the cancelled caller
    std::stop_source src;
    src.request_stop();
    if (mu->lock(src.get_token())) {
      ex->enter();
      mu->unlock();
    }
  });
  env.spawn([mu] { mu->unlock(); });  // the holder
  env.run();
  DSCHED_CHECK(ex->count >= 1);
  DSCHED_CHECK(mu->try_lock());
  mu->unlock();
});

// The same race with a deadline: try_lock_for gives up on its timer while
// an unlock runs. Time is virtual: the explorer decides when it fires.
DSCHED_SCENARIO("mutex_try_lock_for_vs_unlock", [](Env& env) {
  auto mu = std::make_shared<Mutex>();
  auto ex = std::make_shared<Exclusion>();
  mu->lock();
  env.spawn([mu, ex] {
    mu->lock();
    ex->enter();
    mu->unlock();
  });
  env.spawn([mu, ex] {
    if (mu->try_lock_for(std::chrono::microseconds(5))) {
      ex->enter();
      mu->unlock();
    }
  });
  env.spawn([mu] { mu->unlock(); });
  env.run();
  DSCHED_CHECK(ex->count >= 1);
  DSCHED_CHECK(mu->try_lock());
  mu->unlock();
});

// Defect 4: unlock() must not touch the Mutex after the release that lets
// another thread acquire it. Here the last user acquires after a timed-out
// wait, unlocks and destroys the Mutex (the pattern POSIX promises is safe,
// glibc bug 13690) while the first unlocker may still be in unlock(); any
// access to the destroyed object fails the run.
DSCHED_SCENARIO("mutex_destroy_after_last_unlock", [](Env& env) {
  auto* mu = new Mutex;
  mu->lock();
  env.spawn([mu] {
    if (!mu->try_lock_for(std::chrono::microseconds(5))) mu->lock();
    mu->unlock();
    dsched::mark_destroyed(mu, sizeof(Mutex));
  });
  env.spawn([mu] { mu->unlock(); });
  env.run();
  delete mu;
});

// The same with a spinner that owns kWoken when the unlock runs (the
// skipped-wakeup path and its counter).
DSCHED_SCENARIO("mutex_destroy_after_last_unlock_spinner", [](Env& env) {
  auto* mu = new Mutex;
  auto done = std::make_shared<Atomic<int>>(0);
  mu->lock();
  for (int t = 0; t < 2; ++t) {
    env.spawn([mu, done] {
      mu->lock();
      mu->unlock();
      // The second thread to finish is the last user.
      if (done->fetch_add(1, std::memory_order_acq_rel) == 1) {
        dsched::mark_destroyed(mu, sizeof(Mutex));
      }
    });
  }
  env.spawn([mu] { mu->unlock(); });
  env.run();
  delete mu;
});

}  // namespace
}  // namespace contend
