// Copyright 2026 The contend Authors.
//
// Semaphore slow paths: queueing in FIFO order, granting on release, giving
// back tokens that raced a cancellation, misuse reports.

#include "sync/semaphore.h"

#include <cinttypes>
#include <cstdio>
#include <cstdlib>

#include "sync/internal/fatal.h"
#include "sync/internal/parking_lot.h"

namespace contend {
namespace {

// Unpark token of a granted waiter: the releaser moved its n tokens out of
// `available` on its behalf. Any other token is a spurious wake.
constexpr uintptr_t kGrantToken = 0x5e3a;

}  // namespace

bool Semaphore::acquire_slow(int64_t n, int64_t deadline_ns,
                             const std::stop_token* stop) {
  if (n == 0) return true;
  internal::ParkOptions options;
  options.deadline_ns = deadline_ns;
  options.stop = stop;
  options.park_token = static_cast<uintptr_t>(n);
  options.kind = internal::WaitKind::kSemaphore;
  for (;;) {
    bool took = false;
    const internal::ParkResult r = internal::ParkingLot::park(
        &state_,
        [&] {
          // Under the queue lock: either take the tokens (nobody queued and
          // enough available) or queue up behind whoever is (INV-SEM-1).
          // Relaxed load: the CASes re-validate.
          uint64_t s = state_.load(std::memory_order_relaxed);
          for (;;) {
            if ((s & kWaitersBit) == 0 && available(s) >= n) {
              // Acquire: pairs with the release CAS in release() and in the
              // grant callback.
              if (state_.compare_exchange_weak(s, s - static_cast<uint64_t>(n),
                                               std::memory_order_acquire,
                                               std::memory_order_relaxed)) {
                took = true;
                return false;
              }
              continue;
            }
            if ((s & kWaitersBit) != 0) return true;
            // Relaxed: the bit publishes nothing. A release() CAS ordered
            // after this one fails on the bit and returns its tokens under
            // this queue lock (INV-SEM-2); one ordered before it shows up in
            // the word we read.
            if (state_.compare_exchange_weak(s, s | kWaitersBit,
                                             std::memory_order_relaxed,
                                             std::memory_order_relaxed)) {
              return true;
            }
          }
        },
        [] {},
        [this](bool was_last) {
          // Under the queue lock, after our removal by deadline/cancel.
          // Relaxed RMW: clearing the bit publishes nothing, and as an RMW
          // it keeps the release sequence intact (INV-SEM-3).
          if (was_last) {
            state_.fetch_and(~kWaitersBit, std::memory_order_relaxed);
          }
        },
        options);
    switch (r.status) {
      case internal::ParkStatus::kInvalid:
        return took;  // validate() only declines to park after taking
      case internal::ParkStatus::kUnparked:
        if (r.token != kGrantToken) continue;  // spurious: queue again
        if (stop != nullptr && stop->stop_requested()) {
          // Cancelled and granted at about the same time: "false" must mean
          // "holds nothing", so hand the tokens on.
          release(n);
          return false;
        }
        return true;
      case internal::ParkStatus::kTimedOut:
      case internal::ParkStatus::kCancelled:
        // If we were the head, requests behind us may fit now.
        if ((state_.load(std::memory_order_relaxed) & kWaitersBit) != 0) {
          grant_waiters(0);
        }
        return false;
    }
  }
}

void Semaphore::grant_waiters(int64_t returned) noexcept {
  // Budget: the tokens available when the walk starts, read under the queue
  // lock, plus the ones we return. The filter runs only for a queued waiter,
  // so by INV-SEM-1 the bit is set and by INV-SEM-2 the word stays as read
  // until our callback.
  int64_t budget = -1;
  uint64_t granted = 0;
  internal::ParkingLot::unpark_filter(
      &state_,
      [&](uintptr_t park_token) {
        const auto want = static_cast<int64_t>(park_token);
        if (budget < 0) {
          // Relaxed: the CAS in the callback does the acquire.
          budget = available(state_.load(std::memory_order_relaxed)) + returned;
        }
        if (want > budget) {
          return internal::FilterOp::kStop;  // strict FIFO: no skipping
        }
        budget -= want;
        granted += static_cast<uint64_t>(want);
        return internal::FilterOp::kUnpark;
      },
      [&](const internal::UnparkResult& result) {
        // Under the queue lock. The object is alive: our tokens are not
        // released yet (or we are a waiter still inside its own acquire
        // call), INV-SEM-4. Relaxed load: the CAS re-validates. If the queue
        // emptied before we got the lock, the bit is clear already
        // (INV-SEM-1) and other threads may CAS meanwhile, hence the loop.
        uint64_t s = state_.load(std::memory_order_relaxed);
        for (;;) {
          // Over-release: checked here, where the count is exact. Dies
          // holding the queue lock, which no longer matters.
          if (available(s) + returned > capacity_) bad_release(returned);
          uint64_t next = s + static_cast<uint64_t>(returned) - granted;
          if (!result.have_more) next &= ~kWaitersBit;  // INV-SEM-1
          if (next == s) break;
          // The releasing RMW, and our last access to *this (INV-SEM-4).
          // Release: pairs with the acquire CAS of later takers (try_take,
          // validate). Acquire: pairs with the releases whose tokens we hand
          // over (the woken threads are then ordered after us by the
          // ParkingLot).
          if (state_.compare_exchange_weak(s, next, std::memory_order_acq_rel,
                                           std::memory_order_relaxed)) {
            break;
          }
        }
        return kGrantToken;
      });
}

void Semaphore::bad_request(int64_t n, Method method) const noexcept {
  static constexpr const char* kNames[] = {
      "acquire", "try_acquire", "try_acquire_for", "try_acquire_until"};
  if (n < 0) {
    internal::fatal_format("contend: Semaphore::%s: negative n (%" PRId64 ")",
                           kNames[method], n);
  }
  internal::fatal_format(
      "contend: Semaphore::%s: n exceeds capacity (n = %" PRId64
      ", capacity = %" PRId64 "); it could never be granted",
      kNames[method], n, capacity_);
}

void Semaphore::bad_release(int64_t n) const noexcept {
  if (n < 0) {
    internal::fatal_format(
        "contend: Semaphore::release: negative n (%" PRId64 ")", n);
  }
  internal::fatal_format(
      "contend: Semaphore::release: released more than held (n = %" PRId64
      ", capacity = %" PRId64 ")",
      n, capacity_);
}

void Semaphore::bad_capacity() noexcept {
  internal::fatal("contend: Semaphore::Semaphore: capacity outside [0, 2^61]");
}

}  // namespace contend
