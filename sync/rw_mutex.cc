// Copyright 2026 The contend Authors.
//
// RWMutex slow paths. The state word and its invariants are documented in
// rw_mutex.h (INV-PARK-MAIN, INV-WOKEN, INV-DRAIN, INV-HANDOFF,
// INV-RMW, INV-LIFETIME).
//
// Why one word and no reader-wait counter. Go's RWMutex keeps readerCount
// and readerWait: the writer subtracts a large constant from readerCount so
// that arriving readers see "writer pending", and counts the departing
// readers it waits for in readerWait. Both counters are written by readers,
// so a read lock+unlock touches the shared line up to three times and the
// writer's bookkeeping needs a second RMW per departing reader. Here the
// writer's claim is one bit (kWriter) in the word whose upper bits count the
// readers; a reader that arrives after the claim takes its increment back at
// once (lock_shared_slow), so "the readers the writer waits for" is simply
// the reader field, and the writer waits for it to reach zero. A read
// lock+unlock is therefore exactly two RMWs on one line whatever happens.
//
// Why waiters spin first. The RWMutex table of *sync — Senior* has it losing to
// Mutex at 50 ns critical sections; the cost there is not the reader count
// but the futex round trip (a few us) that Go's RWMutex pays whenever a
// reader meets a writer, 100x the critical section. Waiters here spin with
// Backoff (pauses, then sched_yield so a preempted holder can run) for about
// the cost of one park/unpark before parking, so short critical sections are
// handed over in cache-line-transfer time. Measured in bench/sync/RESULTS.md.
//
// Why a writer's unlock barges instead of always handing off. Go's RWMutex
// (and this file's first version) hands the lock to every waiting reader at
// each writer unlock, then lets the next writer claim it: strict
// alternation. With a writer that re-locks at once (the article's 4 readers
// + 1 writer table) every write then costs a round of wakeups: the readers
// must be scheduled before the writer's next claim can drain them, and the
// writer sleeps meanwhile (~20,000 context switches per 100,000 ops). Here
// an unlock wakes only the oldest waiter to compete (Go's Mutex normal
// mode), a woken thread that loses keeps watch on a 100 us timer so that
// the re-locking writer does not pay a futex wake at every unlock
// (INV-WOKEN), and the alternation comes back as the fairness backstop once
// someone has waited 1 ms. W3 at 5 us critical sections on the 2-CPU VM,
// median of 8 interleaved runs while other jobs shared the CPUs (a lock-free
// run of the same work took 2,791 ns/op there, ideal 2,500): always-handoff
// 6,420 ns/op; barging with a wake per unlock 3,817 (3,523-4,455); with the
// watcher 3,764 (3,568-3,837); ideal 3,000. See bench/sync/RESULTS.md.
//
// A tempting wrong implementation: let a blocked reader park while kWriter is
// set but keep its fast-path increment in the reader field (as Go does with
// readerCount). Then "readers the writer must wait for" and "readers waiting
// for the writer" are mixed in one field and the writer would wait for
// threads that wait for it: a deadlock. Go needs readerWait exactly to
// separate them; taking the increment back is what lets us drop it.
//
// Another: let a woken reader that acquires simply return. Writers parked
// behind the writer that just left wait for kWriter to clear, which it now
// is; if no other writer ever unlocks, nobody would wake them. Hence the
// woken reader's duty to wake the others (wake_parked(false)).

#include "sync/rw_mutex.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stop_token>

#include "absl/base/attributes.h"
#include "sync/internal/backoff.h"
#include "sync/internal/clock.h"
#include "sync/internal/fatal.h"
#include "sync/internal/parking_lot.h"
#include "sync/internal/wait_observer.h"

namespace contend {

static_assert(sizeof(RWMutex) == 8,
              "RWMutex is one 32-bit state word and a label flag");
static_assert(sizeof(RWMutex) <= 16, "issue 3: sizeof(RWMutex) <= 16");
static_assert(std::atomic<uint32_t>::is_always_lock_free);

namespace {

using internal::Backoff;
using internal::FilterOp;
using internal::ParkingLot;
using internal::ParkOptions;
using internal::ParkResult;
using internal::ParkStatus;
using internal::UnparkResult;
using internal::WaitKind;

// Unpark tokens. kTokenRetry: the state changed, compete again.
// kTokenHandoff: INV-HANDOFF, the waker granted what the thread waited for.
constexpr uintptr_t kTokenRetry = internal::kDefaultUnparkToken;
constexpr uintptr_t kTokenHandoff = 1;
static_assert(kTokenRetry != kTokenHandoff);

// Park tokens: bit 0 says writer; the upper bits carry the time the thread
// first parked in this acquisition (kept across re-parks), which the waker
// reads to detect starvation.
constexpr uintptr_t kParkWriterBit = 1;
static_assert(sizeof(uintptr_t) == 8, "timestamps ride in park tokens");

uintptr_t park_token(int64_t first_park_ns, bool writer) {
  return (static_cast<uintptr_t>(first_park_ns) << 1) |
         (writer ? kParkWriterBit : 0);
}
int64_t park_time(uintptr_t token) { return static_cast<int64_t>(token >> 1); }

// Go's Mutex starvation threshold (1 ms): once the oldest parked thread has
// waited this long, a writer's unlock grants instead of barging.
constexpr int64_t kStarvingNs = 1'000'000;

// How long a watcher (INV-WOKEN) sleeps before it looks again. It bounds the
// extra latency parked threads see when a writer that kept re-locking stops
// (nobody wakes them then; the watcher's timer does), and costs one timer
// wakeup per period while such a writer runs.
constexpr int64_t kWatchNs = 100'000;

using internal::fatal;

// True when a timed or cancellable wait must give up. Reads the clock only for
// timed waits.
bool expired(int64_t deadline_ns, const std::stop_token* stop) noexcept {
  if (stop != nullptr && stop->stop_requested()) return true;
  return deadline_ns != internal::kNoDeadline &&
         internal::monotonic_now_ns() >= deadline_ns;
}

bool gave_up(ParkStatus status) noexcept {
  return status == ParkStatus::kTimedOut || status == ParkStatus::kCancelled;
}

// Debug-build read-lock tracking: which RWMutexes this thread holds for
// reading, with nesting counts. Fixed size: no allocation, no destructor.
struct HeldRead {
  const RWMutex* mu;
  uint32_t count;
};
constexpr int kMaxTrackedReads = 16;
constinit thread_local HeldRead t_held_reads[kMaxTrackedReads] = {};

}  // namespace

RWMutex::RWMutex(const char* label) {
  // Both ParkingLot keys: the main one (readers and writers queue there) and
  // the drain key (a writer waiting for the readers to leave).
  internal::set_wait_label(&state_, label);
  internal::set_wait_label(drain_key(), label);
  flags_ = kLabeled;
}

void RWMutex::destroy_labeled() noexcept {
  internal::clear_wait_label(&state_);
  internal::clear_wait_label(drain_key());
}

void RWMutex::debug_note_shared_acquired(const RWMutex* mu) noexcept {
  HeldRead* free_slot = nullptr;
  for (HeldRead& h : t_held_reads) {
    if (h.mu == mu) {
      ++h.count;
      return;
    }
    if (h.mu == nullptr && free_slot == nullptr) free_slot = &h;
  }
  if (free_slot != nullptr) *free_slot = HeldRead{mu, 1};
  // Else: table full, this hold is not tracked (documented limit).
}

void RWMutex::debug_note_shared_released(const RWMutex* mu) noexcept {
  for (HeldRead& h : t_held_reads) {
    if (h.mu == mu) {
      if (--h.count == 0) h.mu = nullptr;
      return;
    }
  }
}

bool RWMutex::debug_holds_shared(const RWMutex* mu) noexcept {
  for (const HeldRead& h : t_held_reads) {
    if (h.mu == mu) return true;
  }
  return false;
}

bool RWMutex::lock_slow(int64_t deadline_ns,
                        const std::stop_token* stop) noexcept {
#ifndef NDEBUG
  if (debug_holds_shared(this)) {
    fatal(
        "contend: RWMutex::lock: called while holding the read lock (upgrade "
        "deadlock: the writer would wait for its own read lock to drain)");
  }
#endif
  // Phase 1: claim kWriter.
  if (!acquire_slow(/*writer=*/true, deadline_ns, stop)) return false;

  // Phase 2: we own kWriter; wait for the readers to leave (INV-DRAIN).
  Backoff backoff;
  for (;;) {
    // Acquire: pairs with the release fetch_sub of every reader that left
    // (unlock_shared), ordering their read sections before our write.
    const uint32_t s = state_.load(std::memory_order_acquire);
    if ((s & kReaderMask) == 0) return true;
    if (expired(deadline_ns, stop)) {
      release_writer();
      return false;
    }
    if (!backoff.is_completed()) {
      backoff.snooze();
      continue;
    }
    ParkOptions options;
    options.deadline_ns = deadline_ns;
    options.stop = stop;
    options.kind = WaitKind::kRWMutexWriter;
    const ParkResult r = ParkingLot::park(
        drain_key(),
        [this] {
          // INV-DRAIN, under the drain key's queue lock. Relaxed: the last
          // reader's fetch_sub and this CAS are RMWs of one word, so either it
          // sees kWriterParked and wakes us or we see readers == 0.
          uint32_t cur = state_.load(std::memory_order_relaxed);
          for (;;) {
            if ((cur & kReaderMask) == 0) return false;
            if ((cur & kWriterParked) != 0) return true;
            if (state_.compare_exchange_weak(cur, cur | kWriterParked,
                                             std::memory_order_relaxed,
                                             std::memory_order_relaxed)) {
              return true;
            }
          }
        },
        [] {},
        [this](bool) {
          // Only the kWriter owner parks here, so we were the last. Relaxed:
          // a reader that still sees the bit wakes nobody (harmless).
          state_.fetch_and(~kWriterParked, std::memory_order_relaxed);
        },
        options);
    if (r.status == ParkStatus::kUnparked) {
      // INV-DRAIN: the reader that woke us leaves the bit to us, since it
      // may not touch the word after its fetch_sub (INV-LIFETIME). Relaxed:
      // as in timed_out; the acquire load above orders the readers' data.
      state_.fetch_and(~kWriterParked, std::memory_order_relaxed);
    }
    if (gave_up(r.status)) {
      // Acquire: as above; the readers may have left just now.
      if ((state_.load(std::memory_order_acquire) & kReaderMask) == 0) {
        return true;
      }
      release_writer();
      return false;
    }
    backoff.reset();
  }
}

bool RWMutex::acquire_slow(bool writer, int64_t deadline_ns,
                           const std::stop_token* stop) noexcept {
  Backoff backoff;
  bool woken = false;  // we owe INV-WOKEN
  int64_t first_park_ns = 0;
  for (;;) {
    uint32_t s = state_.load(std::memory_order_relaxed);
    if ((s & kWriter) == 0) {
      uint32_t next = writer ? (s | kWriter) : (s + kOneReader);
      if (woken) next &= ~kWoken;
      // Acquire: pairs with the release of the previous writer's unlock
      // (INV-RMW). A writer drains the readers still present afterwards.
      if (state_.compare_exchange_weak(s, next, std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
        // INV-WOKEN: the parked threads waited for kWriter, clear now: as a
        // reader we let them in (a writer's own unlock will see them).
        if (woken && !writer && (s & kParked) != 0) {
          wake_parked(Wake::kDischarge);
        }
        return true;
      }
      continue;
    }
    if (expired(deadline_ns, stop)) {
      if (woken) woken_gave_up();
      return false;
    }
    // A woken thread found the lock re-taken by a running writer: spinning
    // now would mostly steal that writer's CPU, so it parks at once (below).
    if (!woken && !backoff.is_completed()) {
      backoff.snooze();
      continue;
    }
    const int64_t now = internal::monotonic_now_ns();
    if (first_park_ns == 0) first_park_ns = now;
    // A woken thread that lost the race keeps the INV-WOKEN debt and parks
    // with a timer (a watcher), so that the writer's next unlocks need not
    // wake anyone; once it has starved it hands the debt back and asks for a
    // grant (kStarving) instead.
    const bool watch = woken && now - first_park_ns < kStarvingNs;
    const bool starving = woken && !watch;
    ParkOptions options;
    options.deadline_ns =
        watch ? std::min(deadline_ns, now + kWatchNs) : deadline_ns;
    options.stop = stop;
    options.park_token = park_token(first_park_ns, writer);
    options.kind = writer ? WaitKind::kRWMutexWriter : WaitKind::kRWMutexReader;
    bool enqueued = false;
    const ParkResult r = ParkingLot::park(
        &state_,
        [&] {
          // INV-PARK-MAIN, under the main key's queue lock. Relaxed: what
          // matters is the RMW order on state_ (an unlock's CAS fails if it
          // comes after this one); the path that grants the lock orders the
          // data.
          uint32_t cur = state_.load(std::memory_order_relaxed);
          for (;;) {
            if ((cur & kWriter) == 0) return false;
            uint32_t next = cur | kParked;
            if (watch) next |= kWoken;  // still ours (a grant may clear it)
            if (starving) next = (next & ~kWoken) | kStarving;
            if (next == cur || state_.compare_exchange_weak(
                                   cur, next, std::memory_order_relaxed,
                                   std::memory_order_relaxed)) {
              enqueued = true;
              return true;
            }
          }
        },
        [] {},
        [this](bool was_last) {
          // Under the main queue lock (also when a watcher's timer fires: it
          // is off the queue until it parks again). Relaxed: as in validate.
          if (was_last) {
            state_.fetch_and(~(kParked | kStarving), std::memory_order_relaxed);
          }
        },
        options);
    if (enqueued && starving) woken = false;  // debt handed back
    if (r.status == ParkStatus::kUnparked) {
      if (r.token == kTokenHandoff) return true;  // INV-HANDOFF
      woken = true;                               // kTokenRetry (INV-WOKEN)
    } else if (r.status == ParkStatus::kTimedOut && watch &&
               internal::monotonic_now_ns() < deadline_ns) {
      // The watch timer, not the caller's deadline: retry, still owing.
    } else if (gave_up(r.status)) {
      if (woken) woken_gave_up();
      return false;
    }
    backoff.reset();
  }
}

void RWMutex::unlock_slow() noexcept {
  if ((state_.load(std::memory_order_relaxed) & kWriter) == 0) {
    fatal("contend: RWMutex::unlock: not locked for writing");
  }
  release_writer();
}

void RWMutex::release_writer() noexcept {
  uint32_t s = state_.load(std::memory_order_relaxed);
  // Nobody parked, or a woken thread owes a retry and nobody starves
  // (INV-WOKEN): just release.
  while ((s & kParked) == 0 || (s & (kWoken | kStarving)) == kWoken) {
    // Release: pairs with the acquire of the next lock()/lock_shared()
    // (INV-RMW). Retries only because transient readers move the count.
    if (state_.compare_exchange_weak(s, s & ~kWriter, std::memory_order_release,
                                     std::memory_order_relaxed)) {
      return;
    }
  }
  wake_parked((s & kStarving) != 0 ? Wake::kReleaseGrant : Wake::kRelease);
}

// Wakes threads parked on the main key, in one ParkingLot call.
//
// Barging (kRelease, and the oldest waiter waited < kStarvingNs): kWriter is
//   released and only the oldest waiter is woken, with kTokenRetry; it
//   competes with running threads and owes INV-WOKEN. A writer that re-locks
//   at once keeps the lock without a context switch -- that is what keeps
//   write bursts cheap (Go's Mutex normal mode).
// Granting (kReleaseGrant: someone starved; kRelease whose oldest waiter
//   starved; kDischarge: a woken reader just acquired and must not strand the
//   others): every parked reader is woken with its read lock granted and the
//   first parked writer with kWriter granted (it then drains those readers):
//   the readers that waited get in before the next writer, and that writer
//   before later readers (Go's RWMutex alternation). Granting needs kWriter
//   clear (or being released by the caller); if another writer claimed it
//   meanwhile, everyone dequeued retries instead (and owes INV-WOKEN).
void RWMutex::wake_parked(Wake how) noexcept {
  const bool releasing = how != Wake::kDischarge;
  bool all = how != Wake::kRelease;
  bool decided = all;
  uint32_t readers = 0;
  bool writer = false;
  ParkingLot::unpark_filter(
      &state_,
      [&](uintptr_t token) {
        if (!decided) {
          decided = true;
          all = internal::monotonic_now_ns() - park_time(token) >= kStarvingNs;
        } else if (!all) {
          return FilterOp::kStop;  // barging: the oldest waiter only
        }
        if ((token & kParkWriterBit) == 0) {
          ++readers;
          return FilterOp::kUnpark;
        }
        if (writer) return FilterOp::kSkip;
        writer = true;
        return FilterOp::kUnpark;
      },
      [&](const UnparkResult& r) {
        bool grant = false;
        uint32_t cur = state_.load(std::memory_order_relaxed);
        for (;;) {
          uint32_t next = cur;
          if (releasing) next &= ~kWriter;
          grant = all && r.unparked != 0 && (next & kWriter) == 0;
          if (grant) {
            next += readers * kOneReader;
            if (writer) next |= kWriter;
            // The starving are served; a watcher that was granted owes
            // nothing (others in flight only cause an extra wake later).
            next &= ~(kWoken | kStarving);
          } else if (r.unparked != 0) {
            next |= kWoken;  // INV-WOKEN: the dequeued threads retry
          }
          next = r.have_more ? (next | kParked) : (next & ~kParked);
          // Release: pairs with the acquire of later lockers (INV-RMW); the
          // woken threads are ordered by the ParkingLot.
          if (state_.compare_exchange_weak(cur, next, std::memory_order_release,
                                           std::memory_order_relaxed)) {
            break;
          }
        }
        return grant ? kTokenHandoff : kTokenRetry;
      },
      /*is_release=*/releasing);
}

void RWMutex::woken_gave_up() noexcept {
  // Discharge INV-WOKEN without acquiring: clear kWoken and, if the lock is
  // not write-claimed, make sure the parked threads are not stranded (if it
  // is, its owner's unlock will see kParked with kWoken clear).
  // Relaxed: no data is published by giving up.
  const uint32_t old = state_.fetch_and(~kWoken, std::memory_order_relaxed);
  if ((old & kParked) != 0 && (old & kWriter) == 0) {
    wake_parked(Wake::kDischarge);
  }
}

bool RWMutex::lock_shared_slow(bool counted, int64_t deadline_ns,
                               const std::stop_token* stop) noexcept {
  if (counted) {
    // Take back the fast path's increment: it must not be counted among the
    // readers the writer drains (see the note at the top). Relaxed: the
    // increment protected nothing; the RMW still continues the release
    // sequences of real readers (INV-RMW).
    const uint32_t old =
        state_.fetch_sub(kOneReader, std::memory_order_relaxed);
    if ((old & kWriterParked) != 0) unlock_shared_slow(old);
  }
#ifndef NDEBUG
  if (debug_holds_shared(this) &&
      (state_.load(std::memory_order_relaxed) & kWriter) != 0) {
    fatal(
        "contend: RWMutex::lock_shared: RLock recursion deadlock: this thread "
        "already holds the read lock and a writer is queued, so the writer "
        "waits for this thread and this thread waits for the writer "
        "(recursive read locking is prohibited, as in Go's sync.RWMutex); "
        "release the read lock before calling code that takes it again");
  }
#endif
  return acquire_slow(/*writer=*/false, deadline_ns, stop);
}

void RWMutex::unlock_shared_slow(uint32_t old) noexcept {
  if (old < kOneReader) {
    fatal("contend: RWMutex::unlock_shared: no reader holds the lock");
  }
  // INV-DRAIN: the reader that takes the count to zero wakes the writer.
  if ((old & kReaderMask) != kOneReader || (old & kWriterParked) == 0) return;
  // INV-LIFETIME: our fetch_sub was the release. The writer may have left
  // its park on its own meanwhile (deadline, stop), seen the count at zero,
  // and locked, unlocked and destroyed the RWMutex: from here on only the
  // key's address is used, and the callback touches nothing (the woken
  // writer clears kWriterParked itself). If the address was reused, the
  // wake reaches at most a drain waiter of the new object, which re-checks
  // its count (kTokenRetry).
  ParkingLot::unpark_one(
      drain_key(), [](const UnparkResult&) { return kTokenRetry; },
      /*is_release=*/true);
}

}  // namespace contend
