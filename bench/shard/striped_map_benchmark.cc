// Copyright 2026 The contend Authors.
//
// StripedMap against the concurrent maps C++ users reach for, one binary:
//
//   bazel run -c opt //bench/shard:striped_map_benchmark --
//       --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//   (one command line)
//
// W4/<map>/read_pct:R  10k string keys, uniform; R% loads, the rest upserts
//                      (store of an existing key), R = 99 and 70.
// Session/<map>/keys:N the article's session-tracker postmortem: N live
//                      sessions (uint64 ids), 50% loads of a random live id,
//                      50% writes: a touch (store) of a live id, and every
//                      16th write a churn (erase the oldest session, insert a
//                      new one), so the live set slides. N = 2^20 (the
//                      article's 1M) and 2^14 (for tools/bench_smoke).
//
// Peers (bench/shard/map_peers.h; a row is labelled with the peer's type
// name). W4: StripedMap (default shards; Mutex and RWMutex shard locks) and
//   StdMutex       std::unordered_map + std::mutex
//   StdShared      std::unordered_map + std::shared_mutex (reads shared)
//   Std256         256 stripes of std::unordered_map + std::mutex, each
//                  stripe cache-line aligned (the article's shape)
//   AbslMutex      absl::flat_hash_map + absl::Mutex
//   Tbb            tbb::concurrent_hash_map
//   Cuckoo         libcuckoo::cuckoohash_map
// Session peers: StripedMap, StripedMap with 256 shards, ReadMostlyMap, one
//   contend::Mutex around an absl::flat_hash_map.
//
// Time = per op per thread (UseRealTime), threads 1, 2, 4. Each map is built
// once per (type, shape) and kept across repetitions: the W4 upserts and the
// session churn keep its size constant.

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "bench/shard/map_peers.h"
#include "benchmark/benchmark.h"

namespace contend::bench {
namespace {

// --- workloads --------------------------------------------------------------

uint64_t mix(uint64_t i) {
  uint64_t x = i * 0x9E3779B97F4A7C15ULL;
  x ^= x >> 29;
  x *= 0xBF58476D1CE4E5B9ULL;
  return x ^ (x >> 32);
}

const std::vector<std::string>& keys10k() {
  static const auto* keys = [] {
    auto* k = new std::vector<std::string>;
    k->reserve(10000);
    for (int i = 0; i < 10000; ++i) k->push_back("user:" + std::to_string(i));
    return k;
  }();
  return *keys;
}

// One W4 map per type, built by thread 0 before its first timed loop (the
// loop's start is a barrier for every thread) and kept.
template <class M>
M* g_w4 = nullptr;

template <template <class, class> class Map>
void BM_W4(benchmark::State& state) {
  using M = Map<std::string, int64_t>;
  const auto read_pct = static_cast<uint64_t>(state.range(0));
  const auto& keys = keys10k();
  if (state.thread_index() == 0 && g_w4<M> == nullptr) {
    g_w4<M> = new M;
    for (size_t j = 0; j < keys.size(); ++j) {
      g_w4<M>->store(keys[j], static_cast<int64_t>(j));
    }
  }
  uint64_t i = static_cast<uint64_t>(state.thread_index()) << 40;
  for (auto _ : state) {
    M& m = *g_w4<M>;
    const uint64_t x = mix(i++);
    const std::string& k = keys[x % keys.size()];
    if ((x >> 40) % 100 < read_pct) {
      benchmark::DoNotOptimize(m.load(k));
    } else {
      m.store(k, static_cast<int64_t>(i));
    }
  }
}

// The session tracker: live ids are [next - n, next); a churn erases the
// oldest and inserts id `next`. Under concurrency the window is approximate
// (a load may miss a just-erased id), like a real tracker's.
template <class M>
struct SessionTable {
  M map;
  std::atomic<uint64_t> next{0};
};
template <class M>
SessionTable<M>* g_session[2] = {nullptr, nullptr};

template <template <class, class> class Map>
void BM_Session(benchmark::State& state) {
  using M = Map<uint64_t, int64_t>;
  const auto n = static_cast<uint64_t>(state.range(0));
  SessionTable<M>*& slot = g_session<M>[n > (1 << 14) ? 1 : 0];
  if (state.thread_index() == 0 && slot == nullptr) {
    slot = new SessionTable<M>;
    for (uint64_t id = 0; id < n; ++id) {
      slot->map.store(id, static_cast<int64_t>(id));
    }
    slot->next.store(n, std::memory_order_relaxed);
  }
  SessionTable<M>& t = *slot;
  uint64_t i = static_cast<uint64_t>(state.thread_index()) << 40;
  for (auto _ : state) {
    const uint64_t x = mix(i++);
    // relaxed: a statistical window, not a synchronizer (the map orders).
    const uint64_t next = t.next.load(std::memory_order_relaxed);
    const uint64_t id = next - 1 - (x % n);
    if ((x >> 40) % 2 == 0) {
      benchmark::DoNotOptimize(t.map.load(id));
    } else if ((x >> 41) % 16 != 0) {
      t.map.store(id, static_cast<int64_t>(i));
    } else {
      // relaxed: only uniqueness of the new id matters.
      const uint64_t fresh = t.next.fetch_add(1, std::memory_order_relaxed);
      t.map.erase(fresh - n);
      t.map.store(fresh, static_cast<int64_t>(i));
    }
  }
}

#define CONTEND_W4(M)          \
  BENCHMARK_TEMPLATE(BM_W4, M) \
      ->Name("W4/" #M)         \
      ->ArgName("read_pct")    \
      ->Arg(70)                \
      ->Arg(99)                \
      ->Threads(1)             \
      ->Threads(2)             \
      ->Threads(4)             \
      ->UseRealTime()

CONTEND_W4(Striped);
CONTEND_W4(StripedRW);
CONTEND_W4(StdMutex);
CONTEND_W4(StdShared);
CONTEND_W4(Std256);
CONTEND_W4(AbslMutex);
CONTEND_W4(Tbb);
CONTEND_W4(Cuckoo);

#define CONTEND_SESSION(M)          \
  BENCHMARK_TEMPLATE(BM_Session, M) \
      ->Name("Session/" #M)         \
      ->ArgName("keys")             \
      ->Arg(1 << 20)                \
      ->Arg(1 << 14)                \
      ->Threads(1)                  \
      ->Threads(2)                  \
      ->Threads(4)                  \
      ->UseRealTime()

CONTEND_SESSION(Striped);
CONTEND_SESSION(Striped256);
CONTEND_SESSION(Rmm);
CONTEND_SESSION(OneMutex);

}  // namespace
}  // namespace contend::bench

BENCHMARK_MAIN();
