// Copyright 2026 The contend Authors.
//
// contend::Snapshot<T>: a cell holding an immutable value that readers load
// without locks and writers replace whole (Go's atomic.Pointer[T] used as
// copy-on-write, without a garbage collector).

#ifndef CONTEND_SYNC_SNAPSHOT_H_
#define CONTEND_SYNC_SNAPSHOT_H_

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
//   past the Snapshot's own destruction).
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
// the destructor. A Guard is used by one thread at a time (moving it to
// another thread is allowed).
//
// Memory ordering: everything before a store (or successful
// compare_and_swap / update) happens-before every load or load_shared that
// returns the value it published. Readers never block writers and writers
// never block readers; concurrent writers retry (update) or fail (CAS).
//
// Misuse: a null unique_ptr passed to the constructor, store or
// compare_and_swap terminates ("contend: Snapshot::store: null value"); so
// does load() on a moved-from Reader ("contend: Snapshot::Reader::load:
// moved-from Reader"); both always checked. Dereferencing a Guard after
// moving from it is undefined.
//
// Cost: sizeof(Snapshot<T>) == sizeof(void*). load(): no shared write and no
// lock -- one store to the caller's own hazard slot, a compiler barrier and
// an acquire load of the cell (plus two thread-local accesses); a Guard's
// destructor one more store to the slot. Reader::load(): the slot store, the
// compiler barrier and the reload only (no thread-local bookkeeping, no
// clearing store). load_shared() adds an atomic
// reference-count increment (a shared write). store(): two allocations (the
// value's shared control block and a node), one exchange, and a retire (every
// R retires a scan: sync/internal/hazard_pointer.h). Numbers:
// bench/sync/snapshot_benchmark.cc, bench/sync/RESULTS.md.
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

  struct Node : internal::HazardPointerObjBase<Node> {
    explicit Node(std::shared_ptr<const T> v)
        : owner(std::move(v)), value(owner.get()) {}
    std::shared_ptr<const T> owner;
    const T* value;
  };

 public:
  // A loaded value: pointer-like, keeps the value alive while it exists.
  // Movable, not copyable; one per reader at a time is the intended use.
  class Guard {
   public:
    Guard(Guard&&) noexcept = default;
    Guard& operator=(Guard&&) noexcept = default;
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;
    ~Guard() = default;

    const T* get() const noexcept { return node_->value; }
    const T& operator*() const noexcept { return *node_->value; }
    const T* operator->() const noexcept { return node_->value; }

   private:
    friend class Snapshot;
    Guard(internal::HazardPointer hp, Node* n) noexcept
        : hp_(std::move(hp)), node_(n) {}
    internal::HazardPointer hp_;
    Node* node_;
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
      return *hp_.protect(s_->cell_)->value;
    }

    // Ends the protection of the value last loaded.
    void reset() noexcept { hp_.reset_protection(); }

   private:
    const Snapshot* s_;
    internal::HazardPointer hp_;
  };

  explicit Snapshot(T initial)
      : cell_(make_node(std::make_shared<const T>(std::move(initial)))) {}
  explicit Snapshot(std::unique_ptr<T> initial)
      : cell_(make_node(checked(std::move(initial), "Snapshot"))) {}
  Snapshot(const Snapshot&) = delete;
  Snapshot& operator=(const Snapshot&) = delete;
  ~Snapshot() {
    // Relaxed: no call runs concurrently with the destructor (Requires).
    cell_.load(std::memory_order_relaxed)->retire();
  }

  [[nodiscard]] Guard load() const {
    internal::HazardPointer hp = internal::make_hazard_pointer();
    // protect(): its acquire reload pairs with the release of the exchange
    // or CAS that published the node.
    Node* n = hp.protect(cell_);
    return Guard(std::move(hp), n);
  }

  [[nodiscard]] std::shared_ptr<const T> load_shared() const {
    Guard g = load();
    return g.node_->owner;
  }

  void store(T v) {
    publish(make_node(std::make_shared<const T>(std::move(v))));
  }
  void store(std::unique_ptr<T> v) {
    publish(make_node(checked(std::move(v), "store")));
  }

  bool compare_and_swap(const T* expected, T desired) {
    return cas_value(expected, [&] {
      return std::make_shared<const T>(std::move(desired));
    });
  }
  bool compare_and_swap(const T* expected, std::unique_ptr<T> desired) {
    std::shared_ptr<const T> d =
        checked(std::move(desired), "compare_and_swap");
    return cas_value(expected, [&] { return std::move(d); });
  }

  template <class F>
  void update(F f) {
    static_assert(std::is_copy_constructible_v<T>,
                  "Snapshot<T>::update copies the value: T must be copyable");
    for (;;) {
      Guard g = load();
      T copy(*g.node_->value);
      f(copy);
      Node* n = make_node(std::make_shared<const T>(std::move(copy)));
      Node* expected = g.node_;
      // g's hazard keeps `expected` from being freed and reused, so the
      // CAS cannot succeed against a different node at the same address.
      if (cas_node(expected, n)) return;
      delete n;
    }
  }

 private:
  static Node* make_node(std::shared_ptr<const T> v) {
    return new Node(std::move(v));
  }
  static std::shared_ptr<const T> checked(std::unique_ptr<T> v,
                                          const char* method) {
    if (ABSL_PREDICT_FALSE(v == nullptr)) {
      internal::fatal_format("contend: Snapshot::%s: null value", method);
    }
    return std::shared_ptr<const T>(std::move(v));
  }

  void publish(Node* n) {
    // Release: pairs with the acquire reload in load()'s protect, so the
    // value's construction happens-before every read through a Guard.
    // Acquire: the old node's fields (written by its publisher) are read by
    // the deleter that retire() may run on this thread.
    Node* old = cell_.exchange(n, std::memory_order_acq_rel);
    old->retire();
  }

  bool cas_node(Node* expected, Node* n) {
    // Release/acquire: as in publish(). Failure relaxed: nothing is read
    // through the value it returns.
    if (cell_.compare_exchange_strong(expected, n, std::memory_order_acq_rel,
                                      std::memory_order_relaxed)) {
      expected->retire();
      return true;
    }
    return false;
  }

  template <class MakeValue>
  bool cas_value(const T* expected, MakeValue make_value) {
    Guard g = load();
    if (g.node_->value != expected) return false;
    Node* n = make_node(make_value());
    if (cas_node(g.node_, n)) return true;
    delete n;
    return false;
  }

  internal::Atomic<Node*> cell_;
};

}  // namespace contend

#endif  // CONTEND_SYNC_SNAPSHOT_H_
