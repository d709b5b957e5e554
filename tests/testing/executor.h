// Copyright 2026 The contend Authors.
//
// ErrGroup executors for tests. OneThreadExecutor runs the tasks one at a
// time, in submission order, on one worker thread: a task's status is
// recorded by the group before the next task starts, so "who finishes
// first" is decided by the order of go() calls, not by sleeps.

#ifndef CONTEND_TESTS_TESTING_EXECUTOR_H_
#define CONTEND_TESTS_TESTING_EXECUTOR_H_

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "absl/functional/any_invocable.h"
#include "sync/errgroup.h"

namespace contend::testing {

// One worker thread draining a FIFO queue. The destructor runs the tasks
// still queued, then joins the worker.
class OneThreadExecutor final : public ErrGroup::Executor {
 public:
  OneThreadExecutor();
  ~OneThreadExecutor();
  OneThreadExecutor(const OneThreadExecutor&) = delete;
  OneThreadExecutor& operator=(const OneThreadExecutor&) = delete;

  void execute(absl::AnyInvocable<void() &&> task) override;

  [[nodiscard]] std::thread::id worker_id() const { return worker_.get_id(); }
  // Tasks handed to execute() so far.
  [[nodiscard]] int submitted();
  // Tasks that have finished running. A group's wait() may return before
  // the worker counts its last task: poll this (wait_until), don't compare.
  [[nodiscard]] int finished();

 private:
  void run();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<absl::AnyInvocable<void() &&>> queue_;
  bool stopping_ = false;
  int submitted_ = 0;
  int finished_ = 0;
  std::thread worker_;
};

// Runs every task at once on the calling thread: go() is synchronous.
class InlineExecutor final : public ErrGroup::Executor {
 public:
  void execute(absl::AnyInvocable<void() &&> task) override {
    std::move(task)();
  }
};

}  // namespace contend::testing

#endif  // CONTEND_TESTS_TESTING_EXECUTOR_H_
