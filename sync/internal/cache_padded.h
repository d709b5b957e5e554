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
// - aarch64: Cortex-A/Neoverse cores use 64-byte lines, but Apple M-series and
// some
//   server parts (Cavium ThunderX2, Neoverse N2's L2 pair prefetch) use or
//   prefetch 128. We pick 128 so one binary is safe on all of them; the cost is
//   memory, not speed.
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
