// Copyright 2026 The contend Authors.
//
// kCacheLineSize and CachePadded<T>: keep independently written hot words on
// separate cache lines so that one thread's stores do not invalidate another
// thread's line.

#ifndef CONTEND_SYNC_INTERNAL_CACHE_PADDED_H_
#define CONTEND_SYNC_INTERNAL_CACHE_PADDED_H_

#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

namespace contend::internal {

// The alignment that keeps two objects from sharing a line, i.e. from false
// sharing.
//
// - x86-64: lines are 64 bytes, but since Sandy Bridge the L2 "spatial
// prefetcher"
//   fetches lines in 128-byte aligned pairs (Intel 64 and IA-32 Optimization
//   Reference Manual, §2.5.5.4 / §3.7.3). Two hot words 64 bytes apart still
//   ping-pong their pair, so we pad to 128 — the value folly
//   (hardware_destructive_interference_size) and crossbeam (CachePadded) use on
//   x86-64.
// - aarch64: no single value. Arm's own cores (Cortex-A7x, Neoverse N1 in
//   AWS Graviton 2, Neoverse V1/V2) have 64-byte lines, where 64 would do;
//   Apple M-series cores have 128-byte lines (sysctl hw.cachelinesize = 128),
//   and some big.LITTLE big cores had 128-byte lines beside 64-byte little
//   ones. We pick 128, the value Go's runtime (internal/cpu's arm64
//   CacheLinePadSize, for Apple Silicon's 128-byte lines) and crossbeam
//   (CachePadded) use for arm64, so one binary avoids false sharing on all
//   of them; on a 64-byte part the cost is
//   memory (a padded slot is twice as big), not speed. GCC 12's
//   std::hardware_destructive_interference_size for aarch64 is 256 (its
//   generic tuning, measured with g++-aarch64-linux-gnu), which we do not use:
//   it is a tuning guess larger than any shipping line, and it varies with
//   -mtune, so it is no ABI constant.
// - Anything else: 64, the line size of every other mainstream core.
#if defined(__x86_64__) || defined(_M_X64) || defined(__aarch64__) || \
    defined(_M_ARM64) || defined(__powerpc64__)
inline constexpr std::size_t kCacheLineSize = 128;
#else
inline constexpr std::size_t kCacheLineSize = 64;
#endif

static_assert((kCacheLineSize & (kCacheLineSize - 1)) == 0,
              "kCacheLineSize must be a power of two");
static_assert(kCacheLineSize >= 64,
              "no supported target has lines below 64 bytes");

// CachePadded<T> holds one T aligned to, and padded out to a multiple of,
// kCacheLineSize. An array of CachePadded<T> puts each element on its own
// line(s).
//
// Guarantees: alignof(CachePadded<T>) == max(kCacheLineSize, alignof(T)) and
// sizeof(CachePadded<T>) is a multiple of kCacheLineSize.
// Thread safety: exactly that of T.
template <typename T>
struct alignas(kCacheLineSize) CachePadded {
  template <typename... Args>
  constexpr explicit CachePadded(Args&&... args)
      : value(std::forward<Args>(args)...) {}

  constexpr T& operator*() noexcept { return value; }
  constexpr const T& operator*() const noexcept { return value; }
  constexpr T* operator->() noexcept { return &value; }
  constexpr const T* operator->() const noexcept { return &value; }

  T value;
};

static_assert(sizeof(CachePadded<char>) == kCacheLineSize);
static_assert(alignof(CachePadded<char>) == kCacheLineSize);

}  // namespace contend::internal

#endif  // CONTEND_SYNC_INTERNAL_CACHE_PADDED_H_
