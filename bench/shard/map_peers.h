// Copyright 2026 The contend Authors.
//
// The concurrent maps that the shard/ map benchmarks measure side by side in
// one run (read_mostly_map_benchmark, striped_map_benchmark): each benchmark
// is templated on a peer and registered once per peer, so a row means
// something only as a ratio to the other peers of the same run, on the same
// machine, under the same load.
//
// Every peer is a template <class K, class V> with some of the verbs of Go's
// sync.Map, in snake_case (a benchmark that calls a verb a peer lacks does not
// compile):
//   load(k) -> std::optional<V>; store(k, v); erase(k);
//   load_or_store(k, v) -> bool, true when k was there (v not stored);
//   load_and_delete(k) -> std::optional<V>; swap(k, v);
//   compare_and_swap(k, old, new) -> bool; range(f), stopped when f(k, v)
//   returns false.
//
//   peer        map                                               verbs
//   Rmm         contend::ReadMostlyMap                            all
//   RWLocked    absl::flat_hash_map + one contend::RWMutex        all
//   Tbb         tbb::concurrent_hash_map                          all
//   Cuckoo      libcuckoo::cuckoohash_map                         l s e
//   Striped     contend::StripedMap, default shards, Mutex        l s e
//   StripedRW   contend::StripedMap, default shards, RWMutex      l s e
//   Striped256  contend::StripedMap, 256 shards, Mutex            l s e
//   OneMutex    absl::flat_hash_map + one contend::Mutex          all
//   AbslMutex   absl::flat_hash_map + one absl::Mutex, loads      l s e
//               shared
//   StdMutex    std::unordered_map + one std::mutex               l s e
//   StdShared   std::unordered_map + one std::shared_mutex,       l s e
//               loads shared
//   Std256      256 x (std::unordered_map + std::mutex), each     l s e
//               stripe cache-line aligned (the article's shape)
//   Flat256     256 x (absl::flat_hash_map + std::mutex)          l s
//   (l s e = load, store, erase)
//
// Row labels: read_mostly_map_benchmark names a peer by its kName, and
// striped_map_benchmark by its type name, so Rmm is "ReadMostlyMap" in the
// first and "Rmm" in the second, and "Striped256" is Flat256 in the first and
// the type Striped256 in the second. RESULTS.md and w4_rounds.sh use these
// labels.

#ifndef CONTEND_BENCH_SHARD_MAP_PEERS_H_
#define CONTEND_BENCH_SHARD_MAP_PEERS_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <unordered_map>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/synchronization/mutex.h"
#include "libcuckoo/cuckoohash_map.hh"
#include "oneapi/tbb/concurrent_hash_map.h"
#include "shard/read_mostly_map.h"
#include "shard/striped_map.h"
#include "sync/mutex.h"
#include "sync/rw_mutex.h"

namespace contend::bench {

// --- the contend maps -------------------------------------------------------

template <class K, class V>
struct Rmm {
  static constexpr const char* kName = "ReadMostlyMap";
  contend::ReadMostlyMap<K, V> m;
  std::optional<V> load(const K& k) { return m.load(k); }
  void store(const K& k, V v) { m.store(k, std::move(v)); }
  bool load_or_store(const K& k, V v) { return m.load_or_store(k, v).second; }
  std::optional<V> load_and_delete(const K& k) { return m.load_and_delete(k); }
  void erase(const K& k) { m.erase(k); }
  void swap(const K& k, V v) { (void)m.swap(k, std::move(v)); }
  bool compare_and_swap(const K& k, const V& o, V n) {
    return m.compare_and_swap(k, o, n);
  }
  template <class F>
  void range(F f) {
    m.range(f);
  }
};

template <class K, class V>
struct Striped {
  contend::StripedMap<K, V> m;
  std::optional<V> load(const K& k) { return m.load(k); }
  void store(const K& k, V v) { m.store(k, std::move(v)); }
  void erase(const K& k) { m.erase(k); }
};

template <class K, class V>
struct StripedRW {
  contend::StripedMap<K, V, absl::Hash<K>, std::equal_to<K>, contend::RWMutex>
      m;
  std::optional<V> load(const K& k) { return m.load(k); }
  void store(const K& k, V v) { m.store(k, std::move(v)); }
  void erase(const K& k) { m.erase(k); }
};

// Not Flat256, whose label is also "Striped256" (see the file comment).
template <class K, class V>
struct Striped256 {
  contend::StripedMap<K, V> m{{.shards = 256}};
  std::optional<V> load(const K& k) { return m.load(k); }
  void store(const K& k, V v) { m.store(k, std::move(v)); }
  void erase(const K& k) { m.erase(k); }
};

// --- one lock around one map ------------------------------------------------

// An absl::flat_hash_map behind one contend lock Mu. load, range and the
// first look of load_or_store hold ReadLock; every write holds WriteLock.
template <class Mu, class ReadLock, class WriteLock, class K, class V>
struct ContendLocked {
  Mu mu;
  absl::flat_hash_map<K, V> m ABSL_GUARDED_BY(mu);
  std::optional<V> load(const K& k) {
    ReadLock l(mu);
    auto it = m.find(k);
    if (it == m.end()) return std::nullopt;
    return it->second;
  }
  void store(const K& k, V v) {
    WriteLock l(mu);
    m.insert_or_assign(k, std::move(v));
  }
  // A hit takes only the read lock; a miss retakes the write lock and
  // inserts unless another thread did in between.
  bool load_or_store(const K& k, V v) {
    {
      ReadLock l(mu);
      if (m.contains(k)) return true;
    }
    WriteLock l(mu);
    return !m.emplace(k, std::move(v)).second;
  }
  std::optional<V> load_and_delete(const K& k) {
    WriteLock l(mu);
    auto it = m.find(k);
    if (it == m.end()) return std::nullopt;
    V v = std::move(it->second);
    m.erase(it);
    return v;
  }
  void erase(const K& k) {
    WriteLock l(mu);
    m.erase(k);
  }
  void swap(const K& k, V v) {
    WriteLock l(mu);
    m.insert_or_assign(k, std::move(v));
  }
  bool compare_and_swap(const K& k, const V& o, V n) {
    WriteLock l(mu);
    auto it = m.find(k);
    if (it == m.end() || !(it->second == o)) return false;
    it->second = std::move(n);
    return true;
  }
  template <class F>
  void range(F f) {
    ReadLock l(mu);
    for (const auto& [k, v] : m) {
      if (!f(k, v)) return;
    }
  }
};

template <class K, class V>
using OneMutex = ContendLocked<contend::Mutex, MutexLock, MutexLock, K, V>;

template <class K, class V>
struct RWLocked
    : ContendLocked<contend::RWMutex, ReaderMutexLock, WriterMutexLock, K, V> {
  static constexpr const char* kName = "RWLocked";
};

// A std::unordered_map behind one Mu; loads hold ReadLock<Mu>, stores and
// erases WriteLock<Mu>.
template <class Mu, template <class> class ReadLock,
          template <class> class WriteLock, class K, class V>
struct StdLocked {
  Mu mu;
  std::unordered_map<K, V> m;
  std::optional<V> load(const K& k) {
    ReadLock<Mu> l(mu);
    auto it = m.find(k);
    if (it == m.end()) return std::nullopt;
    return it->second;
  }
  void store(const K& k, V v) {
    WriteLock<Mu> l(mu);
    m.insert_or_assign(k, std::move(v));
  }
  void erase(const K& k) {
    WriteLock<Mu> l(mu);
    m.erase(k);
  }
};

template <class K, class V>
using StdMutex = StdLocked<std::mutex, std::lock_guard, std::lock_guard, K, V>;

template <class K, class V>
using StdShared =
    StdLocked<std::shared_mutex, std::shared_lock, std::unique_lock, K, V>;

template <class K, class V>
struct AbslMutex {
  absl::Mutex mu;
  absl::flat_hash_map<K, V> m ABSL_GUARDED_BY(mu);
  std::optional<V> load(const K& k) {
    absl::ReaderMutexLock l(&mu);
    auto it = m.find(k);
    if (it == m.end()) return std::nullopt;
    return it->second;
  }
  void store(const K& k, V v) {
    absl::MutexLock l(&mu);
    m.insert_or_assign(k, std::move(v));
  }
  void erase(const K& k) {
    absl::MutexLock l(&mu);
    m.erase(k);
  }
};

// --- hand-striped maps ------------------------------------------------------

// Stripe = the low 8 bits of std::hash; 64-byte aligned stripes, held inline.
template <class K, class V>
struct Std256 {
  struct alignas(64) Stripe {
    std::mutex mu;
    std::unordered_map<K, V> m;
  };
  Stripe stripes[256];
  Stripe& of(const K& k) { return stripes[std::hash<K>{}(k)&255]; }
  std::optional<V> load(const K& k) {
    Stripe& s = of(k);
    std::lock_guard l(s.mu);
    auto it = s.m.find(k);
    if (it == s.m.end()) return std::nullopt;
    return it->second;
  }
  void store(const K& k, V v) {
    Stripe& s = of(k);
    std::lock_guard l(s.mu);
    s.m.insert_or_assign(k, std::move(v));
  }
  void erase(const K& k) {
    Stripe& s = of(k);
    std::lock_guard l(s.mu);
    s.m.erase(k);
  }
};

// Stripe = the top 8 bits of absl::Hash times the 64-bit golden ratio;
// 128-byte aligned stripes on the heap.
template <class K, class V>
struct Flat256 {
  static constexpr const char* kName = "Striped256";
  struct alignas(128) Stripe {
    std::mutex mu;
    absl::flat_hash_map<K, V> m;
  };
  std::unique_ptr<Stripe[]> stripes{new Stripe[256]};
  Stripe& stripe(const K& k) {
    const auto h = static_cast<uint64_t>(absl::Hash<K>{}(k));
    return stripes[(h * 0x9E3779B97F4A7C15ULL) >> 56];
  }
  std::optional<V> load(const K& k) {
    Stripe& s = stripe(k);
    std::lock_guard<std::mutex> l(s.mu);
    auto it = s.m.find(k);
    if (it == s.m.end()) return std::nullopt;
    return it->second;
  }
  void store(const K& k, V v) {
    Stripe& s = stripe(k);
    std::lock_guard<std::mutex> l(s.mu);
    s.m.insert_or_assign(k, std::move(v));
  }
};

// --- third-party concurrent maps --------------------------------------------

template <class K, class V>
struct Tbb {
  static constexpr const char* kName = "Tbb";
  using Map = tbb::concurrent_hash_map<K, V>;
  Map m;
  std::optional<V> load(const K& k) {
    typename Map::const_accessor a;
    if (!m.find(a, k)) return std::nullopt;
    return a->second;
  }
  void store(const K& k, V v) {
    typename Map::accessor a;
    m.insert(a, k);
    a->second = std::move(v);
  }
  bool load_or_store(const K& k, V v) {
    typename Map::const_accessor a;
    // value_type spelled out: with string keys, {k, v} also matches Key
    // (std::string(str, pos)).
    return !m.insert(a, typename Map::value_type(k, std::move(v)));
  }
  std::optional<V> load_and_delete(const K& k) {
    typename Map::accessor a;
    if (!m.find(a, k)) return std::nullopt;
    V v = a->second;
    m.erase(a);
    return v;
  }
  void erase(const K& k) { m.erase(k); }
  void swap(const K& k, V v) { store(k, std::move(v)); }
  bool compare_and_swap(const K& k, const V& o, V n) {
    typename Map::accessor a;
    if (!m.find(a, k) || !(a->second == o)) return false;
    a->second = std::move(n);
    return true;
  }
  template <class F>
  void range(F f) {
    // Not safe against concurrent erase (tbb's documented limit); the
    // Range benchmark has no writers.
    for (const auto& [k, v] : m) {
      if (!f(k, v)) return;
    }
  }
};

template <class K, class V>
struct Cuckoo {
  static constexpr const char* kName = "Cuckoo";
  libcuckoo::cuckoohash_map<K, V> m;
  std::optional<V> load(const K& k) {
    V v;
    if (!m.find(k, v)) return std::nullopt;
    return v;
  }
  void store(const K& k, V v) { m.insert_or_assign(k, std::move(v)); }
  void erase(const K& k) { m.erase(k); }
};

}  // namespace contend::bench

#endif  // CONTEND_BENCH_SHARD_MAP_PEERS_H_
