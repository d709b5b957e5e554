// Copyright 2026 The contend Authors.
//
// contend::StripedMap, a hash map split into independently locked shards.

#ifndef CONTEND_SHARD_STRIPED_MAP_H_
#define CONTEND_SHARD_STRIPED_MAP_H_

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <new>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "sync/internal/cache_padded.h"
#include "sync/internal/fatal.h"
#include "sync/mutex.h"

namespace contend {

namespace internal {

// Debug builds only: the maps whose callback (update/compute/
// load_or_compute's make/range's f) is running on this thread, innermost
// first, as a list of frames on the stack. A call into a map on the list
// is a re-entrant call from its callback.
struct MapCallbackFrame {
  const void* map;
  const MapCallbackFrame* outer;
};
inline thread_local const MapCallbackFrame* tls_map_callbacks = nullptr;

// Pushes `map` for the lifetime of the object (a callback's run).
class MapCallbackScope {
 public:
  explicit MapCallbackScope(const void* map) noexcept
      : frame_{map, tls_map_callbacks} {
    tls_map_callbacks = &frame_;
  }
  ~MapCallbackScope() { tls_map_callbacks = frame_.outer; }
  MapCallbackScope(const MapCallbackScope&) = delete;
  MapCallbackScope& operator=(const MapCallbackScope&) = delete;

 private:
  MapCallbackFrame frame_;
};

inline bool in_map_callback(const void* map) noexcept {
  for (const MapCallbackFrame* f = tls_map_callbacks; f != nullptr;
       f = f->outer) {
    if (f->map == map) return true;
  }
  return false;
}

// Mixes a hash so its top bits are usable as a shard index even when Hash is
// weak (std::hash<int> is the identity): multiply by 2^64 / phi.
constexpr uint64_t mix_for_shard(uint64_t h) noexcept {
  return h * 0x9E3779B97F4A7C15u;
}

// The default shard count: 8 x hardware threads, rounded up to a power of
// two, at least 16 and at most 1024 (see StripedMap's Cost).
inline size_t default_shard_count() noexcept {
  const size_t cores = std::max<size_t>(1, std::thread::hardware_concurrency());
  return std::clamp<size_t>(std::bit_ceil(8 * cores), 16, 1024);
}

}  // namespace internal

// A StripedMap is a hash map from K to V split into a power-of-two number of
// shards, each an absl::flat_hash_map behind its own Lock, so that
// operations on keys of different shards do not contend.
//
// Model: a map from K to V. Every operation on one key is linearizable: it
// takes effect at one instant between its call and its return, while it holds
// the key's shard lock. range(), clear() and size() visit the shards one at a
// time and are NOT atomic across shards (below).
//
// Operations (Go's sync.Map verbs, the contend map vocabulary):
//   load(k)                    -> std::optional<V>   the value, if present
//   store(k, v)                                      insert or assign
//   load_or_store(k, v)        -> pair<V, bool>      (value now stored,
//                                                    loaded = was present)
//   load_and_delete(k)         -> std::optional<V>   the removed value
//   erase(k)                   -> bool               whether one was removed
//   swap(k, v)                 -> std::optional<V>   the previous value
//   compare_and_swap(k, o, n)  -> bool               replaced o by n
//   compare_and_delete(k, o)   -> bool               removed k if it held o
//   range(f)                   f(const K&, const V&) -> bool; false stops
//   clear(), size()
// plus closures that run under the shard lock and never let a reference
// escape it:
//   update(k, f)               f(V&) on the value; false (f not run) if absent
//   compute(k, f)              f(std::optional<V>&) may insert (emplace),
//                              change, or erase (reset) the entry; returns
//                              f's result
//   load_or_compute(k, make)   -> pair<V, bool>      make() -> V runs only if
//                              k is absent, under the lock, once
//
// Contract:
//  - Requires: Hash and Eq consistent (equal keys hash equally); V copyable
//    (results are copies: no reference into the map escapes); V
//    equality-comparable for compare_and_swap/compare_and_delete.
//    Callbacks (update's f, compute's f, load_or_compute's make, range's f)
//    run with a shard lock held and must not call ANY method of the same map
//    (the same shard would deadlock; another shard can deadlock against a
//    thread doing the converse, and range holds its shard while calling f).
//    Everything else is allowed inside callbacks: other maps, other locks
//    ordered after this one. Callbacks must not throw (if one does, the lock
//    is released and the entry holds whatever the callback left).
//  - Guarantees: per-key linearizability (tests/shard:
//    striped_map_linearizability_test checks it). range() visits each shard
//    once, under its lock: it is not a snapshot -- an entry present for the
//    whole call is visited exactly once; one inserted or erased meanwhile may
//    or may not be, and entries of different shards are seen at different
//    times (point-in-time consistency is sacrificed, as the article *sync --
//    Senior* (§3) says it must be for a sharded map). size() is the sum of
//    the shards' sizes read one at a time: exact when no thread mutates the
//    map, otherwise a value the map had at no particular instant. clear()
//    empties each shard in turn; entries stored into a shard already cleared
//    survive it.
// Thread safety: every method may be called concurrently with every other.
// Memory ordering: operations on the same key are ordered by its shard lock:
//   a store() (or any mutation) happens-before every operation on that key
//   that observes it. Nothing orders operations on keys of different shards.
// Lock: contend::Mutex by default; with Lock = contend::RWMutex (or any lock
//   with lock_shared()), load(), range() and size() take the shared side.
// Misuse:
//  - A call into the map from one of its own callbacks: checked in debug
//    builds (NDEBUG undefined), terminates with "contend: StripedMap::<the
//    re-entrant method>: re-entrant call from a callback" (e.g. update inside
//    update: "contend: StripedMap::update: re-entrant call from a
//    callback"); undefined (usually a deadlock) with NDEBUG.
//  - Destroying the map while another thread uses it: undefined.
// Profiling: with Options::label, every shard lock carries that label, so
//   the mutex profile attributes waits on any shard to the map (a label per
//   map, not per shard). Labels need a Lock constructible from `const
//   char*` (contend::Mutex, contend::RWMutex); other Locks are unlabeled.
// Cost: shard_count() shards, each its own kCacheLineSize-aligned block
//   (sizeof(Shard) a multiple of 128 bytes: static_assert below) so two
//   shards' locks never share a line. The default shard count is 8 x
//   hardware threads rounded up to a power of two, clamped to [16, 1024]:
//   with T threads busy on uniform keys, an operation finds its shard held
//   with probability about (T - 1) / shards, so 8 x cores keeps that near
//   1/8 while the whole array stays small (16 shards here: 2 KiB + the
//   maps); on a 32-core machine it gives the article's 256 (dashmap uses
//   4 x cores). Settable with Options::shards (rounded up to a power of
//   two). One hash of the key per operation selects the shard (top bits of
//   a multiplicative mix) and is reused for the lookup; each operation
//   takes one lock (one CAS to lock and one to unlock when uncontended) and
//   allocates only when flat_hash_map grows. No spinning or parking beyond
//   Lock's own. Numbers: bench/shard/RESULTS.md
//   (//bench/shard:striped_map_benchmark).
//
// Example:
//   contend::StripedMap<std::string, int> hits({.label = "hits"});
//   hits.compute("/index", [](std::optional<int>& n) { n = n.value_or(0) + 1;
//   }); std::optional<int> n = hits.load("/index");  // 1
template <class K, class V, class Hash = absl::Hash<K>,
          class Eq = std::equal_to<K>, class Lock = Mutex>
class StripedMap {
 public:
  struct Options {
    // Number of shards; 0: the default (Cost). Rounded up to a power of two.
    size_t shards = 0;
    // Profiler label of every shard lock; static storage duration. nullptr:
    // unlabeled.
    const char* label = nullptr;
  };

  StripedMap() : StripedMap(Options{}) {}
  explicit StripedMap(Options options);
  ~StripedMap();
  StripedMap(const StripedMap&) = delete;
  StripedMap& operator=(const StripedMap&) = delete;

  [[nodiscard]] std::optional<V> load(const K& key) const {
    check_not_in_callback("load");
    const uint64_t h = hash(key);
    const Shard& s = shard_for(h);
    ReadGuard g(s.mu);
    auto it = s.map.find(key, static_cast<size_t>(h));
    if (it == s.map.end()) return std::nullopt;
    return it->second;
  }

  void store(const K& key, V value) {
    check_not_in_callback("store");
    Shard& s = shard_for(hash(key));
    WriteGuard g(s.mu);
    s.map.insert_or_assign(key, std::move(value));
  }

  std::pair<V, bool> load_or_store(const K& key, V value) {
    check_not_in_callback("load_or_store");
    Shard& s = shard_for(hash(key));
    WriteGuard g(s.mu);
    auto [it, inserted] = s.map.try_emplace(key, std::move(value));
    return {it->second, !inserted};
  }

  std::optional<V> load_and_delete(const K& key) {
    check_not_in_callback("load_and_delete");
    const uint64_t h = hash(key);
    Shard& s = shard_for(h);
    WriteGuard g(s.mu);
    auto it = s.map.find(key, static_cast<size_t>(h));
    if (it == s.map.end()) return std::nullopt;
    std::optional<V> out(std::move(it->second));
    s.map.erase(it);
    return out;
  }

  bool erase(const K& key) {
    check_not_in_callback("erase");
    Shard& s = shard_for(hash(key));
    WriteGuard g(s.mu);
    return s.map.erase(key) != 0;
  }

  std::optional<V> swap(const K& key, V value) {
    check_not_in_callback("swap");
    Shard& s = shard_for(hash(key));
    WriteGuard g(s.mu);
    auto [it, inserted] = s.map.try_emplace(key, std::move(value));
    if (inserted) return std::nullopt;
    std::optional<V> old(std::move(it->second));
    it->second = std::move(value);  // try_emplace did not move from it
    return old;
  }

  bool compare_and_swap(const K& key, const V& old_value, V new_value) {
    check_not_in_callback("compare_and_swap");
    const uint64_t h = hash(key);
    Shard& s = shard_for(h);
    WriteGuard g(s.mu);
    auto it = s.map.find(key, static_cast<size_t>(h));
    if (it == s.map.end() || !(it->second == old_value)) return false;
    it->second = std::move(new_value);
    return true;
  }

  bool compare_and_delete(const K& key, const V& old_value) {
    check_not_in_callback("compare_and_delete");
    const uint64_t h = hash(key);
    Shard& s = shard_for(h);
    WriteGuard g(s.mu);
    auto it = s.map.find(key, static_cast<size_t>(h));
    if (it == s.map.end() || !(it->second == old_value)) return false;
    s.map.erase(it);
    return true;
  }

  // f(V&) on k's value under the shard lock; false (f not called) if absent.
  template <class F>
  bool update(const K& key, F&& f) {
    check_not_in_callback("update");
    const uint64_t h = hash(key);
    Shard& s = shard_for(h);
    WriteGuard g(s.mu);
    auto it = s.map.find(key, static_cast<size_t>(h));
    if (it == s.map.end()) return false;
    internal::MapCallbackScope scope(this);
    std::forward<F>(f)(it->second);
    return true;
  }

  // f(std::optional<V>&) under the shard lock: the optional holds k's value
  // (or is empty); what f leaves in it becomes k's entry (empty: erased).
  // Returns f's result.
  template <class F>
  auto compute(const K& key, F&& f) {
    check_not_in_callback("compute");
    const uint64_t h = hash(key);
    Shard& s = shard_for(h);
    WriteGuard g(s.mu);
    auto it = s.map.find(key, static_cast<size_t>(h));
    std::optional<V> slot;
    if (it != s.map.end()) slot.emplace(std::move(it->second));
    // Writes slot back on every exit (return or unwinding).
    using Iterator = decltype(it);
    struct WriteBack {
      Shard& shard;
      const K& k;
      Iterator& pos;
      std::optional<V>& value;
      ~WriteBack() {
        if (value.has_value()) {
          if (pos != shard.map.end()) {
            pos->second = std::move(*value);
          } else {
            shard.map.emplace(k, std::move(*value));
          }
        } else if (pos != shard.map.end()) {
          shard.map.erase(pos);
        }
      }
    } write_back{s, key, it, slot};
    internal::MapCallbackScope scope(this);
    return std::forward<F>(f)(slot);
  }

  // k's value (loaded = true), or make()'s result stored under k (loaded =
  // false); make() runs under the shard lock, at most once per call.
  template <class Make>
  std::pair<V, bool> load_or_compute(const K& key, Make&& make) {
    check_not_in_callback("load_or_compute");
    const uint64_t h = hash(key);
    Shard& s = shard_for(h);
    WriteGuard g(s.mu);
    auto it = s.map.find(key, static_cast<size_t>(h));
    if (it != s.map.end()) return {it->second, true};
    V made = [&] {
      internal::MapCallbackScope scope(this);
      return std::forward<Make>(make)();
    }();
    auto ins = s.map.emplace(key, std::move(made));
    return {ins.first->second, false};
  }

  // Calls f(key, value) for the entries, one shard at a time under its lock
  // (not a snapshot: see Guarantees); stops when f returns false.
  template <class F>
  void range(F&& f) const {
    check_not_in_callback("range");
    for (size_t i = 0; i < shard_count_; ++i) {
      const Shard& s = shards_[i];
      ReadGuard g(s.mu);
      internal::MapCallbackScope scope(this);
      for (const auto& [k, v] : s.map) {
        if (!f(k, v)) return;
      }
    }
  }

  // Removes every entry, one shard at a time.
  void clear() {
    check_not_in_callback("clear");
    for (size_t i = 0; i < shard_count_; ++i) {
      Shard& s = shards_[i];
      WriteGuard g(s.mu);
      s.map.clear();
    }
  }

  // The number of entries, summed one shard at a time (see Guarantees).
  [[nodiscard]] size_t size() const {
    check_not_in_callback("size");
    size_t n = 0;
    for (size_t i = 0; i < shard_count_; ++i) {
      const Shard& s = shards_[i];
      ReadGuard g(s.mu);
      n += s.map.size();
    }
    return n;
  }

  [[nodiscard]] size_t shard_count() const noexcept { return shard_count_; }

  // The shard `key` lives in (for tests and for profiling labels).
  [[nodiscard]] size_t shard_of(const K& key) const {
    return index_of(hash(key));
  }

 private:
  friend class StripedMapTestPeer;  // tests/shard: reads the shard locks

  static constexpr bool kSharedReads = requires(Lock & l) {
    l.lock_shared();
    l.unlock_shared();
  };

  class ABSL_SCOPED_LOCKABLE ExclusiveGuard {
   public:
    explicit ExclusiveGuard(Lock& mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu)
        : mu_(mu) {
      mu_.lock();
    }
    ~ExclusiveGuard() ABSL_UNLOCK_FUNCTION() { mu_.unlock(); }
    ExclusiveGuard(const ExclusiveGuard&) = delete;
    ExclusiveGuard& operator=(const ExclusiveGuard&) = delete;

   private:
    Lock& mu_;
  };
  class ABSL_SCOPED_LOCKABLE SharedGuard {
   public:
    explicit SharedGuard(Lock& mu) ABSL_SHARED_LOCK_FUNCTION(mu) : mu_(mu) {
      mu_.lock_shared();
    }
    ~SharedGuard() ABSL_UNLOCK_FUNCTION() { mu_.unlock_shared(); }
    SharedGuard(const SharedGuard&) = delete;
    SharedGuard& operator=(const SharedGuard&) = delete;

   private:
    Lock& mu_;
  };
  using WriteGuard = ExclusiveGuard;
  using ReadGuard =
      std::conditional_t<kSharedReads, SharedGuard, ExclusiveGuard>;

  struct alignas(internal::kCacheLineSize) Shard {
    Shard() = default;
    explicit Shard(const char* label) : mu(label) {}
    mutable Lock mu;
    absl::flat_hash_map<K, V, Hash, Eq> map ABSL_GUARDED_BY(mu);
  };

  uint64_t hash(const K& key) const {
    return static_cast<uint64_t>(Hash{}(key));
  }
  size_t index_of(uint64_t h) const {
    return static_cast<size_t>(internal::mix_for_shard(h) >> shift_) &
           (shard_count_ - 1);
  }
  Shard& shard_for(uint64_t h) const { return shards_[index_of(h)]; }

  void check_not_in_callback(const char* method) const {
#ifndef NDEBUG
    if (ABSL_PREDICT_FALSE(internal::tls_map_callbacks != nullptr &&
                           internal::in_map_callback(this))) {
      internal::fatal_format(
          "contend: StripedMap::%s: re-entrant call from a callback", method);
    }
#else
    (void)method;
#endif
  }

  size_t shard_count_;
  int shift_;  // 64 - log2(shard_count_) (0 for one shard; the mask is 0)
  Shard* shards_;
};

template <class K, class V, class Hash, class Eq, class Lock>
StripedMap<K, V, Hash, Eq, Lock>::StripedMap(Options options)
    : shard_count_(std::bit_ceil(options.shards == 0
                                     ? internal::default_shard_count()
                                     : options.shards)),
      shift_(shard_count_ == 1 ? 0 : 64 - std::countr_zero(shard_count_)),
      shards_(static_cast<Shard*>(::operator new (
          sizeof(Shard) * shard_count_, std::align_val_t{alignof(Shard)}))) {
  static_assert(sizeof(Shard) % internal::kCacheLineSize == 0 &&
                    alignof(Shard) == internal::kCacheLineSize,
                "each shard owns its cache line(s)");
  for (size_t i = 0; i < shard_count_; ++i) {
    if constexpr (std::is_constructible_v<Lock, const char*>) {
      if (options.label != nullptr) {
        new (&shards_[i]) Shard(options.label);
        continue;
      }
    }
    new (&shards_[i]) Shard();
  }
}

template <class K, class V, class Hash, class Eq, class Lock>
StripedMap<K, V, Hash, Eq, Lock>::~StripedMap() {
  for (size_t i = shard_count_; i-- > 0;) shards_[i].~Shard();
  ::operator delete (shards_, std::align_val_t{alignof(Shard)});
}

}  // namespace contend

#endif  // CONTEND_SHARD_STRIPED_MAP_H_
