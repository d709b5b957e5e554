// Copyright 2026 The contend Authors.
//
// WaitGroup: wait for a collection of tasks to finish (Go's sync.WaitGroup,
// with Go 1.25's WaitGroup.Go). *sync — Senior* section 8.

#ifndef CONTEND_SYNC_WAIT_GROUP_H_
#define CONTEND_SYNC_WAIT_GROUP_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <stop_token>
#include <thread>
#include <type_traits>
#include <utility>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "sync/internal/atomic.h"
#include "sync/internal/clock.h"

namespace contend {

// A WaitGroup waits for a collection of tasks to finish.
//
// Model: a counter of unfinished tasks and the set of threads blocked in a
// wait. add(n) adds n to the counter, done() subtracts one, and the wait
// family blocks until the counter is zero. Prefer go(f): it counts the task
// before its thread starts and marks it done when f returns, so the "Add
// inside the goroutine" race (Go's WaitGroup docs: "calls with a positive
// delta ... must happen before a Wait") cannot be written.
//
// Contract:
//  - Requires: add() with a positive delta that starts a new batch (counter
//    at zero) happens-before the wait() meant to cover it -- in practice, call
//    add()/go() on the thread that will wait, before waiting.
//  - Requires: the WaitGroup outlives every call on it, including the tasks
//    started by go() (each task's last access is its done()).
//  - Guarantees: wait() returns only when it has observed the counter at
//    zero; wait_for/wait_until/wait(stop_token) return true iff they did, false
//    on timeout or cancellation (checked before blocking, so a zero counter
//    wins over an already-requested stop).
//  - A WaitGroup is reusable: after every wait() of a batch has returned, a
//    new batch may start with add()/go().
//  - go(f) exception policy: a task that throws terminates the process with
//    "contend: WaitGroup::go: task threw: <what()>", like an unrecovered panic
//    in a goroutine. A WaitGroup has no channel for results and may have
//    zero or many waiters, so there is no one to rethrow to; swallowing the
//    exception would hide the failure. Tasks that can fail belong in an
//    ErrGroup (sync/errgroup.h), which captures and rethrows.
// Thread safety: all members may run concurrently, subject to the reuse rule.
// Memory ordering: everything a task did before its done() (for go(f): all of
// f) happens-before the return of every wait() that observes the counter at
// zero (done() is a release RMW; wait() loads the counter with acquire, and
// every update of the word is an RMW, so the release sequence holds).
// Misuse (always checked, terminating with a message):
//  - "contend: WaitGroup::add: negative counter" / "contend: WaitGroup::done:
//    negative counter": the counter went below zero (more done() than add()).
//  - "contend: WaitGroup::add: counter overflow": beyond INT32_MAX.
//  - "contend: WaitGroup::add: reused before previous wait() has returned":
//    a positive add() found the counter at zero while a thread that began
//    waiting before that zero (it saw a non-zero counter) was still inside
//    wait() -- the add races that wait (Go's "WaitGroup is reused before
//    previous Wait has returned" and "Add called concurrently with Wait").
//    Detected because each such waiter stays counted in the state word until
//    it leaves wait(). A wait() that finds the counter already zero returns
//    without registering, so its race with an add() is not detected (the
//    outcome is the same as if it had run first).
//  - Destroying a WaitGroup while a thread is in wait() or a go() task is
//    running: undefined (not checked).
// Cost: sizeof(WaitGroup) == 8 (one 64-bit word). add()/done() are one
// fetch_add plus a branch, inline; the done() that reaches zero with
// waiters also calls ParkingLot::unpark_all. wait() on a zero counter is one
// acquire load; otherwise waiters block in the ParkingLot (WaitKind::
// kWaitGroup) without spinning. go() spawns one detached std::thread per task
// (tens of microseconds of CPU; see the benchmark). Numbers:
// bench/sync/RESULTS.md "Coordination"
// (//bench/sync:wait_group_benchmark).
//
// Example:
//   contend::WaitGroup wg;
//   std::vector<int> results(inputs.size());
//   for (size_t i = 0; i < inputs.size(); ++i) {
//     wg.go([&, i] { results[i] = compute(inputs[i]); });
//   }
//   wg.wait();  // every results[i] is written and visible here
class WaitGroup {
 public:
  constexpr WaitGroup() noexcept = default;
  WaitGroup(const WaitGroup&) = delete;
  WaitGroup& operator=(const WaitGroup&) = delete;

  // Adds delta (possibly negative) to the counter. When the counter reaches
  // zero, every thread blocked in a wait is released.
  void add(int32_t delta) { update(delta, kMethodAdd); }

  // Subtracts one from the counter: add(-1).
  void done() { update(-1, kMethodDone); }

  // Blocks until the counter is zero.
  void wait() {
    // Acquire: pairs with the release fetch_add of every done() (release
    // sequence); see the class comment.
    if (ABSL_PREDICT_TRUE(counter(state_.load(std::memory_order_acquire)) ==
                          0)) {
      return;
    }
    (void)wait_slow(internal::kNoDeadline, nullptr);
  }

  // Blocks until the counter is zero (true) or the timeout passes (false).
  template <class Rep, class Period>
  [[nodiscard]] bool wait_for(std::chrono::duration<Rep, Period> timeout) {
    return wait_deadline(internal::deadline_after(timeout), nullptr);
  }
  template <class Clock, class Duration>
  [[nodiscard]] bool wait_until(
      std::chrono::time_point<Clock, Duration> deadline) {
    return wait_deadline(internal::to_monotonic_deadline(deadline), nullptr);
  }

  // Blocks until the counter is zero (true) or stop is requested (false).
  [[nodiscard]] bool wait(std::stop_token stop) {
    return wait_deadline(internal::kNoDeadline, &stop);
  }

  // Runs f() on a new thread as one task of the group: add(1) before the
  // thread starts, done() after f returns and f (with its captures) has been
  // destroyed. If the thread cannot be created, the add is undone and the
  // std::system_error propagates. If f throws, the process terminates (see
  // the class comment).
  template <class F>
  void go(F&& f) {
    static_assert(std::is_invocable_v<std::decay_t<F>>,
                  "WaitGroup::go needs a callable f()");
    add(1);
    try {
      std::thread([this, fn = std::optional<std::decay_t<F>>(
                             std::forward<F>(f))]() mutable noexcept {
        try {
          std::invoke(std::move(*fn));
        } catch (...) {
          task_threw();
        }
        fn.reset();  // captures die before done(): wait() may return
        done();      // last access to *this
      }).detach();
    } catch (...) {
      done();
      throw;
    }
  }

 private:
  // State word layout (64 bits):
  //   bits 63..32  counter, a two's-complement int32 (tasks not yet done)
  //   bits 31..0   waiters: threads inside wait_slow() that saw a non-zero
  //                counter and have not left yet
  // INV-WG-1: every update is an RMW on the whole word (fetch_add / CAS), so
  //   the release sequence of each done() extends to every later value.
  // INV-WG-2: a waiter registers only while counter != 0 and deregisters on
  //   its way out of wait(); so "counter == 0 && waiters != 0" means a wait
  //   released by that zero has not returned yet (the reuse misuse window).
  static constexpr int kCounterShift = 32;
  static constexpr uint64_t kWaiterMask = 0xffff'ffffULL;
  static constexpr int kMethodAdd = 0;
  static constexpr int kMethodDone = 1;

  static constexpr int32_t counter(uint64_t s) noexcept {
    return static_cast<int32_t>(static_cast<uint32_t>(s >> kCounterShift));
  }
  static constexpr uint32_t waiters(uint64_t s) noexcept {
    return static_cast<uint32_t>(s & kWaiterMask);
  }

  void update(int32_t delta, int method) {
    // Release: pairs with the acquire loads in wait()/wait_slow(); a done()
    // publishes the task's writes. For a positive delta nothing needs
    // publishing, but one order keeps the code branch-free.
    const uint64_t old = state_.fetch_add(
        static_cast<uint64_t>(static_cast<int64_t>(delta)) << kCounterShift,
        std::memory_order_release);
    const int64_t now = static_cast<int64_t>(counter(old)) + delta;
    if (ABSL_PREDICT_FALSE(waiters(old) != 0 || now < 0 || now > INT32_MAX)) {
      update_slow(old, delta, method);
    }
  }

  bool wait_deadline(int64_t deadline_ns, const std::stop_token* stop) {
    // Acquire: as in wait().
    if (counter(state_.load(std::memory_order_acquire)) == 0) return true;
    return wait_slow(deadline_ns, stop);
  }

  // Out of line (wait_group.cc).
  ABSL_ATTRIBUTE_NOINLINE ABSL_ATTRIBUTE_COLD void update_slow(uint64_t old,
                                                               int32_t delta,
                                                               int method);
  ABSL_ATTRIBUTE_NOINLINE bool wait_slow(int64_t deadline_ns,
                                         const std::stop_token* stop);
  [[noreturn]] ABSL_ATTRIBUTE_NOINLINE ABSL_ATTRIBUTE_COLD static void
  task_threw() noexcept;

  internal::Atomic<uint64_t> state_{0};
};

static_assert(sizeof(WaitGroup) == 8);

}  // namespace contend

#endif  // CONTEND_SYNC_WAIT_GROUP_H_
