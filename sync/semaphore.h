// Copyright 2026 The contend Authors.
//
// Semaphore: a weighted counting semaphore with strict FIFO admission
// (golang.org/x/sync/semaphore.Weighted).

#ifndef CONTEND_SYNC_SEMAPHORE_H_
#define CONTEND_SYNC_SEMAPHORE_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <stop_token>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "sync/internal/atomic.h"
#include "sync/internal/clock.h"

namespace contend {

// A Semaphore bounds the total weight of concurrent holders: each acquire(n)
// takes n of `capacity` tokens, each release(n) returns n.
//
// Model: `available` tokens (initially capacity) and a FIFO queue of blocked
// requests, each for some n.
//
// Fairness -- strict FIFO, no barging: a request is granted only when every
// request queued before it has been granted. When the head of the queue asks
// for more than is available, later requests wait behind it even if they are
// small enough to fit, and try_acquire() fails while anyone is queued. This is
// what prevents starvation of large requests: with barging, a stream of
// small acquisitions keeps `available` below the head's n forever (the
// classic weighted-semaphore starvation that x/sync/semaphore also rules
// out). The price is head-of-line blocking: capacity may sit idle while the
// head waits for enough tokens. Releases hand tokens directly to the waiters
// they admit, in queue order.
//
// Contract:
//  - Requires: 0 <= n <= capacity() for every call (see Misuse).
//  - Guarantees: at any time, the tokens held (acquired and not yet released)
//    plus available() equal capacity(). acquire(0) and its variants succeed
//    at once without touching the queue (except that acquire(0, stop) with
//    stop already requested returns false, like every acquire(n, stop)).
//  - acquire(n, stop) returns false without acquiring if stop was requested
//    before the call (even if tokens are free: Go's semaphore prefers to fail
//    then, too) or while it was queued. A waiter whose cancellation races a
//    grant gives the granted tokens back (they go to the next waiters) and
//    returns false, so "false" always means "holds nothing".
//  - try_acquire_for/until(n, t) return false on timeout holding nothing; a
//    grant that wins the race with the deadline is kept (returns true).
//  - Destruction right after a release: a thread may destroy the Semaphore
//    as soon as no other thread is inside a call on it, except release()
//    calls whose tokens it has acquired: release() touches nothing of the
//    object once its tokens are available (POSIX's sem_destroy rule; glibc
//    bug 12674).
// Thread safety: all members may run concurrently. Any thread may release
// tokens, not only the one that acquired them.
// Memory ordering: a release(n) happens-before every acquire that obtains any
// of the tokens it returned (all updates of the state word are RMWs, so the
// release sequence holds; granted waiters are also ordered by the
// ParkingLot's unpark). A failed try_* gives no ordering.
// Misuse (always checked, terminating with a message):
//  - n > capacity(): "contend: Semaphore::<method>: n exceeds capacity" for
//    acquire, try_acquire, try_acquire_for and try_acquire_until. Such a
//    request can never be granted; x/sync/semaphore blocks forever (or until
//    the context ends), which turns a bug into a silent hang, so we fail at
//    once instead. try_acquire is included so one rule covers every form.
//  - n < 0: "contend: Semaphore::<method>: negative n" (release included).
//  - release(n) that would make available() exceed capacity():
//    "contend: Semaphore::release: released more than held". Tokens are not
//    tracked per thread, so one thread releasing tokens that another holds is
//    allowed and not detected.
//  - Destroying a Semaphore with waiters, or while another call on it is in
//    progress (except as the Contract allows): undefined.
// Cost: sizeof(Semaphore) == 16 (state word + capacity). Uncontended
// acquire and release: one load and one CAS each (retried only when the
// word changed in between), both inline. With
// waiters, release() and cancelled waiters walk the head of the ParkingLot
// queue (WaitKind::kSemaphore) under its bucket lock. Blocked acquirers
// park without spinning (strict FIFO leaves nothing for a spinner to win).
// Never allocates. Measured on the 2-vCPU AMD EPYC dev VM: acquire(1) +
// release(1) 5.3 ns CPU, 1.0x std::counting_semaphore in the same run (the
// CAS release costs ~0.25 ns over the fetch_add it replaced); when the count
// returns from zero std's release makes a futex syscall (0.5 us) and ours
// does not (bench/sync/RESULTS.md "Coordination",
// //bench/sync:semaphore_benchmark).
//
// Example:
//   contend::Semaphore memory_budget(64 << 20);  // bytes in flight
//   void process(Request& r) {
//     memory_budget.acquire(r.size());
//     handle(r);
//     memory_budget.release(r.size());
//   }
class Semaphore {
 public:
  // Requires: 0 <= capacity <= kMaxCapacity (checked).
  static constexpr int64_t kMaxCapacity = int64_t{1} << 61;

  constexpr explicit Semaphore(int64_t capacity) noexcept
      : state_(static_cast<uint64_t>(capacity)), capacity_(capacity) {
    if (capacity < 0 || capacity > kMaxCapacity) bad_capacity();
  }
  Semaphore(const Semaphore&) = delete;
  Semaphore& operator=(const Semaphore&) = delete;

  // Blocks until n tokens are granted.
  void acquire(int64_t n = 1) {
    check(n, kAcquire);
    if (ABSL_PREDICT_TRUE(try_take(n))) return;
    (void)acquire_slow(n, internal::kNoDeadline, nullptr);
  }

  // Blocks until n tokens are granted (true) or stop is requested (false,
  // holding nothing).
  [[nodiscard]] bool acquire(int64_t n, std::stop_token stop) {
    check(n, kAcquire);
    if (stop.stop_requested()) return false;
    if (try_take(n)) return true;
    return acquire_slow(n, internal::kNoDeadline, &stop);
  }

  // Takes n tokens if they are available and nobody is queued.
  [[nodiscard]] bool try_acquire(int64_t n = 1) noexcept {
    check(n, kTryAcquire);
    return try_take(n) || n == 0;  // n == 0: on the failure path only
  }

  template <class Rep, class Period>
  [[nodiscard]] bool try_acquire_for(
      int64_t n, std::chrono::duration<Rep, Period> timeout) {
    check(n, kTryAcquireFor);
    if (try_take(n)) return true;
    return acquire_slow(n, internal::deadline_after(timeout), nullptr);
  }

  template <class Clock, class Duration>
  [[nodiscard]] bool try_acquire_until(
      int64_t n, std::chrono::time_point<Clock, Duration> deadline) {
    check(n, kTryAcquireUntil);
    if (try_take(n)) return true;
    return acquire_slow(n, internal::to_monotonic_deadline(deadline), nullptr);
  }

  // Returns n tokens and grants queued requests, in order, while they fit.
  void release(int64_t n = 1) {
    if (ABSL_PREDICT_FALSE(n < 0 || n > capacity_)) bad_release(n);
    // Relaxed: a first guess; the CAS re-validates.
    uint64_t s = state_.load(std::memory_order_relaxed);
    // Nobody queued: one CAS returns the tokens, and nothing of *this is
    // touched after it (INV-SEM-4). Otherwise the grant returns them.
    while (ABSL_PREDICT_TRUE((s & kWaitersBit) == 0)) {
      if (ABSL_PREDICT_FALSE(available(s) + n > capacity_)) bad_release(n);
      // Release: pairs with the acquire CAS in try_take(), in acquire_slow()'s
      // validate and in the grant callback (INV-SEM-3). Relaxed on failure:
      // the loop re-checks the word it got.
      if (ABSL_PREDICT_TRUE(state_.compare_exchange_weak(
              s, s + static_cast<uint64_t>(n), std::memory_order_release,
              std::memory_order_relaxed))) {
        return;
      }
    }
    grant_waiters(n);
  }

  int64_t capacity() const noexcept { return capacity_; }

  // A snapshot of the free tokens, for diagnostics and tests. Relaxed: a
  // hint, stale by the time it returns.
  int64_t available() const noexcept {
    return available(state_.load(std::memory_order_relaxed));
  }

 private:
  // State word layout (64 bits):
  //   bit 63      kWaitersBit: the ParkingLot queue on &state_ is non-empty
  //   bits 62..0  available tokens (<= capacity_ <= 2^61)
  // INV-SEM-1: kWaitersBit is set (in validate) and cleared (in the grant
  //   callback or the last waiter's timed_out) only under the queue lock,
  //   so with that lock held: queue non-empty <=> kWaitersBit set.
  // INV-SEM-2: while kWaitersBit is set, state_ changes only under the
  //   queue lock: try_take() and release() CAS from a word without the bit,
  //   so they fail once it is set, and a release then returns its tokens in
  //   the grant callback. So a budget read under the lock is exact until
  //   that callback, and granting from it never over-grants.
  // INV-SEM-3: every update is an RMW (CAS, fetch_and), so each release's
  //   release sequence reaches every later acquirer.
  // INV-SEM-4 (lifetime): once a release has made its tokens available, a
  //   thread may acquire them, release and destroy the Semaphore
  //   (Contract). So the releasing thread touches nothing of the object
  //   after that RMW: release()'s CAS is its last access; with waiters, the
  //   tokens are added by the CAS in the grant callback, under the queue
  //   lock and before any granted thread runs, and after it the ParkingLot
  //   touches only its own queue. (Adding them first and granting after
  //   would race a queued waiter that times out in between, clears the bit
  //   and lets a try_acquire() take them while the releaser still has to
  //   read the word.)
  static constexpr uint64_t kWaitersBit = uint64_t{1} << 63;
  static constexpr uint64_t kAvailableMask = kWaitersBit - 1;
  static_assert(static_cast<uint64_t>(kMaxCapacity) * 2 <= kAvailableMask,
                "available + n must not carry into kWaitersBit");

  enum Method : uint8_t {
    kAcquire,
    kTryAcquire,
    kTryAcquireFor,
    kTryAcquireUntil
  };

  static constexpr int64_t available(uint64_t s) noexcept {
    return static_cast<int64_t>(s & kAvailableMask);
  }

  void check(int64_t n, Method method) const noexcept {
    if (ABSL_PREDICT_FALSE(n < 0 || n > capacity_)) bad_request(n, method);
  }

  // The fast path: no barging past queued waiters (INV-SEM-2).
  bool try_take(int64_t n) noexcept {
    // Relaxed: a first guess; the CAS re-validates.
    uint64_t s = state_.load(std::memory_order_relaxed);
    while ((s & kWaitersBit) == 0 && available(s) >= n) {
      // Acquire on success: pairs with the release CAS in release() and in
      // the grant callback (semaphore.cc).
      // Relaxed on failure: the loop re-checks and the CAS re-validates.
      if (state_.compare_exchange_weak(s, s - static_cast<uint64_t>(n),
                                       std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
        return true;
      }
    }
    return false;
  }

  // Out of line (semaphore.cc).
  ABSL_ATTRIBUTE_NOINLINE bool acquire_slow(int64_t n, int64_t deadline_ns,
                                            const std::stop_token* stop);
  // Adds `returned` tokens and grants queued requests from them, all in one
  // unpark callback (INV-SEM-4).
  ABSL_ATTRIBUTE_NOINLINE void grant_waiters(int64_t returned) noexcept;
  [[noreturn]] ABSL_ATTRIBUTE_NOINLINE ABSL_ATTRIBUTE_COLD void bad_request(
      int64_t n, Method method) const noexcept;
  [[noreturn]] ABSL_ATTRIBUTE_NOINLINE ABSL_ATTRIBUTE_COLD void bad_release(
      int64_t n) const noexcept;
  [[noreturn]] ABSL_ATTRIBUTE_NOINLINE ABSL_ATTRIBUTE_COLD static void
  bad_capacity() noexcept;

  internal::Atomic<uint64_t> state_;
  const int64_t capacity_;
};

static_assert(sizeof(Semaphore) == 16);

}  // namespace contend

#endif  // CONTEND_SYNC_SEMAPHORE_H_
