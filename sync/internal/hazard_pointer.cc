// Copyright 2026 The contend Authors.
//
// The hazard-pointer domain: the record list, the per-thread retired lists,
// the orphan list of exited threads, and the scan.
//
// Records are never freed (a process creates as many as it ever had live
// HazardPointers at once, plus the per-thread caches); they are pushed on a
// lock-free list whose `next` links are immutable once published, so a scan
// walks it without any lock. A free record (active == false) is claimed with
// a CAS, so two threads never own one.
//
// The no-use-after-free argument (INV-SAFE): a reader's try_protect stores p
// into its slot (S), fences, and reloads src (L). The writer unlinks p from
// src (U), later scans: fences, loads every slot (X). With both fences in one
// total order, either the reader's fence comes first, and X sees p (or a
// later value of the slot, stored after the reader stopped using p), so p is
// kept; or the writer's fence comes first, and L sees U's value (or a later
// one), which is not p because p is never published again once retired, so
// try_protect fails and the reader never dereferences p. The membarrier
// variant gives the same total order: it runs a full fence on every CPU that
// runs one of our threads, between U and X.
//
// A tempting wrong implementation: check the slots before unlinking ("no one
// holds p, so unlink and free"): a reader that loaded p just before the unlink
// publishes its slot after the check and reads freed memory. The unlink must
// come first, and the reader must re-validate after publishing.

#include "sync/internal/hazard_pointer.h"

#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "sync/internal/fatal.h"

namespace contend::internal {

constinit thread_local HazardThreadCache tls_hazard_cache = {
    {}, 0, nullptr, kStickyNone};
Atomic<bool> g_hazard_asymmetric{false};
Atomic<unsigned> g_hazard_fence_word{0};

namespace {

struct Domain {
  // Every record ever created (push-only).
  Atomic<HazardRecord*> records{nullptr};
  Atomic<std::size_t> record_count{0};
  // Retired lists handed on by exited threads, waiting for a scan.
  Atomic<HazardRetired*> orphans{nullptr};
  // Retired and not yet reclaimed, all threads (diagnostic).
  Atomic<std::size_t> unreclaimed{0};
};

Domain& domain() {
  // Never destroyed: threads may exit (and hand on retired objects) after
  // static destruction began.
  static Domain* const d = new Domain;
  return *d;
}

// The calling thread's retired list.
struct RetiredList {
  HazardRetired* head;
  std::size_t count;
  bool in_scan;  // a deleter that retires does not start a nested scan
};
constinit thread_local RetiredList tls_retired = {nullptr, 0, false};

#if !defined(CONTEND_DSCHED) && !defined(CONTEND_HAZARD_TSAN)
long membarrier(int cmd) { return syscall(SYS_membarrier, cmd, 0U, 0); }

// Registers the expedited private membarrier before main, so that every
// reader sees the flag set before it can race a scan.
const bool g_membarrier_registered = [] {
  if (membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) != 0) return false;
  // Relaxed: written before main, read as a hint by readers; see
  // hazard_light_fence().
  g_hazard_asymmetric.store(true, std::memory_order_relaxed);
  return true;
}();
#endif

// The scan's half of the store-load fence (between the unlink of every
// object on the list and the loads of the slots).
void heavy_fence() {
#if defined(CONTEND_HAZARD_TSAN)
  // Seq_cst RMW: pairs with the one in hazard_light_fence().
  g_hazard_fence_word.fetch_add(0, std::memory_order_seq_cst);
#else
#if !defined(CONTEND_DSCHED)
  // Relaxed: see g_membarrier_registered.
  if (g_hazard_asymmetric.load(std::memory_order_relaxed)) {
    if (membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) != 0) {
      fatal("contend: HazardPointer: membarrier(PRIVATE_EXPEDITED) failed");
    }
  }
#endif
  // Seq_cst: the Dekker pair of the fence in try_protect (INV-SAFE).
  std::atomic_thread_fence(std::memory_order_seq_cst);
#endif
}

void push_orphans(HazardRetired* first, HazardRetired* last) noexcept {
  Domain& d = domain();
  // Relaxed: the CAS below re-validates.
  HazardRetired* head = d.orphans.load(std::memory_order_relaxed);
  do {
    last->next = head;
    // Release: pairs with the acquire exchange in scan(), which then sees
    // the list's links.
  } while (!d.orphans.compare_exchange_weak(
      head, first, std::memory_order_release, std::memory_order_relaxed));
}

void scan(RetiredList& me) {
  Domain& d = domain();
  me.in_scan = true;
  // Relaxed: a hint; the exchange re-reads it.
  if (d.orphans.load(std::memory_order_relaxed) != nullptr) {
    // Acquire: pairs with the release CAS in push_orphans().
    HazardRetired* o = d.orphans.exchange(nullptr, std::memory_order_acquire);
    while (o != nullptr) {
      HazardRetired* next = o->next;
      o->next = me.head;
      me.head = o;
      ++me.count;
      o = next;
    }
  }
  heavy_fence();
  std::vector<const void*> hazards;
  // Acquire: pairs with the release CAS in hazard_acquire_record_slow(), so
  // the links of every record published are visible.
  for (HazardRecord* r = d.records.load(std::memory_order_acquire);
       r != nullptr; r = r->next) {
    // Acquire: pairs with the release slot stores of try_protect and
    // reset_protection: the reads of an object a slot no longer holds
    // happen-before its deleter below.
    const void* p = r->ptr.load(std::memory_order_acquire);
    if (p != nullptr) hazards.push_back(p);
  }
  std::sort(hazards.begin(), hazards.end());
  HazardRetired* keep = nullptr;
  HazardRetired* reclaim = nullptr;
  std::size_t kept = 0;
  std::size_t freed = 0;
  for (HazardRetired* r = me.head; r != nullptr;) {
    HazardRetired* next = r->next;
    if (std::binary_search(hazards.begin(), hazards.end(), r->ptr)) {
      r->next = keep;
      keep = r;
      ++kept;
    } else {
      r->next = reclaim;
      reclaim = r;
      ++freed;
    }
    r = next;
  }
  me.head = keep;
  me.count = kept;
  while (reclaim != nullptr) {
    HazardRetired* next = reclaim->next;
    reclaim->reclaim(reclaim);  // may retire more: pushed, not scanned
    reclaim = next;
  }
  if (freed != 0) {
    // Relaxed: a diagnostic count.
    d.unreclaimed.fetch_sub(freed, std::memory_order_relaxed);
  }
  me.in_scan = false;
}

// Runs hazard_thread_detach() when a thread that used the slow path exits.
struct ThreadExit {
  ThreadExit() = default;
  ThreadExit(const ThreadExit&) = delete;
  ThreadExit& operator=(const ThreadExit&) = delete;
  ~ThreadExit() { hazard_thread_detach(); }
};

void register_thread_exit() {
  static thread_local ThreadExit exit_hook;
  (void)exit_hook;
}

}  // namespace

HazardRecord* hazard_acquire_record_slow() {
  register_thread_exit();
  Domain& d = domain();
  // Acquire: see scan().
  for (HazardRecord* r = d.records.load(std::memory_order_acquire);
       r != nullptr; r = r->next) {
    // Relaxed: a hint; the CAS re-validates.
    if (r->active.load(std::memory_order_relaxed)) continue;
    bool expected = false;
    // Acquire: pairs with the release store in hazard_release_record_slow(),
    // so the previous owner's last slot store is ordered before ours.
    if (r->active.compare_exchange_strong(expected, true,
                                          std::memory_order_acquire,
                                          std::memory_order_relaxed)) {
      return r;
    }
  }
  auto* r = new HazardRecord;  // active from birth
  // Relaxed: a count for the scan threshold only.
  d.record_count.fetch_add(1, std::memory_order_relaxed);
  // Relaxed: the CAS re-validates.
  HazardRecord* head = d.records.load(std::memory_order_relaxed);
  do {
    r->next = head;
    // Release: pairs with the acquire loads of the list head (scan,
    // acquire), which then see r's fields.
  } while (!d.records.compare_exchange_weak(head, r, std::memory_order_release,
                                            std::memory_order_relaxed));
  return r;
}

HazardRecord* hazard_hold_record() {
  register_thread_exit();
  HazardThreadCache& c = tls_hazard_cache;
  if ((c.sticky & kStickyHeld) == 0) {
    if (c.sticky_rec == nullptr) {
      c.sticky_rec =
          c.count > 0 ? c.slots[--c.count] : hazard_acquire_record_slow();
    }
    return nullptr;
  }
  return c.count > 0 ? c.slots[--c.count] : hazard_acquire_record_slow();
}

void hazard_hold_release_record(HazardRecord* r) noexcept {
  // Release: every read of the object protected so far happens-before the
  // scan that sees null here (and so before the deleter it runs).
  r->ptr.store(nullptr, std::memory_order_release);
  HazardThreadCache& c = tls_hazard_cache;
  if (c.count < kHazardCacheSlots) {
    c.slots[c.count++] = r;
  } else {
    hazard_release_record_slow(r);
  }
}

void hazard_hold_foreign() noexcept {
  fatal(
      "contend: Snapshot::Guard: released on another thread than its load() "
      "(use load_shared() to hand a value to another thread)");
}

void hazard_release_sticky() noexcept {
  HazardThreadCache& c = tls_hazard_cache;
  if (c.sticky_rec == nullptr || (c.sticky & kStickyHeld) != 0) return;
  // Release: as in hazard_hold_release_record().
  c.sticky_rec->ptr.store(nullptr, std::memory_order_release);
  c.sticky = kStickyNone;
}

void hazard_release_record_slow(HazardRecord* r) noexcept {
  // Release: pairs with the acquire CAS of the next owner.
  r->active.store(false, std::memory_order_release);
}

void hazard_push_retired(HazardRetired* r) noexcept {
  register_thread_exit();
  RetiredList& me = tls_retired;
  r->next = me.head;
  me.head = r;
  ++me.count;
  // Relaxed: a diagnostic count.
  domain().unreclaimed.fetch_add(1, std::memory_order_relaxed);
  if (me.count >= hazard_retire_threshold() && !me.in_scan) scan(me);
}

void hazard_empty_protect() noexcept {
  fatal("contend: HazardPointer::protect: empty hazard pointer");
}

void hazard_reclaim() {
  RetiredList& me = tls_retired;
  if (me.in_scan) return;
  scan(me);
}

std::size_t hazard_unreclaimed() noexcept {
  // Relaxed: a diagnostic count.
  return domain().unreclaimed.load(std::memory_order_relaxed);
}

std::size_t hazard_record_count() noexcept {
  // Relaxed: a count for the scan threshold only.
  return domain().record_count.load(std::memory_order_relaxed);
}

std::size_t hazard_retire_threshold() noexcept {
  return std::max(kHazardMinBatch, 2 * hazard_record_count());
}

void hazard_thread_detach() noexcept {
  HazardThreadCache& c = tls_hazard_cache;
  while (c.count > 0) hazard_release_record_slow(c.slots[--c.count]);
  // A held sticky record stays: the hold still alive relies on it.
  if (c.sticky_rec != nullptr && (c.sticky & kStickyHeld) == 0) {
    hazard_release_sticky();
    hazard_release_record_slow(c.sticky_rec);
    c.sticky_rec = nullptr;
  }
  RetiredList& me = tls_retired;
  if (me.head == nullptr) return;
  HazardRetired* last = me.head;
  while (last->next != nullptr) last = last->next;
  push_orphans(me.head, last);
  me.head = nullptr;
  me.count = 0;
}

}  // namespace contend::internal
