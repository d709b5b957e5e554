// Copyright 2026 The contend Authors.
//
// contend::Snapshot<T>: a cell holding an immutable value that readers load
// without locks and writers replace whole (Go's atomic.Pointer[T] used as
// copy-on-write, without a garbage collector).

#ifndef CONTEND_SYNC_SNAPSHOT_H_
#define CONTEND_SYNC_SNAPSHOT_H_

#include <cstdint>
#include <memory>
#include <type_traits>
#include <utility>

#include "absl/base/optimization.h"
#include "sync/internal/atomic.h"
#include "sync/internal/fatal.h"
#include "sync/internal/hazard_pointer.h"

namespace contend {

// A Snapshot holds one immutable `const T` that readers load and writers
// replace.
//
// Model: the cell always holds exactly one published value. store() and a
// successful compare_and_swap() or update() replace it; a value once
// published is never modified (the checklist's rule 9 made structural: the
// API only ever hands out `const T`). A replaced value stays alive while any
// Guard or shared_ptr from load_shared() refers to it, and is destroyed soon
// after the last one ends (hazard pointers, sync/internal/hazard_pointer.h).
//
// Contract:
// - Snapshot(T) / Snapshot(unique_ptr<T>): Requires: a non-null pointer.
// - load(): Guarantees: the Guard refers to the value published at some point
//   during the call and keeps it alive until the Guard is destroyed (even
//   past the Snapshot's own destruction). After that, the thread's last
//   loaded value may stay alive until the same thread loads a different
//   value (of any Snapshot) or exits: a thread pins at most one value that
//   nothing uses (the sticky hazard slot, sync/internal/hazard_pointer.h).
// - load_shared(): the same, as a shared_ptr<const T> for long-lived holders.
// - Reader(s).load(): for a hot loop on one thread. A Reader owns one hazard
//   slot for its whole life; load() Requires: `s` is not destroyed yet.
//   Guarantees: the returned reference is to a value published at some point
//   during the call, and stays valid until the Reader's next load(), reset()
//   or destruction (even past the Snapshot's own destruction). A Reader pins
//   at most one value: the last one it loaded, until reset().
// - store(v): publishes v. store(unique_ptr) Requires: non-null.
// - compare_and_swap(expected, desired): publishes desired and returns true
//   iff the published value is the object at `expected` (an address from a
//   Guard or load_shared of this Snapshot); otherwise returns false and
//   destroys desired. No ABA: an address cannot be reused while the caller
//   still holds the guard it came from.
// - update(f): publishes f applied to a copy of the current value, atomically
//   with respect to every other write (copy, apply f, compare-and-swap, retry
//   on conflict: RCU). Requires: T is copyable and f is idempotent -- f may
//   run several times, each time on a fresh copy of the then-current value,
//   and only the last run's result is kept; side effects of f beyond its
//   argument repeat (the article *sync — Senior*, §9).
//
// Thread safety: every member may run concurrently with every other, except
// the destructor. A Guard belongs to the thread that loaded it: it may be
// moved, but it must be destroyed (or assigned to) on that thread. Hand a
// value to another thread, or hold it across a coroutine suspension that may
// resume elsewhere, with load_shared(). A Reader is used by one thread at a
// time.
//
// Memory ordering: everything before a store (or successful
// compare_and_swap / update) happens-before every load or load_shared that
// returns the value it published. Readers never block writers and writers
// never block readers; concurrent writers retry (update) or fail (CAS).
//
// Misuse: a null unique_ptr passed to the constructor, store or
// compare_and_swap terminates ("contend: Snapshot::store: null value"); so
// does load() on a moved-from Reader ("contend: Snapshot::Reader::load:
// moved-from Reader"), and destroying a Guard on another thread than its
// load() ("contend: Snapshot::Guard: released on another thread than its
// load() ..."); all always checked. Dereferencing a Guard after moving from
// it is undefined.
//
// Cost: sizeof(Snapshot<T>) == sizeof(void*). load(): no shared write and no
// lock. When the value is the one this thread loaded last (the common case
// of a read-mostly cell), an acquire load of the cell, a compare and a
// thread-local store, and the Guard's destructor one more thread-local store;
// otherwise a store to the thread's own hazard slot, a compiler barrier and
// the validating reload. A value given by value sits at a fixed offset from
// the published pointer, so a read through the Guard is one more load; a
// unique_ptr value is one further pointer away. Reader::load(): the slot
// store, the compiler barrier and the reload. load_shared() adds an atomic
// reference-count increment (a shared write). store(T): one allocation
// (control block, node and value together), one exchange and a retire
// (every R retires a scan: sync/internal/hazard_pointer.h); store(unique_ptr)
// two allocations. Numbers: bench/sync/snapshot_benchmark.cc,
// bench/sync/RESULTS.md.
//
// Example:
//   contend::Snapshot<Config> config(Config{.limit = 10});
//   // readers, on any thread:
//   auto cfg = config.load();
//   use(cfg->limit);
//   // a writer:
//   config.update([](Config& c) { c.limit = 20; });
//   // a hot loop on one thread:
//   contend::Snapshot<Config>::Reader reader(config);
//   for (const Request& r : batch) handle(r, reader.load().limit);
template <class T>
class Snapshot {
  static_assert(std::is_object_v<T> && !std::is_const_v<T>,
                "Snapshot<T>: T is a non-const object type (the value is "
                "always handed out as const T)");

  // A published value. The cell holds the address of one of two nodes:
  // - InlineNode, for values given by value (the T constructor, store(T),
  //   update, compare_and_swap(T)): one allocation (make_shared) holding the
  //   control block, the node and the value; the node's self reference keeps
  //   it alive until it is reclaimed, and load_shared() shares that block.
  //   The value sits at a fixed offset from the cell's pointer, so reading it
  //   is no further load.
  // - BoxedNode, for a unique_ptr<T> (whose object must keep its address):
  //   the node owns it through a shared_ptr, and the cell holds the node's
  //   address with kBoxed set (nodes are at least 8-aligned; bit 0 is the
  //   hazard hold's).
  struct InlineNode;
  struct ReleaseSelf {
    void operator()(InlineNode* n) const noexcept {
      std::shared_ptr<InlineNode> last = std::move(n->self);
    }
  };
  struct InlineNode : internal::HazardPointerObjBase<InlineNode, ReleaseSelf> {
    explicit InlineNode(T v) : value(std::move(v)) {}
    const T value;
    std::shared_ptr<InlineNode> self;
  };
  struct BoxedNode : internal::HazardPointerObjBase<BoxedNode> {
    explicit BoxedNode(std::shared_ptr<const T> v) : owner(std::move(v)) {}
    std::shared_ptr<const T> owner;
  };
  static constexpr std::uintptr_t kBoxed = 2;
  static_assert(alignof(InlineNode) >= 4 && alignof(BoxedNode) >= 4);

  static bool boxed(const void* p) noexcept {
    return (reinterpret_cast<std::uintptr_t>(p) & kBoxed) != 0;
  }
  static BoxedNode* as_boxed(const void* p) noexcept {
    return reinterpret_cast<BoxedNode*>(reinterpret_cast<std::uintptr_t>(p) &
                                        ~kBoxed);
  }
  static InlineNode* as_inline(const void* p) noexcept {
    return static_cast<InlineNode*>(const_cast<void*>(p));
  }
  static const T* value_of(const void* p) noexcept {
    if (ABSL_PREDICT_TRUE(!boxed(p))) return &as_inline(p)->value;
    return as_boxed(p)->owner.get();
  }

 public:
  // A loaded value: pointer-like, keeps the value alive while it exists.
  // Movable, not copyable; destroyed on the thread that loaded it.
  class Guard {
   public:
    Guard(Guard&&) noexcept = default;
    Guard& operator=(Guard&&) noexcept = default;
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;
    ~Guard() = default;

    const T* get() const noexcept { return value_of(hold_.get()); }
    const T& operator*() const noexcept { return *get(); }
    const T* operator->() const noexcept { return get(); }

   private:
    friend class Snapshot;
    Guard() noexcept = default;
    internal::HazardHold hold_;
  };

  // A reader with its own hazard slot, bound to one Snapshot. Movable, not
  // copyable; used by one thread at a time.
  class Reader {
   public:
    explicit Reader(const Snapshot& s)
        : s_(&s), hp_(internal::make_hazard_pointer()) {}
    Reader(Reader&&) noexcept = default;
    Reader& operator=(Reader&&) noexcept = default;
    Reader(const Reader&) = delete;
    Reader& operator=(const Reader&) = delete;
    ~Reader() = default;

    // The current value; valid until the next load(), reset() or ~Reader.
    [[nodiscard]] const T& load() {
      if (ABSL_PREDICT_FALSE(hp_.empty())) {
        internal::fatal("contend: Snapshot::Reader::load: moved-from Reader");
      }
      // protect(): its acquire reload pairs with the release of the
      // exchange or CAS that published the node; it replaces the previous
      // protection, so the value last returned may now be reclaimed.
      return *value_of(hp_.protect(s_->cell_));
    }

    // Ends the protection of the value last loaded.
    void reset() noexcept { hp_.reset_protection(); }

   private:
    const Snapshot* s_;
    internal::HazardPointer hp_;
  };

  explicit Snapshot(T initial) : cell_(make_inline(std::move(initial))) {}
  explicit Snapshot(std::unique_ptr<T> initial)
      : cell_(make_boxed(std::move(initial), "Snapshot")) {}
  Snapshot(const Snapshot&) = delete;
  Snapshot& operator=(const Snapshot&) = delete;
  ~Snapshot() {
    // Relaxed: no call runs concurrently with the destructor (Requires).
    retire(cell_.load(std::memory_order_relaxed));
  }

  [[nodiscard]] Guard load() const {
    Guard g;
    // protect(): its acquire load pairs with the release of the exchange or
    // CAS that published the node.
    g.hold_.protect(cell_);
    return g;
  }

  [[nodiscard]] std::shared_ptr<const T> load_shared() const {
    Guard g = load();
    const void* p = g.hold_.get();
    if (boxed(p)) return as_boxed(p)->owner;
    // Aliasing: shares the node's block, points at its value. `self` is set
    // before publication and cleared only by the deleter, which cannot run
    // while g protects the node.
    InlineNode* n = as_inline(p);
    return std::shared_ptr<const T>(n->self, &n->value);
  }

  void store(T v) { publish(make_inline(std::move(v))); }
  void store(std::unique_ptr<T> v) {
    publish(make_boxed(std::move(v), "store"));
  }

  bool compare_and_swap(const T* expected, T desired) {
    return cas_value(expected, [&] { return make_inline(std::move(desired)); });
  }
  bool compare_and_swap(const T* expected, std::unique_ptr<T> desired) {
    void* d = make_boxed(std::move(desired), "compare_and_swap");
    const bool swapped =
        cas_value(expected, [&] { return std::exchange(d, nullptr); });
    discard(d);  // null unless cas_value returned before taking it
    return swapped;
  }

  template <class F>
  void update(F f) {
    static_assert(std::is_copy_constructible_v<T>,
                  "Snapshot<T>::update copies the value: T must be copyable");
    for (;;) {
      Guard g = load();
      T copy(*g);
      f(copy);
      void* n = make_inline(std::move(copy));
      // g's hazard keeps the node from being freed and reused, so the CAS
      // cannot succeed against a different node at the same address.
      if (cas_node(g.hold_.get(), n)) return;
      discard(n);
    }
  }

 private:
  static void* make_inline(T v) {
    auto sp = std::make_shared<InlineNode>(std::move(v));
    InlineNode* n = sp.get();
    n->self = std::move(sp);
    return n;
  }
  static void* make_boxed(std::unique_ptr<T> v, const char* method) {
    if (ABSL_PREDICT_FALSE(v == nullptr)) {
      internal::fatal_format("contend: Snapshot::%s: null value", method);
    }
    auto* n = new BoxedNode(std::shared_ptr<const T>(std::move(v)));
    return reinterpret_cast<void*>(reinterpret_cast<std::uintptr_t>(n) |
                                   kBoxed);
  }
  // Frees a node that was never published (a lost CAS).
  static void discard(void* p) noexcept {
    if (p == nullptr) return;
    if (boxed(p)) {
      delete as_boxed(p);
    } else {
      ReleaseSelf()(as_inline(p));
    }
  }
  // Retires an unlinked node under the address readers protect it by.
  static void retire(void* p) noexcept {
    if (boxed(p)) {
      as_boxed(p)->retire_as(p);
    } else {
      as_inline(p)->retire();
    }
  }

  void publish(void* n) {
    // Release: pairs with the acquire load in load()'s protect, so the
    // value's construction happens-before every read through a Guard.
    // Acquire: the old node's fields (written by its publisher) are read by
    // the deleter that retire() may run on this thread.
    retire(cell_.exchange(n, std::memory_order_acq_rel));
  }

  bool cas_node(const void* expected, void* n) {
    void* e = const_cast<void*>(expected);
    // Release/acquire: as in publish(). Failure relaxed: nothing is read
    // through the value it returns.
    if (cell_.compare_exchange_strong(e, n, std::memory_order_acq_rel,
                                      std::memory_order_relaxed)) {
      retire(e);
      return true;
    }
    return false;
  }

  // Publishes make_node()'s node iff the value is at `expected`; a node made
  // and not published is discarded.
  template <class MakeNode>
  bool cas_value(const T* expected, MakeNode make_node) {
    Guard g = load();
    if (g.get() != expected) return false;
    void* n = make_node();
    if (cas_node(g.hold_.get(), n)) return true;
    discard(n);
    return false;
  }

  // The published node (see InlineNode); never null.
  internal::Atomic<void*> cell_;
};

}  // namespace contend

#endif  // CONTEND_SYNC_SNAPSHOT_H_
