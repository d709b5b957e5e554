// Copyright 2026 The contend Authors.
//
// The WaitObserver seam: how the profiler (profile/) learns about every wait
// and every contended release without sync/internal depending on profile/
// (ARCHITECTURE.md §1: arrows point down).
//
// The ParkingLot reports two kinds of events through one process-wide
// observer:
//  - WaitEvent, in the waiter's thread, after a wait ends (unparked, timed out
//    or cancelled), with no lock held: the block profile.
//  - ReleaseEvent, in the releaser's thread, after an unpark made with
//    is_release = true (Mutex/RWMutex unlocks), with no lock held: the mutex
//    profile, charging the releaser for the delay of everyone it kept waiting
//    (Go >= 1.22 semantics, golang/go#61015).
//
// Cost when no observer is installed: one acquire load of a pointer in the
// park/unpark slow paths; nothing on any primitive's fast path.

#ifndef CONTEND_SYNC_INTERNAL_WAIT_OBSERVER_H_
#define CONTEND_SYNC_INTERNAL_WAIT_OBSERVER_H_

#include <cstddef>
#include <cstdint>

namespace contend::internal {

// What kind of primitive a key belongs to; reported with every event.
enum class WaitKind : uint8_t {
  kMutex,
  kRWMutexReader,
  kRWMutexWriter,
  kCond,
  kEvent,
  kOnce,
  kWaitGroup,
  kSemaphore,
  kErrGroup,
  kSingleflight,
  kChan,
  kResourcePool,  // pool/resource_pool.h: acquirers waiting for a resource
  kOther,
};

// "Mutex", "RWMutex.read", "RWMutex.write", "Cond", "Event", "Once",
// "WaitGroup", "Semaphore", "ErrGroup", "Singleflight", "Chan",
// "ResourcePool", "Other"; "?" for a value outside the enum. The string has
// static storage duration.
const char* wait_kind_name(WaitKind kind) noexcept;

// How a ParkingLot::park() call ended.
//  kUnparked:  dequeued by unpark_one/unpark_all/unpark_filter/unpark_requeue.
//  kInvalid:   validate() returned false; the thread never slept.
//  kTimedOut:  the deadline passed while it was still queued.
//  kCancelled: its std::stop_token was requested while it was still queued.
enum class ParkStatus : uint8_t { kUnparked, kInvalid, kTimedOut, kCancelled };

// One finished wait, reported in the WAITER's thread with no locks held.
struct WaitEvent {
  const void* key;    // address waited on (the primitive's state word)
  WaitKind kind;      // ParkOptions::kind of the wait
  ParkStatus status;  // never kInvalid (no wait happened then)
  int64_t start_ns;   // enqueue time (monotonic_now_ns)
  int64_t end_ns;     // time the waiter was dequeued (unpark, timeout, cancel)
  uint32_t waiter_tid;  // current_thread_id() of the waiter
  uint32_t waker_tid;   // thread that dequeued it via unpark_*; 0 for
                        // timeout/cancel
};

// A contended release, reported in the RELEASER's thread after the
// ParkingLot's internal lock is dropped, only for unparks made with
// is_release = true (Mutex/RWMutex unlocks).
struct ReleaseEvent {
  const void* key;
  WaitKind kind;   // kind of the waiters on key
  int64_t now_ns;  // time of the charge (monotonic_now_ns)
  // EXACT delay that all waiters on `key` accumulated since the previous charge
  // on this key (or since they enqueued, if later):
  //   sum_i (now - max(enqueue_i, last_charge)).
  // The releaser is charged for everyone it kept waiting (golang/go#61015).
  int64_t delay_ns;
  uint32_t waiters;  // waiters queued on key at the charge (incl. the woken)
  uint32_t releaser_tid;
};

// The observer: two plain function pointers (no virtual call, no allocation).
// Callbacks run with no contend lock held but may run on any thread,
// concurrently with each other; they must be thread-safe and must never park:
// no blocking contend call (a contended Mutex::lock, a wait of any kind), and
// nothing else that ends in ParkingLot::park. They run inside the reporting
// thread's own park or unpark, and a nested park would consume that thread's
// one permit and leave its waiter record queued. Debug builds check it:
// "contend: ParkingLot::park: called from a ParkingLot callback". (A
// std::mutex or other non-contend lock is fine.)
struct WaitObserver {
  void (*on_wait_end)(const WaitEvent&);              // may be null
  void (*on_contended_release)(const ReleaseEvent&);  // may be null
};

// Installs (or with nullptr removes) the process-wide observer. The object must
// outlive every later call (the profiler installs a static). Release store;
// pairs with the acquire load in wait_observer(), so the observer's fields and
// everything the installer wrote before are visible to the ParkingLot thread
// that loads the pointer.
void set_wait_observer(const WaitObserver* observer) noexcept;

// The installed observer or nullptr. Acquire load; pairs with the release
// store in set_wait_observer().
const WaitObserver* wait_observer() noexcept;

// Optional static labels for keys (e.g. `Mutex mu{"cache.shard"}`): zero cost
// for unlabeled primitives. `label` must have static storage duration (it is
// stored, not copied). Setting a label on a key that has one replaces it
// (nullptr clears it); clear_wait_label() on an unlabeled key is a no-op.
// Thread-safe. set and clear take a process-wide std::mutex (they run when a
// labeled primitive is constructed or destroyed). wait_label() returns the
// key's label or nullptr; it takes no lock, writes no shared memory and never
// allocates (the profiler calls it on every sampled event, inside the
// ParkingLot's paths), retrying only while a table rebuild is in progress.
// A wait_label() concurrent with a set or clear of the same key returns the
// label before or after it. Memory: O(peak number of labeled keys alive at
// once); fork-safe (the child can set labels at once).
void set_wait_label(const void* key, const char* label);
void clear_wait_label(const void* key);
const char* wait_label(const void* key) noexcept;

// Slots allocated by the registry over the process's life (tests bound it).
size_t wait_label_capacity_for_testing();

}  // namespace contend::internal

#endif  // CONTEND_SYNC_INTERNAL_WAIT_OBSERVER_H_
