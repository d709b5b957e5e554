// Copyright 2026 The contend Authors.
//
// Hazard pointers: safe memory reclamation for lock-free readers, shaped like
// C++26 std::hazard_pointer (P2530R3). A reader announces the object it is
// about to read in a hazard slot it owns; a writer that unlinked an object
// retires it, and a retired object is freed only once no slot holds it.
//
//   Atomic<Config*> cell;                         // the shared pointer
//   HazardPointer hp = make_hazard_pointer();     // reader: take a slot
//   const Config* c = hp.protect(cell);           // safe to read *c ...
//   hp.reset_protection();                        // ... until here
//   hazard_retire(cell.exchange(fresh, acq_rel)); // writer: unlink, retire
//
// Model: a domain (one per process) holds a list of hazard records (slots),
// each publishing at most one pointer, and per-thread lists of retired
// objects. H is the number of records ever created (each live HazardPointer
// owns one; a thread caches up to kHazardCacheSlots released ones, and keeps
// one sticky record for HazardHold, below).
//
// Contract:
// - protect(src) / try_protect(p, src): Requires: the HazardPointer is not
//   empty; every object ever stored in `src` is retired (never deleted
//   directly) after it is unlinked. Guarantees: the returned pointer is not
//   reclaimed until this HazardPointer protects something else, is reset or
//   is destroyed.
// - hazard_retire(p, d) / HazardPointerObjBase::retire(d): Requires: p is
//   unlinked (no new reader can load it from a shared location) and retired
//   once. Guarantees: d(p) runs exactly once, on some thread that retires or
//   exits later (or in hazard_reclaim()), after every protection of p that
//   began before the retire has ended.
// - Bounded garbage (INV-BOUND): a thread scans its retired list when it holds
//   R = max(kHazardMinBatch, 2H) objects; a scan frees every object no slot
//   holds, so at most H survive it. Hence at every moment the unreclaimed
//   objects number at most R for each thread that retires, plus R for each
//   thread that exited holding a list that no scan has adopted yet. A stalled
//   reader pins at most the one object per slot it holds, never the rest
//   (tests/sync/internal/hazard_pointer_stress_test.cc checks the bound with a
//   writer retiring flat out while readers sit on guards).
// - Thread exit releases the thread's cached slots and hands its retired list
//   to the domain, where the next scan of any thread adopts it.
//
// Why hazard pointers and not epochs (or RCU): with epochs a reader pins an
// epoch, and nothing retired after it can be freed until it leaves; one
// stalled or descheduled reader therefore holds back *all* reclamation and
// garbage grows without bound (arc-swap #210 is exactly this failure seen by
// users; liburcu's synchronize_rcu blocks the writer instead). A hazard
// pointer pins one object, so garbage stays bounded by INV-BOUND whatever the
// readers do. The price is a store-load fence per protect, which this
// implementation makes asymmetric (below), so readers pay a compiler barrier
// and the scanning writer pays a membarrier(2) per batch.
//
// Thread safety: a HazardPointer is used by one thread at a time (it may be
// moved to, and destroyed on, another thread). hazard_retire, hazard_reclaim
// and the counters may be called from any thread.
//
// Memory ordering: everything a writer did before storing an object into
// `src` with release happens-before the reads of a reader whose protect
// returned it (protect loads `src` with acquire). Every read of a protected
// object happens-before its deleter runs (slot stores are release, the scan's
// loads acquire).
//
// Fences: the protect store and the validating reload of `src` must not be
// reordered (store-load), and neither may the writer's unlink and its scan's
// slot loads. On Linux the reader side is a compiler barrier and the scan
// issues membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED), which runs a full
// fence on every CPU running this process (the folly/Hazptr scheme); where
// that is not available (old kernel, seccomp) both sides use
// atomic_thread_fence(seq_cst).
//
// Misuse: protect on an empty HazardPointer terminates ("contend:
// HazardPointer::protect: empty hazard pointer"); always checked (a null test
// on a pointer already loaded). Retiring twice or deleting a retired object is
// undefined.
//
// Cost: sizeof(HazardPointer) == sizeof(void*). make_hazard_pointer and the
// destructor touch only thread-local data on the fast path (a thread-local
// cache of kHazardCacheSlots records); protect is one release store to the
// caller's own slot, a compiler barrier and an acquire reload of `src`.
// retire pushes on a thread-local list; every R retires one scan costs
// O(R + H log H) plus one membarrier syscall (amortized O(log H) per retire).
// HazardHold (Snapshot::load's Guard) re-protecting the pointer it protected
// last costs an acquire load, a compare and two thread-local stores.
// Benchmark: bench/sync/snapshot_benchmark.cc (Snapshot::load is a HazardHold,
// Snapshot::Reader::load a HazardPointer protect).

#ifndef CONTEND_SYNC_INTERNAL_HAZARD_POINTER_H_
#define CONTEND_SYNC_INTERNAL_HAZARD_POINTER_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <utility>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "sync/internal/atomic.h"
#include "sync/internal/cache_padded.h"

namespace contend::internal {

// Records a thread keeps for reuse without touching shared state.
inline constexpr int kHazardCacheSlots = 8;
// The smallest retired-list length that triggers a scan.
inline constexpr std::size_t kHazardMinBatch = 64;

// One hazard slot, on its own cache line so a reader's stores never share a
// line with another reader's.
struct alignas(kCacheLineSize) HazardRecord {
  // The protected pointer, or null.
  Atomic<const void*> ptr{nullptr};
  // Owned by a HazardPointer or a thread cache (true), or free (false).
  Atomic<bool> active{true};
  // Immutable once the record is published on the domain's list.
  HazardRecord* next = nullptr;
};

// Header of a retired object (intrusive; see HazardPointerObjBase).
struct HazardRetired {
  HazardRetired* next = nullptr;
  const void* ptr = nullptr;                  // the address readers protect
  void (*reclaim)(HazardRetired*) = nullptr;  // runs the deleter
};

// Out of line (hazard_pointer.cc).
HazardRecord* hazard_acquire_record_slow();
// For HazardHold (below): the record a slow-path protect uses -- null when
// the sticky record is free (made on first use), else one of its own.
HazardRecord* hazard_hold_record();
void hazard_hold_release_record(HazardRecord* r) noexcept;
[[noreturn]] void hazard_hold_foreign() noexcept;
void hazard_release_record_slow(HazardRecord* r) noexcept;
void hazard_push_retired(HazardRetired* r) noexcept;
[[noreturn]] void hazard_empty_protect() noexcept;

#if defined(__SANITIZE_THREAD__) || defined(CONTEND_TSAN)
#define CONTEND_HAZARD_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CONTEND_HAZARD_TSAN 1
#endif
#endif

// True once membarrier(2) is registered (at static initialization, never
// cleared): then a scan's membarrier stands in for the readers' fences.
extern Atomic<bool> g_hazard_asymmetric;
// Under TSan (which does not model atomic_thread_fence) both halves of the
// store-load fence are a seq_cst RMW on this word instead: RMWs on one
// location are totally ordered, which gives the same Dekker argument and an
// ordering TSan can see.
extern Atomic<unsigned> g_hazard_fence_word;

// The reader's half of the store-load fence (see the header comment).
inline void hazard_light_fence() noexcept {
#if defined(CONTEND_HAZARD_TSAN)
  // Seq_cst RMW: pairs with the one in the scan's heavy fence (above).
  g_hazard_fence_word.fetch_add(0, std::memory_order_seq_cst);
#elif defined(CONTEND_DSCHED)
  // The explorer runs one thread at a time: any fence is a full one.
  std::atomic_thread_fence(std::memory_order_seq_cst);
#else
  // Relaxed: written once before main and never cleared; a scan that runs
  // while it is true issues the heavy fence this one relies on.
  if (ABSL_PREDICT_TRUE(g_hazard_asymmetric.load(std::memory_order_relaxed))) {
    // Seq_cst (compiler only): the membarrier of a scan orders this
    // thread's slot store before its reload of src.
    std::atomic_signal_fence(std::memory_order_seq_cst);
  } else {
    // Seq_cst: store-load (Dekker) with the fence of the scan.
    std::atomic_thread_fence(std::memory_order_seq_cst);
  }
#endif
}

// The fast-path thread-local state: trivially destructible, so access needs
// no TLS wrapper call. Thread exit is handled by a separate object that the
// slow path registers (hazard_pointer.cc).
struct HazardThreadCache {
  HazardRecord* slots[kHazardCacheSlots];
  int count;
  // The sticky record (see HazardHold), and the pointer it protects with
  // kStickyHeld set while a hold relies on it (kStickyNone: nothing).
  HazardRecord* sticky_rec;
  std::uintptr_t sticky;
};
extern constinit thread_local HazardThreadCache tls_hazard_cache;

class HazardPointer {
 public:
  // An empty hazard pointer (owns no slot).
  HazardPointer() noexcept = default;
  HazardPointer(HazardPointer&& other) noexcept
      : rec_(std::exchange(other.rec_, nullptr)) {}
  HazardPointer& operator=(HazardPointer&& other) noexcept {
    if (this != &other) {
      release();
      rec_ = std::exchange(other.rec_, nullptr);
    }
    return *this;
  }
  HazardPointer(const HazardPointer&) = delete;
  HazardPointer& operator=(const HazardPointer&) = delete;
  ~HazardPointer() { release(); }

  [[nodiscard]] bool empty() const noexcept { return rec_ == nullptr; }

  // Protects the pointer in `src` and returns it (null: nothing protected).
  template <class T>
  T* protect(const Atomic<T*>& src) noexcept {
    // Relaxed: a first guess only; try_protect validates it.
    T* p = src.load(std::memory_order_relaxed);
    while (!try_protect(p, src)) {
    }
    return p;
  }

  // Protects `ptr` if `src` still holds it and returns true; otherwise sets
  // `ptr` to src's current value, protects nothing and returns false.
  template <class T>
  [[nodiscard]] bool try_protect(T*& ptr, const Atomic<T*>& src) noexcept {
    if (ABSL_PREDICT_FALSE(rec_ == nullptr)) hazard_empty_protect();
    T* p = ptr;
    // Release: pairs with the acquire slot loads of a scan, so everything
    // this thread did before (reads of the object it protected before)
    // happens-before a deleter the scan runs after seeing this value.
    rec_->ptr.store(p, std::memory_order_release);
    // Store-load: the slot store must be visible before the reload of src
    // (pairs with the heavy fence of the scan, see the header comment).
    hazard_light_fence();
    // Acquire: pairs with the release store that published the object, so
    // its contents are visible to this reader.
    T* q = src.load(std::memory_order_acquire);
    if (ABSL_PREDICT_TRUE(q == p)) return true;
    // Release: as above; the slot no longer pins p.
    rec_->ptr.store(nullptr, std::memory_order_release);
    ptr = q;
    return false;
  }

  // Protects `ptr` unconditionally: the caller knows it is not yet retired
  // (it is reachable from an object this thread already protects).
  template <class T>
  void reset_protection(const T* ptr) noexcept {
    if (ABSL_PREDICT_FALSE(rec_ == nullptr)) hazard_empty_protect();
    // Release: as in try_protect.
    rec_->ptr.store(ptr, std::memory_order_release);
    hazard_light_fence();
  }
  void reset_protection(std::nullptr_t = nullptr) noexcept {
    if (rec_ == nullptr) return;
    // Release: every read of the object protected so far happens-before
    // the scan that sees null here (and so before the deleter it runs).
    rec_->ptr.store(nullptr, std::memory_order_release);
  }

  void swap(HazardPointer& other) noexcept { std::swap(rec_, other.rec_); }

 private:
  friend HazardPointer make_hazard_pointer();
  explicit HazardPointer(HazardRecord* r) noexcept : rec_(r) {}

  void release() noexcept {
    if (rec_ == nullptr) return;
    reset_protection();
    HazardThreadCache& c = tls_hazard_cache;
    if (ABSL_PREDICT_TRUE(c.count < kHazardCacheSlots)) {
      c.slots[c.count++] = rec_;
    } else {
      hazard_release_record_slow(rec_);
    }
    rec_ = nullptr;
  }

  HazardRecord* rec_ = nullptr;
};
static_assert(sizeof(HazardPointer) == sizeof(void*));

// A hold on one protected pointer through the calling thread's sticky
// record: what Snapshot::load's Guard is. The sticky record keeps protecting
// the last pointer a hold took through it after the hold ends, so the next
// hold of the same pointer -- a thread re-reading an unchanged Snapshot -- is
// an acquire load of src, a compare and two thread-local stores: no slot
// store, no fence and no pop and push of the record cache (whose count would
// carry a store-to-load forwarding chain from one load to the next).
//
// Contract:
// - protect(src): Requires: every object ever stored in src is retired after
//   it is unlinked. Ends what the hold protected, then protects src's current
//   value and returns it (null: src held null and the hold is empty).
//   Guarantees: the value is not reclaimed before the hold ends (reset,
//   assignment or destruction).
// - After a hold on the sticky record ends, the thread's sticky record still
//   protects its pointer (INV-STICKY below) until the thread takes a hold of
//   another pointer, calls hazard_release_sticky(), or exits: a thread pins
//   at most one object that nothing uses. INV-BOUND is unchanged (the record
//   is one of the H).
// - A hold taken while the sticky record is held (nested holds) gets a record
//   of its own from the thread cache, like a HazardPointer.
//
// INV-STICKY: when tls_hazard_cache.sticky is p != kStickyNone without
// kStickyHeld, the sticky record's slot has held p continuously since a
// protect of p that validated, so p has not been reclaimed; src holding p
// again now (there is no reuse: a retired object is never republished)
// makes p protected for a new hold without touching the slot.
//
// Thread safety: a hold belongs to the thread that took it: it may be moved,
// but it must end on that thread, because its release writes that thread's
// state. Misuse: ending it on another thread terminates ("contend:
// Snapshot::Guard: released on another thread than its load()", naming
// the one user), always checked (one compare of the owner's thread-local
// address with the releasing thread's). folly's hazptr_local makes the same
// trade (thread-bound, for a fast path).
inline constexpr std::uintptr_t kStickyHeld = 1;
// The sticky record protects nothing (no object address is 2).
inline constexpr std::uintptr_t kStickyNone = 2;

class HazardHold {
 public:
  HazardHold() noexcept = default;
  HazardHold(HazardHold&& other) noexcept
      : owner_(std::exchange(other.owner_, nullptr)),
        rec_(other.rec_),
        ptr_(other.ptr_) {}
  HazardHold& operator=(HazardHold&& other) noexcept {
    if (this != &other) {
      release();
      owner_ = std::exchange(other.owner_, nullptr);
      rec_ = other.rec_;
      ptr_ = other.ptr_;
    }
    return *this;
  }
  HazardHold(const HazardHold&) = delete;
  HazardHold& operator=(const HazardHold&) = delete;
  ~HazardHold() { release(); }

  [[nodiscard]] bool empty() const noexcept { return owner_ == nullptr; }
  // The protected pointer (meaningless when empty()).
  [[nodiscard]] const void* get() const noexcept { return ptr_; }

  template <class T>
  T* protect(const Atomic<T*>& src) {
    release();
    HazardThreadCache& c = tls_hazard_cache;
    // Acquire: pairs with the release store that published the object, so
    // its contents are visible to this reader.
    T* q = src.load(std::memory_order_acquire);
    // (sticky is never 0, so a null q takes the slow path.)
    if (ABSL_PREDICT_TRUE(c.sticky == reinterpret_cast<std::uintptr_t>(q))) {
      // INV-STICKY: q is protected already.
      c.sticky = reinterpret_cast<std::uintptr_t>(q) | kStickyHeld;
      owner_ = &c;
      rec_ = nullptr;
      ptr_ = q;
      return q;
    }
    // The sticky record protects another pointer, or a hold has it.
    HazardRecord* own = hazard_hold_record();
    HazardRecord* r = own != nullptr ? own : c.sticky_rec;
    for (;;) {
      // Release: as in HazardPointer::try_protect.
      r->ptr.store(q, std::memory_order_release);
      // Store-load: as in HazardPointer::try_protect.
      hazard_light_fence();
      // Acquire: as above.
      T* n = src.load(std::memory_order_acquire);
      if (ABSL_PREDICT_TRUE(n == q)) break;
      q = n;
    }
    if (q == nullptr) {
      if (own != nullptr) {
        hazard_hold_release_record(own);
      } else {
        c.sticky = kStickyNone;
      }
      return nullptr;
    }
    if (own == nullptr) {
      c.sticky = reinterpret_cast<std::uintptr_t>(q) | kStickyHeld;
    }
    owner_ = &c;
    rec_ = own;
    ptr_ = q;
    return q;
  }

  // Ends the protection (a no-op on an empty hold).
  void reset() noexcept { release(); }

 private:
  void release() noexcept {
    if (owner_ == nullptr) return;
    HazardThreadCache& c = tls_hazard_cache;
    if (ABSL_PREDICT_FALSE(owner_ != &c)) hazard_hold_foreign();
    if (ABSL_PREDICT_TRUE(rec_ == nullptr)) {
      // The sticky record goes on protecting ptr_ (INV-STICKY).
      c.sticky = reinterpret_cast<std::uintptr_t>(ptr_);
    } else {
      hazard_hold_release_record(rec_);
    }
    owner_ = nullptr;
  }

  HazardThreadCache* owner_ = nullptr;  // the taking thread's; null: empty
  HazardRecord* rec_ = nullptr;         // a record of its own; null: sticky
  const void* ptr_ = nullptr;
};

// A non-empty hazard pointer: from the calling thread's cache when it has one
// (no shared write), else a free record of the domain or a new one.
[[nodiscard]] inline HazardPointer make_hazard_pointer() {
  HazardThreadCache& c = tls_hazard_cache;
  if (ABSL_PREDICT_TRUE(c.count > 0)) {
    return HazardPointer(c.slots[--c.count]);
  }
  return HazardPointer(hazard_acquire_record_slow());
}

// P2530's hazard_pointer_obj_base: derive T from it to retire a T without an
// allocation: `obj->retire()` (or `obj->retire(deleter)`).
template <class T, class D = std::default_delete<T>>
class HazardPointerObjBase : private HazardRetired {
 public:
  void retire(D d = D()) noexcept {
    retire_as(static_cast<const void*>(static_cast<const T*>(this)),
              std::move(d));
  }
  // Not in P2530: retire() for an object that readers protect under another
  // address (a tagged pointer to it); the scan compares slots with that.
  void retire_as(const void* protected_as, D d = D()) noexcept {
    deleter_ = std::move(d);
    this->ptr = protected_as;
    this->reclaim = &reclaim_self;
    hazard_push_retired(this);
  }

 protected:
  HazardPointerObjBase() = default;
  HazardPointerObjBase(const HazardPointerObjBase&) = default;
  HazardPointerObjBase& operator=(const HazardPointerObjBase&) = default;
  ~HazardPointerObjBase() = default;

 private:
  static void reclaim_self(HazardRetired* r) {
    auto* self = static_cast<HazardPointerObjBase*>(r);
    D d = std::move(self->deleter_);
    d(static_cast<T*>(self));
  }
  [[no_unique_address]] D deleter_;
};

namespace hazard_detail {
template <class T, class D>
struct Box final : HazardRetired {
  Box(T* p, D d) : deleter(std::move(d)) {
    this->ptr = static_cast<const void*>(p);
    this->reclaim = &run;
  }
  static void run(HazardRetired* r) {
    auto* box = static_cast<Box*>(r);
    T* p = const_cast<T*>(static_cast<const T*>(box->ptr));
    D d = std::move(box->deleter);
    delete box;
    d(p);
  }
  D deleter;
};
}  // namespace hazard_detail

// Retires `p` (unlinked): d(p) runs once no hazard pointer protects it.
// Allocates a small header; derive from HazardPointerObjBase to avoid it.
template <class T, class D = std::default_delete<T>>
void hazard_retire(T* p, D d = D()) {
  if (p == nullptr) return;
  hazard_push_retired(new hazard_detail::Box<T, D>(p, std::move(d)));
}

// Frees every retired object (of the calling thread, and every list handed on
// by exited threads) that no hazard pointer protects. Protected ones stay.
void hazard_reclaim();

// Retired objects not reclaimed yet, all threads (a diagnostic counter).
[[nodiscard]] std::size_t hazard_unreclaimed() noexcept;
// Hazard records created so far (H) and the scan threshold R it implies.
[[nodiscard]] std::size_t hazard_record_count() noexcept;
[[nodiscard]] std::size_t hazard_retire_threshold() noexcept;

// Ends the protection the calling thread's sticky record keeps after its
// last HazardHold ended (a no-op while a hold uses it): for a thread about to
// idle, and for tests that count reclaimed objects.
void hazard_release_sticky() noexcept;

// What thread exit does, callable early: releases the calling thread's cached
// records (and its sticky record, unless a hold uses it) and hands its
// retired list to the domain. (dsched scenario threads
// call it before they finish, so thread exit runs no atomic operation.)
void hazard_thread_detach() noexcept;

}  // namespace contend::internal

#endif  // CONTEND_SYNC_INTERNAL_HAZARD_POINTER_H_
