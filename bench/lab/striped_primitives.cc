// Copyright 2026 The contend Authors.
//
// Lab workloads for shard/'s keyed types: StripedMap (with Mutex and with
// RWMutex shard locks) and KeyedMutex. Each op picks a key of
// [0, workload.keys) (key 0 only when keys == 0: every op on one shard).

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "bench/lab/harness.h"
#include "bench/lab/registry.h"
#include "bench/lab/workload.h"
#include "shard/keyed_mutex.h"
#include "shard/striped_map.h"
#include "sync/mutex.h"
#include "sync/rw_mutex.h"

namespace contend::lab {
namespace {

// A StripedMap<uint64, uint64> holding every key, each value a counter. An
// exclusive op is update(key): read the counter, the critical work, write it
// back incremented, all under the shard lock (so an overlap of two sections
// on one key loses an update and verify() sees it). A shared op is load(key)
// followed by the critical work on the loaded copy (a map read returns a
// value, it does not run work under the lock).
// Shards: 0 for StripedMap's default (8 x hardware threads, 16..1024).
template <class Lock, size_t Shards = 0>
struct StripedMapState {
  using Map = StripedMap<uint64_t, uint64_t, absl::Hash<uint64_t>,
                         std::equal_to<uint64_t>, Lock>;
  explicit StripedMapState(const Workload& w)
      : keys(w.keys == 0 ? 1 : w.keys), map({.shards = Shards}) {
    for (int64_t k = 0; k < keys; ++k) map.store(static_cast<uint64_t>(k), 0);
  }

  uint64_t op(OpContext& ctx, bool shared, uint64_t chain) {
    const uint64_t key = ctx.key();
    ctx.start_acquire();
    if (shared) {
      const std::optional<uint64_t> v = map.load(key);
      ctx.acquired(true);
      return ctx.critical(chain ^ v.value_or(0));
    }
    bool first = true;
    map.update(key, [&](uint64_t& counter) {
      if (first) ctx.acquired(false);
      first = false;
      const uint64_t seen = counter;
      chain = ctx.critical(chain ^ seen);
      counter = seen + 1;
    });
    return chain;
  }

  bool verify(const Result& r) const {
    uint64_t sum = 0;
    map.range([&](const uint64_t&, const uint64_t& v) {
      sum += v;
      return true;
    });
    return sum == static_cast<uint64_t>(r.writes);
  }

  const int64_t keys;
  Map map;
};

// A KeyedMutex<uint64> over a preallocated counter per key: each op locks
// its key (entry created, evicted after), then the lock workload's body on
// that key's counter. No shared mode: shared ops lock and only read.
struct KeyedMutexState {
  explicit KeyedMutexState(const Workload& w)
      : counters(static_cast<size_t>(w.keys == 0 ? 1 : w.keys), 0) {}

  uint64_t op(OpContext& ctx, bool shared, uint64_t chain) {
    const uint64_t key = ctx.key();
    ctx.start_acquire();
    auto g = km.lock(key);
    ctx.acquired(shared);
    uint64_t& counter = counters[key];
    const uint64_t seen = counter;
    chain = ctx.critical(chain ^ seen);
    if (!shared) counter = seen + 1;
    return chain;
  }

  bool verify(const Result& r) const {
    uint64_t sum = 0;
    for (uint64_t c : counters) sum += c;
    return sum == static_cast<uint64_t>(r.writes) && km.entries() == 0;
  }

  KeyedMutex<uint64_t> km;
  std::vector<uint64_t> counters;  // counters[k] guarded by km's key k
};

template <class State>
Result run_state(const Workload& w, const RunControl& ctl) {
  auto state = std::make_unique<State>(w);
  return run_workload(w, ctl, *state);
}

CONTEND_LAB_REGISTER(striped_map, "striped_map", "contend::StripedMap",
                     "a map split into Mutex-locked shards by key hash: "
                     "reads load(key), writes update(key) under the shard lock",
                     false, &run_state<StripedMapState<contend::Mutex>>);
CONTEND_LAB_REGISTER(
    striped_map_rw, "striped_map_rw", "contend::StripedMap<RWMutex>",
    "StripedMap with RWMutex shard locks: load(key) takes the shared side",
    true, &run_state<StripedMapState<contend::RWMutex>>);
// The shard-count question of the article's section 3: the same map with a
// fixed number of shards.
CONTEND_LAB_REGISTER(striped_map_16, "striped_map_16",
                     "contend::StripedMap (16 shards)",
                     "StripedMap with 16 Mutex shards (shard-count sweep)",
                     false, &run_state<StripedMapState<contend::Mutex, 16>>);
CONTEND_LAB_REGISTER(striped_map_64, "striped_map_64",
                     "contend::StripedMap (64 shards)",
                     "StripedMap with 64 Mutex shards (shard-count sweep)",
                     false, &run_state<StripedMapState<contend::Mutex, 64>>);
CONTEND_LAB_REGISTER(striped_map_256, "striped_map_256",
                     "contend::StripedMap (256 shards)",
                     "StripedMap with 256 Mutex shards (shard-count sweep)",
                     false, &run_state<StripedMapState<contend::Mutex, 256>>);
CONTEND_LAB_REGISTER(striped_map_1024, "striped_map_1024",
                     "contend::StripedMap (1024 shards)",
                     "StripedMap with 1024 Mutex shards (shard-count sweep)",
                     false, &run_state<StripedMapState<contend::Mutex, 1024>>);
CONTEND_LAB_REGISTER(keyed_mutex, "keyed_mutex", "contend::KeyedMutex",
                     "a lock per key, entries evicted at zero references: "
                     "every op locks its key of [0, keys)",
                     false, &run_state<KeyedMutexState>);

}  // namespace
}  // namespace contend::lab
