// Copyright 2026 The contend Authors.
//
// Mutex slow paths. The policy is Go's sync.Mutex (src/sync/mutex.go); the
// queue is the ParkingLot instead of a runtime semaphore.
//
// Fairness essay (why two modes)
// ------------------------------
// In normal mode a newly arriving thread competes with the waiter that an
// unlock woke, and usually wins: it is already on a CPU, while the woken one
// needs a futex wakeup and a context switch (several us). Barging is what
// makes a contended lock fast -- the lock keeps moving between running
// threads with no syscalls -- but left alone it can starve a parked thread
// indefinitely (ParkingLot FIFO does not help a thread that keeps losing the
// race after it is woken). So a thread that has waited 1 ms since its first
// park sets kStarving. While kStarving is set nobody barges or spins, and
// every unlock hands the Mutex (kLocked included) to the oldest parked
// thread with kTokenHandoff. Handoff is slow (every transfer waits for a
// wakeup), so we leave starvation mode as soon as it stops being needed: when
// the handoff empties the queue, or goes to a thread that waited < 1 ms.
//
// A tempting wrong implementation: clear kLocked in unlock() and only then
// look at the queue *without* keeping starvation ownership reserved. A
// barger can then take the free lock between the fetch_sub and the handoff,
// and the handed-off waiter would hold it too. INV-S prevents this.
//
// Invariants
//  INV-S (reservation): while kStarving is set, no thread acquires the Mutex
//    except by handoff. lock_slow/try_lock treat (kLocked | kStarving) as
//    "held"; only unlock_handoff()'s callback sets kLocked for the new owner,
//    and kStarving is cleared only there (with the queue lock held).
//  INV-P (parked bit): kParked is set (by validate) or cleared (by an unpark
//    callback or timed_out) only under the queue lock of &state_, so "queue
//    empty" and "kParked clear" are observed consistently by parkers.
//  INV-W (woken bit): kWoken has at most one owner: the spinner that set it,
//    or the thread an unlock dequeued after setting it on its behalf (or, if
//    that unlock found the queue empty, the unlock's callback, which clears
//    it). The owner clears it when it acquires the lock or when it parks.
//    While kWoken is set, unlock() does not wake anyone: an awake thread is
//    already going to take the lock, or to park and, by parking with the
//    lock held, leave the next unlock to see kParked without kWoken.
//
// No lost wakeup: a thread parks only if validate() (under the queue lock)
// sees the Mutex held and sets kParked. The holder's unlock() then sees
// kParked in its fetch_sub result; it wakes a waiter unless kWoken (someone
// awake will get the lock or re-arm the wake by parking) or kLocked (a barger
// holds it and will do the same check at its unlock) is set.

#include "sync/mutex.h"

#include <cstdio>
#include <cstdlib>

#include "sync/internal/backoff.h"
#include "sync/internal/clock.h"
#include "sync/internal/parking_lot.h"
#include "sync/internal/wait_observer.h"

namespace contend {
namespace {

using internal::ParkingLot;
using internal::ParkOptions;
using internal::ParkResult;
using internal::ParkStatus;
using internal::UnparkResult;

// Spinning budget of one lock_slow() round before parking: kSpinIterations
// re-reads of the word, each after one cpu_relax() (~30 ns on the reference
// machine, see sync/internal/backoff.h). ~100 iterations (~3 us) is of the
// order of one futex park+unpark round trip, the competitive bound for
// spin-then-block; it covers critical sections up to a couple of us.
constexpr int kSpinIterations = 100;

}  // namespace

Mutex::Mutex(const char* label) {
  internal::set_wait_label(&state_, label);
  flags_ = kLabeled;
}

void Mutex::destroy_labeled() noexcept { internal::clear_wait_label(&state_); }

void Mutex::fatal(const char* msg) noexcept {
  std::fputs(msg, stderr);
  std::fputc('\n', stderr);
  std::abort();
}

bool Mutex::lock_slow(int64_t deadline_ns, const std::stop_token* stop,
                      bool awoke) {
  int64_t first_park_ns = 0;  // 0: not parked yet
  int spins = 0;
  // Relaxed: a hint; every decision below is re-validated by a CAS.
  uint32_t s = state_.load(std::memory_order_relaxed);
  for (;;) {
    // Free and not reserved (INV-S): barge.
    if ((s & (kLocked | kStarving)) == 0) {
      uint32_t next = s | kLocked;
      if (awoke) next &= ~kWoken;  // INV-W: the owner clears it on acquiring
      // Acquire: pairs with the release fetch_sub in unlock().
      if (state_.compare_exchange_weak(s, next, std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
        return true;
      }
      continue;
    }
    // Spin in normal mode only: in starvation mode the lock will be handed
    // to the queue head, so spinning cannot win it.
    if ((s & kStarving) == 0 && spins < kSpinIterations) {
      // Claim kWoken so that unlock() does not wake a parked thread that would
      // only lose to us (Go's mutexWoken).
      if (!awoke && (s & (kParked | kWoken)) == kParked) {
        // Relaxed: the bit carries no data; INV-W only needs atomicity.
        if (state_.compare_exchange_weak(s, s | kWoken,
                                         std::memory_order_relaxed,
                                         std::memory_order_relaxed)) {
          awoke = true;
          s |= kWoken;
        }
        continue;
      }
      internal::cpu_relax();
      ++spins;
      // Relaxed: a hint, re-validated by the CAS above.
      s = state_.load(std::memory_order_relaxed);
      continue;
    }

    // Park.
    const int64_t now = internal::monotonic_now_ns();
    if (first_park_ns == 0) first_park_ns = now;
    const bool starve = now - first_park_ns >= kStarvationThresholdNs;
    auto validate = [&]() -> bool {
      // Relaxed: runs under the queue lock (INV-P); the CAS re-validates.
      uint32_t v = state_.load(std::memory_order_relaxed);
      for (;;) {
        if ((v & (kLocked | kStarving)) == 0) return false;  // free: retry
        uint32_t next = v | kParked;
        if (awoke) next &= ~kWoken;  // INV-W: parking releases kWoken
        if (starve && (v & kLocked) != 0) next |= kStarving;
        // Relaxed: bits only; the queue lock orders this with unpark
        // callbacks, and the lock's data is ordered by unlock/lock.
        if (state_.compare_exchange_weak(v, next, std::memory_order_relaxed,
                                         std::memory_order_relaxed)) {
          awoke = false;
          return true;
        }
      }
    };
    auto timed_out = [&](bool was_last) {
      // INV-P: under the queue lock. kStarving stays (INV-S): the next
      // unlock_handoff() finds the queue empty and clears it.
      // Relaxed: bits only, ordered by the queue lock.
      if (was_last) state_.fetch_and(~kParked, std::memory_order_relaxed);
    };
    ParkOptions options;
    options.deadline_ns = deadline_ns;
    options.stop = stop;
    options.kind = internal::WaitKind::kMutex;
    const ParkResult r = ParkingLot::park(
        &state_, validate, [] {}, timed_out, options);
    switch (r.status) {
      case ParkStatus::kUnparked:
        if (r.token == kTokenHandoff) return true;  // INV-S: kLocked is ours
        awoke = true;                               // INV-W: kTokenWoken
        spins = 0;
        break;
      case ParkStatus::kInvalid:
        break;
      case ParkStatus::kTimedOut:
      case ParkStatus::kCancelled:
        // awoke is true only if park() returned before validate() (stop
        // requested on entry): give the bit back (INV-W).
        // Relaxed: bit only.
        if (awoke) state_.fetch_and(~kWoken, std::memory_order_relaxed);
        return false;
    }
    // Relaxed: a hint, re-validated by a CAS.
    s = state_.load(std::memory_order_relaxed);
  }
}

void Mutex::unlock_slow(uint32_t old) {
  if (ABSL_PREDICT_FALSE((old & kLocked) == 0)) {
    fatal("contend: Mutex::unlock: unlock of unlocked Mutex");
  }
  uint32_t s = old - kLocked;
  if ((s & kStarving) != 0) {
    unlock_handoff();
    return;
  }
  for (;;) {
    // Nobody to wake, or someone else will see to it (see "No lost wakeup").
    if ((s & kParked) == 0 || (s & (kLocked | kWoken | kStarving)) != 0) {
      return;
    }
    // Relaxed: the bit carries no data; the release was the fetch_sub.
    if (state_.compare_exchange_weak(s, s | kWoken, std::memory_order_relaxed,
                                     std::memory_order_relaxed)) {
      wake_one();
      return;
    }
  }
}

void Mutex::wake_one() {
  ParkingLot::unpark_one(
      &state_,
      [this](const UnparkResult& r) -> uintptr_t {
        // Under the queue lock (INV-P). Relaxed: bits only.
        if (r.unparked == 0) {
          // Everyone timed out or was cancelled: the kWoken we set has no
          // owner (INV-W) and the queue is empty.
          state_.fetch_and(~(kParked | kWoken), std::memory_order_relaxed);
        } else if (!r.have_more) {
          state_.fetch_and(~kParked, std::memory_order_relaxed);
        }
        return kTokenWoken;
      },
      /*is_release=*/true);
}

void Mutex::unlock_handoff() {
  ParkingLot::unpark_one(
      &state_,
      [this](const UnparkResult& r) -> uintptr_t {
        // Under the queue lock (INV-P, INV-S). Relaxed RMWs: the handed-off
        // thread's ordering comes from the ParkingLot (queue lock + Parker),
        // and the bits carry no data.
        if (r.unparked == 0) {
          // Nobody left to hand to: leave starvation mode, Mutex free.
          state_.fetch_and(~(kStarving | kParked), std::memory_order_relaxed);
          return kTokenWoken;  // unused
        }
        uint32_t clear = 0;
        if (!r.have_more) {
          clear = kParked | kStarving;
        } else if (r.waited_ns < kStarvationThresholdNs) {
          clear = kStarving;
        }
        uint32_t s = state_.load(std::memory_order_relaxed);
        while (!state_.compare_exchange_weak(s, (s | kLocked) & ~clear,
                                             std::memory_order_relaxed,
                                             std::memory_order_relaxed)) {
        }
        return kTokenHandoff;
      },
      /*is_release=*/true);
}

bool Mutex::mark_parked_if_locked() noexcept {
  // Relaxed: bits only; called under the queue lock of &state_ (INV-P).
  uint32_t s = state_.load(std::memory_order_relaxed);
  for (;;) {
    if ((s & (kLocked | kStarving)) == 0) return false;
    if (state_.compare_exchange_weak(s, s | kParked, std::memory_order_relaxed,
                                     std::memory_order_relaxed)) {
      return true;
    }
  }
}

void Mutex::mark_parked() noexcept {
  // Relaxed: bits only; called under the queue lock of &state_ (INV-P).
  state_.fetch_or(kParked, std::memory_order_relaxed);
}

void Mutex::lock_after_wake(uintptr_t token) {
  if (token == kTokenHandoff) return;  // INV-S: ours already
  if (token == kTokenWoken) {
    lock_slow(internal::kNoDeadline, nullptr, /*awoke=*/true);
    return;
  }
  lock();
}

}  // namespace contend
