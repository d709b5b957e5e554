// Copyright 2026 The contend Authors.
//
// DistributedRWMutex slow paths. The words and invariants are in the header
// (INV-SLOT-OWNER, INV-BIAS-WRITER, INV-DEKKER).
//
// Why an inner RWMutex. BRAVO is a wrapper by design: the biased slots are
// an accelerator in front of an ordinary reader/writer lock, which keeps
// everything the fast path cannot do -- writer exclusion, writer preference
// against central readers, parking, timeouts, cancellation, the starvation
// hand-off. So writers, and readers that miss their slot, get exactly
// RWMutex's contract, and this file only has to argue the slots.
//
// INV-DEKKER, in full. A biased reader R does CAS(slot: 0 -> tag) then
// load(bias); a writer W does store(bias: off) then load(slot) for each
// slot; all four are seq_cst, so they are totally ordered (S). If R's load
// reads "on", it precedes W's store in S, so R's CAS precedes W's scan of
// R's slot, and W sees R's tag (or a later value: R's own release) and waits
// for R. Otherwise R read "off" and withdraws. Readers that CAS after W's
// scan of their slot come after W's store in S (the scan read a value
// earlier in the slot's modification order than their CAS, so it is
// coherence-ordered, hence S-ordered, before it) and read "off". Weaker
// orders break it: with a release CAS and an acquire load (the tempting
// version) both sides may read the other's old value on x86 as well
// (store-load reordering), and a reader would run beside the writer.
//
// INV-DRAIN-SLOT. The writer parks on a slot's address only after setting
// kDrainWaiter in it with a CAS under that key's queue lock (validate), and
// only while the slot is non-empty. The holder's release_slot() exchange
// either precedes that CAS (the CAS fails, the writer re-reads 0 and does not
// park) or follows it (it sees kDrainWaiter and wakes the key; the wake
// takes the queue lock, so it finds the writer queued). A leftover bit from
// a writer that timed out costs a later release one unpark_one that finds
// nobody, and lets a later writer park with it already set, which is still
// covered: the holder will see the bit.
//
// INV-LIFETIME. Once release_slot()'s exchange has emptied the slot, a
// writer spinning on it may take the lock, release it, and destroy the
// object (the destruction-after-release guarantee); wake_drainer() then uses
// only the slot's address as a ParkingLot key, which the ParkingLot only
// compares. If the memory was reused, the wake reaches at most a waiter on
// the same address, and every waiter here re-checks its slot.
//
// Why the bias comes back only after 9x the revocation. Revoking costs a
// writer a scan of every slot line (cache misses), plus the wait for biased
// readers; a workload with frequent writes would pay it at every write if
// readers re-enabled the bias at once. BRAVO's rule bounds the time writers
// spend revoking to about 1/(N+1) of the total; N = 9 here as in the paper.

#include "shard/distributed_rw_mutex.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <cstdint>
#include <memory>
#include <stop_token>

#include "shard/internal/cpu_id.h"
#include "sync/internal/backoff.h"
#include "sync/internal/clock.h"
#include "sync/internal/fatal.h"
#include "sync/internal/parking_lot.h"
#include "sync/internal/wait_observer.h"

namespace contend {

static_assert(sizeof(DistributedRWMutex) == 32,
              "inner RWMutex, bias word, inhibit time, slot pointer, mask");
static_assert(internal::Atomic<uint64_t>::is_always_lock_free);

namespace {

using internal::fatal;
using internal::ParkingLot;
using internal::ParkOptions;

uint32_t slot_count_for_cpus() {
  const uint32_t cpus = internal::cpu_slot_count();
  return std::clamp<uint32_t>(std::bit_ceil(std::min(cpus, 512u) * 2), 4, 1024);
}

// deadline 0: "do not wait" (try_*). Reads the clock only for timed waits.
bool expired(int64_t deadline_ns, const std::stop_token* stop) noexcept {
  if (stop != nullptr && stop->stop_requested()) return true;
  return deadline_ns != internal::kNoDeadline &&
         (deadline_ns == 0 || internal::monotonic_now_ns() >= deadline_ns);
}

std::chrono::steady_clock::time_point as_time_point(int64_t deadline_ns) {
  // steady_clock's epoch is CLOCK_MONOTONIC's (sync/internal/clock.h).
  return std::chrono::steady_clock::time_point(
      std::chrono::nanoseconds(deadline_ns));
}

// Debug-build read-lock tracking, as RWMutex's: which DistributedRWMutexes
// this thread holds for reading, with nesting counts, plus how many holds
// did not fit (so that their release is not mistaken for misuse).
struct HeldRead {
  const DistributedRWMutex* mu;
  uint32_t count;
};
constexpr int kMaxTrackedReads = 16;
constinit thread_local HeldRead t_held_reads[kMaxTrackedReads] = {};
constinit thread_local uint32_t t_untracked_reads = 0;

}  // namespace

DistributedRWMutex::DistributedRWMutex()
    : mask_(slot_count_for_cpus() - 1),
      slots_(std::make_unique<Slot[]>(slot_count_for_cpus())) {}

void DistributedRWMutex::debug_note_shared_acquired(
    const DistributedRWMutex* mu) noexcept {
  HeldRead* free_slot = nullptr;
  for (HeldRead& h : t_held_reads) {
    if (h.mu == mu) {
      ++h.count;
      return;
    }
    if (h.mu == nullptr && free_slot == nullptr) free_slot = &h;
  }
  if (free_slot != nullptr) {
    *free_slot = HeldRead{mu, 1};
  } else {
    ++t_untracked_reads;
  }
}

void DistributedRWMutex::debug_note_shared_released(
    const DistributedRWMutex* mu) noexcept {
  for (HeldRead& h : t_held_reads) {
    if (h.mu == mu) {
      if (--h.count == 0) h.mu = nullptr;
      return;
    }
  }
  if (t_untracked_reads > 0) {
    --t_untracked_reads;
    return;
  }
  fatal(
      "contend: DistributedRWMutex::unlock_shared: this thread holds no read "
      "lock");
}

bool DistributedRWMutex::debug_holds_shared(
    const DistributedRWMutex* mu) noexcept {
  for (const HeldRead& h : t_held_reads) {
    if (h.mu == mu) return true;
  }
  return false;
}

void DistributedRWMutex::unlock_not_held() noexcept {
  fatal("contend: DistributedRWMutex::unlock: not locked for writing");
}

void DistributedRWMutex::wake_drainer(
    const internal::Atomic<uint64_t>& slot) noexcept {
  // INV-LIFETIME: the address only.
  ParkingLot::unpark_one(
      &slot,
      [](const internal::UnparkResult&) {
        return internal::kDefaultUnparkToken;
      },
      /*is_release=*/true);
}

bool DistributedRWMutex::lock_slow(int64_t deadline_ns,
                                   const std::stop_token* stop) noexcept {
#ifndef NDEBUG
  if (deadline_ns != 0 && debug_holds_shared(this)) {
    fatal(
        "contend: DistributedRWMutex::lock: called while holding the read "
        "lock (upgrade deadlock: the writer would wait for its own read lock "
        "to drain)");
  }
#endif
  bool ok;
  if (deadline_ns == 0) {
    ok = inner_.try_lock();
  } else if (stop != nullptr) {
    ok = inner_.lock(*stop);
  } else if (deadline_ns == internal::kNoDeadline) {
    inner_.lock();
    ok = true;
  } else {
    ok = inner_.try_lock_until(as_time_point(deadline_ns));
  }
  return ok && revoke(deadline_ns, stop);
}

bool DistributedRWMutex::revoke(int64_t deadline_ns,
                                const std::stop_token* stop) noexcept {
  // Relaxed: INV-BIAS-WRITER -- we hold the inner write lock, so nobody else
  // changes bias_ now (a reader that set kBias did so while holding the read
  // lock, before its unlock_shared, which happens-before our inner lock).
  if ((bias_.load(std::memory_order_relaxed) & kBias) == 0) {
    // Relaxed: as above; only unlock()'s misuse check reads kWriterHeld.
    bias_.store(kWriterHeld, std::memory_order_relaxed);
    return true;
  }
  // seq_cst: INV-DEKKER (clear the bias, then scan the slots).
  bias_.store(kWriterHeld, std::memory_order_seq_cst);
  const int64_t start_ns = internal::monotonic_now_ns();
  for (uint32_t i = 0; i <= mask_; ++i) {
    if (!wait_slot_empty(*slots_[i], deadline_ns, stop)) {
      // Give up: the biased readers stay in, so restore their bias.
      // Release: pairs with the seq_cst (acquire) re-check of later biased
      // readers; we hold the inner write lock, so we come after the last
      // writer's unlock (INV-BIAS-WRITER).
      bias_.store(kBias, std::memory_order_release);
      inner_.unlock();
      return false;
    }
  }
  const int64_t end_ns = internal::monotonic_now_ns();
  // Relaxed: a policy time read by maybe_enable_bias(); a reader that sees
  // an older value only re-enables the bias earlier, which costs the next
  // writer a revocation, never correctness.
  inhibit_until_ns_.store(end_ns + kBiasInhibitFactor * (end_ns - start_ns),
                          std::memory_order_relaxed);
  return true;
}

bool DistributedRWMutex::wait_slot_empty(internal::Atomic<uint64_t>& slot,
                                         int64_t deadline_ns,
                                         const std::stop_token* stop) noexcept {
  internal::Backoff backoff;
  for (;;) {
    // seq_cst: INV-DEKKER's scan. Its acquire half pairs with the release
    // exchange in release_slot(), ordering that reader's section before
    // our write section.
    if (slot.load(std::memory_order_seq_cst) == 0) return true;
    if (expired(deadline_ns, stop)) return false;
    if (!backoff.is_completed()) {
      backoff.snooze();
      continue;
    }
    ParkOptions options;
    options.deadline_ns = deadline_ns;
    options.stop = stop;
    options.kind = internal::WaitKind::kRWMutexWriter;
    (void)ParkingLot::park(
        &slot,
        [&slot] {
          // INV-DRAIN-SLOT, under the slot key's queue lock. Relaxed: the
          // holder's exchange and this CAS are RMWs of one word, so either
          // it sees kDrainWaiter and wakes us or we see the slot empty; the
          // seq_cst load above orders the data once we see it empty.
          uint64_t cur = slot.load(std::memory_order_relaxed);
          for (;;) {
            if (cur == 0) return false;
            if ((cur & kDrainWaiter) != 0) return true;
            if (slot.compare_exchange_weak(cur, cur | kDrainWaiter,
                                           std::memory_order_relaxed,
                                           std::memory_order_relaxed)) {
              return true;
            }
          }
        },
        options);
    // Whatever ended the park (wake, timer, stop), the loop re-checks.
    backoff.reset();
  }
}

bool DistributedRWMutex::lock_shared_slow(
    int64_t deadline_ns, const std::stop_token* stop) noexcept {
  if (try_lock_shared_biased()) {
#ifndef NDEBUG
    debug_note_shared_acquired(this);
#endif
    return true;
  }
  bool ok = false;
#ifndef NDEBUG
  if (deadline_ns != 0 && debug_holds_shared(this)) {
    // try_lock_shared fails only when a writer holds or is queued for the
    // inner lock: then a blocking wait here could wait for a writer that
    // waits for this thread's own read lock.
    if (!inner_.try_lock_shared()) {
      fatal(
          "contend: DistributedRWMutex::lock_shared: RLock recursion "
          "deadlock: this thread already holds the read lock and a writer is "
          "queued, so the writer waits for this thread and this thread waits "
          "for the writer (*sync -- Senior*, section 4); release the read lock "
          "before calling code that takes it again");
    }
    ok = true;
  }
#endif
  if (ok) {
    // Acquired by the debug check above.
  } else if (deadline_ns == 0) {
    ok = inner_.try_lock_shared();
  } else if (stop != nullptr) {
    ok = inner_.lock_shared(*stop);
  } else if (deadline_ns == internal::kNoDeadline) {
    inner_.lock_shared();
    ok = true;
  } else {
    ok = inner_.try_lock_shared_until(as_time_point(deadline_ns));
  }
  if (!ok) return false;
  maybe_enable_bias();
#ifndef NDEBUG
  debug_note_shared_acquired(this);
#endif
  return true;
}

void DistributedRWMutex::maybe_enable_bias() noexcept {
  // Relaxed: a hint; setting a bit that is already set is harmless, and we
  // hold the inner read lock, so no writer clears it meanwhile.
  if ((bias_.load(std::memory_order_relaxed) & kBias) != 0) return;
  // Relaxed: see revoke().
  if (internal::monotonic_now_ns() <
      inhibit_until_ns_.load(std::memory_order_relaxed)) {
    return;
  }
  // Release: pairs with the seq_cst (acquire) re-check in
  // try_lock_shared_biased(): a biased reader that sees the bias is ordered
  // after us, and we (holding the read lock) after the last writer's unlock.
  bias_.fetch_or(kBias, std::memory_order_release);
}

}  // namespace contend
