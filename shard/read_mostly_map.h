// Copyright 2026 The contend Authors.
//
// contend::ReadMostlyMap<K, V>: a concurrent map for read-dominated use with
// stable keys (Go's sync.Map), whose loads take no lock and write nothing
// shared.

#ifndef CONTEND_SHARD_READ_MOSTLY_MAP_H_
#define CONTEND_SHARD_READ_MOSTLY_MAP_H_

#include <array>
#include <bit>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include "absl/hash/hash.h"
#include "shard/internal/frozen_hash_table.h"
#include "sync/internal/atomic.h"
#include "sync/internal/cache_padded.h"
#include "sync/internal/hazard_pointer.h"
#include "sync/mutex.h"

namespace contend {

// A ReadMostlyMap maps keys to values for many concurrent readers and few
// writers, with sync.Map's operations in snake_case.
//
// Model: a set of (key, value) pairs. Every operation is linearizable: it
// takes effect at one instant between its call and its return
// (tests/shard/read_mostly_map_linearizability_test.cc checks recorded
// histories).
//
// Design: a copy-on-write index per shard (the shape of Go's sync.Map
// entries, with hazard pointers in place of the GC). The keys are split by
// hash into kShards shards. A shard's index is an immutable open-addressing
// table (internal::FrozenHashTable: at most half full, each entry's hash,
// key and payload in one cache-line-aligned block, so a hit usually reads
// one line), published by an atomic pointer (one per shard, side by side in
// one array) and protected by readers with a hazard pointer. It is rebuilt
// only when a KEY is added (dropping unmapped keys) or by clear(). What an
// index entry holds depends on V (kInlineValues):
//
// - Inline values (V trivially copyable, at most 16 bytes): the entry holds
//   the value itself, as one or two words plus a version word (InlineSlot).
//   Writes take the shard's Mutex and write only the current index; a load
//   copies the value between two reads of the version and never waits for
//   a writer (a writer fills a buffer readers are not reading). A reader
//   still holding an older index reads its slots as they were when it
//   stopped being current: values the keys had at a moment inside the
//   read. A hit reads the shard's pointer (cached), the index node
//   (cached) and the entry: one cache miss where a locked
//   absl::flat_hash_map takes two (control bytes, slot) and a lock.
// - Boxed values (any other V): the entry holds a Cell, whose atomic pointer
//   names an immutable value node, so a write to a key that is already
//   indexed -- an upsert, a delete, a CAS -- is one compare-and-swap of that
//   pointer, with no lock and no copy; the replaced node is retired to the
//   hazard-pointer domain. A cell pointer is one of: a value node (mapped),
//   null (deleted; the key stays indexed, so storing it again is one CAS),
//   or kExpunged (the cell is leaving the index: writers must take the shard
//   lock and add a new cell). Only the shard's Mutex holder expunges (null
//   -> kExpunged, when it copies the index for an insert, or anything ->
//   kExpunged in clear()), and it publishes the index without the cell
//   before unlocking. Hence INV-CELL: a cell that is not expunged is in the
//   shard's current index, and its pointer is the key's state; and a key
//   with no indexed live cell is unmapped. Indexes own their cells through a
//   shared_ptr, so a cell lives while any index that names it does (a reader
//   holding an old index may still read an expunged cell: it then retries on
//   the newest). A hit also reads the Cell and the value node: two more
//   cache misses than an inline entry.
//
// Both ways a load writes nothing shared: no lock, no reference count.
// Alternatives and why not: Go's read/dirty pair counts read misses (a
// shared write on the load path); a hash-trie (Go 1.24's HashTrieMap) makes
// a load chase several nodes, each needing its own protection; a seqlock
// over one value buffer makes readers wait for a writer that is preempted
// mid-write.
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
// Cost: sizeof(ReadMostlyMap) == sizeof(void*); on the heap, the shard
// table (kShards index pointers in 16 cache lines, and kShards padded
// Shards), and per key 2 to 4 index entries (the table is 1/4 to 1/2
// full), each the hash, the key and an InlineSlot (8 bytes plus 8 or 32
// for the value) or a Cell pointer, rounded up to a power of two up to 64
// bytes (so 64 to 256 bytes per std::string key with an int64 value), plus
// one Cell and one value node when boxed. load(): one hazard-pointer
// protect (two when boxed), one hash of the key (it picks the shard and the
// position), one probe run, a copy of V. Writes that change nothing (a
// load_or_store hit, a failing compare_*, deleting a missing key) decide
// on a lock-free read. Other writes to an indexed key: inline, the shard
// Mutex and two or three stores, no allocation; boxed, an allocation
// (unless it deletes) and one CAS, no lock. A write that adds a key: the
// shard Mutex and a copy of the shard's index (O(size()/kShards) keys).
// Deleted keys keep their entry until the next insert into their shard (so
// garbage is bounded by the keys ever present between two inserts of a
// shard). Numbers: bench/shard/RESULTS.md.
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

 public:
  // Whether values live inline in the index (V trivially copyable, at most
  // 16 bytes and 8-aligned) rather than in their own hazard-protected node.
  static constexpr bool kInlineValues = std::is_trivially_copyable_v<V> &&
                                        sizeof(V) <= 16 &&
                                        alignof(V) <= alignof(uint64_t);

 private:
  static constexpr std::size_t kWords = (sizeof(V) + 7) / 8;
  using Words = std::array<uint64_t, kWords>;
  // Bit 0 of InlineSlot::ver: the key is mapped.
  static constexpr uint64_t kMapped = 1;

  // One word is stored atomically, so a one-word value needs one buffer;
  // a wider one is double-buffered (below).
  static constexpr std::size_t kBuffers = kWords == 1 ? 1 : 2;

  // An inline value. `ver` is gen << 1 | mapped; while mapped, the value is
  // in words[gen % kBuffers]. Only the shard's Mutex holder writes a slot,
  // and only in the shard's current index. A reader loads ver, copies the
  // buffer it names and reloads ver; it returns the copy if ver did not
  // change. Writes (put(), unmap()):
  // - Two buffers: a write of a value fills the buffer readers are not
  //   told to read, then publishes it by storing the next ver. The next
  //   write into the buffer a reader copies is two generations later, so
  //   an unchanged ver means an untorn copy of the value it published.
  // - One word: the word's store is the write to a mapped key (ver stays);
  //   unmapping, and mapping again, store a new ver. A reader that copied a
  //   word stored while its key was unmapped sees ver changed.
  // The atomics are mutable: a published index is immutable, but its
  // slots are the keys' state.
  struct InlineSlot {
    explicit InlineSlot(const V& v) {
      // Relaxed: the slot is unpublished; publish() releases it.
      ver.store(kMapped, std::memory_order_relaxed);
      const Words w = encode(v);
      for (std::size_t b = 0; b < kBuffers; ++b) {
        for (std::size_t i = 0; i < kWords; ++i) {
          words[b][i].store(b == 0 ? w[i] : 0, std::memory_order_relaxed);
        }
      }
    }
    // Copies a slot of the current index into the next (mu held).
    InlineSlot(const InlineSlot& o) {
      // Relaxed: only mu's holder writes o, and it is us; the copy is
      // unpublished until publish() releases it.
      ver.store(o.ver.load(std::memory_order_relaxed),
                std::memory_order_relaxed);
      for (std::size_t b = 0; b < kBuffers; ++b) {
        for (std::size_t i = 0; i < kWords; ++i) {
          words[b][i].store(o.words[b][i].load(std::memory_order_relaxed),
                            std::memory_order_relaxed);
        }
      }
    }
    InlineSlot& operator=(const InlineSlot&) = delete;

    mutable internal::Atomic<uint64_t> ver;
    mutable internal::Atomic<uint64_t> words[kBuffers][kWords];
  };

  using Index = internal::FrozenHashTable<
      K, std::conditional_t<kInlineValues, InlineSlot, std::shared_ptr<Cell>>,
      Eq>;

 public:
  // Shards (a power of two). 128: a 10k-key map copies ~80 index entries per
  // insert of a new key (bench/shard/read_mostly_map_benchmark.cc).
  static constexpr std::size_t kShards = 128;

  ReadMostlyMap() = default;
  ReadMostlyMap(const ReadMostlyMap&) = delete;
  ReadMostlyMap& operator=(const ReadMostlyMap&) = delete;

  [[nodiscard]] std::optional<V> load(const K& k) const {
    const std::size_t h = hash(k);
    const std::size_t i = shard_index(h);
    if constexpr (kInlineValues) {
      auto index = load_index(i);
      // One hash per operation: it picks the shard and the position.
      auto it = index->find(k, h);
      if (it == nullptr) return std::nullopt;
      return read(it->second);
    } else {
      for (;;) {
        auto index = load_index(i);
        auto it = index->find(k, h);
        if (it == nullptr) return std::nullopt;  // INV-CELL: unmapped
        internal::HazardPointer hp = internal::make_hazard_pointer();
        // protect(): its acquire reload pairs with the release CAS that
        // published the node (write_cell, insert).
        Value* v = hp.protect(it->second->p);
        if (v == nullptr) return std::nullopt;
        if (v != expunged()) return v->value;
        // The cell left (or is leaving) the index: if the shard still
        // publishes this index, the expunger has not unlocked, so no new
        // cell for k exists yet and k is unmapped now; otherwise look again.
        if (is_current(i, index)) return std::nullopt;
      }
    }
  }

  void store(const K& k, V v) {
    apply</*kMayKeep=*/false>(
        k, [](const V*) { return Step::kSet; }, &v, /*movable=*/true);
  }

  std::optional<V> swap(const K& k, V v) {
    std::optional<V> prev;
    apply</*kMayKeep=*/false>(
        k,
        [&](const V* cur) {
          prev.reset();
          if (cur != nullptr) prev.emplace(*cur);
          return Step::kSet;
        },
        &v, /*movable=*/true);
    return prev;
  }

  std::pair<V, bool> load_or_store(const K& k, V v) {
    std::optional<V> found;
    apply</*kMayKeep=*/true>(
        k,
        [&](const V* cur) {
          found.reset();
          if (cur == nullptr) return Step::kSet;
          found.emplace(*cur);
          return Step::kKeep;
        },
        &v, /*movable=*/false);
    if (found) return {std::move(*found), true};
    return {std::move(v), false};
  }

  std::optional<V> load_and_delete(const K& k) {
    std::optional<V> prev;
    apply</*kMayKeep=*/true>(
        k,
        [&](const V* cur) {
          prev.reset();
          if (cur == nullptr) return Step::kKeep;
          prev.emplace(*cur);
          return Step::kDelete;
        },
        nullptr, /*movable=*/false);
    return prev;
  }

  void erase(const K& k) { (void)load_and_delete(k); }

  bool compare_and_swap(const K& k, const V& old_value, V new_value) {
    bool swapped = false;
    apply</*kMayKeep=*/true>(
        k,
        [&](const V* cur) {
          swapped = cur != nullptr && *cur == old_value;
          return swapped ? Step::kSet : Step::kKeep;
        },
        &new_value, /*movable=*/true);
    return swapped;
  }

  bool compare_and_delete(const K& k, const V& old_value) {
    bool deleted = false;
    apply</*kMayKeep=*/true>(
        k,
        [&](const V* cur) {
          deleted = cur != nullptr && *cur == old_value;
          return deleted ? Step::kDelete : Step::kKeep;
        },
        nullptr, /*movable=*/false);
    return deleted;
  }

  template <class F>
  void range(F&& f) const {
    for (std::size_t i = 0; i < kShards; ++i) {
      auto index = load_index(i);
      if constexpr (kInlineValues) {
        for (const auto& [k, slot] : *index) {
          std::optional<V> v = read(slot);
          if (v && !f(k, *v)) return;
        }
      } else {
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
  }

  void clear() {
    for (std::size_t i = 0; i < kShards; ++i) {
      Shard& s = tables_->shards[i].value;
      MutexLock lock(s.mu);
      auto index = load_index(i);
      if (index->empty()) continue;
      if constexpr (kInlineValues) {
        int64_t mapped = 0;
        for (const auto& [k, slot] : *index) {
          // Relaxed: only mu's holder writes a slot, and we hold mu.
          mapped += slot.ver.load(std::memory_order_relaxed) & kMapped;
        }
        // Relaxed: a statistic for size() (see its contract).
        s.live.fetch_sub(mapped, std::memory_order_relaxed);
      } else {
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
      }
      publish(i, Index());
    }
  }

  [[nodiscard]] std::size_t size() const {
    int64_t n = 0;
    for (std::size_t i = 0; i < kShards; ++i) {
      // Relaxed: size() promises no ordering (see its contract).
      n += tables_->shards[i].value.live.load(std::memory_order_relaxed);
    }
    return n < 0 ? 0 : static_cast<std::size_t>(n);
  }

 private:
  enum class Step { kKeep, kSet, kDelete };

  // A published index. The shard points at it directly, so a load goes
  // shard -> node (the table's header) -> entry.
  struct IndexNode : internal::HazardPointerObjBase<IndexNode> {
    explicit IndexNode(Index i) : index(std::move(i)) {}
    const Index index;
  };

  // A shard's writers. Padded: one shard's lock and counter do not share a
  // line with another's.
  struct Shard {
    Mutex mu;
    // Mapped keys of the shard (size()).
    internal::Atomic<int64_t> live{0};
  };

  // A protected index: pointer-like, the index stays alive while it exists.
  class IndexGuard {
   public:
    explicit IndexGuard(const internal::Atomic<IndexNode*>& head)
        : hp_(internal::make_hazard_pointer()),
          // protect(): its acquire reload pairs with publish()'s release.
          node_(hp_.protect(head)) {}
    const Index* get() const noexcept { return &node_->index; }
    const Index& operator*() const noexcept { return node_->index; }
    const Index* operator->() const noexcept { return &node_->index; }

   private:
    internal::HazardPointer hp_;
    const IndexNode* node_;
  };

  IndexGuard load_index(std::size_t i) const {
    return IndexGuard(tables_->heads[i]);
  }

  // Replaces shard i's index (its mu held) and retires the old one.
  void publish(std::size_t i, Index next) {
    // Release: pairs with the acquire reload in IndexGuard's protect, so
    // the index (and each slot, cell and value node in it) is built before
    // a reader sees it. Acquire: the old node's contents, for its deleter.
    IndexNode* old = tables_->heads[i].exchange(new IndexNode(std::move(next)),
                                                std::memory_order_acq_rel);
    old->retire();
  }

  static Words encode(const V& v) noexcept {
    Words w{};
    std::memcpy(w.data(), &v, sizeof(V));
    return w;
  }
  static V decode(const Words& w) noexcept {
    std::array<unsigned char, sizeof(V)> bytes;
    std::memcpy(bytes.data(), w.data(), sizeof(V));
    return std::bit_cast<V>(bytes);
  }

  // The value of an inline slot, or nullopt if its key is unmapped. Never
  // waits for a writer: it retries only when a write completed during the
  // copy.
  static std::optional<V> read(const InlineSlot& slot) noexcept {
    for (;;) {
      // Acquire: pairs with the release store of ver in put()/unmap(), so
      // the buffer it names holds the value it published.
      const uint64_t v = slot.ver.load(std::memory_order_acquire);
      if ((v & kMapped) == 0) return std::nullopt;
      const auto& buffer = slot.words[(v >> 1) % kBuffers];
      Words w;
      for (std::size_t i = 0; i < kWords; ++i) {
        // Acquire: pairs with put()'s release store of a word. A word that
        // a write put into this buffer after v was published (two buffers),
        // or while the key was unmapped (one word), was stored after a new
        // ver (mu orders the writers), so the reload below then sees a ver
        // other than v.
        w[i] = buffer[i].load(std::memory_order_acquire);
      }
      // Relaxed: the acquire loads above keep it after the copy, and the
      // comment there says why a changed buffer changes what it reads.
      if (slot.ver.load(std::memory_order_relaxed) == v) return decode(w);
    }
  }

  // The value of an inline slot for mu's holder (no writer can run).
  static std::optional<V> read_locked(const InlineSlot& slot) noexcept {
    // Relaxed, here and below: only mu's holder writes a slot.
    const uint64_t v = slot.ver.load(std::memory_order_relaxed);
    if ((v & kMapped) == 0) return std::nullopt;
    Words w;
    for (std::size_t i = 0; i < kWords; ++i) {
      w[i] = slot.words[(v >> 1) % kBuffers][i].load(std::memory_order_relaxed);
    }
    return decode(w);
  }

  // Maps the slot's key to `value` (mu held).
  static void put(const InlineSlot& slot, const V& value) noexcept {
    // Relaxed: only mu's holder writes a slot.
    const uint64_t v = slot.ver.load(std::memory_order_relaxed);
    const uint64_t gen = (v >> 1) + (kBuffers == 1 && (v & kMapped) ? 0 : 1);
    const Words w = encode(value);
    for (std::size_t i = 0; i < kWords; ++i) {
      // Release: pairs with read()'s acquire load of the word.
      slot.words[gen % kBuffers][i].store(w[i], std::memory_order_release);
    }
    // One word over a mapped key: the word's store was the write.
    if (gen != v >> 1) {
      // Release: pairs with read()'s acquire load of ver.
      slot.ver.store(gen << 1 | kMapped, std::memory_order_release);
    }
  }

  // Unmaps the slot's key (mu held). A new generation, so that a reader
  // copying the old value's buffer notices a later put() into it.
  static void unmap(const InlineSlot& slot) noexcept {
    // Relaxed: only mu's holder writes a slot.
    const uint64_t gen = (slot.ver.load(std::memory_order_relaxed) >> 1) + 1;
    // Release: pairs with read()'s acquire load of ver.
    slot.ver.store(gen << 1, std::memory_order_release);
  }

  // Every write operation: decide(cur) (cur: the current value, or null
  // when k is unmapped) says what to do and records the operation's result;
  // it may run several times, the last run counts. *nv is the value for
  // Step::kSet, moved from if `movable`. kMayKeep: decide can return kKeep
  // for a mapped key (a write that may change nothing).
  template <bool kMayKeep, class Decide>
  void apply(const K& k, Decide decide, V* nv, bool movable) {
    if constexpr (kInlineValues) {
      write_inline<kMayKeep>(k, decide, nv);
    } else {
      Value* made = nullptr;
      write(
          k,
          [&](const Value* cur) {
            return decide(cur != nullptr ? &cur->value : nullptr);
          },
          [&] {
            return made = movable ? new Value(std::move(*nv)) : new Value(*nv);
          },
          made);
    }
  }

  template <bool kMayKeep, class Decide>
  void write_inline(const K& k, Decide& decide, const V* nv) {
    const std::size_t h = hash(k);
    const std::size_t i = shard_index(h);
    Shard& s = tables_->shards[i].value;
    if constexpr (kMayKeep) {
      // A write that turns out to change nothing (a load_or_store hit, a
      // failing compare_*, deleting a missing key) decides on a lock-free
      // read, and takes effect there.
      auto index = load_index(i);
      auto it = index->find(k, h);
      std::optional<V> cur;
      if (it != nullptr) cur = read(it->second);
      const Step step = decide(cur ? &*cur : nullptr);
      if (step == Step::kKeep || (step == Step::kDelete && !cur)) return;
    }
    MutexLock lock(s.mu);
    // Under mu this is the current index, and no one else writes its slots.
    auto index = load_index(i);
    auto it = index->find(k, h);
    if (it == nullptr) {
      if (decide(nullptr) == Step::kSet) insert_inline(i, *index, k, h, *nv);
      return;
    }
    const InlineSlot& slot = it->second;
    const std::optional<V> cur = read_locked(slot);
    const Step step = decide(cur ? &*cur : nullptr);
    if (step == Step::kSet) {
      put(slot, *nv);
      // Relaxed: a statistic for size() (see its contract).
      if (!cur) s.live.fetch_add(1, std::memory_order_relaxed);
    } else if (step == Step::kDelete && cur) {
      unmap(slot);
      // Relaxed: a statistic for size() (see its contract).
      s.live.fetch_sub(1, std::memory_order_relaxed);
    }
  }

  // Publishes a copy of `cur` (the current index; mu held) plus k -> v,
  // dropping the slots of unmapped keys on the way. A reader still holding
  // `cur` reads its slots as they were at this copy: the values the keys
  // had when `cur` stopped being current.
  void insert_inline(std::size_t i, const Index& cur, const K& k, std::size_t h,
                     const V& v) {
    Index next(cur.size() + 1);
    for (auto it = cur.begin(); it != cur.end(); ++it) {
      // Relaxed: only mu's holder writes a slot.
      if (it->second.ver.load(std::memory_order_relaxed) & kMapped) {
        next.emplace(it.hash(), it->first, it->second);
      }
    }
    next.emplace(h, k, v);
    // Relaxed: a statistic for size() (see its contract).
    tables_->shards[i].value.live.fetch_add(1, std::memory_order_relaxed);
    // publish() releases the index (and the slots in it).
    publish(i, std::move(next));
  }

  // The third state of a cell pointer; never dereferenced (a Value is at
  // least pointer-aligned, so 1 is no Value's address).
  static Value* expunged() noexcept {
    return reinterpret_cast<Value*>(uintptr_t{1});
  }

  bool is_current(std::size_t i, const IndexGuard& index) const {
    // The caller's guard keeps index's address from being reused, so an
    // equal address is the same index. Acquire: as protect()'s reload.
    return &tables_->heads[i].load(std::memory_order_acquire)->index ==
           index.get();
  }

  // The write path for boxed values. decide(cur) (cur: the current value
  // node, or null when k is unmapped) is apply()'s, on the node.
  // make() allocates the node for Step::kSet (at most once; `made` is where
  // it put it, deleted here if never published).
  template <class Decide, class Make>
  void write(const K& k, Decide decide, Make make, Value*& made) {
    const std::size_t h = hash(k);
    const std::size_t i = shard_index(h);
    Shard& s = tables_->shards[i].value;
    bool published = false;
    for (;;) {
      auto index = load_index(i);
      auto it = index->find(k, h);
      if (it != nullptr) {
        if (write_cell(s, *it->second, decide, make, made, published)) break;
        // Expunged: the key is being re-indexed; take the locked path.
      } else if (decide(nullptr) != Step::kSet) {
        break;  // unmapped at the index load: nothing to change
      }
      MutexLock lock(s.mu);
      // Under mu the current index holds no expunged cell (INV-CELL).
      auto cur = load_index(i);
      auto c = cur->find(k, h);
      if (c != nullptr) {
        const bool done =
            write_cell(s, *c->second, decide, make, made, published);
        assert(done);
        (void)done;
        break;
      }
      if (decide(nullptr) != Step::kSet) break;
      insert(i, *cur, k, h, made != nullptr ? made : make());
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
  void insert(std::size_t i, const Index& cur, const K& k, std::size_t h,
              Value* n) {
    Index next(cur.size() + 1);
    for (auto it = cur.begin(); it != cur.end(); ++it) {
      const std::shared_ptr<Cell>& cell = it->second;
      Value* expected = nullptr;
      // Relaxed on both sides: a deleted cell has no node to publish or
      // read; the index store below publishes the new index.
      if (cell->p.compare_exchange_strong(expected, expunged(),
                                          std::memory_order_relaxed,
                                          std::memory_order_relaxed)) {
        continue;
      }
      next.emplace(it.hash(), it->first, cell);
    }
    next.emplace(h, k, std::make_shared<Cell>(n));
    // Relaxed: a statistic for size() (see its contract).
    tables_->shards[i].value.live.fetch_add(1, std::memory_order_relaxed);
    // publish() releases the index (and the cell's node in it).
    publish(i, std::move(next));
  }

  static std::size_t hash(const K& k) {
    return static_cast<std::size_t>(Hash{}(k));
  }
  static std::size_t shard_index(std::size_t h) {
    // The top bits of a multiplicative remix: independent of the low bits
    // the shard's index uses for positions.
    return static_cast<std::size_t>(
        (static_cast<uint64_t>(h) * 0x9E3779B97F4A7C15ULL) >> 57);
  }
  static_assert(kShards == 128, "shard_index() takes the top 7 bits");

  struct Tables {
    Tables() {
      for (auto& h : heads) {
        // Relaxed: the map is not shared yet; whoever shares it (starting a
        // thread, a release store) publishes these nodes with it.
        h.store(new IndexNode(Index()), std::memory_order_relaxed);
      }
    }
    Tables(const Tables&) = delete;
    Tables& operator=(const Tables&) = delete;
    ~Tables() {
      for (auto& h : heads) {
        // Relaxed: the map's destructor runs alone (no reader protects an
        // index: no member hands out a protection that outlives its call).
        delete h.load(std::memory_order_relaxed);
      }
    }

    // Each shard's current index, side by side and apart from the writers'
    // Shards: a load reads one of these kShards pointers (16 cache lines,
    // which stay cached), and only an insert of a new key or clear()
    // writes one.
    alignas(
        internal::kCacheLineSize) internal::Atomic<IndexNode*> heads[kShards];
    internal::CachePadded<Shard> shards[kShards];
  };

  // On the heap: the map itself keeps ordinary alignment wherever it lives
  // (an over-aligned object on a sanitizer's fake stack is misaligned).
  const std::unique_ptr<Tables> tables_{new Tables};
};

}  // namespace contend

#endif  // CONTEND_SHARD_READ_MOSTLY_MAP_H_
