// Copyright 2026 The contend Authors.
//
// Lab workloads for the read-mostly primitives (sync/snapshot.h,
// shard/read_mostly_map.h) and the locked map they are compared with.
//
// "snapshot": the article's config read (*sync — Senior*, §4, ">99% reads"):
// a shared op loads the config and feeds a field into the critical work; an
// exclusive op publishes a copy with the field incremented (update(), RCU:
// the critical work runs inside the copy step, and again on a conflict). The
// same workload on "mutex" / "rwmutex" is the locked config: the matrix's
// comparison.
//
// "read_mostly_map" / "rwmutex_map": a map of Workload::keys keys (1 when 0),
// all present from the start with value 0. A shared op loads a random key; an
// exclusive op increments a random key's value (a load, the critical work,
// then compare_and_swap, retried on conflict for the map; under the write
// lock for the locked map). verify(): the values sum to the writes.

#include <cstdint>
#include <memory>

#include "absl/container/flat_hash_map.h"
#include "bench/lab/harness.h"
#include "bench/lab/registry.h"
#include "bench/lab/workload.h"
#include "shard/read_mostly_map.h"
#include "sync/rw_mutex.h"
#include "sync/snapshot.h"

namespace contend::lab {
namespace {

struct Config {
  uint64_t version = 0;
  uint64_t limits[7] = {};  // the rest of the line a reader may look at
};

struct SnapshotState {
  Snapshot<Config> config{Config{}};

  uint64_t op(OpContext& ctx, bool shared, uint64_t chain) {
    ctx.start_acquire();
    if (shared) {
      auto c = config.load();
      ctx.acquired(true);
      return ctx.critical(chain ^ c->version);
    }
    ctx.acquired(false);
    config.update([&](Config& c) {
      chain = ctx.critical(chain ^ c.version);
      ++c.version;
    });
    return chain;
  }

  bool verify(const Result& r) const {
    return config.load()->version == static_cast<uint64_t>(r.writes);
  }
};

Result run_snapshot(const Workload& w, const RunControl& ctl) {
  auto state = std::make_unique<SnapshotState>();
  return run_workload(w, ctl, *state);
}

uint64_t key_count(const Workload& w) {
  return w.keys > 0 ? static_cast<uint64_t>(w.keys) : 1;
}

struct ReadMostlyMapState {
  explicit ReadMostlyMapState(uint64_t keys) {
    for (uint64_t k = 0; k < keys; ++k) map.store(k, 0);
  }
  ReadMostlyMap<uint64_t, uint64_t> map;

  uint64_t op(OpContext& ctx, bool shared, uint64_t chain) {
    const uint64_t k = ctx.key();
    ctx.start_acquire();
    if (shared) {
      const uint64_t v = map.load(k).value_or(0);
      ctx.acquired(true);
      return ctx.critical(chain ^ v);
    }
    ctx.acquired(false);
    for (;;) {
      const uint64_t v = map.load(k).value_or(0);
      chain = ctx.critical(chain ^ v);
      if (map.compare_and_swap(k, v, v + 1)) return chain;
    }
  }

  bool verify(const Result& r) const {
    uint64_t sum = 0;
    map.range(
        [&](const uint64_t&, const uint64_t& v) { return sum += v, true; });
    return sum == static_cast<uint64_t>(r.writes);
  }
};

Result run_read_mostly_map(const Workload& w, const RunControl& ctl) {
  auto state = std::make_unique<ReadMostlyMapState>(key_count(w));
  return run_workload(w, ctl, *state);
}

struct RWMutexMapState {
  explicit RWMutexMapState(uint64_t keys) {
    for (uint64_t k = 0; k < keys; ++k) map[k] = 0;
  }
  alignas(128) RWMutex mu;
  absl::flat_hash_map<uint64_t, uint64_t> map ABSL_GUARDED_BY(mu);

  uint64_t op(OpContext& ctx, bool shared, uint64_t chain) {
    const uint64_t k = ctx.key();
    ctx.start_acquire();
    if (shared) {
      ReaderMutexLock lock(mu);
      ctx.acquired(true);
      auto it = map.find(k);
      return ctx.critical(chain ^ (it == map.end() ? 0 : it->second));
    }
    WriterMutexLock lock(mu);
    ctx.acquired(false);
    uint64_t& v = map[k];
    chain = ctx.critical(chain ^ v);
    ++v;
    return chain;
  }

  bool verify(const Result& r) {
    ReaderMutexLock lock(mu);
    uint64_t sum = 0;
    for (const auto& [k, v] : map) sum += v;
    return sum == static_cast<uint64_t>(r.writes);
  }
};

Result run_rwmutex_map(const Workload& w, const RunControl& ctl) {
  auto state = std::make_unique<RWMutexMapState>(key_count(w));
  return run_workload(w, ctl, *state);
}

CONTEND_LAB_REGISTER(snapshot, "snapshot", "contend::Snapshot",
                     "copy-on-write config (Go's atomic.Pointer + copy): "
                     "lock-free loads, writers publish a copy (RCU update)",
                     true, &run_snapshot);
CONTEND_LAB_REGISTER(read_mostly_map, "read_mostly_map",
                     "contend::ReadMostlyMap",
                     "Go's sync.Map: lock-free loads, per-key CAS writes "
                     "(Workload::keys keys)",
                     true, &run_read_mostly_map);
CONTEND_LAB_REGISTER(rwmutex_map, "rwmutex_map",
                     "absl::flat_hash_map + contend::RWMutex",
                     "one reader/writer lock over a flat_hash_map "
                     "(Workload::keys keys)",
                     true, &run_rwmutex_map);

}  // namespace
}  // namespace contend::lab
