// Copyright 2026 The contend Authors.
//
// Deterministic-schedule scenarios for contend::RWMutex (tests/dsched).

#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <stop_token>

#include "sync/internal/atomic.h"
#include "sync/mutex.h"
#include "sync/rw_mutex.h"
#include "tests/dsched/dsched.h"

namespace contend {
namespace {

using dsched::Env;
using internal::Atomic;

// Readers may overlap each other, never a writer; writers never overlap.
struct RwExclusion {
  Atomic<int> readers{0};
  Atomic<int> writers{0};
  int writes = 0;  // guarded by the RWMutex's write side
  void read() {
    readers.fetch_add(1, std::memory_order_relaxed);
    DSCHED_CHECK(writers.load(std::memory_order_relaxed) == 0);
    readers.fetch_sub(1, std::memory_order_relaxed);
  }
  void write() {
    DSCHED_CHECK(writers.fetch_add(1, std::memory_order_relaxed) == 0);
    DSCHED_CHECK(readers.load(std::memory_order_relaxed) == 0);
    ++writes;
    writers.fetch_sub(1, std::memory_order_relaxed);
  }
};

// After every thread finished the lock is free, whatever flag bits the
// waits left behind: try_lock() and try_lock_shared() must succeed (the
// header's promise; defect 3 of the core-correctness review).
void check_free(RWMutex& mu) {
  DSCHED_CHECK(mu.try_lock());
  mu.unlock();
  DSCHED_CHECK(mu.try_lock_shared());
  mu.unlock_shared();
}

DSCHED_SCENARIO("rw_mutex_two_readers_one_writer", [](Env& env) {
  auto mu = std::make_shared<RWMutex>();
  auto ex = std::make_shared<RwExclusion>();
  for (int r = 0; r < 2; ++r) {
    env.spawn([mu, ex] {
      mu->lock_shared();
      ex->read();
      mu->unlock_shared();
    });
  }
  env.spawn([mu, ex] {
    mu->lock();
    ex->write();
    mu->unlock();
  });
  env.run();
  DSCHED_CHECK(ex->writes == 1);
  check_free(*mu);
});

DSCHED_SCENARIO("rw_mutex_two_writers_one_reader", [](Env& env) {
  auto mu = std::make_shared<RWMutex>();
  auto ex = std::make_shared<RwExclusion>();
  for (int w = 0; w < 2; ++w) {
    env.spawn([mu, ex] {
      mu->lock();
      ex->write();
      mu->unlock();
    });
  }
  env.spawn([mu, ex] {
    mu->lock_shared();
    ex->read();
    mu->unlock_shared();
  });
  env.run();
  DSCHED_CHECK(ex->writes == 2);
  check_free(*mu);
});

// A writer that gives up on its deadline while a reader holds the lock, and
// a second writer parked behind it: the bits the timed-out writer leaves must
// not make a free lock look held.
DSCHED_SCENARIO("rw_mutex_timed_writer_vs_reader", [](Env& env) {
  auto mu = std::make_shared<RWMutex>();
  auto ex = std::make_shared<RwExclusion>();
  mu->lock_shared();  // the body's read lock; a thread releases it
  env.spawn([mu, ex] {
    if (mu->try_lock_for(std::chrono::microseconds(5))) {
      ex->write();
      mu->unlock();
    }
  });
  env.spawn([mu, ex] {
    mu->lock();
    ex->write();
    mu->unlock();
  });
  env.spawn([mu] { mu->unlock_shared(); });
  env.run();
  DSCHED_CHECK(ex->writes >= 1);
  check_free(*mu);
});

// The same with cancellation instead of a deadline, for both sides.
DSCHED_SCENARIO("rw_mutex_cancelled_waiters", [](Env& env) {
  auto mu = std::make_shared<RWMutex>();
  auto src = std::make_shared<std::stop_source>();
  mu->lock();  // the body's write lock; a thread releases it
  env.spawn([mu, src] {
    if (mu->lock(src->get_token())) mu->unlock();
  });
  env.spawn([mu, src] {
    if (mu->lock_shared(src->get_token())) mu->unlock_shared();
  });
  env.spawn([mu] {
    mu->lock_shared();
    mu->unlock_shared();
  });
  env.spawn([mu, src] {
    src->request_stop();
    mu->unlock();
  });
  env.run();
  check_free(*mu);
});

// The steps of a lost-wakeup report from //tests/python:test_sync_model: a
// thread whose timed Mutex lock expired (its parker and ParkingLot node were
// last used by a timed-out park on another key) then parks for write behind
// a writer, a reader parks behind both, and the writer unlocks. Both must get
// in (dsched reports a lost wakeup otherwise). With `hold` the unlock comes
// only after a timed wait of that length, so that the parked threads have
// starved (1 ms) and the unlock grants (the reader and the writer's claim in
// one step) instead of waking one thread to compete.
void timed_out_waiter_then_writer_and_reader(Env& env,
                                             std::chrono::microseconds hold) {
  auto mu = std::make_shared<RWMutex>();
  auto other = std::make_shared<Mutex>();
  auto ex = std::make_shared<RwExclusion>();
  // Counts the threads that got in. Relaxed everywhere: read only after
  // env.run() has joined every thread.
  auto got = std::make_shared<Atomic<int>>(0);
  other->lock();  // held by the body throughout: timed waits on it expire
  mu->lock();     // the writer's hold; the unlocking thread releases it
  env.spawn([mu, other, ex, got] {
    DSCHED_CHECK(!other->try_lock_for(std::chrono::microseconds(5)));
    mu->lock();
    ex->write();
    got->fetch_add(1, std::memory_order_relaxed);
    mu->unlock();
  });
  env.spawn([mu, ex, got] {
    mu->lock_shared();
    ex->read();
    got->fetch_add(1, std::memory_order_relaxed);
    mu->unlock_shared();
  });
  env.spawn([mu, other, hold] {
    if (hold.count() > 0) DSCHED_CHECK(!other->try_lock_for(hold));
    mu->unlock();
  });
  env.run();
  DSCHED_CHECK(got->load(std::memory_order_relaxed) == 2);
  other->unlock();
  check_free(*mu);
}

DSCHED_SCENARIO("rw_mutex_timed_out_waiter_then_writer_and_reader",
                [](Env& env) {
                  timed_out_waiter_then_writer_and_reader(
                      env, std::chrono::microseconds(0));
                });

DSCHED_SCENARIO("rw_mutex_timed_out_waiter_then_writer_and_reader_starved",
                [](Env& env) {
                  timed_out_waiter_then_writer_and_reader(
                      env, std::chrono::microseconds(2000));
                });

// The state word's holder bits (rw_mutex.h's table): a writer, or readers.
uint32_t word_of(const RWMutex& mu) {
  // The state word is RWMutex's first member (the label flag follows).
  static_assert(sizeof(RWMutex) >= sizeof(uint32_t));
  uint32_t w;
  std::memcpy(&w, static_cast<const void*>(&mu), sizeof(w));
  return w;
}
constexpr uint32_t kWriterBit = 1u << 2;
constexpr uint32_t kParkedBit = 1u << 0;
constexpr uint32_t kStarvingBit = 1u << 4;
constexpr uint32_t kReaderBits = ~((1u << 5) - 1);

// Defect 3 of the core-correctness review, while waiters come and go: a
// try_lock() that fails must find the lock held (a writer or readers) or
// reserved for a handoff (starving, with threads parked) -- never free with
// only flag bits left by woken or timed-out waiters. The check runs without
// preemption, so it sees the word try_lock() saw.
DSCHED_SCENARIO("rw_mutex_try_lock_sees_only_holders", [](Env& env) {
  auto mu = std::make_shared<RWMutex>();
  auto ex = std::make_shared<RwExclusion>();
  mu->lock();
  env.spawn([mu, ex] {  // parks, is woken, may lose and keep watch
    mu->lock();
    ex->write();
    mu->unlock();
  });
  env.spawn([mu, ex] {  // releases the body's lock and barges back in
    mu->unlock();
    if (mu->try_lock_for(std::chrono::microseconds(3))) {
      ex->write();
      mu->unlock();
    }
  });
  env.spawn([mu, ex] {
    for (int i = 0; i < 2; ++i) {
      bool ok;
      uint32_t w;
      {
        dsched::NoPreempt np;
        ok = mu->try_lock();
        w = word_of(*mu);
      }
      if (ok) {
        ex->write();
        mu->unlock();
      } else {
        const bool held = (w & (kWriterBit | kReaderBits)) != 0;
        const bool reserved = (w & kStarvingBit) != 0 && (w & kParkedBit) != 0;
        DSCHED_CHECK(held || reserved);
      }
    }
  });
  env.run();
  check_free(*mu);
});

// Defect 4 for RWMutex: the last reader's unlock_shared() must not touch the
// lock after the release that lets a parked writer in; the writer unlocks
// and destroys it at once.
DSCHED_SCENARIO("rw_mutex_destroy_after_last_unlock", [](Env& env) {
  auto* mu = new RWMutex;
  mu->lock_shared();
  env.spawn([mu] {
    // A drain wait that may time out, then a plain lock: the writer can get
    // the lock without the last reader's wakeup.
    if (!mu->try_lock_for(std::chrono::microseconds(5))) mu->lock();
    mu->unlock();
    dsched::mark_destroyed(mu, sizeof(RWMutex));
  });
  env.spawn([mu] { mu->unlock_shared(); });
  env.run();
  delete mu;
});

// The same with a timed writer parked and a second writer arriving: the
// reader's slow-path release can let the arriving writer in while the
// reader is still inside unlock_shared(); the last of the two writers to
// finish destroys the lock.
DSCHED_SCENARIO("rw_mutex_destroy_after_last_unlock_two_writers", [](Env& env) {
  auto* mu = new RWMutex;
  auto done = std::make_shared<Atomic<int>>(0);
  mu->lock_shared();
  auto finish = [mu, done] {
    if (done->fetch_add(1, std::memory_order_acq_rel) == 1) {
      dsched::mark_destroyed(mu, sizeof(RWMutex));
    }
  };
  env.spawn([mu, finish] {
    if (mu->try_lock_for(std::chrono::microseconds(5))) {
      mu->unlock();
    }
    finish();
  });
  env.spawn([mu, finish] {
    mu->lock();
    mu->unlock();
    finish();
  });
  env.spawn([mu] { mu->unlock_shared(); });
  env.run();
  delete mu;
});

}  // namespace
}  // namespace contend
