// Copyright 2026 The contend Authors.
//
// Once, OnceFunc, OnceValue: run a function exactly once, lazily, with a
// happens-before edge from that run to every caller (Go's sync.Once and its
// Go 1.21 helpers).
//
// Once is for non-retryable initialization. If the initialization can fail
// and should be retried later (dialing a server, reading a file that may not
// exist yet), use contend::LazyRetry (sync/lazy_retry.h) instead: a Once that
// caches an error keeps returning it until the process restarts ("Once
// caching an error" in *sync — Senior*).

#ifndef CONTEND_SYNC_ONCE_H_
#define CONTEND_SYNC_ONCE_H_

#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <type_traits>
#include <utility>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "sync/internal/atomic.h"

namespace contend {

// A Once runs a function exactly once, the first time call() completes
// without throwing.
//
// Model: three states, held in one 32-bit word.
//
//   state      | meaning                                 | call() does
//   -----------+-----------------------------------------+------------------
//   kNotDone   | f never ran, or every run so far threw  | runs f
//   running(t) | thread t is running f (+ waiters bit)    | waits for t
//   kDone      | some f returned normally                | returns at once
//
// Contract:
//  - Guarantees: among all call() invocations on one Once, at most one f
//    returns normally, and runs never overlap. A call() returns normally only
//    after that one f has returned (possibly its own); a call() that finds
//    kDone does not invoke its argument.
//  - Exceptions (the std::call_once rule): if f throws, the exception
//    propagates to that caller and the Once stays kNotDone; one of the
//    threads waiting in call() (or the next caller) then runs its own f.
//    Go's Once instead treats a panicking f as done; OnceFunc/OnceValue below
//    keep Go's rule for callers that want the failure cached.
//  - Requires: the Once outlives every call(); it is not destroyed while a
//    call() is in progress.
// Thread safety: call() may run concurrently from any number of threads.
// Memory ordering: everything f did happens-before the return of every call()
// on the same Once (the release that publishes kDone pairs with the acquire
// load at the start of call()). A run that threw happens-before the run that
// retries, so the retry sees whatever the failed run left behind.
// Misuse:
//  - Calling call() on the same Once from inside f, on the thread running f,
//    would deadlock (in Go it does). Always checked, because the running
//    thread's id is in the state word: terminates with
//    "contend: Once::call: recursive call from inside f". A cycle through two
//    Onces on two threads is not detected (it deadlocks, like two mutexes).
// Cost: sizeof(Once) == 4. After completion call() is one acquire load and a
// compare, inlined (on x86-64 a plain mov + cmp); before, one CAS to claim the
// run and one exchange to publish it. Waiters block in the ParkingLot
// (WaitKind::kOnce) after no spinning: f is typically slow (I/O), so spinning
// would only burn the CPU the runner needs. Never allocates. Measured on the
// 2-vCPU AMD EPYC dev VM: 0.24 ns per completed call(), the same as a bare
// acquire load, vs 4.0 ns for std::call_once (bench/sync/RESULTS.md
// "Coordination", //bench/sync:once_benchmark).
//
// Example:
//   constinit contend::Once config_once;
//   Config* config = nullptr;
//   const Config& get_config() {
//     config_once.call([] { config = new Config(load_config()); });
//     return *config;
//   }
class Once {
 public:
  constexpr Once() noexcept = default;
  Once(const Once&) = delete;
  Once& operator=(const Once&) = delete;

  // Invokes std::invoke(f, args...) if no earlier call() has completed, then
  // returns; see the class comment for the exception rule.
  template <class F, class... Args>
  void call(F&& f, Args&&... args) {
    // Acquire: pairs with the release exchange in finish_run(), so f's writes
    // are visible to this caller once it sees kDone.
    if (ABSL_PREDICT_TRUE(state_.load(std::memory_order_acquire) == kDone)) {
      return;
    }
    call_slow(std::forward<F>(f), std::forward<Args>(args)...);
  }

 private:
  // State word layout (32 bits):
  //   0                  kNotDone
  //   1                  kDone
  //   (tid << 1) | w     running: tid = gettid() of the runner (>= 1, at most
  //                      2^22 on Linux, PID_MAX_LIMIT), w = kWaitersBit set
  //                      when a thread is (about to be) parked on the word.
  // INV-ONCE-1: a running value is >= 2, so it never equals kDone/kNotDone.
  // INV-ONCE-2: kWaitersBit is only set while running; the thread that leaves
  //   the running state (finish_run) owns waking everyone parked on the word.
  static constexpr uint32_t kNotDone = 0;
  static constexpr uint32_t kDone = 1;
  static constexpr uint32_t kWaitersBit = 1;

  // Out of line (once.cc). begin_run() returns true if the caller must run f
  // (the state is now running(caller)), false if the Once is done; it parks
  // while another thread runs f. finish_run(done) publishes kDone or
  // kNotDone and wakes the waiters.
  bool begin_run();
  void finish_run(bool done) noexcept;

  template <class F, class... Args>
  ABSL_ATTRIBUTE_NOINLINE void call_slow(F&& f, Args&&... args) {
    if (!begin_run()) return;
    try {
      std::invoke(std::forward<F>(f), std::forward<Args>(args)...);
    } catch (...) {
      finish_run(false);
      throw;
    }
    finish_run(true);
  }

  internal::Atomic<uint32_t> state_{kNotDone};
};

static_assert(sizeof(Once) <= 4, "issue 4: sizeof(Once) <= 4");

// OnceFunc wraps a void function so that it runs at most once, however often
// the wrapper is called (Go's sync.OnceFunc).
//
// Model: a Once plus the function and, after the run, the exception it threw
// (if any).
// Contract:
//  - Guarantees: the first call of operator() invokes f; every call returns
//    after f returned. The function object is destroyed right after its run,
//    so whatever it captured is released.
//  - Exceptions (Go's re-panic rule, not std::call_once's): if f throws, the
//    run still counts; that call and every later call rethrow the same
//    exception object (std::rethrow_exception of one std::exception_ptr, so
//    catch it by const reference when threads may catch it concurrently).
// Thread safety: operator() may run concurrently from any number of threads.
// Memory ordering: the run of f happens-before the return (or rethrow) of
// every operator() call.
// Misuse: like Once (calling the wrapper from inside f terminates with
// "contend: Once::call: recursive call from inside f"). Not copyable or
// movable; share it by reference (std::ref(wrapper) is a callable).
// Cost: after the run, one acquire load and one byte load, inline. The
// constructor is constexpr when F's move constructor is (a capture-less
// lambda), so a global can be constinit.
//
// Example:
//   contend::OnceFunc init_logging([] { install_log_sink(); });
//   void handle_request() {
//     init_logging();  // first caller installs the sink, others wait/skip
//   }
template <class F>
class OnceFunc {
 public:
  static_assert(std::is_invocable_v<F>, "OnceFunc needs a callable f()");

  constexpr explicit OnceFunc(F f) noexcept(
      std::is_nothrow_move_constructible_v<F>)
      : f_(std::move(f)) {}
  OnceFunc(const OnceFunc&) = delete;
  OnceFunc& operator=(const OnceFunc&) = delete;

  void operator()() const {
    once_.call([this] {
      try {
        std::invoke(std::move(*f_));
      } catch (...) {
        error_ = std::current_exception();
      }
      f_.reset();
    });
    // Plain reads: written inside the run, ordered before us by the Once.
    if (ABSL_PREDICT_FALSE(error_.has_value())) {
      std::rethrow_exception(*error_);
    }
  }

 private:
  mutable Once once_;
  mutable std::optional<F> f_;
  // std::optional keeps the constructor constexpr (std::exception_ptr's
  // default constructor is not).
  mutable std::optional<std::exception_ptr> error_;
};

template <class F>
OnceFunc(F) -> OnceFunc<F>;

// OnceValue computes a value once, on first use, and returns the cached value
// to every caller (Go's sync.OnceValue; for Go's OnceValues use a T such as
// std::pair or absl::StatusOr).
//
// Model: a Once, the function, and after the run either the value or the
// exception the function threw.
// Contract:
//  - Guarantees: the first operator() call invokes f; every call returns a
//    reference to the same T, valid for the OnceValue's lifetime. The
//    function object is destroyed right after its run.
//  - Exceptions (Go's re-panic rule): if f throws, the run still counts;
//    every operator() call rethrows the same exception object.
//  - Requires: T is not void (use OnceFunc) and not a reference.
// Thread safety: operator() may run concurrently from any number of threads.
// The returned reference is const; mutating the value needs the caller's own
// synchronization.
// Memory ordering: the run of f (including T's construction) happens-before
// the return of every operator() call.
// Misuse: as OnceFunc.
// Cost: after the run, one acquire load and one byte load, inline.
// `OnceValue v(lambda)` deduces both T and F and stores the lambda unboxed
// (constexpr, constinit-able); `OnceValue<T> v(callable)` names T and boxes
// the callable in a std::function<T()>.
//
// Example:
//   contend::OnceValue port([] { return parse_port(getenv("PORT")); });
//   int listen_port() { return port(); }
template <class T, class F = std::function<T()>>
class OnceValue {
 public:
  static_assert(!std::is_void_v<T>, "use OnceFunc for void functions");
  static_assert(!std::is_reference_v<T>, "OnceValue<T&> is not supported");
  static_assert(std::is_convertible_v<std::invoke_result_t<F>, T>,
                "f() must return something convertible to T");

  constexpr explicit OnceValue(F f) noexcept(
      std::is_nothrow_move_constructible_v<F>)
      : f_(std::move(f)) {}
  OnceValue(const OnceValue&) = delete;
  OnceValue& operator=(const OnceValue&) = delete;

  const T& operator()() const {
    once_.call([this] {
      try {
        value_.emplace(std::invoke(std::move(*f_)));
      } catch (...) {
        error_ = std::current_exception();
      }
      f_.reset();
    });
    // Plain reads: written inside the run, ordered before us by the Once.
    if (ABSL_PREDICT_FALSE(error_.has_value())) {
      std::rethrow_exception(*error_);
    }
    return *value_;
  }

 private:
  mutable Once once_;
  mutable std::optional<F> f_;
  mutable std::optional<T> value_;
  mutable std::optional<std::exception_ptr> error_;
};

template <class F>
OnceValue(F) -> OnceValue<std::invoke_result_t<F>, F>;

}  // namespace contend

#endif  // CONTEND_SYNC_ONCE_H_
