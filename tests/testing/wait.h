// Copyright 2026 The contend Authors.
//
// Bounded waits for tests: wait for a state, never for the clock, and fail
// with a message naming the state that never came.
//
//   ASSERT_TRUE(testing::wait_until([&] { return done.load(); },
//                                   "the worker set done"));
//   ASSERT_TRUE(testing::wait_until_parked(&mu, 2));

#ifndef CONTEND_TESTS_TESTING_WAIT_H_
#define CONTEND_TESTS_TESTING_WAIT_H_

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <thread>

#include "gtest/gtest.h"

namespace contend::testing {

// Slowdown of the build under test: sanitizers run 2-15x slower, and so does
// an emulated build (--config=aarch64 defines CONTEND_EMULATED: qemu-user's TCG
// translates every guest instruction, and its atomics are host CAS loops).
#if defined(CONTEND_EMULATED)
inline constexpr int kSanitizerSlowdown = 10;
#elif defined(__SANITIZE_THREAD__) || defined(CONTEND_TSAN)
inline constexpr int kSanitizerSlowdown = 10;
#elif defined(__SANITIZE_ADDRESS__) || defined(CONTEND_ASAN)
inline constexpr int kSanitizerSlowdown = 3;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
inline constexpr int kSanitizerSlowdown = 10;
#elif __has_feature(address_sanitizer)
inline constexpr int kSanitizerSlowdown = 3;
#else
inline constexpr int kSanitizerSlowdown = 1;
#endif
#else
inline constexpr int kSanitizerSlowdown = 1;
#endif

// How long a bounded wait waits for a state that a correct program reaches
// in microseconds: long enough for a loaded 2-core machine under TSan, short
// enough that a lost wakeup fails well inside Bazel's "small" timeout.
inline constexpr std::chrono::seconds kWaitTimeout{10};

namespace internal_wait {
// Sleeps a little longer each round: yield for the first ~100 rounds (the
// state is usually microseconds away), then sleep up to 1 ms.
void pause(int round);
}  // namespace internal_wait

// Polls pred() until it returns true or `timeout` passes. On timeout the
// result is a failure naming `what` ("never saw: <what> (after 10 s)").
template <class Pred>
[[nodiscard]] ::testing::AssertionResult wait_until(
    Pred&& pred, std::string_view what,
    std::chrono::nanoseconds timeout = kWaitTimeout) {
  const auto give_up = std::chrono::steady_clock::now() + timeout;
  for (int round = 0;; ++round) {
    if (pred()) return ::testing::AssertionSuccess();
    if (std::chrono::steady_clock::now() > give_up) {
      return ::testing::AssertionFailure()
             << "never saw: " << what << " (after "
             << std::chrono::duration<double>(timeout).count() << " s)";
    }
    internal_wait::pause(round);
  }
}

// Waits until exactly `n` threads are parked on ParkingLot key `key`
// (ParkingLot::waiter_count). The failure names the key and the last count.
[[nodiscard]] ::testing::AssertionResult wait_until_parked(
    const void* key, size_t n, std::chrono::nanoseconds timeout = kWaitTimeout);

// Threads parked on any key (byte address) inside [object, object + size):
// for primitives whose ParkingLot keys are private members.
[[nodiscard]] size_t parked_within(const void* object, size_t size);

template <class T>
[[nodiscard]] size_t parked_within(const T& object) {
  return parked_within(&object, sizeof(T));
}

// As wait_until_parked, for the keys inside `object` (parked_within).
template <class T>
[[nodiscard]] ::testing::AssertionResult wait_until_parked_within(
    const T& object, size_t n,
    std::chrono::nanoseconds timeout = kWaitTimeout) {
  return wait_until([&] { return parked_within(object) == n; },
                    std::to_string(n) + " thread(s) parked inside the object",
                    timeout);
}

// A timing bound that a loaded machine may miss through no fault of the code
// (Abseil's timeout tests do the same): runs attempt(i) for i = 0, 1, ... up to
// `attempts` times until it returns true; each attempt may widen its own
// bounds with i. Returns whether any attempt passed.
template <class Attempt>
[[nodiscard]] bool within_some_attempt(int attempts, Attempt&& attempt) {
  for (int i = 0; i < attempts; ++i) {
    if (attempt(i)) return true;
  }
  return false;
}

// Names a stage of the running test for the per-test watchdog: if the test
// is still running after its time limit, the watchdog's message includes the
// last stage set here ("joining the waiter"). `stage` must be a string
// literal (it is read from a signal handler).
void set_stage(const char* stage) noexcept;

}  // namespace contend::testing

#endif  // CONTEND_TESTS_TESTING_WAIT_H_
