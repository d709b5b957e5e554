// Copyright 2026 The contend Authors.
//
// Lab workloads for pool/ (pool/buffer_pool.h, pool/pool.h,
// pool/resource_pool.h) and the allocator they are compared with.
//
// The lock-shaped Workload is reused without new fields: for these
// primitives `keys` is a size, not a key space (0 picks the default), and
// every operation is exclusive (has_shared_mode = false).
//  - Allocation shape (buffer_pool, pool, malloc): one op gets a buffer of
//    `keys` bytes (default 1024, clamped to [1, 64 MiB]), writes every byte,
//    runs critical_ns of work with it and gives it back; outside_ns between
//    ops sets the allocation rate. "Pool vs allocator by size x rate" is a
//    sweep over keys x outside_ns (the article's "< 64 B or < 1K/s is noise").
//  - Resource shape (resource_pool): a ResourcePool<int> of max_open = `keys`
//    (default 4, clamped to [1, 1024]), filled before the run; one op
//    acquires (the sampled latency is the acquire wait), holds the resource
//    for critical_ns ("the query") and releases it. Sizing = a sweep over keys
//    at a fixed thread count: where the wait stops falling. verify() checks
//    that no more than max_open were ever held at once.

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "bench/lab/harness.h"
#include "bench/lab/registry.h"
#include "bench/lab/workload.h"
#include "pool/buffer_pool.h"
#include "pool/pool.h"
#include "pool/resource_pool.h"

namespace contend::lab {
namespace {

size_t object_bytes(const Workload& w) {
  if (w.keys <= 0) return 1024;
  return static_cast<size_t>(std::min<int64_t>(w.keys, int64_t{64} << 20));
}

// The work an allocation-shaped op does with its buffer: write it all, then
// the critical work seeded from it.
uint64_t use(OpContext& ctx, std::byte* p, size_t n, uint64_t chain) {
  std::memset(p, static_cast<int>(chain & 0xff), n);
  return ctx.critical(chain ^ static_cast<uint64_t>(p[n - 1]));
}

struct BufferPoolState {
  explicit BufferPoolState(const Workload& w) : bytes(object_bytes(w)) {
    BufferPool::Options o;
    // Pool every size the sweep asks for (the default cap is 64 KiB).
    o.max_pooled =
        std::max<size_t>(BufferPool::kMinClass, std::bit_ceil(bytes));
    o.max_retained_bytes = std::max<size_t>(64 << 20, 4 * o.max_pooled);
    pool = std::make_unique<BufferPool>(o);
  }
  uint64_t op(OpContext& ctx, bool, uint64_t chain) {
    ctx.start_acquire();
    BufferPool::Buffer b = pool->get(bytes);
    ctx.acquired(false);
    return use(ctx, b.data(), bytes, chain);
  }
  bool verify(const Result&) const { return true; }
  size_t bytes;
  std::unique_ptr<BufferPool> pool;
};

struct PoolState {
  using Bytes = std::vector<std::byte>;
  explicit PoolState(const Workload& w) : bytes(object_bytes(w)) {
    Pool<Bytes>::Options o;
    const size_t n = bytes;
    o.factory = [n] { return std::make_unique<Bytes>(n); };
    pool = std::make_unique<Pool<Bytes>>(std::move(o));
  }
  uint64_t op(OpContext& ctx, bool, uint64_t chain) {
    ctx.start_acquire();
    auto h = pool->get();
    ctx.acquired(false);
    return use(ctx, h->data(), bytes, chain);
  }
  bool verify(const Result&) const { return true; }
  size_t bytes;
  std::unique_ptr<Pool<Bytes>> pool;
};

struct MallocState {
  explicit MallocState(const Workload& w) : bytes(object_bytes(w)) {}
  uint64_t op(OpContext& ctx, bool, uint64_t chain) {
    ctx.start_acquire();
    std::unique_ptr<std::byte[]> p(new std::byte[bytes]);
    ctx.acquired(false);
    return use(ctx, p.get(), bytes, chain);
  }
  bool verify(const Result&) const { return true; }
  size_t bytes;
};

struct ResourcePoolState {
  explicit ResourcePoolState(const Workload& w)
      : max_open(static_cast<int>(
            w.keys <= 0 ? 4 : std::min<int64_t>(w.keys, 1024))) {
    ResourcePool<int>::Options o;
    o.create = [n = std::make_shared<int>(0)](auto) -> absl::StatusOr<int> {
      return ++*n;  // one creator thread, or fill(): never concurrent
    };
    o.max_open = max_open;
    pool = std::make_unique<ResourcePool<int>>(std::move(o));
    (void)pool->fill(max_open);
  }
  uint64_t op(OpContext& ctx, bool, uint64_t chain) {
    ctx.start_acquire();
    auto lease = pool->acquire();
    ctx.acquired(false);
    if (!lease.ok()) {
      failed.fetch_add(1, std::memory_order_relaxed);
      return chain;
    }
    // Relaxed: counters read after the workers are joined.
    const int now = held.fetch_add(1, std::memory_order_relaxed) + 1;
    int seen = max_held.load(std::memory_order_relaxed);
    while (now > seen && !max_held.compare_exchange_weak(
                             seen, now, std::memory_order_relaxed)) {
    }
    chain = ctx.critical(chain ^ static_cast<uint64_t>(**lease));
    held.fetch_sub(1, std::memory_order_relaxed);
    return chain;
  }
  bool verify(const Result&) const {
    return failed.load(std::memory_order_relaxed) == 0 &&
           max_held.load(std::memory_order_relaxed) <= max_open;
  }
  int max_open;
  std::unique_ptr<ResourcePool<int>> pool;
  alignas(128) std::atomic<int> held{0};
  std::atomic<int> max_held{0};
  std::atomic<int64_t> failed{0};
};

template <class State>
Result run_sized(const Workload& w, const RunControl& ctl) {
  auto state = std::make_unique<State>(w);
  return run_workload(w, ctl, *state);
}

CONTEND_LAB_REGISTER(buffer_pool, "buffer_pool", "contend::BufferPool",
                     "one op = get a buffer of `keys` bytes (default 1 KiB) "
                     "from a BufferPool, write it, work critical_ns, give it "
                     "back; outside_ns sets the rate (the article's "
                     "sync.Pool 'saves vs noise' rule)",
                     false, &run_sized<BufferPoolState>);
CONTEND_LAB_REGISTER(pool, "pool", "contend::Pool<std::vector<std::byte>>",
                     "as buffer_pool, through a Pool<T> of `keys`-byte "
                     "vectors (Go's sync.Pool: per-CPU private slot + stacks)",
                     false, &run_sized<PoolState>);
CONTEND_LAB_REGISTER(malloc, "malloc", "new[] / delete[] (glibc)",
                     "as buffer_pool, allocating with new[] and freeing with "
                     "delete[] every op: the allocator pooling must beat",
                     false, &run_sized<MallocState>);
CONTEND_LAB_REGISTER(resource_pool, "resource_pool",
                     "contend::ResourcePool<int>",
                     "one op = acquire from a pool of max_open = `keys` "
                     "(default 4) resources, hold it critical_ns (the "
                     "query), release; latency = the acquire wait (pool "
                     "sizing: sweep keys at fixed threads)",
                     false, &run_sized<ResourcePoolState>);

}  // namespace
}  // namespace contend::lab
