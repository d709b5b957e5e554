// Copyright 2026 The contend Authors.
//
// futex_wait / futex_wake: the only place contend asks the kernel to put a
// thread to sleep or wake one. Process-private futexes on a 32-bit atomic word.

#ifndef CONTEND_SYNC_INTERNAL_FUTEX_H_
#define CONTEND_SYNC_INTERNAL_FUTEX_H_

#if !defined(__linux__)
#error "contend's platform layer supports Linux only (x86-64 and aarch64)"
#endif

#include <atomic>
#include <cstdint>

#include "sync/internal/atomic.h"
#include "sync/internal/clock.h"

namespace contend::internal {

// The kernel reads and compares the word as a plain aligned uint32_t, so the
// atomic must be exactly that: no lock, no padding, same alignment.
static_assert(std::atomic<uint32_t>::is_always_lock_free);
static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t));
static_assert(alignof(std::atomic<uint32_t>) == alignof(uint32_t));

// Why futex_wait() returned. Only kTimedOut and kValueMismatch are facts about
// the word or the clock; kWoken and kInterrupted say nothing about the word.
enum class FutexResult : uint8_t {
  kWoken,          // woken by futex_wake() -- or spuriously; re-check the word
  kTimedOut,       // deadline_ns has passed (checked before and by the kernel)
  kInterrupted,    // a signal handler ran (EINTR); re-check and wait again
  kValueMismatch,  // *word != expected when the kernel looked (EAGAIN)
};

// Blocks the calling thread while *word == expected, until futex_wake() on the
// same word, a signal, or the deadline.
//
// Requires: deadline_ns is an absolute CLOCK_MONOTONIC time in ns (see
// monotonic_now_ns()) or kNoDeadline; `word` is in this process's memory.
// Guarantees:
//  - The compare and the sleep are atomic with respect to futex_wake(): a wake
//    issued after the waker changed the word cannot be missed.
//  - A deadline at or before now returns kTimedOut without a syscall (and
//    without looking at the word).
//  - The timeout is absolute (FUTEX_WAIT_BITSET|FUTEX_PRIVATE_FLAG, clock
//    CLOCK_MONOTONIC), so callers that retry after kInterrupted or a spurious
//    kWoken do not extend the total wait.
//  - kWoken may be spurious; callers always re-check the word.
// Memory ordering: none. The kernel's compare is not an acquire; callers
// establish happens-before through their own atomic loads of the word.
// Misuse: an errno other than EAGAIN/EINTR/ETIMEDOUT (EFAULT on an unmapped
// word, EINVAL on a misaligned one) terminates with
// "contend: futex_wait: ...".
// Cost: one syscall when it blocks or mismatches (~1 us round trip, more with
// a context switch), plus one monotonic_now_ns() when a deadline is given.
FutexResult futex_wait(const Atomic<uint32_t>* word, uint32_t expected,
                       int64_t deadline_ns) noexcept;

// Wakes up to `count` threads blocked in futex_wait() on `word` and returns how
// many it woke (0 when none waits).
//
// Requires: count >= 1 (use INT32_MAX for "all").
// Guarantees: never dereferences `word`: the kernel hashes the address only
// (private futex), so `word` may already be freed or unmapped -- at worst the
// call wakes an unrelated waiter on reused memory, which futex users must
// tolerate as a spurious wakeup anyway. This is what makes
// "store to the word, then wake" safe when the woken thread may free the word
// as soon as it sees the store.
// Cost: one syscall (~0.3-1 us) whether or not anyone waits; callers keep a
// "has waiters" bit to skip it.
int futex_wake(const Atomic<uint32_t>* word, int count) noexcept;

}  // namespace contend::internal

#endif  // CONTEND_SYNC_INTERNAL_FUTEX_H_
