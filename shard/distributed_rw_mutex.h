// Copyright 2026 The contend Authors.
//
// contend::DistributedRWMutex: a reader/writer lock whose uncontended read
// path writes only a cache line of its own (BRAVO, Dice & Kogan, USENIX
// ATC'19), with its guards DistributedReaderMutexLock and
// DistributedWriterMutexLock.

#ifndef CONTEND_SHARD_DISTRIBUTED_RW_MUTEX_H_
#define CONTEND_SHARD_DISTRIBUTED_RW_MUTEX_H_

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stop_token>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "absl/base/thread_annotations.h"
#include "shard/internal/cpu_id.h"
#include "sync/internal/atomic.h"
#include "sync/internal/cache_padded.h"
#include "sync/internal/clock.h"
#include "sync/rw_mutex.h"

namespace contend {

// A DistributedRWMutex is a lock that many readers may hold at once, or one
// writer alone, for data that is read far more often than it is written: a
// reader that meets no writer writes no cache line shared with other
// readers, so read-only work scales with cores instead of bouncing one
// reader-count line (the article's postmortem "RWMutex worse than Mutex").
//
// Model: the lock is `free`, `read-locked by n >= 1 readers`, or
// `write-locked`, exactly as contend::RWMutex, and in addition `biased` or
// not:
//
//   bias   a reader's lock_shared()            a writer's lock()
//   on     claims its thread's slot (own line)  revokes the bias, waits for
//          and is in; if the slot is taken,     the slot holders present
//          as below                             at revocation to leave
//   off    takes the read lock of an inner      takes the inner RWMutex's
//          RWMutex (one shared line, as         write lock; nothing to
//          RWMutex)                             revoke
//
// The bias is turned off by every writer that finds it on and turned back on
// by a reader that takes the slow path once kBiasInhibitFactor (9) times the
// last revocation's duration has passed since it (BRAVO's rule: writers then
// spend at most about 1/10 of their time revoking; xsync's RBMutex uses 7).
//
// Contract (the same as RWMutex's; read sync/rw_mutex.h):
//  - Requires: unlock() only by the thread that holds the write lock;
//    unlock_shared() only by a thread that holds a read lock, on the thread
//    that acquired it (it finds its slot by the calling thread). When the
//    DistributedRWMutex is destroyed no lock is held and no other thread is
//    inside a call on it, except as below.
//  - Guarantees:
//    * Destruction right after the last release, as RWMutex: releases touch
//      nothing of the object once they have let another thread in (a
//      reader that wakes a draining writer passes only its slot's address
//      to the ParkingLot; see distributed_rw_mutex.cc, INV-LIFETIME).
//    * Writers never starve: once a writer holds the inner write lock, new
//      readers cannot enter (a biased reader's re-check sees the bias off and
//      withdraws; the bias cannot come back while a writer holds the lock,
//      since only a read-lock holder re-enables it), so it waits only for
//      the slot holders present at its revocation. Between writers and
//      central readers, RWMutex's policy (writer preference, 1 ms
//      starvation hand-off) applies unchanged.
//    * No spurious failure: try_lock_shared() fails only when a writer holds
//      or is queued for the lock; try_lock() only then, when read-locked
//      (including by a biased reader present at its revocation, which it
//      does not wait for: it restores the bias and fails; as with RWMutex's
//      transient reader count, that includes a reader that published its
//      slot just as the bias was revoked and is about to withdraw). Timed and
//      stop_token forms fail only at the deadline or on a stop request (a
//      writer that gives up while draining restores the bias).
//    * Satisfies the standard SharedTimedLockable requirements, so
//      std::unique_lock, std::shared_lock, std::scoped_lock and
//      std::condition_variable_any work with it.
// Thread safety: every member may be called concurrently (within the
//   Requires above).
// Memory ordering (as RWMutex's, i.e. Go's sync.RWMutex):
//  - unlock() happens-before the next lock() and every later lock_shared()
//    that returns (or try_* that returns true);
//  - unlock_shared() happens-before the next lock() that returns, but not
//    before other readers' lock_shared();
//  - a try_* that returns false gives no ordering.
// Misuse:
//  - unlock() when not write-locked: always checked, terminates with
//    "contend: DistributedRWMutex::unlock: not locked for writing".
//  - unlock_shared() by a thread that holds no read lock of it: in debug
//    builds terminates with "contend: DistributedRWMutex::unlock_shared: this
//    thread holds no read lock"; in release builds the inner RWMutex's check
//    terminates with "contend: RWMutex::unlock_shared: no reader holds the
//    lock" when no central reader holds it either (otherwise undefined).
//  - Recursive read locking while a writer is queued: in debug builds (NDEBUG
//    not defined) a blocking lock_shared*() by a thread that already holds
//    this lock for reading, made when a writer holds or is queued for it,
//    terminates with "contend: DistributedRWMutex::lock_shared: RLock
//    recursion deadlock: ..." instead of hanging; lock() by a thread holding
//    it for reading terminates with "contend: DistributedRWMutex::lock:
//    called while holding the read lock ...". The same thread_local tracking
//    (16 entries) and limits as RWMutex's. Release builds hang, as Go does.
//  - Destroying a locked DistributedRWMutex, relocking by the writer:
//    undefined.
// Cost:
//  - Memory: sizeof(DistributedRWMutex) == 32 (static_assert in the .cc),
//    plus slots x internal::kCacheLineSize on the heap, allocated by the
//    constructor (which may throw std::bad_alloc): slots = the next power of
//    two >= 2 x the possible CPUs (at least 4, at most 1024), so 4 x 128 =
//    512 bytes on the 2-CPU machine, 16 KiB with 64 CPUs. A thread always
//    uses the slot of its thread ordinal (internal::thread_slot() modulo
//    slots), not its CPU's: unlock_shared() takes no argument and must find
//    the slot the lock used after any migration. Threads whose ordinals
//    collide share a slot: the second one takes the central path meanwhile.
//  - Read fast path (bias on, own slot free): one relaxed load of the bias
//    word (a line readers only read), one CAS on the thread's own slot line,
//    one seq_cst re-load of the bias word; unlock_shared(): one load and one
//    exchange on the same slot line. No shared line is written. Slow path:
//    RWMutex's lock_shared() plus, while the bias is off, a clock read.
//  - Writer: RWMutex's lock(), then, if the bias was on, the revocation: two
//    clock reads, a store to the bias word and a scan of every slot line --
//    O(slots) cache misses -- plus waiting for the readers found in slots
//    (spin with Backoff, then park on the slot). Worst case for a writer:
//    the inner RWMutex's wait (the writer ahead of it and the central
//    readers present at its claim) + the scan + the longest read section
//    among the biased readers present at its revocation; nothing arriving
//    later can add to it.
//  - Never allocates after construction. Numbers: bench/shard/RESULTS.md,
//    "Reader lock" (//bench/shard:distributed_rw_mutex_benchmark).
//
// Example:
//   contend::DistributedRWMutex mu;
//   std::map<std::string, int> table ABSL_GUARDED_BY(mu);
//   int lookup(const std::string& k) {
//     contend::DistributedReaderMutexLock l(mu);
//     auto it = table.find(k);
//     return it == table.end() ? -1 : it->second;
//   }
//   void store(const std::string& k, int v) {
//     contend::DistributedWriterMutexLock l(mu);
//     table[k] = v;
//   }
class ABSL_LOCKABLE DistributedRWMutex {
 public:
  DistributedRWMutex();
  DistributedRWMutex(const DistributedRWMutex&) = delete;
  DistributedRWMutex& operator=(const DistributedRWMutex&) = delete;

  // Exclusive (writer) side.
  void lock() noexcept ABSL_EXCLUSIVE_LOCK_FUNCTION();
  void unlock() noexcept ABSL_UNLOCK_FUNCTION() ABSL_NO_THREAD_SAFETY_ANALYSIS;
  [[nodiscard]] bool try_lock() noexcept ABSL_EXCLUSIVE_TRYLOCK_FUNCTION(true);
  template <class Rep, class Period>
  [[nodiscard]] bool try_lock_for(std::chrono::duration<Rep, Period> d) noexcept
      ABSL_EXCLUSIVE_TRYLOCK_FUNCTION(true) {
    return lock_slow(internal::deadline_after(d), nullptr);
  }
  template <class Clock, class Duration>
  [[nodiscard]] bool try_lock_until(
      std::chrono::time_point<Clock, Duration> tp) noexcept
      ABSL_EXCLUSIVE_TRYLOCK_FUNCTION(true) {
    return lock_slow(internal::to_monotonic_deadline(tp), nullptr);
  }
  // Acquires the write lock unless stop is requested first; false then.
  [[nodiscard]] bool lock(std::stop_token stop) noexcept
      ABSL_EXCLUSIVE_TRYLOCK_FUNCTION(true);

  // Shared (reader) side.
  void lock_shared() noexcept ABSL_SHARED_LOCK_FUNCTION();
  // (No analysis of its body: it releases the slot or the inner lock.)
  void unlock_shared() noexcept
      ABSL_UNLOCK_FUNCTION() ABSL_NO_THREAD_SAFETY_ANALYSIS;
  [[nodiscard]] bool try_lock_shared() noexcept
      ABSL_SHARED_TRYLOCK_FUNCTION(true);
  template <class Rep, class Period>
  [[nodiscard]] bool try_lock_shared_for(
      std::chrono::duration<Rep, Period> d) noexcept
      ABSL_SHARED_TRYLOCK_FUNCTION(true) {
    return lock_shared_slow(internal::deadline_after(d), nullptr);
  }
  template <class Clock, class Duration>
  [[nodiscard]] bool try_lock_shared_until(
      std::chrono::time_point<Clock, Duration> tp) noexcept
      ABSL_SHARED_TRYLOCK_FUNCTION(true) {
    return lock_shared_slow(internal::to_monotonic_deadline(tp), nullptr);
  }
  // Acquires a read lock unless stop is requested first; false then.
  [[nodiscard]] bool lock_shared(std::stop_token stop) noexcept
      ABSL_SHARED_TRYLOCK_FUNCTION(true);

  // Number of reader slots (see Cost).
  [[nodiscard]] size_t slot_count() const noexcept { return mask_ + 1; }

  // BRAVO's N: the bias returns kBiasInhibitFactor x the last revocation's
  // duration after it.
  static constexpr int64_t kBiasInhibitFactor = 9;

 private:
  friend class DistributedRWMutexTestPeer;  // tests/shard

  // Bias word (bias_):
  //   bit 0  kBias        biased readers may use their slots
  //   bit 1  kWriterHeld  a writer holds the lock (for unlock()'s check)
  // Slot word (one per slot line):
  //   0                  empty
  //   tag(t) | w         held by the read lock of the thread with ordinal t
  //                      (tag(t) = (t + 1) << 1); w = kDrainWaiter: the
  //                      writer is parked on this slot, waiting for it to
  //                      empty (INV-DRAIN-SLOT).
  // Invariants (argued in distributed_rw_mutex.cc):
  // INV-SLOT-OWNER: only the thread t writes tag(t) into a slot (its CAS
  //   from 0), and only t clears a slot holding tag(t); the writer only adds
  //   kDrainWaiter to a non-empty slot.
  // INV-BIAS-WRITER: kBias is cleared only by a thread holding the inner
  //   write lock and set only by one holding the inner read lock (or, when a
  //   writer gives up, by that writer before it releases the write lock).
  // INV-DEKKER: a biased reader publishes (seq_cst CAS on its slot) and then
  //   re-checks kBias (seq_cst load); a writer clears kBias (seq_cst store)
  //   and then scans the slots (seq_cst loads). So either the reader sees the
  //   bias off and withdraws, or the writer sees its slot held and waits.
  static constexpr uint32_t kBias = 1u << 0;
  static constexpr uint32_t kWriterHeld = 1u << 1;
  static constexpr uint64_t kDrainWaiter = 1;

  using Slot = internal::CachePadded<internal::Atomic<uint64_t>>;

  static uint64_t tag(uint32_t ordinal) noexcept {
    return (static_cast<uint64_t>(ordinal) + 1) << 1;
  }
  internal::Atomic<uint64_t>& slot_of(uint32_t ordinal) const noexcept {
    return *slots_[ordinal & mask_];
  }

  // The biased read attempt: true when this thread now holds its slot.
  bool try_lock_shared_biased() noexcept;
  // Clears the caller's slot (release), waking a drain waiter if any.
  static void release_slot(internal::Atomic<uint64_t>& slot) noexcept;
  ABSL_ATTRIBUTE_NOINLINE static void wake_drainer(
      const internal::Atomic<uint64_t>& slot) noexcept;

  // Slow paths, out of line (distributed_rw_mutex.cc). False on deadline or
  // stop; deadline 0 means "do not wait" (try_*).
  // They take and keep the inner lock, which the analysis cannot follow.
  ABSL_ATTRIBUTE_NOINLINE bool lock_slow(int64_t deadline_ns,
                                         const std::stop_token* stop) noexcept
      ABSL_NO_THREAD_SAFETY_ANALYSIS;
  ABSL_ATTRIBUTE_NOINLINE bool lock_shared_slow(
      int64_t deadline_ns,
      const std::stop_token* stop) noexcept ABSL_NO_THREAD_SAFETY_ANALYSIS;
  // After the inner write lock: revoke the bias and drain the slots; on
  // deadline or stop restores the bias, releases the inner lock, false.
  bool revoke(int64_t deadline_ns, const std::stop_token* stop) noexcept
      ABSL_NO_THREAD_SAFETY_ANALYSIS;
  // Waits until `slot` is empty. False on deadline or stop.
  static bool wait_slot_empty(internal::Atomic<uint64_t>& slot,
                              int64_t deadline_ns,
                              const std::stop_token* stop) noexcept;
  [[noreturn]] ABSL_ATTRIBUTE_NOINLINE static void unlock_not_held() noexcept;
  // After a central read lock: re-enable the bias if its time has come.
  void maybe_enable_bias() noexcept;

  static void debug_note_shared_acquired(const DistributedRWMutex* mu) noexcept;
  static void debug_note_shared_released(const DistributedRWMutex* mu) noexcept;
  static bool debug_holds_shared(const DistributedRWMutex* mu) noexcept;

  RWMutex inner_;  // 8 bytes: its state word and label flag
  internal::Atomic<uint32_t> bias_{kBias};
  uint32_t mask_;  // beside bias_: the four 32-bit fields leave no padding
  // Monotonic ns before which readers do not re-enable the bias.
  internal::Atomic<int64_t> inhibit_until_ns_{0};
  std::unique_ptr<Slot[]> slots_;
};

// Holds `mu` for writing for the guard's lifetime.
class ABSL_SCOPED_LOCKABLE DistributedWriterMutexLock {
 public:
  explicit DistributedWriterMutexLock(DistributedRWMutex& mu) noexcept
      ABSL_EXCLUSIVE_LOCK_FUNCTION(mu)
      : mu_(mu) {
    mu_.lock();
  }
  DistributedWriterMutexLock(const DistributedWriterMutexLock&) = delete;
  DistributedWriterMutexLock& operator=(const DistributedWriterMutexLock&) =
      delete;
  ~DistributedWriterMutexLock() ABSL_UNLOCK_FUNCTION() { mu_.unlock(); }

 private:
  DistributedRWMutex& mu_;
};

// Holds `mu` for reading for the guard's lifetime.
class ABSL_SCOPED_LOCKABLE DistributedReaderMutexLock {
 public:
  explicit DistributedReaderMutexLock(DistributedRWMutex& mu) noexcept
      ABSL_SHARED_LOCK_FUNCTION(mu)
      : mu_(mu) {
    mu_.lock_shared();
  }
  DistributedReaderMutexLock(const DistributedReaderMutexLock&) = delete;
  DistributedReaderMutexLock& operator=(const DistributedReaderMutexLock&) =
      delete;
  ~DistributedReaderMutexLock() ABSL_UNLOCK_FUNCTION() { mu_.unlock_shared(); }

 private:
  DistributedRWMutex& mu_;
};

// Implementation details only below here.

inline bool DistributedRWMutex::try_lock_shared_biased() noexcept {
  // Relaxed: a hint that keeps readers off their slots while the bias is
  // off; the seq_cst re-check below decides.
  if (ABSL_PREDICT_FALSE((bias_.load(std::memory_order_relaxed) & kBias) ==
                         0)) {
    return false;
  }
  const uint32_t me = internal::thread_slot();
  internal::Atomic<uint64_t>& slot = slot_of(me);
  uint64_t expected = 0;
  // seq_cst: INV-DEKKER (publish, then re-check). Relaxed on failure: the
  // slot is someone else's (or ours, recursively); we take the central path
  // and read nothing through this slot.
  if (ABSL_PREDICT_FALSE(!slot.compare_exchange_strong(
          expected, tag(me), std::memory_order_seq_cst,
          std::memory_order_relaxed))) {
    return false;
  }
  // seq_cst: INV-DEKKER. Also an acquire: pairs with the release that set
  // kBias (maybe_enable_bias, or a writer giving up), which happened after
  // the last writer's unlock (INV-BIAS-WRITER), so that writer's unlock
  // happens-before our read section.
  if (ABSL_PREDICT_TRUE((bias_.load(std::memory_order_seq_cst) & kBias) != 0)) {
    return true;
  }
  // Revoked meanwhile: withdraw (the writer may be waiting for this slot).
  release_slot(slot);
  return false;
}

inline void DistributedRWMutex::release_slot(
    internal::Atomic<uint64_t>& slot) noexcept {
  // Release: pairs with the acquire load by which a draining writer sees the
  // slot empty (revoke), ordering our read section before its write.
  const uint64_t old = slot.exchange(0, std::memory_order_release);
  // INV-LIFETIME: after the exchange only the slot's address is used.
  if (ABSL_PREDICT_FALSE((old & kDrainWaiter) != 0)) wake_drainer(slot);
}

inline void DistributedRWMutex::lock_shared() noexcept {
  if (ABSL_PREDICT_TRUE(try_lock_shared_biased())) {
#ifndef NDEBUG
    debug_note_shared_acquired(this);
#endif
    return;
  }
  lock_shared_slow(internal::kNoDeadline, nullptr);
}

inline bool DistributedRWMutex::try_lock_shared() noexcept {
  if (ABSL_PREDICT_TRUE(try_lock_shared_biased())) {
#ifndef NDEBUG
    debug_note_shared_acquired(this);
#endif
    return true;
  }
  return lock_shared_slow(/*deadline_ns=*/0, nullptr);
}

// The token is taken by value like std::condition_variable_any's.
// NOLINTNEXTLINE(performance-unnecessary-value-param)
inline bool DistributedRWMutex::lock_shared(std::stop_token stop) noexcept {
  return lock_shared_slow(internal::kNoDeadline, &stop);
}

inline void DistributedRWMutex::unlock_shared() noexcept {
#ifndef NDEBUG
  debug_note_shared_released(this);
#endif
  const uint32_t me = internal::thread_slot();
  internal::Atomic<uint64_t>& slot = slot_of(me);
  // Relaxed: INV-SLOT-OWNER -- only this thread stores tag(me), so seeing it
  // means this thread holds the slot (its own earlier write); any other value
  // means this read lock was taken centrally.
  if ((slot.load(std::memory_order_relaxed) & ~kDrainWaiter) == tag(me)) {
    release_slot(slot);
    return;
  }
  inner_.unlock_shared();
}

inline void DistributedRWMutex::lock() noexcept {
  lock_slow(internal::kNoDeadline, nullptr);
}

inline void DistributedRWMutex::unlock() noexcept {
  // Relaxed: INV-BIAS-WRITER -- while a writer holds the lock nobody else
  // changes bias_; the inner unlock() below is the release.
  const uint32_t b = bias_.load(std::memory_order_relaxed);
  if (ABSL_PREDICT_FALSE((b & kWriterHeld) == 0)) unlock_not_held();
  bias_.store(b & ~kWriterHeld, std::memory_order_relaxed);
  inner_.unlock();
}

inline bool DistributedRWMutex::try_lock() noexcept {
  return lock_slow(/*deadline_ns=*/0, nullptr);
}

// NOLINTNEXTLINE(performance-unnecessary-value-param)
inline bool DistributedRWMutex::lock(std::stop_token stop) noexcept {
  return lock_slow(internal::kNoDeadline, &stop);
}

}  // namespace contend

#endif  // CONTEND_SHARD_DISTRIBUTED_RW_MUTEX_H_
