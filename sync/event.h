// Copyright 2026 The contend Authors.
//
// contend::Event: a one-shot broadcast -- Go's close(ch), Python's
// threading.Event, absl::Notification.

#ifndef CONTEND_SYNC_EVENT_H_
#define CONTEND_SYNC_EVENT_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <stop_token>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "sync/internal/atomic.h"
#include "sync/internal/clock.h"

namespace contend {

// An Event lets any number of threads wait until one thread says "it
// happened"; once set it stays set.
//
// Model: one flag, `unset` or `set`. set() moves it to `set` (once; later
// calls do nothing) and releases every waiter; wait*() return at once when it
// is `set`. There is no reset: a new occasion needs a new Event.
//
// Contract:
//  - Guarantees: every wait*() that returns true observed the flag set; every
//    waiter parked when set() runs is woken by that set(); a waiter never
//    wakes spuriously (wait() returns only once the flag is set).
//  - wait_for/wait_until return false if the deadline passes first;
//    wait(std::stop_token) returns false if stop is requested first (a stop
//    already requested on entry returns false unless the Event is set). When
//    both happen, the result says whether the Event was set when the wait
//    ended.
//  - Lifetime: the Event may be destroyed as soon as every wait*() and
//    is_set() call has returned, even while the set() that released them is
//    still running: after its one atomic RMW, set() never touches the Event's
//    memory (the ParkingLot uses the address only as a key). This is the
//    "waiter owns the Event on its stack" pattern of absl::Notification.
// Thread safety: every member may be called concurrently from any threads.
// Memory ordering: everything a thread did before set() happens-before the
//   return of every wait*() that returns true and of every is_set() that
//   returns true (release RMW in set() pairs with the acquire load in
//   is_set()/wait*()). A false result gives no ordering. This is the Go memory
//   model's "the closing of a channel is synchronized before a receive that
//   returns because the channel is closed".
// Misuse: none possible beyond use after destruction (undefined).
// Cost: sizeof(Event) == 4 (static_assert in event.cc). is_set() and a wait on
//   a set Event: one acquire load. set() with no waiter: one RMW, no syscall.
//   A wait on an unset Event parks on the ParkingLot at once (no spinning: an
//   Event usually waits for something long, and set() wakes every waiter in
//   one ParkingLot call), reading the clock only for timed waits. Never
//   allocates.
//
// Example:
//   contend::Event ready;
//   int data = 0;
//   std::thread producer([&] { data = 42; ready.set(); });
//   ready.wait();
//   assert(data == 42);  // set() happens-before wait() returns
//   producer.join();
class Event {
 public:
  constexpr Event() noexcept = default;
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  // Sets the flag and wakes every waiter. Idempotent.
  void set() noexcept;

  // True once set() has run. One acquire load.
  [[nodiscard]] bool is_set() const noexcept;

  // Blocks until the flag is set.
  void wait() noexcept;

  // Blocks until the flag is set or `d` has passed; true if set.
  template <class Rep, class Period>
  bool wait_for(std::chrono::duration<Rep, Period> d) noexcept;

  // Blocks until the flag is set or `tp` is reached; true if set. Clocks other
  // than steady_clock are converted once, at the call (see
  // internal::to_monotonic_deadline).
  template <class Clock, class Duration>
  bool wait_until(std::chrono::time_point<Clock, Duration> tp) noexcept;

  // Blocks until the flag is set or stop is requested; true if set.
  bool wait(std::stop_token stop) noexcept;

 private:
  // State word. Bit layout:
  //
  //   bit  name     meaning
  //   0    kSet     set() has run (never cleared)
  //   1    kParked  threads may be parked on &state_; set only under the
  //                 ParkingLot queue lock (validate), cleared by the last
  //                 timed-out waiter; meaningless once kSet is set
  //
  //   value  state
  //   0      unset, nobody parked (fast path of set(): one RMW)
  //   2      unset, waiters parked (set() must unpark_all)
  //   1, 3   set (3: a set() found waiters and woke them)
  //
  // INV-ONE-WAKE: only the set() whose RMW moved kSet from 0 to 1 calls
  //   unpark_all, and after it no thread parks (validate sees kSet), so every
  //   parked waiter is woken exactly by that call.
  static constexpr uint32_t kSet = 1;
  static constexpr uint32_t kParked = 2;

  ABSL_ATTRIBUTE_NOINLINE void wake_all() noexcept;
  ABSL_ATTRIBUTE_NOINLINE bool wait_slow(int64_t deadline_ns,
                                         const std::stop_token* stop) noexcept;

  internal::Atomic<uint32_t> state_{0};
};

// Implementation details only below here.

inline void Event::set() noexcept {
  // Release: pairs with the acquire load in is_set()/wait*(), publishing
  // everything before set() to the threads that observe kSet.
  const uint32_t old = state_.fetch_or(kSet, std::memory_order_release);
  // INV-ONE-WAKE. No acquire needed to see the waiter's enqueue: a kParked
  // read here was written under the queue lock that wake_all() then takes.
  if (ABSL_PREDICT_FALSE(old == kParked)) wake_all();
}

inline bool Event::is_set() const noexcept {
  // Acquire: pairs with the release fetch_or in set().
  return (state_.load(std::memory_order_acquire) & kSet) != 0;
}

inline void Event::wait() noexcept {
  if (ABSL_PREDICT_TRUE(is_set())) return;
  wait_slow(internal::kNoDeadline, nullptr);
}

template <class Rep, class Period>
bool Event::wait_for(std::chrono::duration<Rep, Period> d) noexcept {
  if (ABSL_PREDICT_TRUE(is_set())) return true;
  return wait_slow(internal::deadline_after(d), nullptr);
}

template <class Clock, class Duration>
bool Event::wait_until(std::chrono::time_point<Clock, Duration> tp) noexcept {
  if (ABSL_PREDICT_TRUE(is_set())) return true;
  return wait_slow(internal::to_monotonic_deadline(tp), nullptr);
}

// By value like std::condition_variable_any (a shared handle).
// NOLINTNEXTLINE(performance-unnecessary-value-param)
inline bool Event::wait(std::stop_token stop) noexcept {
  if (ABSL_PREDICT_TRUE(is_set())) return true;
  return wait_slow(internal::kNoDeadline, &stop);
}

}  // namespace contend

#endif  // CONTEND_SYNC_EVENT_H_
