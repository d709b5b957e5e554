// Copyright 2026 The contend Authors.

#include "sync/internal/parker.h"

#include <cstdio>
#include <cstdlib>

#include "absl/base/attributes.h"
#include "sync/internal/fatal.h"

namespace contend::internal {
namespace {}  // namespace

ABSL_ATTRIBUTE_NOINLINE bool Parker::park_slow(uint32_t prev,
                                               int64_t deadline_ns) noexcept {
  if (prev != kEmpty) {
    // prev == kParked: another thread is inside park() (INV-OWNER broken).
    // The fetch_sub already corrupted the word, so there is nothing to undo.
    fatal("contend: Parker::park: called concurrently by two threads");
  }
  // state_ is PARKED. By INV-OWNER only unpark() changes it now, and only to
  // NOTIFIED, so each check below sees either PARKED or NOTIFIED.
  for (;;) {
    const FutexResult r = futex_wait(&state_, kParked, deadline_ns);
    uint32_t expected = kNotified;
    // Acquire: pairs with the release exchange in unpark(). Failure is
    // relaxed: it only tells us the word is still PARKED, which carries no
    // data to order.
    if (state_.compare_exchange_strong(expected, kEmpty,
                                       std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
      return true;
    }
    if (r == FutexResult::kTimedOut) {
      // Acquire: pairs with the release exchange of an unpark() that landed
      // between the CAS above and here; then its permit is ours.
      return state_.exchange(kEmpty, std::memory_order_acquire) == kNotified;
    }
    // kWoken (spurious: the word is still PARKED), kInterrupted, or
    // kValueMismatch on a value that changed and changed back cannot happen
    // (only unpark writes, and only NOTIFIED), so this is a spurious wakeup:
    // wait again; the absolute deadline keeps the total wait bounded.
  }
}

Parker& this_thread_parker() noexcept {
  // constinit: a constant-initialized, trivially destructible thread_local
  // needs no TLS init guard and no atexit registration.
  static constinit thread_local Parker parker;
  return parker;
}

}  // namespace contend::internal
