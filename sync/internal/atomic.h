// Copyright 2026 The contend Authors.
//
// internal::Atomic<T>: the atomic seam. Every atomic in sync/, shard/ and
// pool/ is declared through it, so that the deterministic-schedule explorer
// (tests/dsched, ARCHITECTURE.md "The atomic seam") can put a scheduling
// point in front of every atomic operation.
//
// In every normal build Atomic<T> *is* std::atomic<T> (an alias, checked
// below): same size, same layout, same generated code, nothing to pay.
// (On aarch64 an RMW compiles to a call to libgcc's outline-atomics helper,
// LSE or LL/SC chosen at startup: tools/aarch64/BUILD.bazel says why.)
//
// In a dsched variant (targets named `*_dsched`, compiled with
// CONTEND_DSCHED=1; see tools/dsched.bzl) Atomic<T> is a thin wrapper with the
// subset of std::atomic's interface contend uses. Each operation first calls
// dsched::switch_point(), where the explorer may run another thread, then
// performs the real std::atomic operation with the memory order it was given.
// Memory orders are therefore kept, but the explorer runs one thread at a
// time on a strongly ordered machine: it explores interleavings, not weak
// memory reorderings (TSan and the aarch64 build cover what they can).

#ifndef CONTEND_SYNC_INTERNAL_ATOMIC_H_
#define CONTEND_SYNC_INTERNAL_ATOMIC_H_

#include <atomic>
#include <type_traits>

#if defined(CONTEND_DSCHED)
#include "sync/internal/dsched_hooks.h"
#endif

namespace contend::internal {

#if !defined(CONTEND_DSCHED)

template <class T>
using Atomic = std::atomic<T>;

// The seam is free: the alias is the standard type itself.
static_assert(std::is_same_v<Atomic<unsigned>, std::atomic<unsigned>>);

// The underlying std::atomic (for the futex, which needs the word's address).
template <class T>
constexpr std::atomic<T>& raw_atomic(Atomic<T>& a) noexcept {
  return a;
}
template <class T>
constexpr const std::atomic<T>& raw_atomic(const Atomic<T>& a) noexcept {
  return a;
}

#else  // CONTEND_DSCHED

template <class T>
class Atomic {
 public:
  static constexpr bool is_always_lock_free =
      std::atomic<T>::is_always_lock_free;

  constexpr Atomic() noexcept = default;
  constexpr Atomic(T v) noexcept : v_(v) {}  // NOLINT: mirrors std::atomic
  Atomic(const Atomic&) = delete;
  Atomic& operator=(const Atomic&) = delete;

  T load(std::memory_order mo) const noexcept {
    dsched::switch_point(this);
    return v_.load(mo);
  }
  void store(T v, std::memory_order mo) noexcept {
    dsched::switch_point(this);
    v_.store(v, mo);
  }
  T exchange(T v, std::memory_order mo) noexcept {
    dsched::switch_point(this);
    return v_.exchange(v, mo);
  }
  bool compare_exchange_weak(T& expected, T desired, std::memory_order success,
                             std::memory_order failure) noexcept {
    dsched::switch_point(this);
    // Never fails spuriously here: a spurious failure is one more iteration
    // of the caller's loop, which a schedule cannot otherwise distinguish.
    return v_.compare_exchange_strong(expected, desired, success, failure);
  }
  bool compare_exchange_strong(T& expected, T desired,
                               std::memory_order success,
                               std::memory_order failure) noexcept {
    dsched::switch_point(this);
    return v_.compare_exchange_strong(expected, desired, success, failure);
  }
  T fetch_add(T v,
              std::memory_order mo) noexcept requires std::is_integral_v<T> {
    dsched::switch_point(this);
    return v_.fetch_add(v, mo);
  }
  T fetch_sub(T v,
              std::memory_order mo) noexcept requires std::is_integral_v<T> {
    dsched::switch_point(this);
    return v_.fetch_sub(v, mo);
  }
  T fetch_and(T v,
              std::memory_order mo) noexcept requires std::is_integral_v<T> {
    dsched::switch_point(this);
    return v_.fetch_and(v, mo);
  }
  T fetch_or(T v,
             std::memory_order mo) noexcept requires std::is_integral_v<T> {
    dsched::switch_point(this);
    return v_.fetch_or(v, mo);
  }
  T fetch_xor(T v,
              std::memory_order mo) noexcept requires std::is_integral_v<T> {
    dsched::switch_point(this);
    return v_.fetch_xor(v, mo);
  }

  std::atomic<T>& raw() noexcept { return v_; }
  const std::atomic<T>& raw() const noexcept { return v_; }

 private:
  std::atomic<T> v_{};
};

// Same size and alignment as the type it stands for, so layouts (and the
// sizeof static_asserts of every primitive) are those of the normal build.
static_assert(sizeof(Atomic<unsigned>) == sizeof(std::atomic<unsigned>));
static_assert(alignof(Atomic<unsigned>) == alignof(std::atomic<unsigned>));

template <class T>
std::atomic<T>& raw_atomic(Atomic<T>& a) noexcept {
  return a.raw();
}
template <class T>
const std::atomic<T>& raw_atomic(const Atomic<T>& a) noexcept {
  return a.raw();
}

#endif  // CONTEND_DSCHED

}  // namespace contend::internal

#endif  // CONTEND_SYNC_INTERNAL_ATOMIC_H_
