// Copyright 2026 The contend Authors.

#include "sync/internal/futex.h"

#include <errno.h>
#include <linux/futex.h>
// SYS_futex, not a number: the syscall is 202 on x86-64 and 98 on aarch64
// (asm-generic/unistd.h, the table arm64 uses); <sys/syscall.h> picks the
// target's, so the same source is right for both. Both are 64-bit ABIs, so
// SYS_futex takes a 64-bit time_t and no futex_time64 variant is needed.
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "absl/base/attributes.h"
#include "sync/internal/atomic.h"
#include "sync/internal/fatal.h"

namespace contend::internal {
namespace {

[[noreturn]] void futex_fatal(const char* what, int err) noexcept {
  fatal_format("contend: %s: unexpected errno %d (%s)", what, err,
               std::strerror(err));
}

// The kernel never writes through the address for WAIT or WAKE; the cast only
// satisfies the syscall's prototype.
inline uint32_t* futex_addr(const Atomic<uint32_t>* word) noexcept {
  return reinterpret_cast<uint32_t*>(
      const_cast<std::atomic<uint32_t>*>(&raw_atomic(*word)));
}

}  // namespace

FutexResult futex_wait(const Atomic<uint32_t>* word, uint32_t expected,
                       int64_t deadline_ns) noexcept {
#if defined(CONTEND_DSCHED)
  if (const dsched::Hooks* h = dsched::hooks()) {
    return static_cast<FutexResult>(
        h->futex_wait(&raw_atomic(*word), expected, deadline_ns));
  }
#endif
  struct timespec abs_ts;
  struct timespec* timeout = nullptr;
  if (deadline_ns != kNoDeadline) {
    if (deadline_ns <= monotonic_now_ns()) return FutexResult::kTimedOut;
    abs_ts.tv_sec = static_cast<time_t>(deadline_ns / 1'000'000'000);
    abs_ts.tv_nsec = static_cast<long>(deadline_ns % 1'000'000'000);
    timeout = &abs_ts;
  }
  // FUTEX_WAIT_BITSET takes an absolute timeout on CLOCK_MONOTONIC (no
  // FUTEX_CLOCK_REALTIME); plain FUTEX_WAIT would take a relative one.
  const long rc = syscall(SYS_futex, futex_addr(word),
                          FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, expected,
                          timeout, nullptr, FUTEX_BITSET_MATCH_ANY);
  if (rc == 0) return FutexResult::kWoken;
  const int err = errno;
  switch (err) {
    case EAGAIN:
      return FutexResult::kValueMismatch;
    case EINTR:
      return FutexResult::kInterrupted;
    case ETIMEDOUT:
      return FutexResult::kTimedOut;
    default:
      futex_fatal("futex_wait", err);
  }
}

int futex_wake(const Atomic<uint32_t>* word, int count) noexcept {
#if defined(CONTEND_DSCHED)
  if (const dsched::Hooks* h = dsched::hooks()) {
    return h->futex_wake(&raw_atomic(*word), count);
  }
#endif
  // FUTEX_WAKE matches waiters of any bitset, FUTEX_WAIT_BITSET ones included.
  const long rc =
      syscall(SYS_futex, futex_addr(word), FUTEX_WAKE | FUTEX_PRIVATE_FLAG,
              count, nullptr, nullptr, 0);
  if (rc >= 0) return static_cast<int>(rc);
  const int err = errno;
  // EFAULT cannot happen for a private wake (the address is only hashed), and
  // EINVAL means a misaligned word or count < 0: a caller bug.
  futex_fatal("futex_wake", err);
}

}  // namespace contend::internal
