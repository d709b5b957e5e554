// Copyright 2026 The contend Authors.
//
// WaitGroup slow paths: misuse checks, waking waiters, blocking.

#include "sync/wait_group.h"

#include <cstdio>
#include <cstdlib>
#include <exception>

#include "sync/internal/fatal.h"
#include "sync/internal/parking_lot.h"

namespace contend {
namespace {

[[noreturn]] void wait_group_misuse(const char* method, const char* what) {
  internal::fatal_format("contend: WaitGroup::%s: %s", method, what);
}

}  // namespace

void WaitGroup::update_slow(uint64_t old, int32_t delta, int method) {
  const char* name = method == kMethodDone ? "done" : "add";
  const int32_t before = counter(old);
  const int64_t now = static_cast<int64_t>(before) + delta;
  if (now < 0) {
    wait_group_misuse(name,
                      "negative counter (done() called more times than tasks "
                      "were added)");
  }
  if (now > INT32_MAX) wait_group_misuse(name, "counter overflow");
  if (delta > 0 && before == 0 && waiters(old) != 0) {
    // INV-WG-2: a wait() released by the previous zero is still inside.
    wait_group_misuse(
        name,
        "reused before previous wait() has returned (add() with a positive "
        "delta raced a wait() that saw the counter reach zero)");
  }
  if (delta < 0 && now == 0 && waiters(old) != 0) {
    // We made the zero: wake everyone. &state_ is only a key; this is safe
    // even if a waiter returns and destroys the WaitGroup meanwhile.
    internal::ParkingLot::unpark_all(&state_);
  }
}

bool WaitGroup::wait_slow(int64_t deadline_ns, const std::stop_token* stop) {
  // Register as a waiter, but only while the counter is non-zero
  // (INV-WG-2). Acquire on the load and on CAS failure: a zero we return on
  // must carry the done()s' writes (pairs with their release fetch_add).
  uint64_t s = state_.load(std::memory_order_acquire);
  do {
    if (counter(s) == 0) return true;
    // Acquire on success too only because GCC rejects a failure order
    // stronger than the success order; registering publishes nothing.
  } while (!state_.compare_exchange_weak(s, s + 1, std::memory_order_acquire,
                                         std::memory_order_acquire));

  internal::ParkOptions options;
  options.deadline_ns = deadline_ns;
  options.stop = stop;
  options.kind = internal::WaitKind::kWaitGroup;
  for (;;) {
    const internal::ParkResult r = internal::ParkingLot::park(
        &state_,
        [this] {
          // Relaxed: under the queue lock; the done() that makes the zero
          // does its fetch_add before unpark_all takes that lock.
          return counter(state_.load(std::memory_order_relaxed)) != 0;
        },
        options);
    if (r.status == internal::ParkStatus::kTimedOut ||
        r.status == internal::ParkStatus::kCancelled) {
      break;
    }
    // Unparked or the counter was zero at validation. An unpark that finds
    // the counter non-zero is spurious (another object once lived at this
    // address): INV-WG-2 rules out a new batch while we are registered, as
    // that add() terminates. Park again.
    if (counter(state_.load(std::memory_order_relaxed)) == 0) break;
  }
  // Deregister. Acquire: pairs with the release fetch_add of every done()
  // (INV-WG-1), so a true return carries the tasks' writes.
  const uint64_t old = state_.fetch_sub(1, std::memory_order_acquire);
  return counter(old) == 0;
}

void WaitGroup::task_threw() noexcept {
  const char* what = "an exception not derived from std::exception";
  try {
    throw;
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
  }
  internal::fatal_format("contend: WaitGroup::go: task threw: %s", what);
}

}  // namespace contend
