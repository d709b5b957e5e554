// Copyright 2026 The contend Authors.
//
// Deterministic-schedule scenarios for contend::ErrGroup (tests/dsched).
// Tasks run on scenario threads through an executor with one slot per task.

#include <memory>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "sync/errgroup.h"
#include "sync/event.h"
#include "sync/internal/atomic.h"
#include "tests/dsched/dsched.h"

namespace contend {
namespace {

using dsched::Env;
using internal::Atomic;

// execute() fills the next slot and sets its Event; worker i runs slot i.
class SlotExecutor : public ErrGroup::Executor {
 public:
  explicit SlotExecutor(int n) : slots_(static_cast<size_t>(n)) {
    for (auto& s : slots_) s = std::make_unique<Slot>();
  }
  void execute(absl::AnyInvocable<void() &&> task) override {
    const int i = next_.fetch_add(1, std::memory_order_relaxed);
    DSCHED_CHECK(i < static_cast<int>(slots_.size()));
    slots_[static_cast<size_t>(i)]->task = std::move(task);
    slots_[static_cast<size_t>(i)]->ready.set();  // publishes the task
  }
  void run_slot(int i) {
    Slot& s = *slots_[static_cast<size_t>(i)];
    s.ready.wait();
    std::move(s.task)();
  }

 private:
  struct Slot {
    Event ready;
    absl::AnyInvocable<void() &&> task;
  };
  std::vector<std::unique_ptr<Slot>> slots_;
  Atomic<int> next_{0};
};

struct Group {
  SlotExecutor exec{2};
  ErrGroup g{exec};
  Atomic<int> running{0};
  Atomic<int> ran{0};
};

// With limit 1 the second go() waits for the first task; wait() returns the
// first failure after both tasks finished.
DSCHED_SCENARIO("errgroup_limit_and_first_error", [](Env& env) {
  auto s = std::make_shared<Group>();
  s->g.set_limit(1);
  env.spawn([s] {
    auto task = [s](absl::Status result) {
      return [s, result] {
        DSCHED_CHECK(s->running.fetch_add(1, std::memory_order_relaxed) == 0);
        s->ran.fetch_add(1, std::memory_order_relaxed);
        s->running.fetch_sub(1, std::memory_order_relaxed);
        return result;
      };
    };
    s->g.go(task(absl::UnavailableError("first")));
    s->g.go(task(absl::OkStatus()));
    const absl::Status st = s->g.wait();
    DSCHED_CHECK(s->ran.load(std::memory_order_relaxed) == 2);
    DSCHED_CHECK(absl::IsUnavailable(st));
  });
  for (int w = 0; w < 2; ++w) env.spawn([s, w] { s->exec.run_slot(w); });
  env.run();
});

// Two tasks fail concurrently: wait() reports exactly one of them, and only
// after both have finished.
DSCHED_SCENARIO("errgroup_concurrent_failures", [](Env& env) {
  auto s = std::make_shared<Group>();
  env.spawn([s] {
    s->g.go([s] {
      s->ran.fetch_add(1, std::memory_order_relaxed);
      return absl::InternalError("a");
    });
    s->g.go([s] {
      s->ran.fetch_add(1, std::memory_order_relaxed);
      return absl::InternalError("b");
    });
    const absl::Status st = s->g.wait();
    DSCHED_CHECK(s->ran.load(std::memory_order_relaxed) == 2);
    DSCHED_CHECK(st.message() == "a" || st.message() == "b");
  });
  for (int w = 0; w < 2; ++w) env.spawn([s, w] { s->exec.run_slot(w); });
  env.run();
});

}  // namespace
}  // namespace contend
