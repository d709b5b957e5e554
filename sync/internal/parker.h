// Copyright 2026 The contend Authors.
//
// Parker: a per-thread binary permit on a futex, the one way a contend thread
// sleeps (the ParkingLot parks waiters with it).

#ifndef CONTEND_SYNC_INTERNAL_PARKER_H_
#define CONTEND_SYNC_INTERNAL_PARKER_H_

#if !defined(__linux__)
#error "contend's platform layer supports Linux only (x86-64 and aarch64)"
#endif

#include <atomic>
#include <cstdint>

#include "sync/internal/atomic.h"
#include "sync/internal/clock.h"
#include "sync/internal/futex.h"

namespace contend::internal {

// A Parker holds a binary permit (like Rust's thread::park/unpark): park()
// consumes it, blocking until it is available; unpark() makes it available.
//
// State table of state_ (one 32-bit futex word):
//
//   value       name      meaning
//   0           EMPTY     no permit, nobody parked
//   1           NOTIFIED  permit available
//   UINT32_MAX  PARKED    owner is in park() without a permit (may be asleep)
//
//   transition                          by
//   EMPTY    -> PARKED    fetch_sub(1)  park(), no permit
//   NOTIFIED -> EMPTY     fetch_sub(1)  park(), consumes the permit at once
//   PARKED   -> NOTIFIED  exchange      unpark(), then futex_wake
//   EMPTY    -> NOTIFIED  exchange      unpark() before park(): not lost
//   NOTIFIED -> NOTIFIED  exchange      unpark() again: binary, idempotent
//   NOTIFIED -> EMPTY     CAS           park() after a wakeup, consumes
//   PARKED   -> EMPTY     exchange      park() on timeout (if still PARKED)
//
// INV-OWNER: only one thread (the owner) calls park(); so PARKED is set and
//   cleared only by the owner, and unpark() never sees two sleepers.
//
// Contract:
//  - Requires: one owner thread calls park() (checked, see Misuse); any
//    thread may call unpark(). The Parker outlives every park() call; it may
//    be destroyed while an unpark() is still inside futex_wake (see unpark()).
//  - Guarantees: park() returns true only after consuming a permit; it
//    absorbs spurious futex wakeups and signals; an unpark() that happens
//    before park() is not lost.
// Thread safety: park() by the owner concurrently with unpark() from any
// number of threads.
// Memory ordering: everything before an unpark() happens-before the return of
// the park() that consumes its permit (release exchange in unpark() pairs with
// the acquire RMW in park()). A park() that returns false gives no ordering.
// Misuse: two threads in park() at once on one Parker is detected when the
//   second arrives (it finds PARKED) and terminates with
//   "contend: Parker::park: called concurrently by two threads"; always
//   checked (one compare on a value the RMW already produced).
// Cost: sizeof(Parker) == 4. park() with a permit: one RMW, no syscall.
//   unpark(): one exchange, plus one futex_wake syscall only if the owner was
//   PARKED. park() without a permit: futex_wait syscall(s); no spinning (the
//   callers spin with Backoff before parking). Measured on AMD EPYC (Zen 3,
//   KVM): unpark()+park() with the permit 6.5 ns; a two-thread ping-pong
//   round trip 19.5 us, i.e. ~10 us per sleep-to-wake handoff
//   (//bench/sync/internal:parker_benchmark, bench/sync/internal/RESULTS.md).
//
// Example:
//   Parker& me = this_thread_parker();
//   std::thread t([&] { me.unpark(); });
//   me.park();  // returns true once t's unpark() ran (or had run)
//   t.join();
class Parker {
 public:
  constexpr Parker() noexcept = default;
  Parker(const Parker&) = delete;
  Parker& operator=(const Parker&) = delete;

  // Consumes the permit if present, else blocks until unpark() or the
  // deadline (absolute CLOCK_MONOTONIC ns, see clock.h). Returns true if a
  // permit was consumed, false on timeout. Spurious futex wakeups are absorbed
  // (never returns true without a permit). An unpark() before park() is not
  // lost.
  bool park(int64_t deadline_ns = kNoDeadline) noexcept;

  // Makes the permit available and wakes the parked owner. Idempotent.
  //
  // Lifetime: after the release exchange on state_ -- the store that can let
  // the owner return from park() and destroy this Parker or the stack frame
  // that points at it -- unpark() does not read or write any memory of this
  // object or its caller's data. It only passes the *address* &state_ to
  // futex_wake(), which the kernel hashes without dereferencing (private
  // futex). The ParkingLot may therefore unpark a waiter whose record lives on
  // the waiter's stack, provided it copied everything it needs out of the
  // record (including the Parker*) before calling unpark().
  void unpark() noexcept;

 private:
  static constexpr uint32_t kEmpty = 0;
  static constexpr uint32_t kNotified = 1;
  static constexpr uint32_t kParked = UINT32_MAX;  // kEmpty - 1, via fetch_sub
  static_assert(kEmpty - 1 == kParked && kNotified - 1 == kEmpty,
                "park() relies on fetch_sub(1) mapping EMPTY->PARKED and "
                "NOTIFIED->EMPTY");

  bool park_slow(uint32_t prev, int64_t deadline_ns) noexcept;

  Atomic<uint32_t> state_{kEmpty};
};

static_assert(sizeof(Parker) == 4);

// The calling thread's Parker (a thread_local, constant-initialized, so no
// guard or registration). Stays valid until the thread exits.
Parker& this_thread_parker() noexcept;

inline bool Parker::park(int64_t deadline_ns) noexcept {
  // Acquire: pairs with the release exchange in unpark() when this consumes a
  // NOTIFIED permit (NOTIFIED -> EMPTY).
  const uint32_t prev = state_.fetch_sub(1, std::memory_order_acquire);
  if (prev == kNotified) return true;
  return park_slow(prev, deadline_ns);
}

inline void Parker::unpark() noexcept {
  // Release: pairs with the acquire RMWs in park()/park_slow() that consume
  // this permit.
  if (state_.exchange(kNotified, std::memory_order_release) == kParked) {
    // From here on, *this may be gone (see the Lifetime note): only the
    // address travels to the kernel.
    futex_wake(&state_, 1);
  }
}

}  // namespace contend::internal

#endif  // CONTEND_SYNC_INTERNAL_PARKER_H_
