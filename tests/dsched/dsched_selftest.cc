// Copyright 2026 The contend Authors.
//
// The explorer's own fixtures: small protocols with a known bug, which every
// strategy must find (names start with "bug_"), and their correct versions,
// which must pass. Built on internal::Atomic and the futex like the real
// primitives, so they exercise the same hooks.

#include <cstdint>

#include "sync/internal/atomic.h"
#include "sync/internal/futex.h"
#include "tests/dsched/dsched.h"

namespace contend::dsched {
namespace {

using internal::Atomic;

// A check-then-act "lock": load, then store, not one RMW. Two threads can
// both see it free; the critical-section counter then sees two owners.
struct RacyLock {
  Atomic<uint32_t> held{0};
  Atomic<uint32_t> inside{0};
  void lock(bool correct) {
    for (;;) {
      if (correct) {
        uint32_t e = 0;
        if (held.compare_exchange_strong(e, 1, std::memory_order_acquire,
                                         std::memory_order_relaxed)) {
          return;
        }
      } else if (held.load(std::memory_order_relaxed) == 0) {
        held.store(1, std::memory_order_relaxed);
        return;
      }
      internal::futex_wait(&held, 1, internal::kNoDeadline);
    }
  }
  void unlock() {
    held.store(0, std::memory_order_release);
    internal::futex_wake(&held, 1);
  }
};

void racy_lock_body(Env& env, bool correct) {
  auto* l = new RacyLock;
  for (int t = 0; t < 2; ++t) {
    env.spawn([l, correct] {
      l->lock(correct);
      DSCHED_CHECK(l->inside.fetch_add(1, std::memory_order_relaxed) == 0);
      l->inside.fetch_sub(1, std::memory_order_relaxed);
      l->unlock();
    });
  }
  env.run();
  delete l;
}

DSCHED_SCENARIO("bug_check_then_act_lock",
                [](Env& env) { racy_lock_body(env, false); });
DSCHED_SCENARIO("selftest_cas_lock",
                [](Env& env) { racy_lock_body(env, true); });

// A one-shot flag with a lost wakeup: the waiter checks the flag, then
// announces itself and sleeps; the setter wakes only if it saw the
// announcement. A setter that runs between the waiter's check and its
// announcement wakes nobody. The correct version sleeps on the flag itself
// (the futex re-validates the value atomically with going to sleep).
struct Flag {
  Atomic<uint32_t> set{0};
  Atomic<uint32_t> sleepers{0};
  Atomic<uint32_t> bell{0};
};

void flag_body(Env& env, bool correct) {
  auto* f = new Flag;
  env.spawn([f, correct] {
    if (correct) {
      while (f->set.load(std::memory_order_acquire) == 0) {
        internal::futex_wait(&f->set, 0, internal::kNoDeadline);
      }
      return;
    }
    if (f->set.load(std::memory_order_acquire) != 0) return;
    f->sleepers.fetch_add(1, std::memory_order_relaxed);
    internal::futex_wait(&f->bell, 0, internal::kNoDeadline);
  });
  env.spawn([f, correct] {
    f->set.store(1, std::memory_order_release);
    if (correct) {
      internal::futex_wake(&f->set, 1);
    } else if (f->sleepers.load(std::memory_order_relaxed) != 0) {
      f->bell.store(1, std::memory_order_release);
      internal::futex_wake(&f->bell, 1);
    }
  });
  env.run();
  delete f;
}

DSCHED_SCENARIO("bug_lost_wakeup_flag",
                [](Env& env) { flag_body(env, false); });
DSCHED_SCENARIO("selftest_futex_flag", [](Env& env) { flag_body(env, true); });

// A timed wait must time out in virtual time when nobody wakes it, and must
// see the wake when one comes first: both outcomes are reachable.
DSCHED_SCENARIO("selftest_timed_wait", [](Env& env) {
  auto* f = new Flag;
  env.spawn([f] {
    const int64_t deadline = internal::monotonic_now_ns() + 1'000'000;
    while (f->set.load(std::memory_order_acquire) == 0) {
      if (internal::futex_wait(&f->set, 0, deadline) ==
          internal::FutexResult::kTimedOut) {
        DSCHED_CHECK(internal::monotonic_now_ns() >= deadline);
        return;
      }
    }
  });
  env.spawn([f] {
    f->set.store(1, std::memory_order_release);
    internal::futex_wake(&f->set, 1);
  });
  env.run();
  delete f;
});

// A reader loads a pointer and reads through it while a writer unlinks the
// object and destroys it with no reclamation scheme. The only bad schedule
// parks the reader at its read (after the check a switch point makes) while
// the writer destroys: the explorer must check again when the reader resumes.
// The correct version destroys only after the reader is done.
struct Box {
  Atomic<int> v{1};
};

void unlink_and_destroy_body(Env& env, bool wait_for_reader) {
  auto* box = new Box;
  auto* slot = new Atomic<Box*>(box);
  auto* done = new Atomic<uint32_t>(0);
  env.spawn([slot, done] {
    Box* b = slot->load(std::memory_order_acquire);
    if (b != nullptr) DSCHED_CHECK(b->v.load(std::memory_order_relaxed) == 1);
    done->store(1, std::memory_order_release);
    internal::futex_wake(done, 1);
  });
  env.spawn([slot, done, wait_for_reader] {
    Box* b = slot->exchange(nullptr, std::memory_order_acq_rel);
    while (wait_for_reader && done->load(std::memory_order_acquire) == 0) {
      internal::futex_wait(done, 0, internal::kNoDeadline);
    }
    mark_destroyed(b, sizeof(*b));
  });
  env.run();
  delete done;
  delete slot;
  delete box;
}

DSCHED_SCENARIO("bug_destroyed_while_reader_parked",
                [](Env& env) { unlink_and_destroy_body(env, false); });
DSCHED_SCENARIO("selftest_destroyed_after_reader",
                [](Env& env) { unlink_and_destroy_body(env, true); });

}  // namespace
}  // namespace contend::dsched
