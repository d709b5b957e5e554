// Copyright 2026 The contend Authors.
//
// Once slow path: claim the run, or park until the runner finishes.

#include "sync/once.h"

#include <cstdio>
#include <cstdlib>

#include "absl/base/attributes.h"
#include "sync/internal/fatal.h"
#include "sync/internal/parking_lot.h"
#include "sync/internal/thread_id.h"

namespace contend {
namespace {}  // namespace

bool Once::begin_run() {
  // Linux tids are positive ints, so tid << 1 fits in 32 bits and is >= 2
  // (INV-ONCE-1).
  const uint32_t me = internal::current_thread_id() << 1;
  // Acquire: pairs with the release exchange in finish_run(true).
  uint32_t s = state_.load(std::memory_order_acquire);
  for (;;) {
    if (s == kDone) return false;
    if (s == kNotDone) {
      // Acquire on success: pairs with the release in finish_run(false), so a
      // retrying runner sees whatever the failed run left behind (its f may
      // have partially initialized shared state). Failure: acquire, as the
      // reloaded value may be kDone.
      if (state_.compare_exchange_weak(s, me, std::memory_order_acquire,
                                       std::memory_order_acquire)) {
        return true;
      }
      continue;
    }
    // Running.
    if ((s & ~kWaitersBit) == me) {
      internal::fatal(
          "contend: Once::call: recursive call from inside f on the thread "
          "running it (would deadlock)");
    }
    if ((s & kWaitersBit) == 0) {
      // Acquire (both outcomes): a failure may reload kDone, whose run we
      // must see; on success it is merely harmless (GCC rejects a failure
      // order stronger than the success order). Announcing the waiter
      // publishes nothing: the queue lock orders it against finish_run's
      // unpark, and validate below re-reads the word.
      if (!state_.compare_exchange_weak(s, s | kWaitersBit,
                                        std::memory_order_acquire,
                                        std::memory_order_acquire)) {
        continue;
      }
      s |= kWaitersBit;
    }
    internal::ParkOptions options;
    options.kind = internal::WaitKind::kOnce;
    const uint32_t expected = s;
    internal::ParkingLot::park(
        &state_,
        [this, expected] {
          // Relaxed: runs under the queue lock; finish_run's exchange happens
          // before its unpark_all takes that lock, so a changed word is seen.
          return state_.load(std::memory_order_relaxed) == expected;
        },
        options);
    // Woken (or the word changed before we slept): re-examine. Acquire:
    // pairs with finish_run's release exchange.
    s = state_.load(std::memory_order_acquire);
  }
}

void Once::finish_run(bool done) noexcept {
  // Release: pairs with the acquire loads in call() and begin_run(); f's
  // writes become visible to every caller that observes kDone.
  const uint32_t old =
      state_.exchange(done ? kDone : kNotDone, std::memory_order_release);
  // INV-ONCE-2: we left the running state, so the wake is ours. unpark_all
  // uses &state_ only as a key (never dereferenced), so it is safe even if a
  // caller that saw kDone has already destroyed the Once.
  if ((old & kWaitersBit) != 0) internal::ParkingLot::unpark_all(&state_);
}

}  // namespace contend
