// Copyright 2026 The contend Authors.
//
// contend::ReadMostlyMap<K, V>: a concurrent map for read-dominated use with
// stable keys (Go's sync.Map), whose loads take no lock and write nothing
// shared.

#ifndef CONTEND_SHARD_READ_MOSTLY_MAP_H_
#define CONTEND_SHARD_READ_MOSTLY_MAP_H_

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "sync/internal/atomic.h"
#include "sync/internal/cache_padded.h"
#include "sync/internal/hazard_pointer.h"
#include "sync/mutex.h"
#include "sync/snapshot.h"

namespace contend {

// A ReadMostlyMap maps keys to values for many concurrent readers and few
// writers, with sync.Map's operations in snake_case.
//
// Model: a set of (key, value) pairs. Every operation is linearizable: it
// takes effect at one instant between its call and its return
// (tests/shard/read_mostly_map_linearizability_test.cc checks recorded
// histories).
//
// Design: per-key cells under a copy-on-write index (the shape of Go's
// sync.Map entries, with hazard pointers in place of the GC). The keys are
// split by hash into kShards shards. A shard's index is an immutable
// absl::flat_hash_map from key to Cell, published through a Snapshot; it is
// copied only when a KEY is added (and then drops dead cells). A Cell holds
// one atomic pointer to an immutable value node, so a write to a key that is
// already indexed -- an upsert, a delete, a CAS -- is one compare-and-swap of
// that pointer, with no lock and no copy; the replaced node is retired to
// the hazard-pointer domain. A cell pointer is one of: a value node (mapped),
// null (deleted; the key stays indexed, so storing it again is one CAS), or
// kExpunged (the cell is leaving the index: writers must take the shard lock
// and add a new cell). Only the shard's Mutex holder expunges (null ->
// kExpunged, when it copies the index for an insert, or anything ->
// kExpunged in clear()), and it publishes the index without the cell before
// unlocking. Hence INV-CELL: a cell that is not expunged is in the shard's
// current index, and its pointer is the key's state; and a key with no
// indexed live cell is unmapped. A load protects the index, finds the cell,
// protects the value node and copies the value: two hazard-pointer protects
// and no shared write. Indexes own their cells through a shared_ptr, so a
// cell lives while any index that names it does (a reader holding an old
// index may still read an expunged cell: it then retries on the newest).
// A hit is a chain of dependent loads (shard, index, control bytes, slot,
// key, Cell, value node) with two protects: two more cache misses than a
// locked flat_hash_map whose slots hold the values. That is the price of
// loads that write nothing shared; on two cores a striped map is faster
// (bench/shard/RESULTS.md). Alternatives and why not:
// Go's read/dirty pair counts read misses (a shared write on the load path);
// a hash-trie (Go 1.24's HashTrieMap) makes a load chase several nodes, each
// needing its own protection.
//
// Contract:
// - load(k) returns the value mapped to k, or nullopt.
// - store(k, v) maps k to v. swap(k, v) does the same and returns the
//   previous value (nullopt if there was none).
// - load_or_store(k, v) returns {existing value, true} if k is mapped, else
//   maps k to v and returns {v, false}.
// - load_and_delete(k) unmaps k and returns the value it had; erase(k) the
//   same without the value.
// - compare_and_swap(k, old, new): maps k to new iff k maps to a value equal
//   to old; compare_and_delete(k, old): unmaps k iff it maps to old. Both
//   return whether they did. Require: V is equality-comparable.
// - range(f) calls f(key, value) for the pairs of the map, shard by shard,
//   until f returns false. Every key present for the whole call is visited
//   exactly once; a key stored or deleted during the call may or may not be,
//   and a key updated during the call is visited with one of its values.
//   f may call any method of the map (it runs under no lock).
// - clear() unmaps every key (shard by shard: not one atomic step).
// - size() is the number of keys: exact when no write runs concurrently,
//   otherwise within the number of writes in flight of a value the map had.
// - Values are returned by copy; store a shared_ptr<const V> for large V.
//
// Thread safety: every member may run concurrently with every other, except
// the destructor.
//
// Memory ordering: a write happens-before every operation that observes its
// effect (a load that returns the value it stored, a load_or_store that
// finds it...).
//
// Misuse: none detected; K and V must be copyable, V's copy must not throw
// (a throwing copy leaves the map unchanged and propagates).
//
// Cost: sizeof(ReadMostlyMap) == sizeof(void*); kShards x 2 cache lines on
// the heap for the shard table, and per key one index entry, one Cell and
// one value node. load(): two hazard-pointer protects (sync/snapshot.h), one
// hash of the key (it picks the shard and probes the index), one
// flat_hash_map probe, a copy of V. A write to an indexed key: an
// allocation (unless it deletes) and one CAS, no lock; writes that change
// nothing (a load_or_store hit, a failing compare_*, deleting a missing key)
// decide without a CAS. A write that adds a key: the shard Mutex, a copy of
// the shard's index (O(size()/kShards) keys), a Snapshot::store. Deleted keys
// keep their cell until the next insert into their shard (so garbage is
// bounded by the keys ever present between two inserts of a shard).
// Numbers: bench/shard/RESULTS.md.
//
// Example:
//   contend::ReadMostlyMap<std::string, int> ports;
//   ports.store("http", 80);
//   if (auto p = ports.load("http")) use(*p);
//   auto [v, loaded] = ports.load_or_store("https", 443);
template <class K, class V, class Hash = absl::Hash<K>,
          class Eq = std::equal_to<K>>
class ReadMostlyMap {
  struct Value : internal::HazardPointerObjBase<Value> {
    template <class... A>
    explicit Value(A&&... a) : value(std::forward<A>(a)...) {}
    const V value;
  };

  struct Cell {
    explicit Cell(Value* v) : p(v) {}
    ~Cell() {
      // Relaxed: the last index naming this cell is being destroyed, and a
      // thread reads a cell only while it protects such an index, so no one
      // else can still reach the cell or (INV-CELL) its value node.
      Value* v = p.load(std::memory_order_relaxed);
      if (v != nullptr && v != expunged()) delete v;
    }
    internal::Atomic<Value*> p;
  };

  using Index = absl::flat_hash_map<K, std::shared_ptr<Cell>, Hash, Eq>;

 public:
  // Shards (a power of two). 128: a 10k-key map copies ~80 index entries per
  // insert of a new key (bench/shard/read_mostly_map_benchmark.cc).
  static constexpr std::size_t kShards = 128;

  ReadMostlyMap() = default;
  ReadMostlyMap(const ReadMostlyMap&) = delete;
  ReadMostlyMap& operator=(const ReadMostlyMap&) = delete;

  [[nodiscard]] std::optional<V> load(const K& k) const {
    const std::size_t h = hash(k);
    const Shard& s = shards_[shard_index(h)].value;
    for (;;) {
      auto index = s.index.value.load();
      // The index hashes with Hash{} too: pass the hash instead of
      // rehashing the key.
      auto it = index->find(k, h);
      if (it == index->end()) return std::nullopt;  // INV-CELL: unmapped
      internal::HazardPointer hp = internal::make_hazard_pointer();
      // protect(): its acquire reload pairs with the release CAS that
      // published the node (write_cell, insert).
      Value* v = hp.protect(it->second->p);
      if (v == nullptr) return std::nullopt;
      if (v != expunged()) return v->value;
      // The cell left (or is leaving) the index: if the shard still
      // publishes this index, the expunger has not unlocked, so no new cell
      // for k exists yet and k is unmapped now; otherwise look again.
      if (is_current(s, index)) return std::nullopt;
    }
  }

  void store(const K& k, V v) {
    Value* n = nullptr;
    write(
        k, [](const Value*) { return Step::kSet; },
        [&] { return n = new Value(std::move(v)); }, n);
  }

  std::optional<V> swap(const K& k, V v) {
    std::optional<V> prev;
    Value* n = nullptr;
    write(
        k,
        [&](const Value* cur) {
          prev.reset();
          if (cur != nullptr) prev.emplace(cur->value);
          return Step::kSet;
        },
        [&] { return n = new Value(std::move(v)); }, n);
    return prev;
  }

  std::pair<V, bool> load_or_store(const K& k, V v) {
    std::optional<V> found;
    Value* n = nullptr;
    write(
        k,
        [&](const Value* cur) {
          found.reset();
          if (cur == nullptr) return Step::kSet;
          found.emplace(cur->value);
          return Step::kKeep;
        },
        [&] { return n = new Value(v); }, n);
    if (found) return {std::move(*found), true};
    return {std::move(v), false};
  }

  std::optional<V> load_and_delete(const K& k) {
    std::optional<V> prev;
    Value* none = nullptr;
    write(
        k,
        [&](const Value* cur) {
          prev.reset();
          if (cur == nullptr) return Step::kKeep;
          prev.emplace(cur->value);
          return Step::kDelete;
        },
        [] { return static_cast<Value*>(nullptr); }, none);
    return prev;
  }

  void erase(const K& k) { (void)load_and_delete(k); }

  bool compare_and_swap(const K& k, const V& old_value, V new_value) {
    bool swapped = false;
    Value* n = nullptr;
    write(
        k,
        [&](const Value* cur) {
          swapped = cur != nullptr && cur->value == old_value;
          return swapped ? Step::kSet : Step::kKeep;
        },
        [&] { return n = new Value(std::move(new_value)); }, n);
    return swapped;
  }

  bool compare_and_delete(const K& k, const V& old_value) {
    bool deleted = false;
    Value* none = nullptr;
    write(
        k,
        [&](const Value* cur) {
          deleted = cur != nullptr && cur->value == old_value;
          return deleted ? Step::kDelete : Step::kKeep;
        },
        [] { return static_cast<Value*>(nullptr); }, none);
    return deleted;
  }

  template <class F>
  void range(F&& f) const {
    for (std::size_t i = 0; i < kShards; ++i) {
      auto index = shards_[i].value.index.value.load();
      internal::HazardPointer hp = internal::make_hazard_pointer();
      for (const auto& [k, cell] : *index) {
        // protect(): pairs with the release CAS that published the node.
        Value* v = hp.protect(cell->p);
        // An expunged cell's key is unmapped or was re-added in a later
        // index: present-for-the-whole-call keys are never expunged.
        if (v == nullptr || v == expunged()) continue;
        if (!f(k, v->value)) return;
      }
    }
  }

  void clear() {
    for (std::size_t i = 0; i < kShards; ++i) {
      Shard& s = shards_[i].value;
      MutexLock lock(s.mu);
      auto index = s.index.value.load();
      if (index->empty()) continue;
      for (const auto& [k, cell] : *index) {
        // Acq_rel: acquire pairs with the release CAS that published the
        // old node (its deleter reads it); release orders nothing further
        // but keeps every write to the cell one RMW chain.
        Value* old = cell->p.exchange(expunged(), std::memory_order_acq_rel);
        if (old != nullptr) {
          // Relaxed: a statistic for size() (see its contract).
          s.live.fetch_sub(1, std::memory_order_relaxed);
          old->retire();
        }
      }
      s.index.value.store(Index());
    }
  }

  [[nodiscard]] std::size_t size() const {
    int64_t n = 0;
    for (std::size_t i = 0; i < kShards; ++i) {
      // Relaxed: size() promises no ordering (see its contract).
      n += shards_[i].value.live.load(std::memory_order_relaxed);
    }
    return n < 0 ? 0 : static_cast<std::size_t>(n);
  }

 private:
  enum class Step { kKeep, kSet, kDelete };

  struct Shard {
    // Read by every load; replaced only with mu held. On its own line: the
    // writers' lock and counter below do not invalidate it.
    internal::CachePadded<Snapshot<Index>> index{Index()};
    Mutex mu;
    // Mapped keys of the shard (size()).
    internal::Atomic<int64_t> live{0};
  };

  // The third state of a cell pointer; never dereferenced (a Value is at
  // least pointer-aligned, so 1 is no Value's address).
  static Value* expunged() noexcept {
    return reinterpret_cast<Value*>(uintptr_t{1});
  }

  static bool is_current(const Shard& s,
                         const typename Snapshot<Index>::Guard& index) {
    // The caller's guard keeps index's address from being reused, so an
    // equal address is the same index.
    auto now = s.index.value.load();
    return now.get() == index.get();
  }

  // The one write path. decide(cur) (cur: the current value node, or null
  // when k is unmapped) says what to do and records the operation's result;
  // it may run several times (on CAS conflicts), the last run counts.
  // make() allocates the node for Step::kSet (at most once; `made` is where
  // it put it, deleted here if never published).
  template <class Decide, class Make>
  void write(const K& k, Decide decide, Make make, Value*& made) {
    const std::size_t h = hash(k);
    Shard& s = shard(h);
    bool published = false;
    for (;;) {
      auto index = s.index.value.load();
      auto it = index->find(k, h);
      if (it != index->end()) {
        if (write_cell(s, *it->second, decide, make, made, published)) break;
        // Expunged: the key is being re-indexed; take the locked path.
      } else if (decide(nullptr) != Step::kSet) {
        break;  // unmapped at the index load: nothing to change
      }
      MutexLock lock(s.mu);
      // Under mu the current index holds no expunged cell (INV-CELL).
      auto cur = s.index.value.load();
      auto c = cur->find(k, h);
      if (c != cur->end()) {
        const bool done =
            write_cell(s, *c->second, decide, make, made, published);
        assert(done);
        (void)done;
        break;
      }
      if (decide(nullptr) != Step::kSet) break;
      insert(s, *cur, k, made != nullptr ? made : make());
      published = true;
      break;
    }
    if (!published && made != nullptr) delete made;
  }

  // Applies decide to an indexed cell; false if the cell is expunged.
  template <class Decide, class Make>
  bool write_cell(Shard& s, Cell& cell, Decide& decide, Make& make,
                  Value*& made, bool& published) {
    internal::HazardPointer hp = internal::make_hazard_pointer();
    // protect(): decide reads the node, so it must stay alive; its acquire
    // pairs with the release CAS that published it. The hazard also makes
    // the CAS below ABA-free (the node's address cannot be reused).
    Value* cur = hp.protect(cell.p);
    for (;;) {
      if (cur == expunged()) return false;
      const Step step = decide(cur);
      if (step == Step::kKeep) return true;
      if (step == Step::kDelete && cur == nullptr) return true;
      Value* next =
          step == Step::kSet ? (made != nullptr ? made : make()) : nullptr;
      // Release: publishes next's construction (pairs with the acquire of
      // a reader's protect). Acquire: cur's contents, for its deleter.
      // Failure relaxed: the new value is re-protected before use.
      if (cell.p.compare_exchange_strong(cur, next, std::memory_order_acq_rel,
                                         std::memory_order_relaxed)) {
        published = next != nullptr;
        // Relaxed: a statistic for size() (see its contract).
        if (cur == nullptr) s.live.fetch_add(1, std::memory_order_relaxed);
        if (next == nullptr) s.live.fetch_sub(1, std::memory_order_relaxed);
        if (cur != nullptr) cur->retire();
        return true;
      }
      // cur now holds the newer pointer: protect it before decide reads it.
      while (!hp.try_protect(cur, cell.p)) {
      }
    }
  }

  // Publishes a copy of `cur` (the current index; mu held) plus k -> n,
  // dropping the cells of deleted keys on the way.
  void insert(Shard& s, const Index& cur, const K& k, Value* n) {
    Index next;
    next.reserve(cur.size() + 1);
    for (const auto& [key, cell] : cur) {
      Value* expected = nullptr;
      // Relaxed on both sides: a deleted cell has no node to publish or
      // read; the index store below publishes the new index.
      if (cell->p.compare_exchange_strong(expected, expunged(),
                                          std::memory_order_relaxed,
                                          std::memory_order_relaxed)) {
        continue;
      }
      next.emplace(key, cell);
    }
    next.emplace(k, std::make_shared<Cell>(n));
    // Relaxed: a statistic for size() (see its contract).
    s.live.fetch_add(1, std::memory_order_relaxed);
    // Snapshot::store releases the index (and the cell's node in it).
    s.index.value.store(std::move(next));
  }

  static std::size_t hash(const K& k) {
    return static_cast<std::size_t>(Hash{}(k));
  }
  static std::size_t shard_index(std::size_t h) {
    // The top bits of a multiplicative remix: independent of the low bits
    // the shard's own flat_hash_map uses for its control bytes.
    return static_cast<std::size_t>(
        (static_cast<uint64_t>(h) * 0x9E3779B97F4A7C15ULL) >> 57);
  }
  static_assert(kShards == 128, "shard_index() takes the top 7 bits");

  Shard& shard(std::size_t h) { return shards_[shard_index(h)].value; }

  // On the heap: the map itself keeps ordinary alignment wherever it lives
  // (an over-aligned object on a sanitizer's fake stack is misaligned).
  const std::unique_ptr<internal::CachePadded<Shard>[]> shards_ {
    new internal::CachePadded<Shard>[ kShards ]
  };
};

}  // namespace contend

#endif  // CONTEND_SHARD_READ_MOSTLY_MAP_H_
