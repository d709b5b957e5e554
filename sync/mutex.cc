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
// barger can then take the free lock between the release and the handoff,
// and the handed-off waiter would hold it too. INV-S prevents this.
//
// A second tempting wrong implementation (the first version of this file):
// release with fetch_sub and then, seeing kParked, set kWoken and wake a
// waiter. Everything after the fetch_sub touches the Mutex after it became
// free; the thread that acquires it next may already have unlocked and
// destroyed it (glibc bug 13690). INV-R rules this out.
//
// Invariants
//  INV-S (reservation): while kStarving is set, no thread acquires the Mutex
//    except by handoff, and kLocked is set too (it stays set across a
//    handoff). lock_slow/try_lock treat (kLocked | kStarving) as "held";
//    validate() sets kStarving only while kLocked is set; only
//    unlock_and_wake()'s callback (queue lock held) hands kLocked to a new
//    owner or clears kStarving.
//  INV-R (release is the last access): unlock() touches the Mutex's memory
//    for the last time with the RMW that releases it: the fast path's CAS,
//    the slow path's release CAS, or the CAS inside the ParkingLot callback
//    of unlock_and_wake() (which then touches only the ParkingLot's own
//    memory and the woken thread's parker; the key is only compared). The
//    skipped-wakeup counter is updated before the release, while we still
//    hold the Mutex. So whoever acquires the Mutex next may destroy it as
//    soon as it unlocks.
//  INV-Q (queue order): a thread parks at the tail on its first park and at
//    the head when it parks again after a wakeup it lost (ParkOptions::front,
//    Go's LIFO requeue), and the ParkingLot judges its wait from its first
//    park (ParkOptions::wait_start_ns). So in starvation mode, threads are
//    handed the Mutex in the order they first parked.
//  INV-P (parked bit): kParked is set (by validate) or cleared (by an unpark
//    callback or timed_out) only under the queue lock of &state_, so "queue
//    empty" and "kParked clear" are observed consistently by parkers.
//  INV-W (woken bit): kWoken has at most one owner: the spinner that set it,
//    or the thread an unlock dequeued and set it for (in the unpark callback,
//    only if no spinner owned it: otherwise the woken thread gets
//    kTokenForced and competes without it). The owner clears it when it
//    acquires the lock or when it parks. While kWoken is set, unlock() does
//    not wake anyone: an awake thread is already going to take the lock, or
//    to park and, by parking with the lock held, leave the next unlock to
//    see kParked without kWoken. An owner that gives up instead (deadline or
//    stop) must not simply drop the bit: an unlock may have skipped its
//    wakeup on its account. give_back_woken() wakes the queue head, handing
//    it the bit, if the word says parked-and-free; lock_slow() never claims
//    the bit once its deadline has passed or stop is requested.
//
//  INV-F (starvation is noticed): a parked thread turns starvation mode on
//    when it re-parks after a wakeup with >= 1 ms since its first park. But
//    INV-W lets spinners suppress wakeups, so two threads that keep
//    re-acquiring within each other's spin window could leave a parked
//    thread asleep forever. unlock() therefore counts the wakeups it skips
//    (skipped_wakes_) and every kForcedWakeInterval-th skip wakes the queue
//    head anyway, with kTokenForced (the woken thread does not own kWoken).
//    At W2's ~100 ns per contended operation that is one extra wakeup
//    every ~200 us, so a parked thread notices its starvation within about
//    1.2 ms. (A park deadline would also work, but a wait that ends on its
//    own timer is never charged to a releaser, which breaks the profiler's
//    "mutex delay == block delay" invariant; a forced wake is an ordinary
//    charged release.)
//
// No lost wakeup: a thread parks only if validate() (under the queue lock)
// sees the Mutex held and sets kParked. The holder's unlock() then sees
// kParked in its releasing CAS (which fails on any bit it did not expect);
// it wakes a waiter unless kWoken is set (someone awake will get the lock,
// re-arm the wake by parking, or give the wakeup back, INV-W).

#include "sync/mutex.h"

#include "sync/internal/backoff.h"
#include "sync/internal/clock.h"
#include "sync/internal/fatal.h"
#include "sync/internal/parking_lot.h"
#include "sync/internal/wait_observer.h"

namespace contend {
namespace {

using internal::ParkingLot;
using internal::ParkOptions;
using internal::ParkResult;
using internal::ParkStatus;
using internal::UnparkResult;

// Spinning policy of one lock_slow() round before parking: kSpinChecks
// re-reads of the word, kPausesPerCheck cpu_relax() apart.
// - Check interval, 4 pauses (~120 ns on the reference machine, where one
//   pause is ~30 ns, see sync/internal/backoff.h): about two cross-core cache
//   line transfers there (measured 40 ns store->load, 74 ns CAS->CAS
//   handoff). Polling more often only pulls the line away from the holder
//   and delays its release; less often misses the short free window. W2 at
//   2 and 4 threads (mutex_benchmark, 6 fresh processes per setting on a
//   quiet machine; bench/sync/RESULTS.md, "Mutex"), ns/op by pauses per
//   check: 1 -> mostly 110-170, 2 -> ~105, 3 -> mostly 70-90, 4 -> mostly
//   70-90 with the fewest slow (~150) runs, 6 -> half the processes slow;
//   a random 1-8 or 2-5 pauses per check was no better.
// - Budget, 25 checks (~100 pauses, ~3 us): about one futex park+unpark round
//   trip, the competitive bound for spin-then-block; covers critical
//   sections up to a couple of us.
constexpr int kSpinChecks = 25;
constexpr int kPausesPerCheck = 4;

}  // namespace

Mutex::Mutex(const char* label) {
  internal::set_wait_label(&state_, label);
  flags_ = kLabeled;
}

void Mutex::destroy_labeled() noexcept { internal::clear_wait_label(&state_); }

bool Mutex::lock_slow(int64_t deadline_ns, const std::stop_token* stop,
                      bool awoke) {
  int64_t first_park_ns = 0;  // 0: not parked yet (virtual time never is 0)
  int spins = 0;
  // Gives up without the lock (deadline or stop). If we own kWoken, an
  // unlock() may have skipped its wakeup on our account: give_back_woken()
  // makes that wakeup (INV-W).
  auto give_up = [&]() -> bool {
    if (awoke) give_back_woken();
    return false;
  };
  // Relaxed: a hint; every decision below is re-validated by a CAS.
  uint32_t s = state_.load(std::memory_order_relaxed);
  for (;;) {
    // Free and not reserved (INV-S): barge.
    if ((s & (kLocked | kStarving)) == 0) {
      uint32_t next = s | kLocked;
      if (awoke) next &= ~kWoken;  // INV-W: the owner clears it on acquiring
      // Acquire: pairs with the release CAS in unlock()/unlock_slow().
      if (state_.compare_exchange_weak(s, next, std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
        return true;
      }
      continue;
    }
    // Spin in normal mode only: in starvation mode the lock will be handed
    // to the queue head, so spinning cannot win it.
    if ((s & kStarving) == 0 && spins < kSpinChecks) {
      // Claim kWoken so that unlock() does not wake a parked thread that would
      // only lose to us (Go's mutexWoken). A caller that is already out of
      // time or cancelled must not claim it: it would only give it back.
      if (!awoke && (s & (kParked | kWoken)) == kParked) {
        if ((stop != nullptr && stop->stop_requested()) ||
            (deadline_ns != internal::kNoDeadline &&
             internal::monotonic_now_ns() >= deadline_ns)) {
          return false;
        }
        // Relaxed: the bit carries no data; INV-W only needs atomicity.
        if (state_.compare_exchange_weak(s, s | kWoken,
                                         std::memory_order_relaxed,
                                         std::memory_order_relaxed)) {
          awoke = true;
          s |= kWoken;
        }
        continue;
      }
      for (int i = 0; i < kPausesPerCheck; ++i) internal::cpu_relax();
      ++spins;
      // Relaxed: a hint, re-validated by the CAS above.
      s = state_.load(std::memory_order_relaxed);
      continue;
    }

    // Park: at the tail the first time; at the head of the queue after a
    // wakeup we lost (INV-Q), judged by the time since the first park.
    const int64_t now = internal::monotonic_now_ns();
    const bool reparking = first_park_ns != 0;
    if (!reparking) first_park_ns = now;
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
      // INV-P: under the queue lock. kStarving stays (INV-S): its holder's
      // unlock_and_wake() finds the queue empty and clears it.
      // Relaxed: bits only, ordered by the queue lock.
      if (was_last) state_.fetch_and(~kParked, std::memory_order_relaxed);
    };
    ParkOptions options;
    options.deadline_ns = deadline_ns;
    options.stop = stop;
    options.kind = internal::WaitKind::kMutex;
    options.front = reparking;
    options.wait_start_ns = first_park_ns;
    const ParkResult r = ParkingLot::park(
        &state_, validate, [] {}, timed_out, options);
    switch (r.status) {
      case ParkStatus::kUnparked:
        if (r.token == kTokenHandoff) return true;  // INV-S: kLocked is ours
        // INV-W: a kTokenWoken wake hands us kWoken; a forced wake
        // (kTokenForced, INV-F) does not.
        awoke = r.token == kTokenWoken;
        spins = 0;
        break;
      case ParkStatus::kInvalid:
        break;
      case ParkStatus::kTimedOut:
      case ParkStatus::kCancelled:
        // awoke is true only if park() returned before validate() (stop
        // requested on entry): give the bit back (INV-W).
        return give_up();
    }
    // Relaxed: a hint, re-validated by a CAS.
    s = state_.load(std::memory_order_relaxed);
  }
}

void Mutex::give_back_woken() {
  // Relaxed: bits only; the CAS re-validates.
  uint32_t s = state_.load(std::memory_order_relaxed);
  for (;;) {
    if ((s & kParked) != 0 && (s & (kLocked | kStarving)) == 0) {
      // Free with parked threads: an unlock() skipped the wakeup because we
      // held kWoken. Make it, passing kWoken to the thread we wake.
      ParkingLot::unpark_one(
          &state_, [this](const UnparkResult& r) -> uintptr_t {
            // Under the queue lock (INV-P). Relaxed: bits only.
            if (r.unparked == 0) {
              state_.fetch_and(~(kParked | kWoken), std::memory_order_relaxed);
            } else if (!r.have_more) {
              state_.fetch_and(~kParked, std::memory_order_relaxed);
            }
            return kTokenWoken;
          });
      return;
    }
    // Held (its unlock will see kParked without kWoken and wake), or nobody
    // parked: just release the bit.
    if (state_.compare_exchange_weak(s, s & ~kWoken, std::memory_order_relaxed,
                                     std::memory_order_relaxed)) {
      return;
    }
  }
}

void Mutex::unlock_slow(uint32_t s) {
  // s: the word as the fast path's CAS found it; we still hold the Mutex.
  bool counted = false;
  for (;;) {
    if (ABSL_PREDICT_FALSE((s & kLocked) == 0)) {
      internal::fatal("contend: Mutex::unlock: unlock of unlocked Mutex");
    }
    if ((s & kStarving) != 0 || (s & (kParked | kWoken)) == kParked) {
      // Hand off (starvation) or wake the queue head. INV-R: the release
      // (or handoff) happens inside the ParkingLot callback.
      unlock_and_wake(/*forced=*/false);
      return;
    }
    if ((s & kParked) != 0) {
      // An awake thread will take the lock, so no wakeup is needed -- but
      // count the skips, and every kForcedWakeInterval-th time wake the
      // queue head anyway (INV-F). The counter is updated before the release,
      // while we hold the Mutex, so only one thread writes it at a time.
      if (!counted) {
        counted = true;
        // Relaxed: protected by the Mutex itself (written only by holders);
        // atomic only so the explorer's seam sees it.
        const uint16_t n = static_cast<uint16_t>(
            skipped_wakes_.load(std::memory_order_relaxed) + 1);
        skipped_wakes_.store(n, std::memory_order_relaxed);
        if ((n & (kForcedWakeInterval - 1)) == 0) {
          unlock_and_wake(/*forced=*/true);  // INV-R
          return;
        }
      }
    }
    // Nobody to wake, or someone awake will see to it ("No lost wakeup").
    // Release: pairs with the acquire CAS in lock()/lock_slow(). INV-R: the
    // last access to the Mutex.
    if (state_.compare_exchange_weak(s, s & ~kLocked, std::memory_order_release,
                                     std::memory_order_relaxed)) {
      return;
    }
  }
}

void Mutex::unlock_and_wake(bool forced) {
  ParkingLot::unpark_one(
      &state_,
      [this, forced](const UnparkResult& r) -> uintptr_t {
        // Under the queue lock (INV-P), before the woken thread can run. The
        // word is re-read here: a parker's validate() may have turned
        // starvation on since unlock_slow() looked, and then this must be a
        // handoff (INV-S: kStarving never stands without kLocked).
        // Relaxed load: the CAS below re-validates.
        uint32_t s = state_.load(std::memory_order_relaxed);
        for (;;) {
          uint32_t next;
          uintptr_t token;
          if ((s & kStarving) != 0 && r.unparked != 0) {
            // Handoff: kLocked stays set, ownership moves to the woken
            // thread. Starvation ends when the queue is now empty or the
            // thread waited < 1 ms since its first park
            // (ParkOptions::wait_start_ns).
            next = s;
            if (!r.have_more) {
              next &= ~(kParked | kStarving);
            } else if (r.waited_ns < kStarvationThresholdNs) {
              next &= ~kStarving;
            }
            token = kTokenHandoff;
          } else {
            // Release. With nobody dequeued (everyone timed out or was
            // cancelled) the queue is empty: starvation mode ends too.
            next = s & ~(kLocked | kStarving);
            if (r.unparked == 0 || !r.have_more) next &= ~kParked;
            // INV-W: the woken thread owns kWoken unless a spinner claimed
            // it meanwhile (or this is a forced wake, where a spinner owns
            // it); then it competes without it.
            const bool gives_woken =
                r.unparked != 0 && !forced && (s & kWoken) == 0;
            if (gives_woken) next |= kWoken;
            token = gives_woken ? kTokenWoken : kTokenForced;
          }
          // Release: pairs with the acquire CAS in lock()/lock_slow() (a
          // handoff's edge is the ParkingLot's queue lock + Parker). INV-R:
          // the last access to the Mutex.
          if (state_.compare_exchange_weak(s, next, std::memory_order_release,
                                           std::memory_order_relaxed)) {
            return token;
          }
        }
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
