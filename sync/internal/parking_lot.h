// Copyright 2026 The contend Authors.
//
// ParkingLot: the one place where contend threads sleep. An address-keyed
// table of FIFO wait queues (Rust's parking_lot_core, WebKit's ParkingLot,
// Go's semaRoot): a primitive keeps only a small state word and parks its
// waiters here, keyed by that word's address.

#ifndef CONTEND_SYNC_INTERNAL_PARKING_LOT_H_
#define CONTEND_SYNC_INTERNAL_PARKING_LOT_H_

#include <cstddef>
#include <cstdint>
#include <stop_token>

#include "absl/functional/function_ref.h"
#include "sync/internal/clock.h"
#include "sync/internal/wait_observer.h"

namespace contend::internal {

// Tokens: opaque words passed from a parker to unpark_filter() (park_token)
// and from an unparker to the woken thread (unpark token). Primitives define
// their own non-zero values (e.g. Mutex's handoff token).
inline constexpr uintptr_t kDefaultParkToken = 0;
inline constexpr uintptr_t kDefaultUnparkToken = 0;

// How a park() ended. `token` is the unparker's token when status is
// kUnparked, kDefaultUnparkToken otherwise. `requeued`: unpark_requeue had
// moved the waiter off park()'s key, so the wait ended on the target key's
// queue (Cond tells a wake by its Mutex from one on its own key by this).
struct ParkResult {
  ParkStatus status;
  uintptr_t token;
  bool requeued = false;
};

struct ParkOptions {
  int64_t deadline_ns = kNoDeadline;  // absolute CLOCK_MONOTONIC ns
  // Cancellation: stop requested while queued -> kCancelled promptly. Must
  // outlive the park() call. Null: not cancellable.
  const std::stop_token* stop = nullptr;
  uintptr_t park_token = kDefaultParkToken;  // seen by unpark_filter
  WaitKind kind = WaitKind::kOther;          // reported to the WaitObserver
  // Queue position: false joins the tail of key's queue (FIFO); true joins
  // its head, ahead of every waiter already there (Go's LIFO requeue, for a
  // thread that was woken, lost the race and parks again).
  bool front = false;
  // When the caller started waiting (absolute CLOCK_MONOTONIC ns), if that
  // was before this park(): UnparkResult::waited_ns then counts from here,
  // so a waiter that re-parks is judged by its whole wait. 0: this park.
  int64_t wait_start_ns = 0;
};

struct UnparkResult {
  size_t unparked = 0;     // threads dequeued and woken
  bool have_more = false;  // waiters remain on the key afterwards (for
                           // unpark_requeue: on `from`)
  int64_t waited_ns = 0;   // unpark_one/requeue: how long the dequeued waiter
                           // had waited (since it enqueued on this key, or
                           // since ParkOptions::wait_start_ns)
  size_t requeued = 0;     // unpark_requeue only: waiters moved to `to`
};

enum class FilterOp : uint8_t { kUnpark, kSkip, kStop };
enum class RequeueOp : uint8_t {
  kAbort,                 // do nothing
  kUnparkOneRequeueRest,  // wake the oldest waiter on `from`, move the rest
  kRequeueAll,            // move every waiter on `from` to `to`
  kUnparkOne,             // wake the oldest waiter on `from`, move none
  kRequeueOne,            // move the oldest waiter on `from` to `to`, wake none
};

// ParkingLot: static functions over a process-wide table of wait queues.
//
// Model: for every address `key`, a FIFO queue of parked threads. The queues
// live in a fixed table of buckets (see parking_lot.cc for the sizing
// measurement); each bucket has a small spin-then-futex word lock (the "queue
// lock"), which is held while validate()/callback()/timed_out() run. A waiter
// record (thread parker, key, tokens, enqueue time) lives on the parked
// thread's stack for the duration of park().
//
// Contract:
//  - Requires: callbacks run under a queue lock, so they must be short, must
//    not block, must not call into the ParkingLot, and must not throw. Keys
//    are only compared, never dereferenced. before_sleep() and the
//    WaitObserver's callbacks run outside the queue lock but inside a park or
//    unpark: they must not park either (a nested park would consume the
//    thread's one permit and leave the outer waiter record linked). Debug
//    builds check all of these ("contend: ParkingLot::park: called from a
//    ParkingLot callback"); see Misuse.
//  - Guarantees:
//    * No lost wakeups: a validate() that observes state S and an unpark whose
//      callback runs after the state change from S are ordered by the queue
//      lock, so the unparker finds the waiter queued.
//    * FIFO per key: unpark_one wakes the waiter that enqueued first (a
//      park with ParkOptions::front counts as enqueued before everyone
//      already queued); requeued waiters join the tail of `to` in their
//      original order.
//    * Every park() that enqueued ends exactly once: unparked (by exactly one
//      unpark_*), timed out, or cancelled -- never two of these.
//    * Cancellation: if *options.stop is requested while the thread is
//      queued, it is dequeued and woken promptly (a std::stop_callback
//      registered for the duration of the wait); a stop already requested on
//      entry returns kCancelled without calling validate().
// Thread safety: every function may be called concurrently from any thread.
// Memory ordering: everything an unparker did before its unpark_* call (and in
// its callback) happens-before the return of the park() it dequeues (queue
// lock plus the Parker's release/acquire). validate() and the unparker's
// callback are serialized by the queue lock.
// Misuse: park() from inside any callback (validate, before_sleep,
// timed_out, an unpark callback, a WaitObserver callback): checked in debug
// builds (NDEBUG undefined), terminating with "contend: ParkingLot::park:
// called from a ParkingLot callback"; undefined (a deadlock or a stray
// permit) otherwise. Unpark calls from inside a callback deadlock on the
// queue lock (undefined, not checked).
//
// Release inside a callback: an unpark callback runs before the woken thread
// can return from park(), and the ParkingLot touches the key's memory never
// (keys are only compared). So a primitive that makes its releasing store
// the last thing its callback does never touches its own memory after the
// release (the unlock-then-destroy pattern, glibc bug 13690; Mutex and
// RWMutex do this).
// Cost: park/unpark lock one bucket (two for requeue) and walk that bucket's
// list; park() reads the clock once (enqueue time) and once more at the end
// if an observer is installed; unpark_one reads it once when it dequeues.
// The observer costs one acquire load per call when none is installed; the
// release-delay walk (ReleaseEvent.delay_ns) runs only when an observer with
// on_contended_release is installed. No allocation, ever.
//
// Example (a one-shot flag; see sync/event.h for the real thing):
//   Atomic<uint32_t> set{0};
//   // waiter:
//   ParkingLot::park(&set, [&] { return set.load(std::memory_order_relaxed)
//                                       == 0; }, ParkOptions{});
//   // setter:
//   set.store(1, std::memory_order_release);
//   ParkingLot::unpark_all(&set);
class ParkingLot {
 public:
  ParkingLot() = delete;

  // Parks the calling thread on `key` if validate() returns true (run under
  // the queue lock). before_sleep() runs after the queue lock is released,
  // before sleeping. If the wait ends by deadline or cancellation,
  // timed_out(was_last) runs under the queue lock after the waiter is removed;
  // was_last = no other waiter remains on key. (If the waiter had been moved
  // to another key by unpark_requeue, timed_out is not called: the target
  // key's owner sees at worst a stale "has waiters" bit, which its next
  // unpark clears.) Enqueue time is recorded in the waiter record. Reports a
  // WaitEvent to the observer (not for kInvalid or a stop requested on entry).
  static ParkResult park(const void* key, absl::FunctionRef<bool()> validate,
                         absl::FunctionRef<void()> before_sleep,
                         absl::FunctionRef<void(bool was_last)> timed_out,
                         const ParkOptions& options);
  // Convenience overload: no before_sleep, no-op timed_out.
  static ParkResult park(const void* key, absl::FunctionRef<bool()> validate,
                         const ParkOptions& options);

  // Dequeues the oldest waiter on key (if any); callback(result) runs under
  // the queue lock after dequeue and before the wake, and returns the token
  // given to the woken thread (e.g. kHandoff for direct ownership transfer).
  // callback runs even when no thread was unparked (result.unparked == 0) so
  // the caller can clear its "has waiters" bit. With is_release = true (a
  // Mutex/RWMutex unlock) and an observer with on_contended_release
  // installed, the releaser is charged (ReleaseEvent) when a waiter was
  // dequeued.
  static UnparkResult unpark_one(
      const void* key,
      absl::FunctionRef<uintptr_t(const UnparkResult&)> callback,
      bool is_release = false);

  // Dequeues and wakes every waiter on key, giving each `token`. Returns how
  // many were woken.
  static size_t unpark_all(const void* key,
                           uintptr_t token = kDefaultUnparkToken,
                           bool is_release = false);

  // Walks key's queue in FIFO order: kUnpark dequeues, kSkip leaves, kStop
  // ends the walk. callback(result) runs under the queue lock after the walk
  // and returns the token given to every dequeued thread.
  static UnparkResult unpark_filter(
      const void* key, absl::FunctionRef<FilterOp(uintptr_t park_token)> filter,
      absl::FunctionRef<uintptr_t(const UnparkResult&)> callback,
      bool is_release = false);

  // Moves waiters from `from` to the tail of `to` (Cond::broadcast/signal ->
  // Mutex without a thundering herd). validate() runs with both queue locks
  // held and picks the operation; callback(op, result) then runs, still under
  // both locks, and returns the token for the woken thread (if any). Requires:
  // from != to.
  static UnparkResult unpark_requeue(
      const void* from, const void* to, absl::FunctionRef<RequeueOp()> validate,
      absl::FunctionRef<uintptr_t(RequeueOp, const UnparkResult&)> callback);

  // Diagnostics/tests: waiters currently parked on key.
  static size_t waiter_count(const void* key);
};

// Table geometry, exposed for the bucket-spread test (not part of the API).
namespace parking_lot_detail {
inline constexpr size_t kBucketBits = 10;
inline constexpr size_t kBucketCount = size_t{1} << kBucketBits;
// The bucket that holds key's queue (Fibonacci hashing of the address).
inline size_t bucket_index(const void* key) noexcept {
  return static_cast<size_t>(
      (reinterpret_cast<uintptr_t>(key) * uint64_t{0x9E3779B97F4A7C15}) >>
      (64 - kBucketBits));
}
}  // namespace parking_lot_detail

}  // namespace contend::internal

#endif  // CONTEND_SYNC_INTERNAL_PARKING_LOT_H_
