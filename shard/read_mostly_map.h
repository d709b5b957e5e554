// Copyright 2026 The contend Authors.
//
// contend::ReadMostlyMap<K, V>: a concurrent map for read-dominated use with
// stable keys (Go's sync.Map), whose loads take no lock and write nothing
// shared.

#ifndef CONTEND_SHARD_READ_MOSTLY_MAP_H_
#define CONTEND_SHARD_READ_MOSTLY_MAP_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "sync/internal/cache_padded.h"
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
// Design: the keys are split by hash into kShards shards; each shard is an
// immutable absl::flat_hash_map published through a Snapshot (copy-on-write)
// plus a Mutex that serializes the shard's writers. A load protects the
// shard's current map with a hazard pointer and looks the key up: no lock, no
// reference count, no shared write. A write that changes the map copies the
// shard (about size()/kShards entries), changes the copy and publishes it.
// That is the read-mostly trade: loads at the cost of a bare hash lookup,
// writes at the cost of a shard copy. Measured (bench/shard/RESULTS.md, W4,
// 10k string keys): the copy makes even 1% upserts cost more than the loads
// save on a 2-vCPU machine, so prefer a locked or striped map unless writes
// are far rarer than that (config-like maps, keys written once). The
// alternatives and why not (yet): Go's read/dirty pair makes a miss on a new
// key take the lock and count misses (a shared write on the load path) and
// needs a GC for its entries; a hash-trie (Go 1.24's HashTrieMap) gives
// cheaper writes but a load chases several nodes, each needing its own
// protection. Per-key value cells (updates of existing keys as one CAS, no
// shard copy) are the measured next step.
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
//   each shard from one consistent snapshot, until f returns false. Every key
//   present for the whole call is visited exactly once; a key stored or
//   deleted during the call may or may not be. f may call any method of the
//   map (it runs under no lock).
// - clear() unmaps every key (shard by shard: not one atomic step).
// - size() is the number of keys: exact when no write runs concurrently,
//   otherwise some value the map had or was passing through shard by shard.
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
// (a throwing copy leaves the shard unchanged and propagates).
//
// Cost: sizeof(ReadMostlyMap) == sizeof(void*); kShards cache lines on the
// heap for the shard table plus the maps. load(): one
// hazard-pointer protect (sync/snapshot.h), the hash, one flat_hash_map
// probe, a copy of V. A changing write: the shard Mutex, a copy of the shard
// (O(size()/kShards)), a Snapshot::store. Writes that find nothing to change
// (a load_or_store hit, a failing compare_*, deleting a missing key) decide
// on the snapshot without the lock. Numbers: bench/shard/RESULTS.md.
//
// Example:
//   contend::ReadMostlyMap<std::string, int> ports;
//   ports.store("http", 80);
//   if (auto p = ports.load("http")) use(*p);
//   auto [v, loaded] = ports.load_or_store("https", 443);
template <class K, class V, class Hash = absl::Hash<K>,
          class Eq = std::equal_to<K>>
class ReadMostlyMap {
 public:
  // Shards (a power of two). 128: a 10k-key map copies ~80 entries per
  // write (bench/shard/read_mostly_map_benchmark.cc, W4).
  static constexpr std::size_t kShards = 128;

  ReadMostlyMap() = default;
  ReadMostlyMap(const ReadMostlyMap&) = delete;
  ReadMostlyMap& operator=(const ReadMostlyMap&) = delete;

  [[nodiscard]] std::optional<V> load(const K& k) const {
    auto g = shard(k).map.load();
    auto it = g->find(k);
    if (it == g->end()) return std::nullopt;
    return it->second;
  }

  void store(const K& k, V v) {
    Shard& s = shard(k);
    MutexLock lock(s.mu);
    Map next = *s.map.load();
    next.insert_or_assign(k, std::move(v));
    s.map.store(std::move(next));
  }

  std::optional<V> swap(const K& k, V v) {
    Shard& s = shard(k);
    MutexLock lock(s.mu);
    Map next = *s.map.load();
    std::optional<V> prev;
    auto it = next.find(k);
    if (it != next.end()) {
      prev = std::exchange(it->second, std::move(v));
    } else {
      next.emplace(k, std::move(v));
    }
    s.map.store(std::move(next));
    return prev;
  }

  std::pair<V, bool> load_or_store(const K& k, V v) {
    Shard& s = shard(k);
    if (auto hit = find_in(s, k)) return {std::move(*hit), true};
    MutexLock lock(s.mu);
    auto g = s.map.load();
    auto it = g->find(k);
    if (it != g->end()) return {it->second, true};
    Map next = *g;
    next.emplace(k, v);
    s.map.store(std::move(next));
    return {std::move(v), false};
  }

  std::optional<V> load_and_delete(const K& k) {
    Shard& s = shard(k);
    if (!find_in(s, k)) return std::nullopt;  // absent at this instant
    MutexLock lock(s.mu);
    auto g = s.map.load();
    auto it = g->find(k);
    if (it == g->end()) return std::nullopt;
    std::optional<V> prev = it->second;
    Map next = *g;
    next.erase(k);
    s.map.store(std::move(next));
    return prev;
  }

  void erase(const K& k) { (void)load_and_delete(k); }

  bool compare_and_swap(const K& k, const V& old_value, V new_value) {
    Shard& s = shard(k);
    auto hit = find_in(s, k);
    if (!hit || !(*hit == old_value)) return false;  // decided at this read
    MutexLock lock(s.mu);
    auto g = s.map.load();
    auto it = g->find(k);
    if (it == g->end() || !(it->second == old_value)) return false;
    Map next = *g;
    next.find(k)->second = std::move(new_value);
    s.map.store(std::move(next));
    return true;
  }

  bool compare_and_delete(const K& k, const V& old_value) {
    Shard& s = shard(k);
    auto hit = find_in(s, k);
    if (!hit || !(*hit == old_value)) return false;
    MutexLock lock(s.mu);
    auto g = s.map.load();
    auto it = g->find(k);
    if (it == g->end() || !(it->second == old_value)) return false;
    Map next = *g;
    next.erase(k);
    s.map.store(std::move(next));
    return true;
  }

  template <class F>
  void range(F&& f) const {
    for (std::size_t i = 0; i < kShards; ++i) {
      auto g = shards_[i].value.map.load();
      for (const auto& [k, v] : *g) {
        if (!f(k, v)) return;
      }
    }
  }

  void clear() {
    for (std::size_t i = 0; i < kShards; ++i) {
      Shard& s = shards_[i].value;
      MutexLock lock(s.mu);
      if (!s.map.load()->empty()) s.map.store(Map());
    }
  }

  [[nodiscard]] std::size_t size() const {
    std::size_t n = 0;
    for (std::size_t i = 0; i < kShards; ++i) {
      n += shards_[i].value.map.load()->size();
    }
    return n;
  }

 private:
  using Map = absl::flat_hash_map<K, V, Hash, Eq>;

  struct Shard {
    // Written only with mu held; read by anyone.
    Snapshot<Map> map{Map()};
    Mutex mu;
  };

  std::size_t shard_index(const K& k) const {
    // The top bits of a multiplicative remix: independent of the low bits
    // the shard's own flat_hash_map uses for its control bytes.
    const auto h = static_cast<uint64_t>(Hash{}(k));
    return static_cast<std::size_t>((h * 0x9E3779B97F4A7C15ULL) >> 57);
  }
  static_assert(kShards == 128, "shard_index() takes the top 7 bits");

  Shard& shard(const K& k) { return shards_[shard_index(k)].value; }
  const Shard& shard(const K& k) const { return shards_[shard_index(k)].value; }

  static std::optional<V> find_in(const Shard& s, const K& k) {
    auto g = s.map.load();
    auto it = g->find(k);
    if (it == g->end()) return std::nullopt;
    return it->second;
  }

  // On the heap: the map itself keeps ordinary alignment wherever it lives
  // (an over-aligned object on a sanitizer's fake stack is misaligned).
  const std::unique_ptr<internal::CachePadded<Shard>[]> shards_ {
    new internal::CachePadded<Shard>[ kShards ]
  };
};

}  // namespace contend

#endif  // CONTEND_SHARD_READ_MOSTLY_MAP_H_
