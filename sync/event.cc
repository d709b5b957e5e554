// Copyright 2026 The contend Authors.

#include "sync/event.h"

#include <atomic>
#include <cstdint>
#include <stop_token>

#include "sync/internal/parking_lot.h"
#include "sync/internal/wait_observer.h"

namespace contend {

static_assert(sizeof(Event) == 4, "Event is one 32-bit state word");
static_assert(std::atomic<uint32_t>::is_always_lock_free);

using internal::ParkingLot;
using internal::ParkOptions;
using internal::ParkResult;
using internal::ParkStatus;

void Event::wake_all() noexcept {
  // Every thread that parked did so before set()'s RMW (validate() refuses to
  // park once kSet is visible, and validate runs under the queue lock this
  // call takes), so one unpark_all wakes them all (INV-ONE-WAKE). kParked is
  // left set: once kSet is set nobody reads it.
  ParkingLot::unpark_all(&state_);
}

bool Event::wait_slow(int64_t deadline_ns,
                      const std::stop_token* stop) noexcept {
  ParkOptions options;
  options.deadline_ns = deadline_ns;
  options.stop = stop;
  options.kind = internal::WaitKind::kEvent;
  for (;;) {
    const ParkResult result = ParkingLot::park(
        &state_,
        [this] {
          // Runs under the queue lock. Relaxed: the order that matters is the
          // modification order of state_ (set()'s fetch_or and this CAS are
          // RMWs of one word: either set() sees kParked and unparks us, or we
          // see kSet and do not park); data is published by the acquire load
          // in is_set() after park() returns.
          uint32_t s = state_.load(std::memory_order_relaxed);
          for (;;) {
            if ((s & kSet) != 0) return false;
            if ((s & kParked) != 0) return true;
            if (state_.compare_exchange_weak(s, s | kParked,
                                             std::memory_order_relaxed,
                                             std::memory_order_relaxed)) {
              return true;
            }
          }
        },
        [] {},
        [this](bool was_last) {
          // Under the queue lock: no other waiter remains, so the next set()
          // may take its fast path. Relaxed: only the RMW order matters (a
          // later validate() re-sets the bit under this same lock). Clearing
          // it after kSet was set is harmless (nobody reads it then).
          if (was_last) state_.fetch_and(~kParked, std::memory_order_relaxed);
        },
        options);
    // Acquire load inside is_set(): pairs with set()'s release.
    if (is_set()) return true;
    if (result.status == ParkStatus::kTimedOut ||
        result.status == ParkStatus::kCancelled) {
      return false;
    }
    // kInvalid/kUnparked without kSet cannot happen (only set() unparks us,
    // after setting kSet); loop defensively.
  }
}

}  // namespace contend
