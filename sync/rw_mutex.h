// Copyright 2026 The contend Authors.
//
// contend::RWMutex: a writer-preferring reader/writer lock (Go's
// sync.RWMutex) on the ParkingLot, with its guards ReaderMutexLock and
// WriterMutexLock.

#ifndef CONTEND_SYNC_RW_MUTEX_H_
#define CONTEND_SYNC_RW_MUTEX_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <stop_token>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "absl/base/thread_annotations.h"
#include "sync/internal/atomic.h"
#include "sync/internal/clock.h"

namespace contend {

// An RWMutex is a lock that many readers may hold at once, or one writer
// alone.
//
// Model: the lock is `free`, `read-locked by n >= 1 readers`, or
// `write-locked`; in addition a writer may be `queued` (it has claimed the
// lock and waits for the readers present at the claim to leave):
//
//   state                 lock_shared()        lock()
//   free                  acquires             acquires
//   read-locked (n)       acquires (n+1)       claims, waits for n -> 0
//   write-locked          waits                waits
//   writer queued         waits (writer pref.) waits
//
// Contract:
//  - Requires: unlock() only by the thread that holds the write lock;
//    unlock_shared() only by a thread that holds a read lock, on the thread
//    that acquired it (std SharedLockable; Go's "RUnlock on another
//    goroutine" is not supported, and the debug-build tracking below relies
//    on it). When the RWMutex is destroyed no lock is held and no other
//    thread is inside a call on it, except as below.
//  - Guarantees:
//    * Destruction right after the last release: a thread that acquired
//      the lock and released it may destroy the RWMutex at once (e.g. it
//      deletes the object that holds it), although the thread whose
//      unlock()/unlock_shared() let it in may still be inside that call:
//      releases touch nothing of the object once they have let another
//      thread in (POSIX's rule for mutexes; glibc bug 13690).
//    * Writer preference (Go): once a writer is queued, new readers wait, so a
//      stream of readers cannot starve a writer: once it has claimed the lock
//      it waits only for the readers already inside.
//    * Nobody starves for long: a writer's unlock normally lets running
//      threads compete for the lock (barging: a writer that re-locks at once
//      keeps it without a context switch) and wakes only the oldest parked
//      thread to compete too; if that one loses, it keeps watch with a
//      100 us timer instead of being woken again by every unlock. Once a
//      parked thread has waited 1 ms (Go's Mutex starvation threshold), the
//      next writer unlock grants instead: every parked reader is woken with
//      its read lock already granted and the first parked writer with its
//      claim (it then waits for those readers), so readers that waited get
//      in before the next writer -- Go's RWMutex alternation, paid for only
//      when someone has waited 1 ms. A parked thread whose lock became free
//      while a watcher was on duty waits at most for the watcher's timer.
//    * No spurious failure: try_lock_shared() fails only when the lock is
//      write-locked or a writer is queued; try_lock() only then or when
//      read-locked -- whatever threads are parked or woken meanwhile. (A
//      lock_shared() that met a writer counts itself for a few instructions
//      before taking the count back, so a try_lock() right after that
//      writer's unlock can see a reader that is leaving.)
//      try_lock_for/until and lock(std::stop_token) fail only at the deadline
//      or on a stop request. A stop already requested on entry fails at once
//      unless the lock is free (as Mutex::lock(std::stop_token)).
//    * Satisfies the standard SharedTimedLockable requirements, so
//      std::unique_lock, std::shared_lock, std::scoped_lock and
//      std::condition_variable_any work with it.
// Thread safety: every member may be called concurrently (within the
//   Requires above).
// Memory ordering (as happens-before between calls, as Go's memory model
// states it for sync.RWMutex):
//  - unlock() happens-before the next lock() and every later lock_shared()
//    that returns (or try_* that returns true);
//  - unlock_shared() happens-before the next lock() that returns, but not
//    before other readers' lock_shared() (readers do not synchronize with each
//    other, exactly as Go's RUnlock/RLock);
//  - a try_* that returns false gives no ordering.
// Misuse:
//  - unlock() when not write-locked: always checked, terminates with
//    "contend: RWMutex::unlock: not locked for writing".
//  - unlock_shared() with no reader: always checked, terminates with
//    "contend: RWMutex::unlock_shared: no reader holds the lock" (an extra
//    unlock_shared() while other readers hold the lock is undetectable and
//    undefined).
//  - Recursive read locking while a writer is queued (the "RLock recursion"
//    production deadlock of *sync — Senior*): in debug builds (NDEBUG not
//    defined) a blocking lock_shared*() by a thread that already holds this
//    RWMutex for reading, made while a writer is queued, terminates with
//    "contend: RWMutex::lock_shared: RLock recursion deadlock: ..." instead of
//    hanging. Recursion while no writer is queued succeeds (as in Go) but is a
//    latent deadlock. Likewise lock() by a thread holding this RWMutex for
//    reading (upgrade deadlock) terminates in debug builds with
//    "contend: RWMutex::lock: called while holding the read lock ...". Release
//    builds have no tracking (and hang, as Go does). The tracking is a
//    thread_local table of up to 16 (RWMutex, count) pairs; deeper nesting is
//    not tracked. Every translation unit of a program must agree on NDEBUG.
//  - Destroying a locked RWMutex, relocking by the writer, unlock() by a
//    thread that does not hold it while another writer is queued: undefined.
// Cost: sizeof(RWMutex) == 8 (one 32-bit state word plus a label flag;
//   static_assert in rw_mutex.cc). Uncontended: lock_shared() and
//   unlock_shared() are one atomic RMW each (fetch_add/fetch_sub: readers never
//   retry a CAS, so readers on different cores cost one cache-line transfer
//   each, never a retry storm); lock()/unlock() one CAS each. No separate
//   reader-wait counter: the writer waits for the reader field of the same word
//   to drain. Contended: waiters spin with internal::Backoff (about 4 us of
//   pauses, then 4 sched_yield) before parking on the ParkingLot, so short
//   critical sections never pay a futex round trip (a thread woken to retry
//   that loses again parks at once). A writer unlock with parked threads wakes
//   one thread (none while a woken one is retrying or on watch), or, after 1 ms
//   of starvation, every parked reader and one writer in one ParkingLot call.
//   The clock is read only by timed waits and around parking. Never
//   allocates. Numbers: bench/sync/RESULTS.md, section "RWMutex"
//   (//bench/sync:rw_mutex_benchmark): read lock+unlock ~0.5x
//   std::shared_mutex; the article's 4-readers-1-writer table at 50 ns
//   ~0.65x contend::Mutex.
//
// Example:
//   contend::RWMutex mu;
//   std::map<std::string, int> table ABSL_GUARDED_BY(mu);
//   int lookup(const std::string& k) {
//     contend::ReaderMutexLock l(mu);
//     auto it = table.find(k);
//     return it == table.end() ? -1 : it->second;
//   }
//   void store(const std::string& k, int v) {
//     contend::WriterMutexLock l(mu);
//     table[k] = v;
//   }
class ABSL_LOCKABLE RWMutex {
 public:
  constexpr RWMutex() noexcept = default;
  // An unlocked RWMutex whose waits -- readers', writers' and a writer's
  // drain of the readers -- the profiler reports under `label` (see
  // internal::set_wait_label). `label` must have static storage duration.
  // Not constexpr (it registers the label); the destructor unregisters it.
  explicit RWMutex(const char* label);
  ~RWMutex();
  RWMutex(const RWMutex&) = delete;
  RWMutex& operator=(const RWMutex&) = delete;

  // Exclusive (writer) side.
  void lock() noexcept ABSL_EXCLUSIVE_LOCK_FUNCTION();
  void unlock() noexcept ABSL_UNLOCK_FUNCTION();
  [[nodiscard]] bool try_lock() noexcept ABSL_EXCLUSIVE_TRYLOCK_FUNCTION(true);
  template <class Rep, class Period>
  [[nodiscard]] bool try_lock_for(std::chrono::duration<Rep, Period> d) noexcept
      ABSL_EXCLUSIVE_TRYLOCK_FUNCTION(true);
  template <class Clock, class Duration>
  [[nodiscard]] bool try_lock_until(
      std::chrono::time_point<Clock, Duration> tp) noexcept
      ABSL_EXCLUSIVE_TRYLOCK_FUNCTION(true);
  // Acquires the write lock unless stop is requested first; false then.
  [[nodiscard]] bool lock(std::stop_token stop) noexcept
      ABSL_EXCLUSIVE_TRYLOCK_FUNCTION(true);

  // Shared (reader) side.
  void lock_shared() noexcept ABSL_SHARED_LOCK_FUNCTION();
  void unlock_shared() noexcept ABSL_UNLOCK_FUNCTION();
  [[nodiscard]] bool try_lock_shared() noexcept
      ABSL_SHARED_TRYLOCK_FUNCTION(true);
  template <class Rep, class Period>
  [[nodiscard]] bool try_lock_shared_for(
      std::chrono::duration<Rep, Period> d) noexcept
      ABSL_SHARED_TRYLOCK_FUNCTION(true);
  template <class Clock, class Duration>
  [[nodiscard]] bool try_lock_shared_until(
      std::chrono::time_point<Clock, Duration> tp) noexcept
      ABSL_SHARED_TRYLOCK_FUNCTION(true);
  // Acquires a read lock unless stop is requested first; false then.
  [[nodiscard]] bool lock_shared(std::stop_token stop) noexcept
      ABSL_SHARED_TRYLOCK_FUNCTION(true);

 private:
  friend class RWMutexTestPeer;  // tests/sync: sets flag bits, reads keys

  // State word bit layout (32 bits):
  //
  //   bits   name           meaning
  //   0      kParked        threads are parked on the main key (&state_):
  //                         readers and writers waiting for kWriter to clear
  //   1      kWriterParked  the writer that set kWriter is parked on the
  //                         drain key, waiting for the reader count to reach 0
  //   2      kWriter        a writer holds the lock, or has claimed it and is
  //                         draining readers ("writer queued")
  //   3      kWoken         a thread woken by a barging unlock is retrying,
  //                         or keeps watch on a timer (INV-WOKEN); unlocks
  //                         need not wake another one (Go's mutexWoken)
  //   4      kStarving      a parked thread has waited kStarvingNs: the next
  //                         writer unlock grants instead of barging
  //   5..31  readers        number of read locks held, plus readers that are
  //                         transiently counted by the fast path's fetch_add
  //                         and about to take it back (kOneReader units)
  //
  //   readers  kWriter  meaning (whatever the flag bits 0, 1, 3, 4 say)
  //   0        0        free
  //   n > 0    0        read-locked by n readers
  //   n > 0    1        writer queued, waiting for n readers to leave
  //   0        1        write-locked
  //
  // INV-PARK-MAIN: a thread parks on the main key only while kWriter is set,
  //   and kParked is set (under the queue lock, by validate) before it sleeps.
  //   So an unlock() that finds kParked clear may release with one CAS, and
  //   one that finds it set must wake someone unless INV-WOKEN covers it.
  // INV-WOKEN: while kWoken is set, a thread that owes a retry exists: it was
  //   woken with kTokenRetry and is running, or it is a watcher parked with a
  //   timer of at most kWatchNs. It discharges the debt by acquiring (a
  //   reader then wakes the parked threads, which may now proceed; a writer's
  //   own unlock becomes responsible), by giving up (waking the parked
  //   threads if kWriter is clear), or by re-parking without a timer once it
  //   starves (it sets kStarving, so the next unlock grants). An unlock that
  //   skips the wake because of kWoken therefore strands nobody: at worst the
  //   parked threads wait for the watcher's timer.
  // INV-DRAIN: only the thread that set kWriter parks on the drain key, only
  //   while readers > 0, and it sets kWriterParked first (under that key's
  //   queue lock). The reader whose fetch_sub takes readers from 1 to 0 sees
  //   kWriterParked and wakes it. The writer clears the bit itself, when it
  //   wakes or gives up (the waking reader may not, INV-LIFETIME); until then
  //   a reader that sees it only makes an unpark_one that finds nobody.
  // INV-HANDOFF: a thread woken with kTokenHandoff already owns what it
  //   waited for (its kOneReader, or kWriter) -- the waker added it to
  //   state_ under the queue lock -- and must not touch the word to acquire.
  // INV-RMW: after construction state_ is modified only by RMWs, so every
  //   release (unlock, unlock_shared, handoff) heads a release sequence that
  //   later acquire loads of any newer value synchronize with.
  // INV-LIFETIME: once a release -- unlock()'s CAS, unlock_shared()'s
  //   fetch_sub, or the CAS in wake_parked()'s unpark callback -- has let
  //   another thread in, that thread may unlock and destroy the RWMutex
  //   (Contract). So the releasing thread touches nothing of the object
  //   after it; it may still pass a key to the ParkingLot, which only
  //   compares it. A writer unlock that must wake someone therefore releases
  //   inside the unpark callback (under the queue lock, before any woken
  //   thread runs, while the lock is still held); the last reader wakes the
  //   draining writer by address only (INV-DRAIN).
  static constexpr uint32_t kParked = 1u << 0;
  static constexpr uint32_t kWriterParked = 1u << 1;
  static constexpr uint32_t kWriter = 1u << 2;
  static constexpr uint32_t kWoken = 1u << 3;
  static constexpr uint32_t kStarving = 1u << 4;
  static constexpr uint32_t kOneReader = 1u << 5;
  static constexpr uint32_t kReaderMask = ~(kOneReader - 1);
  static_assert((kParked | kWriterParked | kWriter | kWoken | kStarving) ==
                    kOneReader - 1,
                "flag bits sit below the reader count");
  static_assert((kReaderMask >> 5) == (1u << 27) - 1,
                "27 bits of readers: more than any process has threads");

  // Slow paths, out of line (rw_mutex.cc).
  // lock(): claim kWriter, then drain readers. False on deadline/stop.
  ABSL_ATTRIBUTE_NOINLINE bool lock_slow(int64_t deadline_ns,
                                         const std::stop_token* stop) noexcept;
  ABSL_ATTRIBUTE_NOINLINE void unlock_slow() noexcept;
  // lock_shared() after the fast path saw kWriter; `counted`: the fast path's
  // kOneReader is still in state_ and must be taken back first.
  ABSL_ATTRIBUTE_NOINLINE bool lock_shared_slow(
      bool counted, int64_t deadline_ns, const std::stop_token* stop) noexcept;
  ABSL_ATTRIBUTE_NOINLINE void unlock_shared_slow(uint32_t old) noexcept;

  // Spins, then parks on the main key, until it adds a reader (writer ==
  // false) or claims kWriter (writer == true). False on deadline/stop.
  bool acquire_slow(bool writer, int64_t deadline_ns,
                    const std::stop_token* stop) noexcept;
  // Releases kWriter (held or merely claimed), waking parked threads if any.
  void release_writer() noexcept;
  // Wakes threads parked on the main key; see rw_mutex.cc.
  enum class Wake : uint8_t { kRelease, kReleaseGrant, kDischarge };
  void wake_parked(Wake how) noexcept;
  // A thread that owes INV-WOKEN gives up without acquiring.
  void woken_gave_up() noexcept;
  // The drain key: a second ParkingLot address inside this object.
  const void* drain_key() const noexcept {
    return reinterpret_cast<const char*>(&state_) + 1;
  }

  // Debug-build read-lock tracking (see Misuse); defined in rw_mutex.cc in
  // every build mode so that mixed objects still link.
  static void debug_note_shared_acquired(const RWMutex* mu) noexcept;
  static void debug_note_shared_released(const RWMutex* mu) noexcept;
  static bool debug_holds_shared(const RWMutex* mu) noexcept;

  static constexpr uint32_t kLabeled = 1u << 0;
  ABSL_ATTRIBUTE_NOINLINE ABSL_ATTRIBUTE_COLD void destroy_labeled() noexcept;

  internal::Atomic<uint32_t> state_{0};
  // kLabeled if constructed with a label. Written only by the constructor,
  // read only by the destructor (never concurrently with an operation).
  uint32_t flags_ = 0;
};

inline RWMutex::~RWMutex() {
  if (ABSL_PREDICT_FALSE(flags_ != 0)) destroy_labeled();
}

// Holds `mu` for writing for the guard's lifetime.
class ABSL_SCOPED_LOCKABLE WriterMutexLock {
 public:
  explicit WriterMutexLock(RWMutex& mu) noexcept
      ABSL_EXCLUSIVE_LOCK_FUNCTION(mu)
      : mu_(mu) {
    mu_.lock();
  }
  WriterMutexLock(const WriterMutexLock&) = delete;
  WriterMutexLock& operator=(const WriterMutexLock&) = delete;
  ~WriterMutexLock() ABSL_UNLOCK_FUNCTION() { mu_.unlock(); }

 private:
  RWMutex& mu_;
};

// Holds `mu` for reading for the guard's lifetime.
class ABSL_SCOPED_LOCKABLE ReaderMutexLock {
 public:
  explicit ReaderMutexLock(RWMutex& mu) noexcept ABSL_SHARED_LOCK_FUNCTION(mu)
      : mu_(mu) {
    mu_.lock_shared();
  }
  ReaderMutexLock(const ReaderMutexLock&) = delete;
  ReaderMutexLock& operator=(const ReaderMutexLock&) = delete;
  ~ReaderMutexLock() ABSL_UNLOCK_FUNCTION() { mu_.unlock_shared(); }

 private:
  RWMutex& mu_;
};

// Implementation details only below here.

inline void RWMutex::lock() noexcept {
  uint32_t expected = 0;
  // Acquire: pairs with the release in unlock()/unlock_shared() (INV-RMW).
  if (ABSL_PREDICT_FALSE(!state_.compare_exchange_strong(
          expected, kWriter, std::memory_order_acquire,
          std::memory_order_relaxed))) {
    lock_slow(internal::kNoDeadline, nullptr);
  }
}

inline bool RWMutex::try_lock() noexcept {
  // Free means no writer and no reader counted; the flag bits (kParked,
  // kWoken, kStarving) do not make it busy and are kept. The first guess is
  // the bare free word, so the uncontended case is the one CAS lock() does;
  // a miss retries with the word it saw while that is still free.
  uint32_t s = 0;
  do {
    // Acquire: pairs with the release in unlock()/unlock_shared() (INV-RMW).
    // Relaxed on failure: the loop re-checks the word it got; a failed
    // try_lock gives no ordering.
    if (state_.compare_exchange_weak(s, s | kWriter, std::memory_order_acquire,
                                     std::memory_order_relaxed)) {
      return true;
    }
  } while ((s & (kWriter | kReaderMask)) == 0);
  return false;
}

template <class Rep, class Period>
bool RWMutex::try_lock_for(std::chrono::duration<Rep, Period> d) noexcept {
  if (try_lock()) return true;
  return lock_slow(internal::deadline_after(d), nullptr);
}

template <class Clock, class Duration>
bool RWMutex::try_lock_until(
    std::chrono::time_point<Clock, Duration> tp) noexcept {
  if (try_lock()) return true;
  return lock_slow(internal::to_monotonic_deadline(tp), nullptr);
}

// The token is taken by value like std::condition_variable_any's (it is a
// shared handle; copying it is a reference-count increment).
// NOLINTNEXTLINE(performance-unnecessary-value-param)
inline bool RWMutex::lock(std::stop_token stop) noexcept {
  if (try_lock()) return true;
  return lock_slow(internal::kNoDeadline, &stop);
}

inline void RWMutex::unlock() noexcept {
  uint32_t expected = kWriter;
  // Release: pairs with the acquire in lock()/lock_shared()/try_* of the next
  // owner (INV-RMW). Fails when threads are parked (INV-PARK-MAIN), when a
  // reader is transiently counted, or on misuse; the slow path sorts it out.
  if (ABSL_PREDICT_FALSE(!state_.compare_exchange_strong(
          expected, 0, std::memory_order_release, std::memory_order_relaxed))) {
    unlock_slow();
  }
}

inline void RWMutex::lock_shared() noexcept {
  // Acquire: pairs with the release in unlock() (INV-RMW). One RMW that cannot
  // fail: under reader contention there is no CAS retry loop.
  const uint32_t old = state_.fetch_add(kOneReader, std::memory_order_acquire);
  if (ABSL_PREDICT_FALSE((old & kWriter) != 0)) {
    lock_shared_slow(/*counted=*/true, internal::kNoDeadline, nullptr);
  }
#ifndef NDEBUG
  debug_note_shared_acquired(this);
#endif
}

inline bool RWMutex::try_lock_shared() noexcept {
  // Only kWriter keeps a reader out; the flag bits are carried over.
  uint32_t s = state_.load(std::memory_order_relaxed);
  while ((s & kWriter) == 0) {
    // Acquire: pairs with the release in unlock(). Relaxed load and failure:
    // a hint only, the CAS re-validates; a failed try gives no ordering.
    if (state_.compare_exchange_weak(s, s + kOneReader,
                                     std::memory_order_acquire,
                                     std::memory_order_relaxed)) {
#ifndef NDEBUG
      debug_note_shared_acquired(this);
#endif
      return true;
    }
  }
  return false;
}

template <class Rep, class Period>
bool RWMutex::try_lock_shared_for(
    std::chrono::duration<Rep, Period> d) noexcept {
  if (try_lock_shared()) return true;
  const bool ok =
      lock_shared_slow(/*counted=*/false, internal::deadline_after(d), nullptr);
#ifndef NDEBUG
  if (ok) debug_note_shared_acquired(this);
#endif
  return ok;
}

template <class Clock, class Duration>
bool RWMutex::try_lock_shared_until(
    std::chrono::time_point<Clock, Duration> tp) noexcept {
  if (try_lock_shared()) return true;
  const bool ok = lock_shared_slow(
      /*counted=*/false, internal::to_monotonic_deadline(tp), nullptr);
#ifndef NDEBUG
  if (ok) debug_note_shared_acquired(this);
#endif
  return ok;
}

// NOLINTNEXTLINE(performance-unnecessary-value-param)
inline bool RWMutex::lock_shared(std::stop_token stop) noexcept {
  if (try_lock_shared()) return true;
  const bool ok =
      lock_shared_slow(/*counted=*/false, internal::kNoDeadline, &stop);
#ifndef NDEBUG
  if (ok) debug_note_shared_acquired(this);
#endif
  return ok;
}

inline void RWMutex::unlock_shared() noexcept {
#ifndef NDEBUG
  debug_note_shared_released(this);
#endif
  // Release: pairs with the acquire load by which a writer sees the reader
  // count drained (lock_slow), ordering this read section before its write.
  const uint32_t old = state_.fetch_sub(kOneReader, std::memory_order_release);
  // Slow when a writer waits on the drain key (INV-DRAIN; the slow path
  // checks whether we were the last reader) or on misuse (no reader).
  if (ABSL_PREDICT_FALSE((old & kWriterParked) != 0) ||
      ABSL_PREDICT_FALSE(old < kOneReader)) {
    unlock_shared_slow(old);
  }
}

}  // namespace contend

#endif  // CONTEND_SYNC_RW_MUTEX_H_
