// Copyright 2026 The contend Authors.

#include "sync/internal/wait_observer.h"

#include <pthread.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "sync/internal/atomic.h"

namespace contend::internal {
namespace {

// Release store in set_wait_observer(); acquire load in wait_observer().
Atomic<const WaitObserver*> g_observer{nullptr};

// The label registry: written when a labeled primitive is constructed or
// destroyed, read by the profiler on every sampled event and every timeline
// event, from inside the ParkingLot's park and unpark paths. Reads take no
// lock and write nothing (a process-wide mutex there would serialize every
// sampled wait of every thread); writes are serialized by a std::mutex. (It
// cannot be a contend::Mutex: that is built on the ParkingLot, which sits
// above this file.)
//
// The table: open addressing with linear probing, power-of-two capacity, at
// most half full counting tombstones, so every probe ends at an empty slot.
// A slot goes empty -> key -> tombstone -> key ..., never back to empty, so
// a reader probing for K can skip every slot whose key is not K and stop at
// the first empty one. Adding a key stores the label, then the key (release);
// clearing stores a null label, then the tombstone.
//
// Rebuilding (to grow, or to drop tombstones) copies the live entries into a
// second table and publishes it. Tables are never freed while the process
// runs, only reused: each capacity has two, and a rebuild fills the one that
// is not current. A reader that was probing the table being refilled would
// see a mix, so rebuilds are bracketed by a sequence count (a seqlock): the
// reader retries when the count changed or was odd. Memory is bounded by
// 4 x the peak table size (two per capacity, capacities doubling), i.e.
// O(peak number of labeled primitives alive at once), whatever the churn.
//
// Its atomics are plain std::atomic, not internal::Atomic -- with the
// explorer's own hook table, the only ones in sync/. The registry is not part
// of any primitive's protocol, and its writers hold a std::mutex the
// deterministic-schedule explorer cannot see: an explorer switch point inside
// that critical section would let it preempt the holder, and the next thread
// to set a label (a scenario constructing a labeled lock) would block in the
// kernel where the explorer never resumes it. Without switch points each
// registry call runs as one step of a schedule.
template <class T>
using RegistryAtomic = std::atomic<T>;

struct LabelSlot {
  RegistryAtomic<const void*> key{nullptr};
  RegistryAtomic<const char*> label{nullptr};
};

struct LabelTable {
  explicit LabelTable(size_t cap) : capacity(cap), slots(new LabelSlot[cap]) {}
  const size_t capacity;  // a power of two
  const std::unique_ptr<LabelSlot[]> slots;
};

// A key value no primitive has: the tombstone of a cleared label.
constexpr uintptr_t kTombstoneBits = 1;  // misaligned, never a state word
const void* tombstone() noexcept {
  return reinterpret_cast<const void*>(kTombstoneBits);
}

size_t home_slot(const void* key, size_t capacity) noexcept {
  // Fibonacci hashing of the address: state words are 4- or 8-byte aligned
  // and often 64-byte apart, so the low bits alone would cluster.
  const uint64_t h = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(key)) *
                     0x9E3779B97F4A7C15ULL;
  return static_cast<size_t>(h >> 32) & (capacity - 1);
}

struct LabelRegistry {
  std::mutex mu;
  // Even when no rebuild is in progress. Written only under mu: incremented
  // (relaxed) to odd before a rebuild touches the spare table, then to even
  // (release) after the new table is published. Readers load it with acquire
  // before and after their probe; see wait_label().
  RegistryAtomic<uint64_t> sequence{0};
  // The current table (nullptr until the first label). Release store under
  // mu; acquire load in wait_label().
  RegistryAtomic<LabelTable*> current{nullptr};
  // Every table ever made, two per capacity, index = log2(capacity) * 2 +
  // {0,1}; reachable so that leak checkers stay quiet. Guarded by mu.
  std::vector<std::unique_ptr<LabelTable>> tables;
  size_t live = 0;        // labeled keys in *current; guarded by mu
  size_t tombstones = 0;  // tombstones in *current; guarded by mu
};

// The registry, once a label was ever set (readers find nullptr before and
// return at once, so they never construct or allocate anything). Release
// store once in label_registry(); acquire load in wait_label().
RegistryAtomic<LabelRegistry*> g_registry{nullptr};

// For writers: creates the registry on first use. Leaked on purpose so that
// primitives destroyed during static destruction can still clear labels.
LabelRegistry& label_registry();

// fork(): a child is a copy of one thread; if another thread held mu at that
// moment, the child's first labeled constructor would wait forever. The
// prepare handler takes mu, so no writer is mid-way (and `sequence` is even)
// when the address space is copied; both sides release it. No lock-order
// inversion with the profiler's own fork handlers: no code holds mu while
// taking another lock, and readers of the registry take no lock at all.
void label_fork_prepare() noexcept { label_registry().mu.lock(); }
void label_fork_release() noexcept { label_registry().mu.unlock(); }

LabelRegistry& label_registry() {
  static LabelRegistry* const registry = [] {
    auto* r = new LabelRegistry();
    pthread_atfork(&label_fork_prepare, &label_fork_release,
                   &label_fork_release);
    // Release: pairs with the acquire load in wait_label().
    g_registry.store(r, std::memory_order_release);
    return r;
  }();
  return *registry;
}

// The slot holding `key` in t, or nullptr. Requires mu (slots are only
// changed under it, so relaxed loads see the latest values).
LabelSlot* find_locked(LabelTable& t, const void* key) {
  for (size_t i = home_slot(key, t.capacity), n = 0; n < t.capacity;
       ++n, i = (i + 1) & (t.capacity - 1)) {
    // Relaxed: mu orders every write to the slots before this load.
    const void* k = t.slots[i].key.load(std::memory_order_relaxed);
    if (k == key) return &t.slots[i];
    if (k == nullptr) return nullptr;
  }
  return nullptr;
}

// Adds key (not present) to t at the first reusable slot of its probe
// sequence. Requires mu and room (live + tombstones < capacity / 2).
void insert_locked(LabelTable& t, const void* key, const char* label,
                   bool& reused_tombstone) {
  for (size_t i = home_slot(key, t.capacity);; i = (i + 1) & (t.capacity - 1)) {
    LabelSlot& slot = t.slots[i];
    // Relaxed: under mu, see find_locked().
    const void* k = slot.key.load(std::memory_order_relaxed);
    if (k == nullptr || k == tombstone()) {
      reused_tombstone = k != nullptr;
      // Release (both): pair with the acquire loads in wait_label(), so a
      // reader that sees the key sees this label (and the label's bytes).
      slot.label.store(label, std::memory_order_release);
      slot.key.store(key, std::memory_order_release);
      return;
    }
  }
}

// Makes room for one more key: rebuilds into the spare table of the right
// capacity (at least 4 x the live count, so the next rebuild is at least a
// quarter of the table away) when adding would pass half full. Requires mu.
void reserve_one_locked(LabelRegistry& r) {
  // Relaxed: under mu (the only writer of `current`).
  LabelTable* cur = r.current.load(std::memory_order_relaxed);
  if (cur != nullptr && (r.live + r.tombstones + 1) * 2 <= cur->capacity) {
    return;
  }
  size_t log2 = 4;  // 16 slots at least
  while ((size_t{1} << log2) < (r.live + 1) * 4) ++log2;
  // Of the two tables of this capacity, the one that is not current.
  size_t index = log2 * 2;
  if (index < r.tables.size() && r.tables[index].get() == cur) ++index;
  if (r.tables.size() <= index) r.tables.resize(index + 1);
  if (r.tables[index] == nullptr) {
    r.tables[index] = std::make_unique<LabelTable>(size_t{1} << log2);
  }
  LabelTable& next = *r.tables[index];

  // Seqlock write side: the count goes odd first, and every slot store of
  // the rebuild is a release store sequenced after it. A reader whose
  // acquire load reads any of them therefore also sees the odd (or a later)
  // count when it re-loads `sequence`, and retries. (Release stores rather
  // than a fence: GCC's TSan does not support atomic_thread_fence.) Relaxed
  // load and store of the count itself: only writers, under mu, touch it.
  const uint64_t seq = r.sequence.load(std::memory_order_relaxed);
  r.sequence.store(seq + 1, std::memory_order_relaxed);
  for (size_t i = 0; i < next.capacity; ++i) {
    // Release (both): see above; they pair with the acquire loads of the
    // probe in wait_label().
    next.slots[i].key.store(nullptr, std::memory_order_release);
    next.slots[i].label.store(nullptr, std::memory_order_release);
  }
  if (cur != nullptr) {
    for (size_t i = 0; i < cur->capacity; ++i) {
      // Relaxed: under mu.
      const void* k = cur->slots[i].key.load(std::memory_order_relaxed);
      if (k == nullptr || k == tombstone()) continue;
      bool unused;
      insert_locked(
          next, k, cur->slots[i].label.load(std::memory_order_relaxed), unused);
    }
  }
  r.tombstones = 0;
  // Release: pairs with the acquire load in wait_label().
  r.current.store(&next, std::memory_order_release);
  // Release: pairs with the acquire loads of `sequence` in wait_label().
  r.sequence.store(seq + 2, std::memory_order_release);
}

}  // namespace

const char* wait_kind_name(WaitKind kind) noexcept {
  switch (kind) {
    case WaitKind::kMutex:
      return "Mutex";
    case WaitKind::kRWMutexReader:
      return "RWMutex.read";
    case WaitKind::kRWMutexWriter:
      return "RWMutex.write";
    case WaitKind::kCond:
      return "Cond";
    case WaitKind::kEvent:
      return "Event";
    case WaitKind::kOnce:
      return "Once";
    case WaitKind::kWaitGroup:
      return "WaitGroup";
    case WaitKind::kSemaphore:
      return "Semaphore";
    case WaitKind::kErrGroup:
      return "ErrGroup";
    case WaitKind::kSingleflight:
      return "Singleflight";
    case WaitKind::kChan:
      return "Chan";
    case WaitKind::kResourcePool:
      return "ResourcePool";
    case WaitKind::kOther:
      return "Other";
  }
  return "?";
}

void set_wait_observer(const WaitObserver* observer) noexcept {
  // Release: pairs with the acquire in wait_observer().
  g_observer.store(observer, std::memory_order_release);
}

const WaitObserver* wait_observer() noexcept {
  // Acquire: pairs with the release in set_wait_observer().
  return g_observer.load(std::memory_order_acquire);
}

void set_wait_label(const void* key, const char* label) {
  if (label == nullptr) {
    clear_wait_label(key);
    return;
  }
  LabelRegistry& r = label_registry();
  std::lock_guard<std::mutex> lock(r.mu);
  // Relaxed: under mu.
  if (LabelTable* cur = r.current.load(std::memory_order_relaxed)) {
    if (LabelSlot* slot = find_locked(*cur, key)) {
      // Release: pairs with the acquire load of the label in wait_label().
      slot->label.store(label, std::memory_order_release);
      return;
    }
  }
  reserve_one_locked(r);
  bool reused_tombstone = false;
  insert_locked(*r.current.load(std::memory_order_relaxed), key, label,
                reused_tombstone);
  ++r.live;
  if (reused_tombstone) --r.tombstones;
}

void clear_wait_label(const void* key) {
  LabelRegistry& r = label_registry();
  std::lock_guard<std::mutex> lock(r.mu);
  // Relaxed: under mu.
  LabelTable* cur = r.current.load(std::memory_order_relaxed);
  if (cur == nullptr) return;
  LabelSlot* slot = find_locked(*cur, key);
  if (slot == nullptr) return;
  // Release (both): a reader that sees the tombstone must not go on to read
  // a stale label through a later reuse of this slot; one that still sees
  // the key may see either label, as for any concurrent clear.
  slot->label.store(nullptr, std::memory_order_release);
  slot->key.store(tombstone(), std::memory_order_release);
  --r.live;
  ++r.tombstones;
}

const char* wait_label(const void* key) noexcept {
  // Acquire: pairs with the release store in label_registry().
  LabelRegistry* const registry = g_registry.load(std::memory_order_acquire);
  if (registry == nullptr) return nullptr;
  LabelRegistry& r = *registry;
  for (;;) {
    // Acquire: pairs with the release store that ended the last rebuild, so
    // the table it published is complete when seq is even.
    const uint64_t seq = r.sequence.load(std::memory_order_acquire);
    // Acquire: pairs with the release store of `current` after a rebuild.
    LabelTable* t = r.current.load(std::memory_order_acquire);
    if (t == nullptr) return nullptr;
    const char* found = nullptr;
    if ((seq & 1) == 0) {
      for (size_t i = home_slot(key, t->capacity), n = 0; n < t->capacity;
           ++n, i = (i + 1) & (t->capacity - 1)) {
        // Acquire (both): pair with the release stores in insert_locked(),
        // set_wait_label() and clear_wait_label().
        const void* k = t->slots[i].key.load(std::memory_order_acquire);
        if (k == key) {
          found = t->slots[i].label.load(std::memory_order_acquire);
          // The slot may have been cleared and reused by another key since
          // the load of k; then `found` may be that key's label. A label
          // stored by a reuse was stored after the tombstone, so the acquire
          // load that read it makes this re-load see the tombstone or the
          // new key.
          if (t->slots[i].key.load(std::memory_order_acquire) != key) {
            found = nullptr;
          }
          break;
        }
        if (k == nullptr) break;
      }
    }
    // If any acquire load above read a store of a rebuild that started
    // after `seq`, that rebuild's odd count happens-before this re-load,
    // which therefore reads it or a later count (see reserve_one_locked()).
    // Acquire is not needed for that; it keeps the re-load from moving above
    // the probe's loads.
    if ((seq & 1) == 0 && r.sequence.load(std::memory_order_acquire) == seq) {
      return found;
    }
  }
}

size_t wait_label_capacity_for_testing() {
  LabelRegistry& r = label_registry();
  std::lock_guard<std::mutex> lock(r.mu);
  size_t total = 0;
  for (const auto& t : r.tables) total += t == nullptr ? 0 : t->capacity;
  return total;
}

}  // namespace contend::internal
