// Copyright 2026 The contend Authors.
//
// ErrGroup: run a group of fallible tasks, wait for all of them, get the first
// error, and optionally cancel the rest on that error
// (golang.org/x/sync/errgroup). *sync — Senior* section 8 and checklist items
// 17-18: the senior default for fan-out that can fail, with a bound on
// concurrency.

#ifndef CONTEND_SYNC_ERRGROUP_H_
#define CONTEND_SYNC_ERRGROUP_H_

#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <stop_token>
#include <type_traits>
#include <utility>

#include "absl/base/attributes.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "sync/internal/atomic.h"

namespace contend {

// An ErrGroup runs tasks that return absl::Status and collects the first
// failure.
//
// Model: a count of running tasks, an optional concurrency limit, the first
// failure (a non-OK status or an exception), and a std::stop_source.
//
// Contract:
//  - go(f) starts f (callable as f() or f(std::stop_token), returning
//    something convertible to absl::Status) on the group's executor. With a
//    limit set, go() first blocks until fewer than `limit` tasks run;
//    try_go(f) starts f only if that is possible at once (otherwise f is
//    left untouched). If copying/moving f into the task or the executor's
//    execute() throws, go()/try_go() rethrow and hold no slot for it: the
//    task never runs and wait() does not wait for it.
//  - wait() blocks until every started task has finished, then reports the
//    first failure: it rethrows the first failure's exception if that was an
//    exception, returns its status if it was a status, and returns OK
//    otherwise. "First" is the first task to finish with a failure; later
//    failures are dropped (they are usually consequences of the
//    cancellation).
//  - Cancellation: a group made by with_cancel() requests stop on its
//    stop_source on the first failure and, as in Go, when wait() returns;
//    with_cancel(parent) also requests it when `parent` is. Tasks observe it
//    through the std::stop_token they take as argument (or stop_token()).
//    A plain ErrGroup never requests stop; its tokens are stop_possible()
//    == false.
//  - Exception policy (TBB task_group's rule): an exception escaping a task
//    is captured, counts as a failure (so it cancels a with_cancel group),
//    and, if it is the first failure, wait() rethrows it
//    (std::rethrow_exception: the same object on every wait()).
//  - The group is reusable after wait(); the first failure stays recorded
//    (sticky, like Go's errOnce) and a requested stop stays requested.
//  - Destruction: the destructor requests stop (with_cancel groups) and then
//    waits for running tasks, discarding their results, so a group that goes
//    out of scope early -- an exception between go() and wait() -- never
//    leaves tasks touching a dead group. Call wait() to see failures.
//  - Requires: tasks must not call wait() on their own group (deadlock).
// Thread safety: go/try_go/wait/stop_token may run concurrently; set_limit
// must not race go/try_go (see Misuse).
// Memory ordering: everything a task did happens-before the return of the
// wait() that observes it finished (the task's finish is a release RMW, wait
// loads the count with acquire). go(f) happens-before f starts (the
// executor's hand-off; std::thread for the default executor).
// Misuse (always checked, terminating with a message):
//  - set_limit() while tasks are running: "contend: ErrGroup::set_limit:
//    called while tasks are running" (Go panics likewise; changing the bound
//    under running tasks would make "never more than limit" meaningless).
//  - set_limit(0): "contend: ErrGroup::set_limit: limit 0" -- every go()
//    would block forever. Negative means no limit (Go's convention).
// Cost: sizeof(ErrGroup) == 120 on x86-64 (static_assert in the test).
// go() and a task's finish are one CAS each on one word, plus the executor:
// the default executor creates one detached std::thread per task (tens of
// microseconds). Blocking in go() at the limit and in wait() parks in the
// ParkingLot (WaitKind::kErrGroup), without spinning. Numbers:
// bench/sync/RESULTS.md "Coordination"
// (//bench/sync:errgroup_benchmark, fan-out of 1,000 tasks at limit 8).
//
// Example:
//   absl::Status fetch_all(const std::vector<std::string>& urls,
//                          std::vector<std::string>& pages) {
//     auto g = contend::ErrGroup::with_cancel();
//     g.set_limit(8);
//     for (size_t i = 0; i < urls.size(); ++i) {
//       g.go([&, i](std::stop_token stop) { return fetch(urls[i], stop,
//       pages[i]); });
//     }
//     return g.wait();  // first error; the others saw stop requested
//   }
class ErrGroup {
 public:
  // Where tasks run: the seam for plugging in a thread pool.
  // execute() must run the task exactly once, on any thread, or throw
  // without running it (then go() undoes its bookkeeping and rethrows).
  // Running it inline on the calling thread is allowed but makes go()
  // synchronous. The executor must outlive every group that uses it.
  class Executor {
   public:
    virtual void execute(absl::AnyInvocable<void() &&> task) = 0;

   protected:
    ~Executor() = default;
  };

  // The default executor: one detached std::thread per task.
  static Executor& thread_per_task() noexcept;

  // A group without cancellation.
  ErrGroup() noexcept : ErrGroup(thread_per_task()) {}
  explicit ErrGroup(Executor& executor) noexcept;

  // A group whose stop_token is requested on the first failure and when
  // wait() returns (Go's errgroup.WithContext).
  static ErrGroup with_cancel(Executor& executor = thread_per_task()) {
    return ErrGroup(executor, nullptr);
  }
  // As above, and also requested when `parent` is.
  static ErrGroup with_cancel(std::stop_token parent,
                              Executor& executor = thread_per_task()) {
    return ErrGroup(executor, &parent);
  }

  ErrGroup(const ErrGroup&) = delete;
  ErrGroup& operator=(const ErrGroup&) = delete;
  ~ErrGroup();

  // Starts f as a task; blocks first while `limit` tasks are running. f is
  // copied or moved into the task before the wait for a slot; if that
  // throws, go() rethrows holding no slot.
  template <class F>
  void go(F&& f) {
    // Built before the slot is taken: a throwing copy/move of f must not
    // leave `running` counting a task that never exists.
    absl::AnyInvocable<void()&&> task = make_task(std::forward<F>(f));
    acquire_slot();
    launch(std::move(task));
  }

  // Starts f as a task if fewer than `limit` tasks are running; otherwise
  // returns false without copying or moving f. If copying/moving f into the
  // task throws, try_go() gives the slot back and rethrows.
  template <class F>
  [[nodiscard]] bool try_go(F&& f) {
    if (!try_acquire_slot()) return false;
    absl::AnyInvocable<void() &&> task;
    try {
      task = make_task(std::forward<F>(f));
    } catch (...) {
      finish_task();  // the task never existed; give its slot back
      throw;
    }
    launch(std::move(task));
    return true;
  }

  // Bounds the number of concurrently running tasks; negative: no bound
  // (the default). Requires: no task is running (checked), not concurrent
  // with go/try_go.
  void set_limit(int64_t limit);

  // Blocks until every started task has finished; returns the first failure
  // (see the class comment; rethrows a captured exception).
  [[nodiscard]] absl::Status wait();

  // The token the tasks receive.
  std::stop_token stop_token() const noexcept { return stop_.get_token(); }

 private:
  // State word layout (64 bits):
  //   bits 31..0  running: tasks started (slot taken) and not yet finished
  //   bit 32      kWaitBit: a thread is (about to be) parked in wait() on
  //               &state_
  //   bit 33      kLimitBit: a thread is (about to be) parked in go() on
  //               &limit_ (the second ParkingLot key)
  // INV-EG-1: every update of the word is an RMW, so the release sequence of
  //   each task's finish reaches wait()'s acquire.
  // INV-EG-2: kLimitBit is set in validate and cleared in the unpark_one
  //   callback only under &limit_'s queue lock; while it is set a thread is
  //   inside go(), so the group is alive.
  // INV-EG-3: a finishing task's last access to the group is the RMW that
  //   decrements `running` (also clearing kWaitBit when it makes zero);
  //   after it only ParkingLot calls by address follow, never a dereference.
  static constexpr uint64_t kRunningMask = 0xffff'ffffULL;
  static constexpr uint64_t kWaitBit = uint64_t{1} << 32;
  static constexpr uint64_t kLimitBit = uint64_t{1} << 33;

  enum Failure : uint32_t { kNone = 0, kStatus = 1, kException = 2 };

  struct Cancel {
    std::stop_source* source;
    void operator()() const noexcept { source->request_stop(); }
  };

  ErrGroup(Executor& executor, const std::stop_token* parent);

  template <class F>
  absl::AnyInvocable<void() &&> make_task(F&& f) {
    using Fn = std::decay_t<F>;
    constexpr bool kTakesToken = std::is_invocable_v<Fn&, std::stop_token>;
    static_assert(kTakesToken || std::is_invocable_v<Fn&>,
                  "ErrGroup task must be callable as f() or f(stop_token)");
    return [this, fn = std::optional<Fn>(std::forward<F>(f))]() mutable {
      try {
        absl::Status status;
        if constexpr (kTakesToken) {
          status = std::invoke(*fn, stop_.get_token());
        } else {
          status = std::invoke(*fn);
        }
        if (!status.ok()) record_status(std::move(status));
      } catch (...) {
        record_exception(std::current_exception());
      }
      fn.reset();     // captures die before the group can see us finish
      finish_task();  // INV-EG-3: last access to *this
    };
  }

  // Out of line (errgroup.cc).
  bool try_acquire_slot() noexcept;
  void acquire_slot();
  void launch(absl::AnyInvocable<void() &&> task);
  void finish_task() noexcept;
  void wait_idle() noexcept;
  void record_status(absl::Status status) noexcept;
  void record_exception(std::exception_ptr e) noexcept;
  bool claim_failure() noexcept;

  internal::Atomic<uint64_t> state_{0};
  internal::Atomic<int64_t> limit_{-1};  // also the key for go()'s waiters
  internal::Atomic<uint32_t> failure_{kNone};
  bool cancel_on_failure_ = false;
  Executor* executor_;
  // Written once by the task that claims failure_, before its finish
  // (release); read by wait() after its acquire (INV-EG-1).
  absl::Status status_;
  std::exception_ptr exception_;
  std::stop_source stop_;
  std::optional<std::stop_callback<Cancel>> parent_link_;
};

}  // namespace contend

#endif  // CONTEND_SYNC_ERRGROUP_H_
