// Copyright 2026 The contend Authors.
//
// LazyRetry: lazy initialization that caches success forever and retries
// failure after a backoff -- the fix *sync — Senior* gives for "Once caching
// an error" (retryable initialization uses a guard with a generation counter
// and backoff, not Once). One name per concept, so it is named after its
// header (not RetryableOnce).

#ifndef CONTEND_SYNC_LAZY_RETRY_H_
#define CONTEND_SYNC_LAZY_RETRY_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <limits>
#include <optional>
#include <stop_token>
#include <type_traits>
#include <utility>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "sync/internal/atomic.h"
#include "sync/internal/clock.h"
#include "sync/internal/parking_lot.h"
#include "sync/internal/prng.h"
#include "sync/mutex.h"

namespace contend {

// Backoff between failed attempts of a LazyRetry: exponential with jitter.
//
// After the k-th consecutive failure (k >= 1) the next attempt may start no
// earlier than
//   d_k = min(max_backoff, initial_backoff * multiplier^(k-1)) * (1 - jitter *
//   u)
// after that failure, u uniform in [0, 1) from the failing thread's
// contend::internal PRNG. Jitter spreads the retries of many processes that
// failed together (a downstream rolling deploy) so they do
// not return in lockstep; with jitter in [0, 1] the delay stays in
// [(1 - jitter) * d, d], so max_backoff is a true upper bound.
//
// The power is computed in closed form (std::pow), so the cost does not grow
// with k, and the result saturates: a cap of nanoseconds::max() ("never
// retry") yields nanoseconds::max(), never an overflowed value. Out-of-range
// fields give a defined schedule rather than undefined behaviour: negative
// durations count as 0, jitter is clamped into [0, 1] (NaN counts as 0), and
// a NaN multiplier yields the cap. LazyRetry's constructor rejects a
// multiplier that is not finite and >= 1 (see LazyRetry, Misuse).
struct LazyRetryOptions {
  std::chrono::nanoseconds initial_backoff = std::chrono::milliseconds(100);
  std::chrono::nanoseconds max_backoff = std::chrono::seconds(30);
  double multiplier = 2.0;  // finite, >= 1 (checked by LazyRetry)
  double jitter = 0.2;      // in [0, 1]

  // d_k for failures = k and the uniform draw u (a pure function, so tests
  // and callers can see the schedule). Out of line (lazy_retry.cc).
  std::chrono::nanoseconds backoff(uint32_t failures, double u) const noexcept;
};

// A LazyRetry<T> holds a T created on first use by `init`, which may fail:
// success is cached forever, failure is retried after a backoff.
//
// Model: attempts numbered 1, 2, ... (the generation); at most one runs at a
// time. State, in one word with the generation of the latest attempt:
//
//   phase    | meaning                         | get() does
//   ---------+---------------------------------+--------------------------------
//   idle     | no attempt yet, or the last one | within the backoff window:
//   returns
//            | failed                          | the last failure; else starts
//            one
//   running  | attempt g is in flight          | waits for attempt g
//   done     | attempt g succeeded             | returns the value (fast path)
//
// Contract:
//  - Guarantees: init runs only inside an attempt, attempts never overlap,
//    and after the first success init never runs again (it is destroyed then,
//    releasing its captures). Concurrent get()s during an attempt wait for
//    that attempt instead of starting their own, and return its outcome (or,
//    if they woke late, a later attempt's). An attempt's outcome is a value,
//    a non-OK status, or an exception thrown by init.
//  - Failure: the failing attempt's callers get its status (or its exception,
//    rethrown). Until the backoff after it has passed, get() returns that same
//    failure at once, without calling init -- callers on a request path never
//    block on a known-bad dependency. The first get() after the window starts
//    the next attempt. Consecutive failures grow the window (LazyRetryOptions);
//    a success resets nothing, since it is final.
//  - Result::generation() is the attempt the result came from, so callers can
//    tell a fresh failure from a cached one, and logs can say "attempt 3".
//  - get(stop): a caller waiting for an in-flight attempt leaves when stop is
//    requested, with CancelledError; the attempt continues for the others. A
//    caller that runs the attempt itself cannot leave it.
//  - Requires: init does not call get() on the same LazyRetry (deadlock); the
//    LazyRetry outlives every get() and every Result's value reference; T's
//    move constructor is noexcept (static_assert: the value is moved into
//    place after init is destroyed, where a throw would strand the attempt
//    in the running phase).
// Thread safety: get() may run concurrently from any thread; a Result is a
// plain value owned by its caller.
// Memory ordering: the successful init (and T's construction) happens-before
// every get() that returns the value (release store of the done phase, acquire
// load in get()); a failed attempt's status/exception happens-before the
// get()s that return it (the internal Mutex).
// Misuse:
//  - Result::value() (or * / ->) on a non-OK Result: always checked,
//    terminates with "contend: LazyRetry::Result::value: result is not OK".
//  - options.multiplier not finite or below 1: always checked by the
//    constructor, terminates with "contend: LazyRetry::LazyRetry: multiplier
//    must be finite and >= 1 (got <value>)".
//  - Reentrant get() from init: deadlock, not checked.
// Cost: after success, get() is one acquire load, inline, plus building the
// Result (a pointer, an OK status, the generation). Before: a contend::Mutex
// critical section per get() (a few ns uncontended), a clock read when the
// last attempt failed (a failed attempt also computes its backoff in O(1)), and
// ParkingLot waits (WaitKind::kOnce) while an attempt runs.
// sizeof(LazyRetry<T>) == sizeof(std::optional<T>) + 120 on x86-64 for
// alignof(T) <= 8 (static_assert in the test).
//
// Example:
//   contend::LazyRetry<Client> client([] { return Client::dial("db:5432"); });
//   absl::Status handle(const Request& r) {
//     auto c = client.get();
//     if (!c.ok()) return c.status();  // cached failure until the backoff ends
//     return c->send(r);
//   }
namespace internal {
// Out of line (lazy_retry.cc): terminates on an invalid multiplier.
void lazy_retry_check_options(const LazyRetryOptions& options);
}  // namespace internal

template <class T>
class LazyRetry {
  static_assert(std::is_nothrow_move_constructible_v<T>,
                "LazyRetry<T> requires a noexcept move constructor: the value "
                "is moved into place after init is destroyed, and a throw "
                "there would leave the attempt running forever");

 public:
  using Init = absl::AnyInvocable<absl::StatusOr<T>()>;

  // The outcome of get(): the value (a reference to the cached T) or a
  // non-OK status, and the generation of the attempt it came from.
  class Result {
   public:
    bool ok() const noexcept { return value_ != nullptr; }
    const absl::Status& status() const noexcept { return status_; }
    // Requires ok() (checked).
    const T& value() const {
      if (ABSL_PREDICT_FALSE(value_ == nullptr)) bad_value_access(status_);
      return *value_;
    }
    const T& operator*() const { return value(); }
    const T* operator->() const { return &value(); }
    // The attempt this result came from (1 = the first); 0 never appears.
    uint64_t generation() const noexcept { return generation_; }

   private:
    friend class LazyRetry;
    Result(const T* value, absl::Status status, uint64_t generation)
        : value_(value), status_(std::move(status)), generation_(generation) {}
    const T* value_;
    absl::Status status_;
    uint64_t generation_;
  };

  explicit LazyRetry(Init init, LazyRetryOptions options = {})
      : init_(std::move(init)), options_(options) {
    internal::lazy_retry_check_options(options_);
  }
  LazyRetry(const LazyRetry&) = delete;
  LazyRetry& operator=(const LazyRetry&) = delete;

  // Returns the value, creating it (or retrying) as described above. Rethrows
  // an exception thrown by init in the attempt whose outcome it returns.
  Result get() { return get_impl(nullptr); }
  Result get(std::stop_token stop) { return get_impl(&stop); }

  // Number of attempts started so far (a snapshot).
  uint64_t generation() const noexcept {
    // Relaxed: a diagnostic snapshot.
    return state_.load(std::memory_order_relaxed) >> kPhaseBits;
  }

 private:
  // State word layout (64 bits):
  //   bits 1..0   phase: kIdle, kRunning, kDone
  //   bits 63..2  generation: number of the latest attempt started
  // INV-LR-1: the word changes only under mu_ (get() reads it without).
  // INV-LR-2: value_ is written before the release store of kDone and never
  //   again; init_ is touched only by the thread that moved the word to
  //   kRunning, until it moves it out.
  static constexpr int kPhaseBits = 2;
  static constexpr uint64_t kPhaseMask = 3;
  static constexpr uint64_t kIdle = 0;
  static constexpr uint64_t kRunning = 1;
  static constexpr uint64_t kDone = 2;

  Result get_impl(const std::stop_token* stop) {
    // Acquire: pairs with the release store of kDone in run_attempt()
    // (INV-LR-2), so *value_ is fully constructed for us.
    const uint64_t s = state_.load(std::memory_order_acquire);
    if (ABSL_PREDICT_TRUE((s & kPhaseMask) == kDone)) {
      return Result(&*value_, absl::OkStatus(), s >> kPhaseBits);
    }
    return get_slow(stop);
  }

  // A failed attempt's outcome, copied out of the lock.
  struct Failure {
    absl::Status status;
    std::exception_ptr error;
    uint64_t generation;
  };

  Failure failure_locked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return Failure{last_status_, last_error_,
                   state_.load(std::memory_order_relaxed) >> kPhaseBits};
  }

  static Result from_failure(Failure f) {
    if (f.error) std::rethrow_exception(f.error);
    return Result(nullptr, std::move(f.status), f.generation);
  }

  ABSL_ATTRIBUTE_NOINLINE Result get_slow(const std::stop_token* stop) {
    for (;;) {
      uint64_t running_word = 0;
      std::optional<Failure> failure;
      {
        MutexLock lock(mu_);
        // Relaxed: INV-LR-1, the Mutex orders us after every change.
        const uint64_t s = state_.load(std::memory_order_relaxed);
        const uint64_t gen = s >> kPhaseBits;
        switch (s & kPhaseMask) {
          case kDone:
            return Result(&*value_, absl::OkStatus(), gen);
          case kRunning:
            running_word = s;
            break;
          default:  // kIdle
            if (gen > 0 && internal::monotonic_now_ns() < retry_at_ns_) {
              failure = failure_locked();  // still backing off
              break;
            }
            // Relaxed: INV-LR-1; waiters re-read it under the queue lock or
            // mu_.
            state_.store(((gen + 1) << kPhaseBits) | kRunning,
                         std::memory_order_relaxed);
            break;
        }
      }
      if (failure) return from_failure(std::move(*failure));
      if (running_word == 0) return run_attempt();

      // Wait for the in-flight attempt to leave the running phase.
      internal::ParkOptions options;
      options.stop = stop;
      options.kind = internal::WaitKind::kOnce;
      const internal::ParkResult r = internal::ParkingLot::park(
          &state_,
          [&] {
            // Relaxed: under the queue lock, which run_attempt's unpark_all
            // takes after changing the word.
            return state_.load(std::memory_order_relaxed) == running_word;
          },
          options);
      if (r.status == internal::ParkStatus::kCancelled) {
        return Result(nullptr,
                      absl::CancelledError(
                          "contend: LazyRetry::get: cancelled while waiting "
                          "for the in-flight attempt"),
                      running_word >> kPhaseBits);
      }
      // The attempt finished (or the wake was spurious). If it failed, its
      // callers get its failure even if the backoff is already over; if it
      // succeeded or is still running, the loop handles it.
      {
        MutexLock lock(mu_);
        const uint64_t s = state_.load(std::memory_order_relaxed);
        if ((s & kPhaseMask) == kIdle &&
            (s >> kPhaseBits) >= (running_word >> kPhaseBits)) {
          failure = failure_locked();
        }
      }
      if (failure) return from_failure(std::move(*failure));
    }
  }

  // Runs the attempt this thread just started (the word is kRunning with its
  // generation, INV-LR-2).
  Result run_attempt() {
    std::optional<absl::StatusOr<T>> outcome;
    std::exception_ptr error;
    try {
      outcome.emplace(init_());
    } catch (...) {
      error = std::current_exception();
    }
    const bool success = error == nullptr && outcome->ok();
    if (success) init_ = nullptr;  // INV-LR-2: no attempt will run again
    uint64_t gen;
    {
      MutexLock lock(mu_);
      gen = state_.load(std::memory_order_relaxed) >> kPhaseBits;
      if (success) {
        value_.emplace(std::move(**outcome));
        // Release: pairs with the acquire load in get_impl().
        state_.store((gen << kPhaseBits) | kDone, std::memory_order_release);
      } else {
        // Saturates: a wrap to 0 would restart the schedule.
        if (failures_ != std::numeric_limits<uint32_t>::max()) ++failures_;
        const int64_t now = internal::monotonic_now_ns();
        const int64_t delay =
            options_.backoff(failures_, internal::thread_random_unit()).count();
        retry_at_ns_ = delay >= internal::kNoDeadline - now
                           ? internal::kNoDeadline
                           : now + delay;
        last_error_ = error;
        last_status_ = error ? absl::UnknownError("init threw an exception")
                             : outcome->status();
        // Relaxed: INV-LR-1; readers synchronize through mu_.
        state_.store((gen << kPhaseBits) | kIdle, std::memory_order_relaxed);
      }
    }
    // By address only: a caller that saw the new phase may already have
    // destroyed the LazyRetry.
    internal::ParkingLot::unpark_all(&state_);
    if (error) std::rethrow_exception(error);
    if (success) return Result(&*value_, absl::OkStatus(), gen);
    return Result(nullptr, outcome->status(), gen);
  }

  [[noreturn]] static void bad_value_access(const absl::Status& status);

  internal::Atomic<uint64_t> state_{kIdle};
  Mutex mu_;
  Init init_;
  const LazyRetryOptions options_;
  std::optional<T> value_;
  uint32_t failures_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t retry_at_ns_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status last_status_ ABSL_GUARDED_BY(mu_);
  std::exception_ptr last_error_ ABSL_GUARDED_BY(mu_);
};

namespace internal {
// Out of line (lazy_retry.cc): the misuse report for Result::value().
[[noreturn]] ABSL_ATTRIBUTE_NOINLINE ABSL_ATTRIBUTE_COLD void
lazy_retry_bad_value_access(const absl::Status& status);
}  // namespace internal

template <class T>
void LazyRetry<T>::bad_value_access(const absl::Status& status) {
  internal::lazy_retry_bad_value_access(status);
}

}  // namespace contend

#endif  // CONTEND_SYNC_LAZY_RETRY_H_
