// Copyright 2026 The contend Authors.
//
// Cond slow paths: parking on &mutex_, and signal()/broadcast() by requeue
// onto the Mutex (the protocol documented in mutex.h, "Cond protocol").
//
// Why requeue. A broadcast that wakes N waiters makes N threads runnable
// that all need the same Mutex; one gets it and N-1 go back to sleep on the
// Mutex (2N context switches for N critical sections: the thundering herd).
// Moving them onto the Mutex's queue instead means each is woken by an
// unlock(), when it can actually run. parking_lot's Condvar and glibc's old
// FUTEX_CMP_REQUEUE condvar do the same.

#include "sync/cond.h"

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "absl/base/attributes.h"
#include "sync/internal/clock.h"
#include "sync/internal/fatal.h"
#include "sync/internal/parking_lot.h"
#include "sync/internal/wait_observer.h"
#include "sync/mutex.h"

namespace contend {

static_assert(sizeof(Cond) == 8, "Cond is one pointer");
static_assert(std::atomic<Mutex*>::is_always_lock_free);

namespace {

using internal::ParkingLot;
using internal::ParkOptions;
using internal::ParkResult;
using internal::ParkStatus;
using internal::RequeueOp;
using internal::UnparkResult;

// Cond's own unpark token (signal, or the one waiter broadcast wakes): a
// value no other primitive gives (ParkingLot's default 0, Mutex 1-3, RWMutex
// 0-1, Semaphore 0x5e3a), so a waiter can tell its release from a stray
// unpark (see wait_slow). Mutex uses its own tokens when it wakes a requeued
// waiter, which Mutex::lock_after_wake() interprets.
constexpr uintptr_t kTokenSignal = 0xc0d5;
static_assert(kTokenSignal != internal::kDefaultUnparkToken);

using internal::fatal;

}  // namespace

// Stray unparks. A ParkingLot key is only an address: a primitive that wakes
// "by address only" after its release (Event, WaitGroup, Once, ErrGroup,
// LazyRetry, Singleflight call unpark_all(&state_) when the object may
// already be gone) can dequeue the waiters of whatever now lives at that
// address -- a Cond or a Mutex -- with its own token, usually the default one.
//  - Dequeued from the Cond's own queue (ParkResult::requeued false): only
//    release_slow() releases from there, always with kTokenSignal. Any other
//    token is a stray: the waiter parks on the Cond again, keeping its
//    deadline (the Mutex stays released).
//  - Dequeued from the Mutex's queue (requeued true): signal()/broadcast()
//    released it already by the requeue; whatever the token, it now only
//    competes for the Mutex (lock_after_wake: a plain lock() for a token
//    that is not the Mutex's).
//
// While a waiter is off the Cond's queue, a signal()/broadcast() finds nobody
// queued, and a plain re-park would sleep through it. Such a release always
// empties the Cond's waiter word (INV-COND-MU: signal's callback when no
// waiter is left, broadcast's validate); so does the timeout of the last
// queued waiter. The re-parking waiter checks that word under the queue lock
// (which the releaser held: its writes happen-before our return): if it was
// cleared after the stray dequeue, it returns as released instead of
// parking. What this costs: every waiter that re-parks after the clearing
// returns, though one signal() stands for one waiter, and a timeout clears
// the word too (extra wakeups, only after a stray). What it misses: a
// release followed, before our re-park, by a new waiter storing its Mutex
// again (cleared, then set). Exact detection needs the ParkingLot to keep
// other primitives' unparks off the Cond's waiters.
//
// Exempt from clang's analysis: `mu` is released inside before_sleep and
// re-acquired by lock_after_wake()/lock(), which it cannot follow.
bool Cond::wait_slow(Mutex& mu, int64_t deadline_ns, const char* misuse_message)
    ABSL_NO_THREAD_SAFETY_ANALYSIS {
  if (ABSL_PREDICT_FALSE(!mu.is_locked_hint())) fatal(misuse_message);
  // Here, where Mutex's tokens are visible (Cond is its friend).
  static_assert(kTokenSignal != Mutex::kTokenWoken &&
                    kTokenSignal != Mutex::kTokenHandoff &&
                    kTokenSignal != Mutex::kTokenForced,
                "Cond's signal token must be its own");

  bool released = false;  // before_sleep() has unlocked `mu` (once)
  ParkOptions options;
  options.deadline_ns = deadline_ns;
  options.kind = internal::WaitKind::kCond;
  for (;;) {
    bool mismatch = false;
    bool missed_release = false;
    bool timed_out_on_cond = false;
    const ParkResult r = ParkingLot::park(
        &mutex_,
        [&] {
          // Under the queue lock of &mutex_ (INV-COND-MU). Relaxed: the queue
          // lock orders these accesses among themselves; signal()'s unlocked
          // hint read is ordered by the Mutex (see the header).
          Mutex* const cur = mutex_.load(std::memory_order_relaxed);
          if (cur == nullptr) {
            if (released) {
              // Re-park after a stray unpark: the word was cleared while we
              // were off the queue (see above).
              missed_release = true;
              return false;
            }
            mutex_.store(&mu, std::memory_order_relaxed);
          } else if (cur != &mu) {
            mismatch = true;
            return false;
          }
          return true;
        },
        [&]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
          // Queued: now release the Mutex (the atomic-release guarantee).
          // A re-park has released it already.
          if (released) return;
          released = true;
          mu.unlock();
        },
        [&](bool was_last) {
          // Under the queue lock; runs only if the deadline passed while we
          // were still on the Cond's queue (not after a requeue). Relaxed:
          // INV-COND-MU.
          timed_out_on_cond = true;
          if (was_last) mutex_.store(nullptr, std::memory_order_relaxed);
        },
        options);
    if (ABSL_PREDICT_FALSE(mismatch)) {
      fatal("contend: Cond::wait: two different Mutexes used with one Cond");
    }
    // park() skips before_sleep() only when validate() refused, which on the
    // first park is the mismatch above: `mu` is then still ours.
    if (!released) return r.status == ParkStatus::kUnparked;
    if (missed_release) {
      mu.lock();
      return true;
    }
    if (r.status == ParkStatus::kUnparked) {
      // Released by signal()/broadcast() on the Cond's queue (kTokenSignal),
      // or requeued by them and then woken on the Mutex's queue (by its
      // unlock, or by a stray there): lock_after_wake handles each token.
      if (r.requeued || r.token == kTokenSignal) {
        mu.lock_after_wake(r.token);
        return true;
      }
      continue;  // a stray unpark on the Cond's queue (see above): wait again
    }
    // The deadline passed and the ParkingLot removed us. If that happened on
    // the Mutex's queue, broadcast() had already released us (it requeued
    // us): like std::condition_variable, a notified waiter reports no_timeout
    // even if re-acquiring the Mutex outlasts its deadline.
    mu.lock();
    return !timed_out_on_cond;
  }
}

// signal() (all = false) and broadcast() (all = true).
//
// If `mu` is held (the usual case: signal under the lock), waking a waiter
// now would only have it spin and park again on the Mutex until the signaler
// unlocks: two parks per handoff, and for broadcast a thundering herd. The
// waiters move onto the Mutex's queue instead, where the holder's unlock()
// wakes them one at a time. If `mu` is free, one waiter is woken to take it
// (broadcast moves the rest behind it).
void Cond::release_slow(Mutex* mu, bool all) noexcept {
  ParkingLot::unpark_requeue(
      &mutex_, mu->parking_key(),
      [&] {
        // Both queue locks held. Relaxed: INV-COND-MU. If the waiters' Mutex
        // changed (or none is left), every thread that waited when
        // signal()/broadcast() read `mu` has already been released or left,
        // so there is nothing to do.
        if (mutex_.load(std::memory_order_relaxed) != mu) {
          return RequeueOp::kAbort;
        }
        // broadcast: every waiter is about to be woken or moved.
        if (all) mutex_.store(nullptr, std::memory_order_relaxed);
        // Mutex protocol step 1 (mutex.h, "Cond protocol").
        const bool held = mu->mark_parked_if_locked();
        if (all) {
          return held ? RequeueOp::kRequeueAll
                      : RequeueOp::kUnparkOneRequeueRest;
        }
        return held ? RequeueOp::kRequeueOne : RequeueOp::kUnparkOne;
      },
      [&](RequeueOp op, const UnparkResult& result) {
        // Mutex protocol step 2.
        if (op == RequeueOp::kUnparkOneRequeueRest && result.requeued != 0) {
          mu->mark_parked();
        }
        // signal: the last waiter left the Cond (INV-COND-MU; relaxed as
        // above).
        if (!all && !result.have_more) {
          mutex_.store(nullptr, std::memory_order_relaxed);
        }
        return kTokenSignal;
      });
}

}  // namespace contend
