// Copyright 2026 The contend Authors.
//
// contend::Mutex, a mutual-exclusion lock with Go's sync.Mutex policy (barging
// with bounded spinning, plus a starvation mode with direct FIFO handoff), and
// contend::MutexLock, its RAII guard.

#ifndef CONTEND_SYNC_MUTEX_H_
#define CONTEND_SYNC_MUTEX_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <stop_token>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "absl/base/thread_annotations.h"
#include "sync/internal/atomic.h"
#include "sync/internal/clock.h"
#include "sync/internal/fatal.h"

namespace contend {

class Cond;

// A Mutex is a mutual-exclusion lock: at most one thread holds it at a time.
//
// Model: the abstract state is (held?, queue of blocked threads, mode). It is
// kept in one 32-bit word (the ParkingLot key is the word's address, where
// blocked threads sleep in FIFO order):
//
//   bit  name       meaning
//   0    kLocked    held by some thread (see kStarving for the handoff gap)
//   1    kParked    threads may be parked on the word; unlock must look
//   2    kWoken     a thread is awake and contending for the waiters (a
//                   spinner, or a waiter an unlock just woke): unlock need
//                   not wake another one (except every 2048th time, INV-F
//                   in mutex.cc)
//   3    kStarving  starvation mode: ownership passes from unlock() directly
//                   to the oldest parked thread; nobody barges or spins
//   4-31            always zero
//
//   mode         entered when                      lock passes by
//   normal       initially; when starvation ends   barging: unlock releases,
//                                                  spinners/woken waiter/new
//                                                  arrivals race for it
//   starvation   a parked thread has waited >= 1ms  handoff to the queue head
//                since its first park              (kTokenHandoff)
//   Starvation ends when a handoff leaves the queue empty or goes to a thread
//   that waited < 1 ms since its first park (Go's rule, src/sync/mutex.go).
//   kStarving is set only while kLocked is (INV-S in mutex.cc).
//
// Contract:
//  - Requires: unlock() only by a thread that holds the Mutex (it need not be
//    the thread that locked it: like Go and unlike std::mutex, ownership is
//    not tied to a thread, which is what lets Cond hand it around). The
//    Mutex is not held, and no thread is blocked on it, when it is
//    destroyed. Not recursive: lock() by the holder deadlocks.
//  - Guarantees: mutual exclusion; a blocked lock() is not starved: once it
//    has waited 1 ms since its first park (plus a wakeup) the Mutex switches
//    to starvation mode, and from then on the parked threads are served in
//    the order they first parked (a woken thread that loses the race parks
//    again at the head of the queue, not the tail), until the queue drains
//    or a served thread had waited < 1 ms in all.
//    try_lock_for/until and lock(std::stop_token) return false only without
//    the lock, after the deadline passed or stop was requested.
// Thread safety: every member may be called concurrently (that is the point).
// Memory ordering: everything a thread did before unlock() happens-before
//   everything after the lock()/successful try_lock*() that next acquires the
//   Mutex (release RMW in unlock() pairs with the acquire CAS in lock(); a
//   handoff carries the same edge through the ParkingLot). A failed try_*
//   or cancelled lock(stop) gives no ordering.
// Misuse:
//  - unlock() of a Mutex that is not locked: always checked; terminates with
//    "contend: Mutex::unlock: unlock of unlocked Mutex" (one compare in the
//    slow path the corrupt state already forces us into).
//  - Destroying a locked Mutex: checked in debug builds (NDEBUG undefined);
//    terminates with "contend: Mutex::~Mutex: destroyed while locked".
//  - Recursive lock(), unlock() by a thread that did not lock it while
//    another thread holds it: undefined (not detectable without an owner
//    field).
// Cost: sizeof(Mutex) == 8 (the word plus a label flag; static_assert
//   below). Uncontended lock(): one CAS; unlock(): one CAS; both inline,
//   no clock read, no ParkingLot. Contended, normal mode: up to 25 re-reads
//   of the word, 4 pauses apart (~3 us in all on the reference machine,
//   about one futex park+unpark round trip), barging in when it is free;
//   then the thread parks on the ParkingLot (futex syscalls; one clock read
//   per park). unlock() makes a syscall only if a thread is parked and no
//   other thread is awake to take the lock. Starvation mode: no spinning;
//   each unlock() wakes the queue head with the lock already transferred.
//   When spinners keep suppressing wakeups, every 2048th skipped wakeup
//   wakes the queue head anyway, so a parked thread still notices that it
//   is starving. No allocation, except that the labeled constructor inserts
//   into the label registry. Numbers on the 2-vCPU reference VM (W1
//   uncontended 0.49-0.71x std::mutex; W2 contended at 2 threads 0.37x
//   std::mutex and 0.47x absl::Mutex, medians over 12 processes):
//   bench/sync/RESULTS.md (//bench/sync:mutex_benchmark).
//
// Example:
//   contend::Mutex mu;
//   int counter ABSL_GUARDED_BY(mu) = 0;
//   void increment() {
//     contend::MutexLock lock(mu);
//     ++counter;
//   }
class ABSL_LOCKABLE Mutex {
 public:
  // An unlocked Mutex; constexpr so that a global can be `constinit`.
  constexpr Mutex() noexcept = default;

  // An unlocked Mutex whose waits the profiler reports under `label` (see
  // internal::set_wait_label). `label` must have static storage duration.
  // Not constexpr (it registers the label); the destructor unregisters it.
  explicit Mutex(const char* label);

  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  ~Mutex();

  // Blocks until the calling thread holds the Mutex.
  void lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() {
    uint32_t expected = 0;
    // Acquire: pairs with the release CAS in unlock()/unlock_slow().
    if (ABSL_PREDICT_TRUE(state_.compare_exchange_weak(
            expected, kLocked, std::memory_order_acquire,
            std::memory_order_relaxed))) {
      return;
    }
    lock_slow(internal::kNoDeadline, nullptr, /*awoke=*/false);
  }

  // Like lock(), but gives up and returns false if `stop` is requested
  // before the Mutex is acquired (a parked caller is woken promptly).
  [[nodiscard]] bool lock(std::stop_token stop)
      ABSL_EXCLUSIVE_TRYLOCK_FUNCTION(true) {
    uint32_t expected = 0;
    // Acquire: pairs with the release CAS in unlock()/unlock_slow().
    if (ABSL_PREDICT_TRUE(state_.compare_exchange_weak(
            expected, kLocked, std::memory_order_acquire,
            std::memory_order_relaxed))) {
      return true;
    }
    return lock_slow(internal::kNoDeadline, &stop, /*awoke=*/false);
  }

  // Acquires the Mutex if it is free and not reserved for a starving waiter;
  // never blocks. May fail spuriously only if the word changes under it.
  [[nodiscard]] bool try_lock() noexcept ABSL_EXCLUSIVE_TRYLOCK_FUNCTION(true) {
    // Relaxed: a hint; the CAS below validates and acquires.
    uint32_t s = state_.load(std::memory_order_relaxed);
    while ((s & (kLocked | kStarving)) == 0) {
      // Acquire: pairs with the release CAS in unlock()/unlock_slow().
      if (state_.compare_exchange_weak(s, s | kLocked,
                                       std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
        return true;
      }
    }
    return false;
  }

  // Blocks until the Mutex is acquired (true) or `timeout` has passed (false).
  template <class Rep, class Period>
  [[nodiscard]] bool try_lock_for(
      const std::chrono::duration<Rep, Period>& timeout)
      ABSL_EXCLUSIVE_TRYLOCK_FUNCTION(true) {
    if (try_lock()) return true;
    return lock_slow(internal::deadline_after(timeout), nullptr,
                     /*awoke=*/false);
  }

  // Blocks until the Mutex is acquired (true) or `deadline` has passed
  // (false). Any clock; see internal::to_monotonic_deadline.
  template <class Clock, class Duration>
  [[nodiscard]] bool try_lock_until(
      const std::chrono::time_point<Clock, Duration>& deadline)
      ABSL_EXCLUSIVE_TRYLOCK_FUNCTION(true) {
    if (try_lock()) return true;
    return lock_slow(internal::to_monotonic_deadline(deadline), nullptr,
                     /*awoke=*/false);
  }

  // Releases the Mutex. Requires: it is held.
  //
  // After the store that makes the Mutex free, unlock() does not touch the
  // Mutex again, so the thread that acquires it next may unlock and destroy
  // it at once (the pattern POSIX promises is safe, glibc bug 13690): the
  // fast path's CAS is the last access; the slow path releases inside the
  // ParkingLot callback, or with its last CAS (INV-R in mutex.cc).
  void unlock() ABSL_UNLOCK_FUNCTION() {
    uint32_t expected = kLocked;
    // Release: pairs with the acquire CAS in lock()/try_lock()/lock_slow().
    // Failure relaxed: the slow path re-reads under its own CAS.
    if (ABSL_PREDICT_TRUE(state_.compare_exchange_strong(
            expected, 0, std::memory_order_release,
            std::memory_order_relaxed))) {
      return;
    }
    unlock_slow(expected);
  }

 private:
  friend class Cond;
  friend class MutexTestPeer;  // tests/sync/mutex_test.cc: sets kWoken

  // State word bits (table above).
  static constexpr uint32_t kLocked = 1u << 0;
  static constexpr uint32_t kParked = 1u << 1;
  static constexpr uint32_t kWoken = 1u << 2;
  static constexpr uint32_t kStarving = 1u << 3;
  static constexpr uint32_t kAllBits = kLocked | kParked | kWoken | kStarving;
  static_assert((kLocked & kParked) == 0 && (kLocked & kWoken) == 0 &&
                    (kLocked & kStarving) == 0 && (kParked & kWoken) == 0 &&
                    (kParked & kStarving) == 0 && (kWoken & kStarving) == 0,
                "state bits must be distinct");

  // Unpark tokens given to threads parked on the word.
  //  kTokenWoken:   dequeued by a normal-mode unlock; the thread now owns the
  //                 kWoken bit and must compete for the lock.
  //  kTokenHandoff: dequeued by a starvation-mode unlock; the thread owns the
  //                 Mutex (kLocked already set on its behalf).
  // Both differ from internal::kDefaultUnparkToken (0) and from Cond's
  // signal token.
  static constexpr uintptr_t kTokenWoken = 1;
  static constexpr uintptr_t kTokenHandoff = 2;
  //  kTokenForced:  dequeued by a normal-mode unlock that found an awake
  //                 spinner (see INV-F in mutex.cc); competes for the lock
  //                 without owning kWoken.
  static constexpr uintptr_t kTokenForced = 3;

  // INV-F (mutex.cc): every this many skipped wakeups, unlock() wakes the
  // queue head anyway. A power of two (the counter is masked).
  static constexpr uint16_t kForcedWakeInterval = 2048;
  static_assert((kForcedWakeInterval & (kForcedWakeInterval - 1)) == 0);

  // A parked thread that has waited this long since its first park turns on
  // starvation mode (Go's starvationThresholdNs).
  static constexpr int64_t kStarvationThresholdNs = 1'000'000;

  // flags_ bits (never touched by lock/unlock).
  static constexpr uint8_t kLabeled = 1;

  // --- Cond protocol (requeue onto the Mutex) -----------------------------
  // Cond::broadcast() (and signal()) move waiters onto this Mutex's queue
  // with ParkingLot::unpark_requeue(cond_key, parking_key(), validate,
  // callback):
  //  1. In validate() (both queue locks held), call mark_parked_if_locked().
  //     If it returns true, the Mutex is held (or reserved by a handoff) and
  //     kParked is now set, so the holder's unlock() is guaranteed to look at
  //     the queue: return RequeueOp::kRequeueAll (signal: kRequeueOne).
  //     Otherwise return kUnparkOneRequeueRest (signal: kUnparkOne): one
  //     waiter is woken to take the free Mutex.
  //  2. In callback(op, result): if op == kUnparkOneRequeueRest and
  //     result.requeued != 0, call mark_parked(). Return Cond's own token
  //     (kTokenSignal in cond.cc, never one of the Mutex's tokens).
  //  3. A Cond waiter, after its park() on the Cond key returns, re-acquires
  //     with lock_after_wake(result.token): that honours a handoff (already
  //     owns), a kTokenWoken wake (owns kWoken, competes), or anything else
  //     (plain lock()).
  // Why this is race-free: kParked is only set or cleared under the Mutex
  // key's queue lock, and unlock()'s releasing CAS fails on any bit it did
  // not expect, so either that CAS comes after mark_parked_if_locked() (it
  // sees kParked and wakes someone) or before it (the Mutex is free and
  // validate chooses to wake a waiter instead).
  const void* parking_key() const noexcept { return &state_; }
  bool mark_parked_if_locked() noexcept;
  void mark_parked() noexcept;
  void lock_after_wake(uintptr_t token) ABSL_EXCLUSIVE_LOCK_FUNCTION();
  // True if some thread holds the Mutex (or it is being handed off). Cheap
  // hint for Cond's "wait without holding the Mutex" check.
  bool is_locked_hint() const noexcept {
    // Relaxed: a diagnostic hint, no data is read under it.
    return (state_.load(std::memory_order_relaxed) & (kLocked | kStarving)) !=
           0;
  }

  // Slow paths (mutex.cc): spin, then park. Return false only on deadline or
  // stop. `awoke`: the caller already owns the kWoken bit.
  ABSL_ATTRIBUTE_NOINLINE ABSL_ATTRIBUTE_COLD bool lock_slow(
      int64_t deadline_ns, const std::stop_token* stop, bool awoke);
  ABSL_ATTRIBUTE_NOINLINE ABSL_ATTRIBUTE_COLD void unlock_slow(uint32_t old);
  void unlock_and_wake(bool forced);
  void give_back_woken();
  ABSL_ATTRIBUTE_NOINLINE ABSL_ATTRIBUTE_COLD void destroy_labeled() noexcept;

  internal::Atomic<uint32_t> state_{0};
  uint8_t flags_ = 0;  // kLabeled; written only by the constructor
  // Wakeups unlock() skipped because a spinner was awake (INV-F in
  // mutex.cc); a heuristic counter, relaxed load+store only.
  internal::Atomic<uint16_t> skipped_wakes_{0};
};

static_assert(sizeof(Mutex) <= 8, "issue 3: sizeof(Mutex) <= 8");
static_assert(std::atomic<uint32_t>::is_always_lock_free);
static_assert(std::atomic<uint16_t>::is_always_lock_free);

inline Mutex::~Mutex() {
#ifndef NDEBUG
  // Relaxed: a debug check; a destroying thread must already be ordered
  // after the last unlock() or the program has a data race anyway.
  if (ABSL_PREDICT_FALSE((state_.load(std::memory_order_relaxed) &
                          (kLocked | kStarving)) != 0)) {
    internal::fatal("contend: Mutex::~Mutex: destroyed while locked");
  }
#endif
  if (ABSL_PREDICT_FALSE(flags_ != 0)) destroy_labeled();
}

// MutexLock holds a Mutex for the duration of a scope.
//
// Contract: locks `mu` in the constructor, unlocks it in the destructor; `mu`
// must outlive the guard. Thread safety: a guard belongs to one scope. Not
// copyable or movable.
//
// Example:
//   { contend::MutexLock lock(mu); ++counter; }
class ABSL_SCOPED_LOCKABLE MutexLock {
 public:
  explicit MutexLock(Mutex& mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) {
    mu_.lock();
  }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;
  ~MutexLock() ABSL_UNLOCK_FUNCTION() { mu_.unlock(); }

 private:
  Mutex& mu_;
};

}  // namespace contend

#endif  // CONTEND_SYNC_MUTEX_H_
