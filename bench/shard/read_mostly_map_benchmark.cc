// Copyright 2026 The contend Authors.
//
// ReadMostlyMap against the maps C++ users reach for, with the benchmark
// names of Go's src/sync/map_bench_test.go (so results compare with Go's
// published sync.Map numbers) and the lab's W4 mix, one binary:
//
//   bazel run -c opt //bench/shard:read_mostly_map_benchmark --
//       --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//   (one command line)
//
// Peers (bench/shard/map_peers.h): ReadMostlyMap; absl::flat_hash_map guarded
// by one contend::RWMutex (RWLocked); tbb::concurrent_hash_map (Tbb); for W4
// also 256 std::mutex stripes over flat_hash_maps (Flat256, labelled
// Striped256) and libcuckoo's cuckoohash_map (Cuckoo). Keys are int64 for Go's
// benchmarks (Go uses int) and 10k strings for W4. Time = per op per thread
// (UseRealTime), threads 1, 2, 4.
//
// Go's benchmarks (each perG body as in map_bench_test.go):
//   LoadMostlyHits        1023 stored keys, 1 missing; loads cycle over all
//   LoadMostlyMisses      1 stored, 1023 missing
//   LoadOrStoreBalanced   128 stored; half the keys hit, half insert new ones
//   LoadOrStoreUnique     every op inserts a new key
//   LoadOrStoreCollision  one key; every op loads it
//   LoadAndDeleteBalanced 128 stored; half the ops delete a stored key, half
//                         miss
//   LoadAndDeleteUnique   every op deletes a key that is not there
//   Range                 1024 keys; each op is one full range
//   AdversarialAlloc      stores of new keys interleaved with loads
//   AdversarialDelete     loads with a delete + re-store every 128 ops
//   DeleteCollision       one key; every op deletes it
//   SwapCollision         one key; every op swaps it
//   CompareAndSwapCollision one key; every op CASes it from 0 to 42 or back
// W4/<read%>: 10k string keys, uniform, reads and upserts at 99/1 and 70/30,
// int64 values (inline in ReadMostlyMap); W4Boxed: the same at 99/1 with
// short string values (boxed).

#include <cstdint>
#include <string>
#include <vector>

#include "bench/shard/map_peers.h"
#include "benchmark/benchmark.h"
#include "shard/read_mostly_map.h"

namespace contend::bench {
namespace {

// One map per benchmark run, built by thread 0 before the timed loop (the
// loop's start is a barrier for every thread).
template <class M>
M* g_map = nullptr;

template <class M, class Setup, class Body>
void run(benchmark::State& state, Setup setup, Body body) {
  if (state.thread_index() == 0) {
    g_map<M> = new M;
    setup(*g_map<M>);
  }
  int64_t i = static_cast<int64_t>(state.thread_index()) << 40;
  for (auto _ : state) {
    body(*g_map<M>, i++);
  }
  if (state.thread_index() == 0) {
    delete g_map<M>;
    g_map<M> = nullptr;
  }
}

// Go's benchLoadMostly: `hits` stored keys, loads cycling over hits + misses.
template <template <class, class> class M>
void load_mostly(benchmark::State& state, int64_t hits, int64_t misses) {
  run<M<int64_t, int64_t>>(
      state,
      [&](auto& m) {
        for (int64_t j = 0; j < hits; ++j) m.store(j, j);
      },
      [&](auto& m, int64_t i) {
        benchmark::DoNotOptimize(m.load((i & 0xFFFFFFFF) % (hits + misses)));
      });
}

template <template <class, class> class M>
void BM_LoadMostlyHits(benchmark::State& state) {
  load_mostly<M>(state, 1023, 1);
}

template <template <class, class> class M>
void BM_LoadMostlyMisses(benchmark::State& state) {
  load_mostly<M>(state, 1, 1023);
}

template <template <class, class> class M>
void BM_LoadOrStoreBalanced(benchmark::State& state) {
  constexpr int64_t hits = 128;
  run<M<int64_t, int64_t>>(
      state,
      [](auto& m) {
        for (int64_t j = 0; j < hits; ++j) m.store(j, j);
      },
      [](auto& m, int64_t i) {
        // Even ops hit a stored key; odd ops insert a key of their own.
        const int64_t j = (i % 2 == 0) ? (i / 2) % hits : hits + i;
        benchmark::DoNotOptimize(m.load_or_store(j, i));
      });
}

template <template <class, class> class M>
void BM_LoadOrStoreUnique(benchmark::State& state) {
  run<M<int64_t, int64_t>>(
      state, [](auto&) {},
      [](auto& m, int64_t i) {
        benchmark::DoNotOptimize(m.load_or_store(i, i));
      });
}

template <template <class, class> class M>
void BM_LoadOrStoreCollision(benchmark::State& state) {
  run<M<int64_t, int64_t>>(
      state, [](auto& m) { m.store(0, 0); },
      [](auto& m, int64_t) {
        benchmark::DoNotOptimize(m.load_or_store(0, 0));
      });
}

template <template <class, class> class M>
void BM_LoadAndDeleteBalanced(benchmark::State& state) {
  constexpr int64_t hits = 128;
  run<M<int64_t, int64_t>>(
      state,
      [](auto& m) {
        for (int64_t j = 0; j < hits; ++j) m.store(j, j);
      },
      [](auto& m, int64_t i) {
        const int64_t j = (i % 2 == 0) ? (i / 2) % hits : hits + i;
        benchmark::DoNotOptimize(m.load_and_delete(j));
      });
}

template <template <class, class> class M>
void BM_LoadAndDeleteUnique(benchmark::State& state) {
  run<M<int64_t, int64_t>>(
      state, [](auto&) {},
      [](auto& m, int64_t i) {
        benchmark::DoNotOptimize(m.load_and_delete(i));
      });
}

template <template <class, class> class M>
void BM_Range(benchmark::State& state) {
  constexpr int64_t n = 1 << 10;
  run<M<int64_t, int64_t>>(
      state,
      [](auto& m) {
        for (int64_t j = 0; j < n; ++j) m.store(j, j);
      },
      [](auto& m, int64_t) {
        int64_t sum = 0;
        m.range([&](const int64_t&, const int64_t& v) {
          sum += v;
          return true;
        });
        benchmark::DoNotOptimize(sum);
      });
}

template <template <class, class> class M>
void BM_AdversarialAlloc(benchmark::State& state) {
  // Go: a store of a new key every `loadsSinceStore` loads, which doubles.
  run<M<int64_t, int64_t>>(
      state, [](auto&) {},
      [](auto& m, int64_t i) {
        thread_local int64_t stores = 0, loads = 0;
        if (++loads >= stores) {
          loads = 0;
          m.store(i, i);
          ++stores;
        } else {
          benchmark::DoNotOptimize(m.load(i));
        }
      });
}

template <template <class, class> class M>
void BM_AdversarialDelete(benchmark::State& state) {
  constexpr int64_t size = 1 << 10;
  run<M<int64_t, int64_t>>(
      state,
      [](auto& m) {
        for (int64_t j = 0; j < size; ++j) m.store(j, j);
      },
      [](auto& m, int64_t i) {
        const int64_t j = (i & 0xFFFFFFFF) % size;
        if (i % 128 == 0) {
          m.erase(j);
          m.store(j, i);
        } else {
          benchmark::DoNotOptimize(m.load(j));
        }
      });
}

template <template <class, class> class M>
void BM_DeleteCollision(benchmark::State& state) {
  run<M<int64_t, int64_t>>(
      state, [](auto& m) { m.load_or_store(0, 0); },
      [](auto& m, int64_t) { m.erase(0); });
}

template <template <class, class> class M>
void BM_SwapCollision(benchmark::State& state) {
  run<M<int64_t, int64_t>>(
      state, [](auto& m) { m.load_or_store(0, 0); },
      [](auto& m, int64_t i) { m.swap(0, i); });
}

template <template <class, class> class M>
void BM_CompareAndSwapCollision(benchmark::State& state) {
  run<M<int64_t, int64_t>>(
      state, [](auto& m) { m.load_or_store(0, 0); },
      [](auto& m, int64_t) {
        if (!m.compare_and_swap(0, 0, 42)) {
          benchmark::DoNotOptimize(m.compare_and_swap(0, 42, 0));
        }
      });
}

// W4: 10k string keys, uniform; `read_pct` of ops load, the rest upsert.
std::vector<std::string> w4_keys() {
  std::vector<std::string> keys;
  keys.reserve(10000);
  for (int i = 0; i < 10000; ++i) keys.push_back("user:" + std::to_string(i));
  return keys;
}
const std::vector<std::string>& keys10k() {
  static const auto* k = new std::vector<std::string>(w4_keys());
  return *k;
}

// The W4 loop over 10k string keys with values value_of(op index).
template <class Map, class ValueOf>
void w4(benchmark::State& state, ValueOf value_of) {
  const auto read_pct = static_cast<uint64_t>(state.range(0));
  const auto& keys = keys10k();
  run<Map>(
      state,
      [&](auto& m) {
        for (size_t j = 0; j < keys.size(); ++j) {
          m.store(keys[j], value_of(static_cast<int64_t>(j)));
        }
      },
      [&](auto& m, int64_t i) {
        // xorshift on the op index: uniform keys, a fixed read share.
        uint64_t x = static_cast<uint64_t>(i) * 0x9E3779B97F4A7C15ULL;
        x ^= x >> 29;
        const std::string& k = keys[x % keys.size()];
        if ((x >> 32) % 100 < read_pct) {
          benchmark::DoNotOptimize(m.load(k));
        } else {
          m.store(k, value_of(i));
        }
      });
}

template <template <class, class> class M>
void BM_W4(benchmark::State& state) {
  w4<M<std::string, int64_t>>(state, [](int64_t i) { return i; });
}

// W4Boxed: W4 with std::string values ("v<n>", short enough for the
// small-string buffer), which ReadMostlyMap keeps boxed (kInlineValues is
// false): its load then also reads a Cell and a value node.
template <template <class, class> class M>
void BM_W4Boxed(benchmark::State& state) {
  static_assert(
      !contend::ReadMostlyMap<std::string, std::string>::kInlineValues);
  w4<M<std::string, std::string>>(
      state, [](int64_t i) { return "v" + std::to_string(i % 1000000); });
}

#define CONTEND_MAP_BENCH(fn)                               \
  BENCHMARK_TEMPLATE(fn, Rmm)                               \
      ->Name(std::string(#fn).substr(3) + "/ReadMostlyMap") \
      ->Threads(1)                                          \
      ->Threads(2)                                          \
      ->Threads(4)                                          \
      ->UseRealTime();                                      \
  BENCHMARK_TEMPLATE(fn, RWLocked)                          \
      ->Name(std::string(#fn).substr(3) + "/RWLocked")      \
      ->Threads(1)                                          \
      ->Threads(2)                                          \
      ->Threads(4)                                          \
      ->UseRealTime();                                      \
  BENCHMARK_TEMPLATE(fn, Tbb)                               \
      ->Name(std::string(#fn).substr(3) + "/Tbb")           \
      ->Threads(1)                                          \
      ->Threads(2)                                          \
      ->Threads(4)                                          \
      ->UseRealTime()

CONTEND_MAP_BENCH(BM_LoadMostlyHits);
CONTEND_MAP_BENCH(BM_LoadMostlyMisses);
CONTEND_MAP_BENCH(BM_LoadOrStoreBalanced);
CONTEND_MAP_BENCH(BM_LoadOrStoreUnique);
CONTEND_MAP_BENCH(BM_LoadOrStoreCollision);
CONTEND_MAP_BENCH(BM_LoadAndDeleteBalanced);
CONTEND_MAP_BENCH(BM_LoadAndDeleteUnique);
CONTEND_MAP_BENCH(BM_Range);
CONTEND_MAP_BENCH(BM_AdversarialAlloc);
CONTEND_MAP_BENCH(BM_AdversarialDelete);
CONTEND_MAP_BENCH(BM_DeleteCollision);
CONTEND_MAP_BENCH(BM_SwapCollision);
CONTEND_MAP_BENCH(BM_CompareAndSwapCollision);

#define CONTEND_W4(M)                                             \
  BENCHMARK_TEMPLATE(BM_W4, M)                                    \
      ->Name(std::string("W4/") + M<std::string, int64_t>::kName) \
      ->ArgName("read_pct")                                       \
      ->Arg(99)                                                   \
      ->Arg(70)                                                   \
      ->Threads(1)                                                \
      ->Threads(2)                                                \
      ->Threads(4)                                                \
      ->UseRealTime()

CONTEND_W4(Rmm);
CONTEND_W4(RWLocked);
CONTEND_W4(Tbb);
CONTEND_W4(Flat256);
CONTEND_W4(Cuckoo);

#define CONTEND_W4_BOXED(M)                                            \
  BENCHMARK_TEMPLATE(BM_W4Boxed, M)                                    \
      ->Name(std::string("W4Boxed/") + M<std::string, int64_t>::kName) \
      ->ArgName("read_pct")                                            \
      ->Arg(99)                                                        \
      ->Threads(1)                                                     \
      ->Threads(2)                                                     \
      ->UseRealTime()

CONTEND_W4_BOXED(Rmm);
CONTEND_W4_BOXED(RWLocked);
CONTEND_W4_BOXED(Flat256);

}  // namespace
}  // namespace contend::bench

BENCHMARK_MAIN();
