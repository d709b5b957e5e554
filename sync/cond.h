// Copyright 2026 The contend Authors.
//
// contend::Cond: a condition variable for contend::Mutex (Go's sync.Cond),
// whose signal()/broadcast() move waiters onto the Mutex's queue while the
// Mutex is held instead of waking them to block again on it.

#ifndef CONTEND_SYNC_COND_H_
#define CONTEND_SYNC_COND_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <utility>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "absl/base/thread_annotations.h"
#include "sync/internal/atomic.h"
#include "sync/internal/clock.h"
#include "sync/mutex.h"

namespace contend {

// A Cond lets threads holding a contend::Mutex wait until another thread
// signals that the state the Mutex protects has changed.
//
// Model: a FIFO queue of waiters, each of which released the Mutex
// atomically with joining the queue. signal() wakes the oldest waiter;
// broadcast() releases all of them. A released waiter re-acquires the Mutex
// before its wait*() returns.
//
// Contract:
//  - Requires: wait*() is called with `mu` held by the caller; all threads
//    waiting at the same time use the same Mutex (a Cond may be used with
//    another Mutex once nobody waits). signal()/broadcast() may be called
//    with or without the Mutex held. No thread waits when the Cond is
//    destroyed.
//  - Guarantees:
//    * Atomic release: a waiter is in the queue before `mu` is released, so
//      a signal()/broadcast() made after acquiring `mu` (e.g. after changing
//      the predicate under it) finds it: no lost wakeups.
//    * wait*() return with `mu` held, always (also on timeout).
//    * No spurious wakeups: an untimed wait() returns only after a signal()
//      or broadcast() released it (still re-check the predicate: another
//      thread may have run first -- use the predicate forms). A stray
//      ParkingLot unpark at the Cond's address (a destroyed primitive's
//      late wake-by-address landing on a Cond now at that memory) does not
//      end a wait: the waiter parks again, keeping its deadline. One
//      exception, so as not to sleep through a release it missed: if while
//      it was off the queue the Cond's queue was emptied (by a signal(), a
//      broadcast() or the last waiter's timeout), it returns as released.
//      (A release in that window is still missed if a new waiter also
//      arrived in it; cond.cc, "Stray unparks".)
//    * FIFO: signal() releases the oldest waiter.
//    * No thundering herd: broadcast() wakes at most one waiter (only if the
//      Mutex is free) and requeues the rest onto the Mutex's ParkingLot queue
//      (ParkingLot::unpark_requeue), where each is woken by an unlock() in
//      turn, when it can take the Mutex. signal() with the Mutex held
//      likewise requeues its waiter instead of waking it, so the usual
//      "lock; change state; signal; unlock" costs the waiter one park, not
//      a wakeup into a held Mutex and a second park on it.
//  - Timed waits: wait_for/wait_until return std::cv_status::timeout if the
//    deadline passed before a signal()/broadcast() released the waiter, else
//    no_timeout (also when re-acquiring the Mutex after the release outlasts
//    the deadline); the predicate forms return pred() as evaluated last (with
//    the Mutex held), like std::condition_variable.
// Thread safety: every member may be called concurrently.
// Memory ordering: the ordering comes from the Mutex: everything before
//   the signaler's unlock() of `mu` happens-before the return of a wait() that
//   re-acquired it afterwards. In addition everything before a signal() or
//   broadcast() happens-before the return of the wait() it releases (the
//   ParkingLot orders the waker before the woken thread).
// Misuse:
//  - wait*() with `mu` not locked at all: always checked (one relaxed load of
//    the Mutex word), terminates with
//    "contend: Cond::wait: Mutex not held by the caller" (wait_for and
//    wait_until name themselves instead of wait). A Mutex held by
//    another thread is not detected (Mutex keeps no owner); undefined.
//  - Waiting with two different Mutexes at the same time: always checked
//    (under the queue lock), terminates with
//    "contend: Cond::wait: two different Mutexes used with one Cond".
// Cost: sizeof(Cond) == 8 (the Mutex pointer its waiters use; null when
//   nobody waits; static_assert in cond.cc). signal()/broadcast() with no
//   waiter: one relaxed load. A wait parks on the ParkingLot at once (a Cond
//   wait is for a state change, not for a lock hold, so spinning would only
//   burn CPU). signal()/broadcast() with waiters: one ParkingLot call that
//   locks two queues and makes at most one wakeup syscall, however many
//   waiters (none while the Mutex is held: its unlock() wakes). Timed
//   waits read the clock once. Never allocates.
//
// Example:
//   contend::Mutex mu;
//   contend::Cond cond;
//   std::deque<int> queue ABSL_GUARDED_BY(mu);
//   void push(int v) {
//     { contend::MutexLock l(mu); queue.push_back(v); }
//     cond.signal();
//   }
//   int pop() {
//     contend::MutexLock l(mu);
//     cond.wait(mu, [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
//       return !queue.empty();
//     });
//     int v = queue.front();
//     queue.pop_front();
//     return v;
//   }
class Cond {
 public:
  constexpr Cond() noexcept = default;
  Cond(const Cond&) = delete;
  Cond& operator=(const Cond&) = delete;

  // Atomically releases `mu` and waits for signal()/broadcast(); re-acquires
  // `mu` before returning.
  void wait(Mutex& mu) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);

  // while (!pred()) wait(mu);
  template <class Predicate>
  void wait(Mutex& mu, Predicate pred) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);

  // Like wait(mu) with a deadline `d` from now / at `tp`.
  template <class Rep, class Period>
  std::cv_status wait_for(Mutex& mu, std::chrono::duration<Rep, Period> d)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);
  template <class Clock, class Duration>
  std::cv_status wait_until(Mutex& mu,
                            std::chrono::time_point<Clock, Duration> tp)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);

  // Waits until pred() holds or the deadline passes; returns pred().
  template <class Rep, class Period, class Predicate>
  bool wait_for(Mutex& mu, std::chrono::duration<Rep, Period> d, Predicate pred)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);
  template <class Clock, class Duration, class Predicate>
  bool wait_until(Mutex& mu, std::chrono::time_point<Clock, Duration> tp,
                  Predicate pred) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);

  // Wakes the oldest waiter, if any.
  void signal() noexcept;

  // Releases every waiter (requeued onto the Mutex; see the class comment).
  void broadcast() noexcept;

 private:
  // Parks until signalled or deadline_ns; returns false on timeout. Requires
  // and re-acquires mu. `misuse_message` names the public caller.
  ABSL_ATTRIBUTE_NOINLINE bool wait_slow(Mutex& mu, int64_t deadline_ns,
                                         const char* misuse_message)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);
  ABSL_ATTRIBUTE_NOINLINE void release_slow(Mutex* mu, bool all) noexcept;

  static constexpr const char* kWaitMisuse =
      "contend: Cond::wait: Mutex not held by the caller";
  static constexpr const char* kWaitForMisuse =
      "contend: Cond::wait_for: Mutex not held by the caller";
  static constexpr const char* kWaitUntilMisuse =
      "contend: Cond::wait_until: Mutex not held by the caller";

  // The Mutex of the current waiters; nullptr iff no thread is parked on
  // &mutex_ (the ParkingLot key). INV-COND-MU: written only under the
  // ParkingLot queue lock of &mutex_ (validate, timed_out, unpark callbacks);
  // read without it only as a "no waiters" hint by signal()/broadcast(),
  // which is exact for a signaler ordered after the waiter's release of the
  // Mutex (the waiter stored it before releasing).
  internal::Atomic<Mutex*> mutex_{nullptr};
};

// Implementation details only below here.

inline void Cond::wait(Mutex& mu) {
  wait_slow(mu, internal::kNoDeadline, kWaitMisuse);
}

// The predicate forms call pred() with `mu` held; clang's analysis cannot
// tell that the caller's Mutex expression (e.g. a member `mu_` named in the
// predicate's own annotation) is this parameter, so the bodies are exempt;
// callers are still checked against the declarations' annotations.
template <class Predicate>
void Cond::wait(Mutex& mu, Predicate pred) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  while (!pred()) wait_slow(mu, internal::kNoDeadline, kWaitMisuse);
}

template <class Rep, class Period>
std::cv_status Cond::wait_for(Mutex& mu, std::chrono::duration<Rep, Period> d) {
  return wait_slow(mu, internal::deadline_after(d), kWaitForMisuse)
             ? std::cv_status::no_timeout
             : std::cv_status::timeout;
}

template <class Clock, class Duration>
std::cv_status Cond::wait_until(Mutex& mu,
                                std::chrono::time_point<Clock, Duration> tp) {
  return wait_slow(mu, internal::to_monotonic_deadline(tp), kWaitUntilMisuse)
             ? std::cv_status::no_timeout
             : std::cv_status::timeout;
}

template <class Rep, class Period, class Predicate>
bool Cond::wait_for(Mutex& mu, std::chrono::duration<Rep, Period> d,
                    Predicate pred) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  const int64_t deadline_ns = internal::deadline_after(d);
  while (!pred()) {
    if (!wait_slow(mu, deadline_ns, kWaitForMisuse)) return pred();
  }
  return true;
}

template <class Clock, class Duration, class Predicate>
bool Cond::wait_until(Mutex& mu, std::chrono::time_point<Clock, Duration> tp,
                      Predicate pred) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  const int64_t deadline_ns = internal::to_monotonic_deadline(tp);
  while (!pred()) {
    if (!wait_slow(mu, deadline_ns, kWaitUntilMisuse)) return pred();
  }
  return true;
}

inline void Cond::signal() noexcept {
  // Relaxed: a "no waiters" hint (INV-COND-MU); release_slow re-reads it
  // under the queue lock.
  Mutex* const mu = mutex_.load(std::memory_order_relaxed);
  if (ABSL_PREDICT_TRUE(mu == nullptr)) return;
  release_slow(mu, /*all=*/false);
}

inline void Cond::broadcast() noexcept {
  // Relaxed: as in signal(); release_slow re-validates under both locks.
  Mutex* const mu = mutex_.load(std::memory_order_relaxed);
  if (ABSL_PREDICT_TRUE(mu == nullptr)) return;
  release_slow(mu, /*all=*/true);
}

}  // namespace contend

#endif  // CONTEND_SYNC_COND_H_
