// Copyright 2026 The contend Authors.
//
// W6: get a zeroed 1 KiB buffer, touch it, give it back -- Pool<T> and
// BufferPool against glibc new/delete, tbb::scalable_malloc + memset and a
// thread-local free list (the lower bound: no sharing at all), T = 1, 2, 4.
// Go's sync.Pool runs from bench/pool/go (see bench/pool/run_w6.sh).
// Then the article's "noise" question: object size x allocation rate, where
// pooling stops paying against glibc.
//
//   bazel run -c opt //bench/pool:pool_benchmark --
//     --benchmark_repetitions=5 --benchmark_report_aggregates_only=true

#include <array>
#include <cstddef>
#include <cstring>
#include <memory>
#include <vector>

#include "benchmark/benchmark.h"
#include "oneapi/tbb/scalable_allocator.h"
#include "pool/buffer_pool.h"
#include "pool/pool.h"
#include "sync/internal/atomic.h"

namespace contend {
namespace {

constexpr size_t kSize = 1024;

void touch(std::byte* p, size_t n) {
  p[0] = std::byte{1};
  p[n - 1] = std::byte{2};
  benchmark::DoNotOptimize(p);
  benchmark::ClobberMemory();
}

void BM_W6_NewDelete(benchmark::State& state) {
  for (auto _ : state) {
    auto* p = new std::byte[kSize];
    std::memset(p, 0, kSize);
    touch(p, kSize);
    delete[] p;
  }
}
BENCHMARK(BM_W6_NewDelete)->Threads(1)->Threads(2)->Threads(4);

void BM_W6_TbbScalableMalloc(benchmark::State& state) {
  for (auto _ : state) {
    auto* p = static_cast<std::byte*>(scalable_malloc(kSize));
    std::memset(p, 0, kSize);
    touch(p, kSize);
    scalable_free(p);
  }
}
BENCHMARK(BM_W6_TbbScalableMalloc)->Threads(1)->Threads(2)->Threads(4);

void BM_W6_ThreadLocalFreeList(benchmark::State& state) {
  thread_local std::vector<std::byte*> free_list;
  for (auto _ : state) {
    std::byte* p;
    if (!free_list.empty()) {
      p = free_list.back();
      free_list.pop_back();
    } else {
      p = new std::byte[kSize];
    }
    std::memset(p, 0, kSize);
    touch(p, kSize);
    free_list.push_back(p);
  }
}
BENCHMARK(BM_W6_ThreadLocalFreeList)->Threads(1)->Threads(2)->Threads(4);

// The thread-local list again, but its one slot is an atomic that another
// thread could empty (what trim() and a pool's destructor need): get is an
// exchange, put a CAS, as on Pool's private-slot path, with no statistics and
// no sched_getcpu(). The gap between this and the plain list is the price of
// a slot that is reachable from other threads; the gap between this and Pool
// is Pool's own bookkeeping.
void BM_W6_ThreadLocalAtomicSlot(benchmark::State& state) {
  thread_local internal::Atomic<std::byte*> slot{nullptr};
  for (auto _ : state) {
    // Acq_rel/release: the pair Pool uses (the putter's writes are visible
    // to the next getter, possibly another thread).
    std::byte* p = slot.exchange(nullptr, std::memory_order_acq_rel);
    if (p == nullptr) p = new std::byte[kSize];
    std::memset(p, 0, kSize);
    touch(p, kSize);
    std::byte* expected = nullptr;
    if (!slot.compare_exchange_strong(expected, p, std::memory_order_release,
                                      std::memory_order_relaxed)) {
      delete[] p;
    }
  }
}
BENCHMARK(BM_W6_ThreadLocalAtomicSlot)->Threads(1)->Threads(2)->Threads(4);

using Block = std::array<std::byte, kSize>;

Pool<Block>& block_pool() {
  static Pool<Block>* const pool = [] {
    Pool<Block>::Options o;
    o.reset = [](Block& b) { std::memset(b.data(), 0, b.size()); };
    return new Pool<Block>(std::move(o));
  }();
  return *pool;
}

void BM_W6_Pool(benchmark::State& state) {
  Pool<Block>& pool = block_pool();
  for (auto _ : state) {
    auto h = pool.get();  // reset zeroes it
    touch(h->data(), kSize);
  }
}
BENCHMARK(BM_W6_Pool)->Threads(1)->Threads(2)->Threads(4);

BufferPool& buffer_pool() {
  static BufferPool* const pool = new BufferPool();
  return *pool;
}

void BM_W6_BufferPool(benchmark::State& state) {
  BufferPool& pool = buffer_pool();
  for (auto _ : state) {
    BufferPool::Buffer b = pool.get(kSize);
    std::memset(b.data(), 0, kSize);
    touch(b.data(), kSize);
  }
}
BENCHMARK(BM_W6_BufferPool)->Threads(1)->Threads(2)->Threads(4);

// Size x rate: each iteration gets a buffer of state.range(0) bytes, writes
// it, then does state.range(1) ns-ish of other work (a spin of that many
// loop steps), so the allocation rate falls as the work grows.
void spin(int64_t steps) {
  for (int64_t i = 0; i < steps; ++i) benchmark::DoNotOptimize(i);
}

void BM_Noise_Glibc(benchmark::State& state) {
  const auto n = static_cast<size_t>(state.range(0));
  for (auto _ : state) {
    auto* p = new std::byte[n];
    std::memset(p, 0, n);
    touch(p, n);
    delete[] p;
    spin(state.range(1));
  }
}

void BM_Noise_BufferPool(benchmark::State& state) {
  const auto n = static_cast<size_t>(state.range(0));
  BufferPool& pool = buffer_pool();
  for (auto _ : state) {
    BufferPool::Buffer b = pool.get(n);
    std::memset(b.data(), 0, n);
    touch(b.data(), n);
    spin(state.range(1));
  }
}

void noise_args(benchmark::internal::Benchmark* b) {
  for (int64_t size : {64, 1024, 16 * 1024, 64 * 1024}) {
    for (int64_t work : {0, 1000, 100000}) b->Args({size, work});
  }
}
BENCHMARK(BM_Noise_Glibc)->Apply(noise_args);
BENCHMARK(BM_Noise_BufferPool)->Apply(noise_args);

}  // namespace
}  // namespace contend

BENCHMARK_MAIN();
