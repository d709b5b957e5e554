// Copyright 2026 The contend Authors.
//
// KeyedMutex against a mutex per key preallocated in a hash map (the
// unbounded-memory baseline: one mutex for every key ever seen), one binary:
//
//   bazel run -c opt //bench/shard:keyed_mutex_benchmark --
//       --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//   (one command line)
//
// LockUnlock/<impl>  lock + unlock of a uniformly random key out of 10k
//                    (uint64); an empty critical section.
// LockMany4/<impl>   4 random keys of the 10k locked together, then released
//                    (KeyedMutex::lock_many; the baselines sort the 4 mutexes
//                    by address, drop duplicates and lock in that order).
// impl: KeyedMutex (entries created on lock, evicted at zero references);
//   StdMutexPerKey (absl::flat_hash_map<uint64, std::unique_ptr<std::mutex>>
//   filled before the run, read-only while timed); MutexPerKey (the same with
//   contend::Mutex, which is what a KeyedMutex entry waits on).
//
// Time = per op per thread (UseRealTime), threads 1, 2, 4.

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <mutex>

#include "absl/container/flat_hash_map.h"
#include "benchmark/benchmark.h"
#include "shard/keyed_mutex.h"
#include "sync/mutex.h"

namespace contend::bench {
namespace {

constexpr uint64_t kKeys = 10000;

uint64_t mix(uint64_t i) {
  uint64_t x = i * 0x9E3779B97F4A7C15ULL;
  x ^= x >> 29;
  x *= 0xBF58476D1CE4E5B9ULL;
  return x ^ (x >> 32);
}

struct Keyed {
  contend::KeyedMutex<uint64_t> km;
  void lock_unlock(uint64_t k) {
    auto g = km.lock(k);
    benchmark::DoNotOptimize(g);
  }
  void lock_many(const std::array<uint64_t, 4>& keys) {
    auto g = km.lock_many(std::span<const uint64_t>(keys));
    benchmark::DoNotOptimize(g);
  }
};

template <class Mu>
struct PerKey {
  absl::flat_hash_map<uint64_t, std::unique_ptr<Mu>> m;
  PerKey() {
    m.reserve(kKeys);
    for (uint64_t k = 0; k < kKeys; ++k) m.emplace(k, std::make_unique<Mu>());
  }
  void lock_unlock(uint64_t k) {
    Mu& mu = *m.find(k)->second;
    mu.lock();
    benchmark::ClobberMemory();
    mu.unlock();
  }
  void lock_many(const std::array<uint64_t, 4>& keys) {
    std::array<Mu*, 4> mus;
    for (size_t j = 0; j < 4; ++j) mus[j] = m.find(keys[j])->second.get();
    std::sort(mus.begin(), mus.end());
    auto end = std::unique(mus.begin(), mus.end());
    for (auto it = mus.begin(); it != end; ++it) (*it)->lock();
    benchmark::ClobberMemory();
    for (auto it = mus.begin(); it != end; ++it) (*it)->unlock();
  }
};
using StdMutexPerKey = PerKey<std::mutex>;
using MutexPerKey = PerKey<contend::Mutex>;

// One instance per type, built by thread 0 before its first timed loop (the
// loop's start is a barrier) and kept.
template <class M>
M* g_impl = nullptr;

template <class M>
void make_impl(benchmark::State& state) {
  if (state.thread_index() == 0 && g_impl<M> == nullptr) g_impl<M> = new M;
}

template <class M>
void BM_LockUnlock(benchmark::State& state) {
  make_impl<M>(state);
  uint64_t i = static_cast<uint64_t>(state.thread_index()) << 40;
  for (auto _ : state) {
    g_impl<M>->lock_unlock(mix(i++) % kKeys);
  }
}

template <class M>
void BM_LockMany4(benchmark::State& state) {
  make_impl<M>(state);
  uint64_t i = static_cast<uint64_t>(state.thread_index()) << 40;
  for (auto _ : state) {
    std::array<uint64_t, 4> keys;
    for (auto& k : keys) k = mix(i++) % kKeys;
    g_impl<M>->lock_many(keys);
  }
}

#define CONTEND_KEYED(fn, M) \
  BENCHMARK_TEMPLATE(fn, M)  \
      ->Name(#fn "/" #M)     \
      ->Threads(1)           \
      ->Threads(2)           \
      ->Threads(4)           \
      ->UseRealTime()

CONTEND_KEYED(BM_LockUnlock, Keyed);
CONTEND_KEYED(BM_LockUnlock, StdMutexPerKey);
CONTEND_KEYED(BM_LockUnlock, MutexPerKey);
CONTEND_KEYED(BM_LockMany4, Keyed);
CONTEND_KEYED(BM_LockMany4, StdMutexPerKey);
CONTEND_KEYED(BM_LockMany4, MutexPerKey);

}  // namespace
}  // namespace contend::bench

BENCHMARK_MAIN();
