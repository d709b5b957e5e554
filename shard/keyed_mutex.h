// Copyright 2026 The contend Authors.
//
// contend::KeyedMutex, a lock per key, with entries created on demand and
// evicted when nobody holds or waits for the key.

#ifndef CONTEND_SHARD_KEYED_MUTEX_H_
#define CONTEND_SHARD_KEYED_MUTEX_H_

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <span>
#include <stop_token>
#include <utility>
#include <vector>

#include "absl/base/optimization.h"
#include "absl/base/thread_annotations.h"
#include "absl/container/inlined_vector.h"
#include "absl/container/node_hash_map.h"
#include "absl/hash/hash.h"
#include "sync/internal/fatal.h"
#include "sync/mutex.h"

namespace contend {

// A KeyedMutex is a family of mutexes, one per key: lock("user:42") excludes
// every other holder of "user:42" and nobody else.
//
// Model: a map from keys to (holder?, waiters). A key's entry exists while
// some thread holds the key or waits for it (its reference count > 0) and is
// removed when the count drops to zero, so memory is bounded by the keys in
// use, not the keys ever seen. At most `max_entries` entries exist at once;
// a key that would need one more is served by one of `stripes` shared
// stripe locks chosen by its hash (two such keys may then exclude each
// other -- never unsafe: a key is served by exactly one lock at any time).
//
// Contract:
//  - Requires: the KeyedMutex outlives its guards and no thread is inside a
//    call when it is destroyed. A Guard is released (destroyed, unlock()ed
//    or moved-from-and-released) on the thread that acquired it (the debug
//    self-relock check tracks held locks per thread).
//  - Guarantees: mutual exclusion per key; lock_many(keys) acquires every
//    distinct key in one global order (the address of the lock serving each
//    key, fixed while the key is referenced), so any number of threads
//    calling lock_many on overlapping key sets, in any order, cannot
//    deadlock with each other. Duplicate keys are locked once. The fairness
//    of each key's wait is contend::Mutex's (starvation mode after 1 ms).
//    try_lock* and lock(key, stop) fail only without the key, at the
//    deadline or on a stop request; a failed attempt leaves no entry behind.
// Thread safety: every method may be called concurrently.
// Memory ordering: everything a thread did while holding key k happens-
//   before everything the next holder of k does after its lock returns
//   (the serving Mutex's unlock/lock edge). A failed try_* gives no ordering.
// Misuse:
//  - A thread locking a key it already holds (or a key served by a lock it
//    already holds, e.g. the same stripe): checked in debug builds (NDEBUG
//    undefined); terminates with "contend: KeyedMutex::lock: the calling
//    thread already holds this key's lock" (try_lock* return false
//    instead); a deadlock with NDEBUG.
// Profiling: Options::label labels every entry's and stripe's Mutex, so the
//   mutex profile shows waits on any key under the KeyedMutex's label.
// Cost: one table Mutex guards the entry map: every lock and release takes
//   it once. Entries live in map nodes; up to 64 evicted nodes are kept for
//   reuse, so in steady state creating an entry allocates nothing (a new
//   node allocates and, when labeled, registers the label). A guard holds up
//   to 4 keys without allocating. The key's own wait is a contend::Mutex (one
//   CAS when free). An entry is a node: the key, a Mutex, a count, the hash.
//   entries() <= max_entries.
//   Numbers: bench/shard/RESULTS.md when measured.
//
// Example:
//   contend::KeyedMutex<std::string> accounts;
//   {
//     auto g = accounts.lock("alice");
//     // ... alice's balance is ours ...
//   }
//   auto both = accounts.lock_many({"bob", "alice"});  // any order is safe
template <class K, class Hash = absl::Hash<K>, class Eq = std::equal_to<K>>
class KeyedMutex {
  struct Entry;

 public:
  struct Options {
    // Most entries alive at once; beyond it keys share stripes.
    size_t max_entries = size_t{1} << 16;
    // Stripe locks for keys beyond max_entries (rounded up to a power of 2).
    size_t stripes = 64;
    // Profiler label of every entry and stripe Mutex; static storage.
    const char* label = nullptr;
  };

  // Holds one or more keys; releases them when destroyed. Movable.
  class Guard {
    using Held = absl::InlinedVector<Entry*, 4>;

   public:
    Guard() = default;
    Guard(Guard&& other) noexcept
        : owner_(std::exchange(other.owner_, nullptr)),
          held_(std::move(other.held_)) {
      other.held_.clear();
    }
    Guard& operator=(Guard&& other) noexcept {
      if (this != &other) {
        unlock();
        owner_ = std::exchange(other.owner_, nullptr);
        held_ = std::move(other.held_);
        other.held_.clear();
      }
      return *this;
    }
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;
    ~Guard() { unlock(); }

    // True while the guard holds its keys.
    [[nodiscard]] bool owns_lock() const noexcept { return owner_ != nullptr; }
    explicit operator bool() const noexcept { return owns_lock(); }

    // Releases the keys now (no-op if not held).
    void unlock() {
      if (owner_ == nullptr) return;
      owner_->release(held_, /*locked=*/true);
      held_.clear();
      owner_ = nullptr;
    }

   private:
    friend class KeyedMutex;
    Guard(KeyedMutex* owner, Held held)
        : owner_(owner), held_(std::move(held)) {}
    KeyedMutex* owner_ = nullptr;
    Held held_;  // distinct, in locking order (inline up to 4 keys)
  };

  KeyedMutex() : KeyedMutex(Options{}) {}
  explicit KeyedMutex(Options options);
  ~KeyedMutex() = default;
  KeyedMutex(const KeyedMutex&) = delete;
  KeyedMutex& operator=(const KeyedMutex&) = delete;

  // Blocks until the calling thread holds `key`.
  [[nodiscard]] Guard lock(const K& key) {
    Entry* e = acquire(key);
    check_not_held(e->mu, "lock");
    e->mu.lock();
    note_held(&e->mu);
    return Guard(this, {e});
  }

  // Like lock(key), but gives up (an empty guard) if `stop` is requested.
  [[nodiscard]] Guard lock(const K& key, std::stop_token stop) {
    return attempt(key, [&](Mutex& mu) { return mu.lock(stop); });
  }

  // Takes `key` if it is free now; an empty guard otherwise.
  [[nodiscard]] Guard try_lock(const K& key) {
    return attempt(key, [](Mutex& mu) { return mu.try_lock(); });
  }

  template <class Rep, class Period>
  [[nodiscard]] Guard try_lock_for(
      const K& key, const std::chrono::duration<Rep, Period>& timeout) {
    return attempt(key, [&](Mutex& mu) { return mu.try_lock_for(timeout); });
  }

  template <class Clock, class Duration>
  [[nodiscard]] Guard try_lock_until(
      const K& key, const std::chrono::time_point<Clock, Duration>& deadline) {
    return attempt(key, [&](Mutex& mu) { return mu.try_lock_until(deadline); });
  }

  // Locks every distinct key of `keys` in the global order (Guarantees).
  [[nodiscard]] Guard lock_many(std::span<const K> keys) {
    typename Guard::Held held;
    held.reserve(keys.size());
    {
      MutexLock l(table_mu_);
      for (const K& k : keys) {
        Entry* e = acquire_locked(k);
        if (std::find(held.begin(), held.end(), e) != held.end()) {
          --e->refs;  // a duplicate: still referenced by the first
        } else {
          held.push_back(e);
        }
      }
    }
    std::sort(held.begin(), held.end(), std::less<Entry*>());
    for (Entry* e : held) {
      check_not_held(e->mu, "lock_many");
      e->mu.lock();
      note_held(&e->mu);
    }
    return Guard(this, std::move(held));
  }
  [[nodiscard]] Guard lock_many(std::initializer_list<K> keys) {
    return lock_many(std::span<const K>(keys.begin(), keys.size()));
  }

  // Entries alive now (keys held or waited for, outside the stripes).
  [[nodiscard]] size_t entries() const {
    MutexLock l(table_mu_);
    return map_.size();
  }

 private:
  struct Entry {
    explicit Entry(const char* label) : mu(label) {}
    Entry() = default;
    Mutex mu;
    // Threads holding or waiting for this entry (guarded by table_mu_;
    // stripes are never evicted and their count is not used for that).
    size_t refs = 0;
    bool stripe = false;
    // The entry's key (in its map node, whose address is stable) and hash,
    // so that release() can evict it.
    const K* key = nullptr;
    size_t hash = 0;
  };
  using Map = absl::node_hash_map<K, Entry, Hash, Eq>;
  // Evicted nodes kept for reuse (each holds an unlocked Mutex with no
  // waiters), so a lock of a key with no entry does not allocate.
  static constexpr size_t kSpareNodes = 64;

  Entry* acquire(const K& key) {
    MutexLock l(table_mu_);
    return acquire_locked(key);
  }

  // The entry serving `key`, with a reference taken. A key not in the map
  // is given an entry unless the map is full or its stripe is in use by a
  // key that overflowed (then `key` might be that key: INV-ONE below).
  //
  // INV-ONE: a key is served by at most one lock at a time. A key is looked
  // up in the map first; it goes to its stripe only when it has no entry,
  // and gets an entry only when its stripe has no references, so a key
  // served by a stripe cannot also get an entry while that stripe user
  // holds it, and a key with an entry is always found in the map.
  Entry* acquire_locked(const K& key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(table_mu_) {
    const size_t h = static_cast<size_t>(Hash{}(key));
    auto it = map_.find(key, h);
    if (it != map_.end()) {
      ++it->second.refs;
      return &it->second;
    }
    Entry& stripe = *stripes_[((h * 0x9E3779B97F4A7C15u) >> stripe_shift_) &
                              (stripe_count_ - 1)];
    if (stripe.refs > 0 || map_.size() >= max_entries_) {
      ++stripe.refs;
      return &stripe;
    }
    typename Map::iterator pos;
    if (!spare_.empty()) {
      typename Map::node_type node = std::move(spare_.back());
      spare_.pop_back();
      node.key() = key;
      pos = map_.insert(std::move(node)).position;
    } else if (label_ != nullptr) {
      pos = map_.try_emplace(key, label_).first;
    } else {
      pos = map_.try_emplace(key).first;
    }
    Entry& e = pos->second;
    e.refs = 1;
    e.key = &pos->first;
    e.hash = h;
    return &e;
  }

  // Drops one reference on each entry (unlocking it first if `locked`);
  // evicts entries left with none.
  void release(std::span<Entry* const> held, bool locked) {
    if (locked) {
      for (auto it = held.rbegin(); it != held.rend(); ++it) {
        note_released(&(*it)->mu);
        (*it)->mu.unlock();
      }
    }
    MutexLock l(table_mu_);
    for (Entry* e : held) {
      if (--e->refs == 0 && !e->stripe) {
        // Nobody holds or waits: our unlock() above was the last access by
        // a holder (Mutex's unlock touches nothing once it released).
        // The node (and its Mutex) is kept for reuse when there is room.
        auto node = map_.extract(map_.find(*e->key, e->hash));
        if (spare_.size() < kSpareNodes) spare_.push_back(std::move(node));
      }
    }
  }

  template <class Try>
  Guard attempt(const K& key, Try&& try_lock_fn) {
    Entry* e = acquire(key);
#ifndef NDEBUG
    if (is_held(&e->mu)) {
      release({&e, 1}, /*locked=*/false);
      return Guard();
    }
#endif
    if (!try_lock_fn(e->mu)) {
      release({&e, 1}, /*locked=*/false);
      return Guard();
    }
    note_held(&e->mu);
    return Guard(this, {e});
  }

  // Debug-only per-thread record of the Mutexes this thread holds through
  // any KeyedMutex.
#ifndef NDEBUG
  static std::vector<const Mutex*>& held_by_me() {
    thread_local std::vector<const Mutex*> held;
    return held;
  }
  static bool is_held(const Mutex* mu) {
    auto& h = held_by_me();
    return std::find(h.begin(), h.end(), mu) != h.end();
  }
#endif
  static void check_not_held(const Mutex& mu, const char* method) {
#ifndef NDEBUG
    if (ABSL_PREDICT_FALSE(is_held(&mu))) {
      internal::fatal_format(
          "contend: KeyedMutex::%s: the calling thread already holds this "
          "key's lock",
          method);
    }
#else
    (void)mu;
    (void)method;
#endif
  }
  static void note_held(const Mutex* mu) {
#ifndef NDEBUG
    held_by_me().push_back(mu);
#else
    (void)mu;
#endif
  }
  static void note_released(const Mutex* mu) {
#ifndef NDEBUG
    auto& h = held_by_me();
    auto it = std::find(h.begin(), h.end(), mu);
    if (it != h.end()) h.erase(it);
#else
    (void)mu;
#endif
  }

  const size_t max_entries_;
  const size_t stripe_count_;
  const int stripe_shift_;
  const char* const label_;
  std::vector<std::unique_ptr<Entry>> stripes_;  // never evicted
  mutable Mutex table_mu_;
  Map map_ ABSL_GUARDED_BY(table_mu_);
  std::vector<typename Map::node_type> spare_ ABSL_GUARDED_BY(table_mu_);
};

template <class K, class Hash, class Eq>
KeyedMutex<K, Hash, Eq>::KeyedMutex(Options options)
    : max_entries_(options.max_entries),
      stripe_count_(std::bit_ceil(std::max<size_t>(1, options.stripes))),
      stripe_shift_(stripe_count_ == 1 ? 0
                                       : 64 - std::countr_zero(stripe_count_)),
      label_(options.label),
      stripes_(stripe_count_) {
  for (auto& stripe : stripes_) {
    stripe = label_ != nullptr ? std::make_unique<Entry>(label_)
                               : std::make_unique<Entry>();
    stripe->stripe = true;
  }
}

}  // namespace contend

#endif  // CONTEND_SHARD_KEYED_MUTEX_H_
