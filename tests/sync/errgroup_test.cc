// Copyright 2026 The contend Authors.

#include "sync/errgroup.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "sync/internal/parking_lot.h"
#include "sync/internal/wait_observer.h"
#include "tests/testing/executor.h"
#include "tests/testing/wait.h"
#include "tests/testing/wait_counter.h"

namespace contend {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;
using testing::InlineExecutor;
using testing::OneThreadExecutor;

// Blocks until stop is requested (or 10 s pass, so a bug fails instead of
// hanging). Returns true if stop was seen.
bool wait_for_stop(const std::stop_token& stop) {
  const auto give_up = steady_clock::now() + std::chrono::seconds(10);
  while (!stop.stop_requested()) {
    if (steady_clock::now() > give_up) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return true;
}

// --- Header example, compiled --------------------------------------------

absl::Status fetch(const std::string& url, std::stop_token stop,
                   std::string& page) {
  if (url == "bad") return absl::UnavailableError("bad host");
  if (url == "slow") {
    return wait_for_stop(stop) ? absl::CancelledError("stopped")
                               : absl::OkStatus();
  }
  page = "<html>" + url;
  return absl::OkStatus();
}

absl::Status fetch_all(const std::vector<std::string>& urls,
                       std::vector<std::string>& pages) {
  auto g = contend::ErrGroup::with_cancel();
  g.set_limit(8);
  for (size_t i = 0; i < urls.size(); ++i) {
    g.go([&, i](std::stop_token stop) {
      return fetch(urls[i], stop, pages[i]);
    });
  }
  return g.wait();  // first error; the others saw stop requested
}

TEST(ErrGroupExample, FetchAll) {
  std::vector<std::string> urls{"a", "b", "c"};
  std::vector<std::string> pages(urls.size());
  EXPECT_TRUE(fetch_all(urls, pages).ok());
  EXPECT_EQ(pages[2], "<html>c");

  std::vector<std::string> bad{"a", "slow", "bad", "slow"};
  std::vector<std::string> bad_pages(bad.size());
  EXPECT_EQ(fetch_all(bad, bad_pages).code(), absl::StatusCode::kUnavailable);
}

// --- Basics --------------------------------------------------------------

#if defined(__x86_64__)
static_assert(sizeof(ErrGroup) == 120);  // the figure in the header
#endif

TEST(ErrGroup, AllOkPublishesTaskWrites) {
  ErrGroup g;
  std::vector<int> out(32, 0);  // plain writes, checked after wait (TSan)
  for (int i = 0; i < 32; ++i) {
    g.go([&out, i] {
      out[static_cast<size_t>(i)] = i * 2;
      return absl::OkStatus();
    });
  }
  EXPECT_TRUE(g.wait().ok());
  for (int i = 0; i < 32; ++i) EXPECT_EQ(out[static_cast<size_t>(i)], i * 2);
}

TEST(ErrGroup, WaitWithNoTasksIsOk) {
  ErrGroup g;
  EXPECT_TRUE(g.wait().ok());
}

// The one-thread executor runs the tasks in go() order, each to the end
// (its status recorded) before the next starts: "first" is decided by the
// order of the go() calls, not by a sleep.
TEST(ErrGroup, ReturnsTheFirstError) {
  OneThreadExecutor executor;
  ErrGroup g(executor);
  g.go([] { return absl::NotFoundError("first"); });
  g.go([] { return absl::InternalError("second"); });
  g.go([] { return absl::OkStatus(); });
  const absl::Status s = g.wait();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "first");
  EXPECT_EQ(executor.submitted(), 3);
}

TEST(ErrGroup, PlainGroupNeverRequestsStop) {
  ErrGroup g;
  std::atomic<int> possible{-1};
  g.go([&](std::stop_token stop) {
    possible = stop.stop_possible() ? 1 : 0;
    return absl::InternalError("x");
  });
  EXPECT_FALSE(g.wait().ok());
  EXPECT_EQ(possible.load(), 0);
  EXPECT_FALSE(g.stop_token().stop_requested());
}

// The first error requests stop, and every other task's token sees it.
TEST(ErrGroup, FirstErrorCancelsTheOtherTasks) {
  constexpr int kWaiters = 6;
  auto g = ErrGroup::with_cancel();
  std::atomic<int> saw_stop{0};
  std::atomic<int> started{0};
  for (int i = 0; i < kWaiters; ++i) {
    g.go([&](std::stop_token stop) {
      started++;
      if (wait_for_stop(stop)) saw_stop++;
      return absl::CancelledError("cancelled by the group");
    });
  }
  g.go([&] {
    EXPECT_TRUE(testing::wait_until([&] { return started.load() == kWaiters; },
                                    "started.load() == kWaiters"));
    return absl::DataLossError("root cause");
  });
  const absl::Status s = g.wait();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(saw_stop.load(), kWaiters);
  EXPECT_TRUE(g.stop_token().stop_requested());
}

TEST(ErrGroup, WaitRequestsStopEvenWithoutErrors) {
  auto g = ErrGroup::with_cancel();
  g.go([] { return absl::OkStatus(); });
  EXPECT_FALSE(g.stop_token().stop_requested());
  EXPECT_TRUE(g.wait().ok());
  EXPECT_TRUE(g.stop_token().stop_requested());  // Go: Wait cancels the ctx
}

TEST(ErrGroup, ParentStopReachesTheTasks) {
  std::stop_source parent;
  auto g = ErrGroup::with_cancel(parent.get_token());
  std::atomic<int> saw_stop{0};
  for (int i = 0; i < 3; ++i) {
    g.go([&](std::stop_token stop) {
      if (wait_for_stop(stop)) saw_stop++;
      return absl::OkStatus();
    });
  }
  parent.request_stop();
  EXPECT_TRUE(g.wait().ok());
  EXPECT_EQ(saw_stop.load(), 3);
}

// --- Exceptions ----------------------------------------------------------

TEST(ErrGroup, ExceptionIsRethrownByWaitAndCancelsTheGroup) {
  auto g = ErrGroup::with_cancel();
  std::atomic<int> saw_stop{0};
  for (int i = 0; i < 3; ++i) {
    g.go([&](std::stop_token stop) {
      if (wait_for_stop(stop)) saw_stop++;
      return absl::OkStatus();
    });
  }
  g.go([]() -> absl::Status { throw std::runtime_error("task exploded"); });
  try {
    (void)g.wait();
    ADD_FAILURE() << "wait() did not rethrow";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "task exploded");
  }
  EXPECT_EQ(saw_stop.load(), 3);
}

TEST(ErrGroup, FirstFailureWinsBetweenStatusAndException) {
  {
    OneThreadExecutor executor;
    ErrGroup g(executor);
    g.go([] { return absl::AbortedError("status first"); });
    g.go([]() -> absl::Status { throw std::runtime_error("later"); });
    EXPECT_EQ(g.wait().code(), absl::StatusCode::kAborted);
  }
  {
    OneThreadExecutor executor;
    ErrGroup g(executor);
    g.go([]() -> absl::Status { throw std::runtime_error("exception first"); });
    g.go([] { return absl::AbortedError("later"); });
    try {
      (void)g.wait();
      ADD_FAILURE() << "wait() did not rethrow the first failure";
    } catch (const std::runtime_error& e) {
      EXPECT_STREQ(e.what(), "exception first");
    }
  }
}

// --- Limit ---------------------------------------------------------------

class ErrGroupLimit : public ::testing::TestWithParam<int> {};

// Observed maximum concurrency equals the limit: never above (the bound),
// and reached (go() does admit `limit` tasks at once). Each task holds its
// slot until it has seen `limit` tasks running at once (or 5 s passed), so
// the maximum is reached however slowly threads start (TSan); a go() that
// admitted one task too many would start it while the first `limit` hold.
TEST_P(ErrGroupLimit, ObservedMaxConcurrencyEqualsTheLimit) {
  const int limit = GetParam();
  ErrGroup g;
  g.set_limit(limit);
  std::atomic<int> current{0};
  std::atomic<int> max_seen{0};
  for (int i = 0; i < 10 * limit + 5; ++i) {
    g.go([&] {
      const int now = current.fetch_add(1) + 1;
      int seen = max_seen.load();
      while (now > seen && !max_seen.compare_exchange_weak(seen, now)) {
      }
      const auto give_up = steady_clock::now() + std::chrono::seconds(5);
      while (max_seen.load() < limit && steady_clock::now() < give_up) {
        std::this_thread::sleep_for(std::chrono::microseconds(100));
      }
      std::this_thread::sleep_for(milliseconds(2));
      current.fetch_sub(1);
      return absl::OkStatus();
    });
  }
  EXPECT_TRUE(g.wait().ok());
  EXPECT_EQ(max_seen.load(), limit);
}

INSTANTIATE_TEST_SUITE_P(Limits, ErrGroupLimit, ::testing::Values(1, 3, 8));

TEST(ErrGroup, GoBlocksAtTheLimitAndTryGoFails) {
  ErrGroup g;
  g.set_limit(1);
  std::atomic<bool> release{false};
  g.go([&] {
    EXPECT_TRUE(
        testing::wait_until([&] { return release.load(); }, "release.load()"));
    return absl::OkStatus();
  });
  EXPECT_FALSE(g.try_go([] { return absl::OkStatus(); }));
  std::atomic<bool> second_started{false};
  std::thread launcher([&] {
    g.go([&] {
      second_started = true;
      return absl::OkStatus();
    });
  });
  // go() parks at the limit (on a key inside g) instead of starting it.
  ASSERT_TRUE(testing::wait_until_parked_within(g, 1));
  EXPECT_FALSE(second_started.load()) << "go() did not block at the limit";
  release = true;
  launcher.join();  // go() returned: the first task finished, a slot freed
  EXPECT_TRUE(g.wait().ok());
  EXPECT_TRUE(second_started.load());
  EXPECT_TRUE(g.try_go([] { return absl::OkStatus(); }));
  EXPECT_TRUE(g.wait().ok());
}

TEST(ErrGroup, SetLimitAfterWaitIsAllowed) {
  ErrGroup g;
  g.set_limit(2);
  g.go([] { return absl::OkStatus(); });
  EXPECT_TRUE(g.wait().ok());
  g.set_limit(-1);  // no tasks running: fine
  for (int i = 0; i < 4; ++i) g.go([] { return absl::OkStatus(); });
  EXPECT_TRUE(g.wait().ok());
}

// --- Lifetime and executor seam ------------------------------------------

TEST(ErrGroup, TaskCapturesAreDestroyedBeforeWaitReturns) {
  auto token = std::make_shared<int>(1);
  ErrGroup g;
  for (int i = 0; i < 8; ++i) {
    g.go([token] {
      std::this_thread::sleep_for(milliseconds(1));
      return absl::OkStatus();
    });
  }
  EXPECT_TRUE(g.wait().ok());
  EXPECT_EQ(token.use_count(), 1);
}

TEST(ErrGroup, DestructorWaitsForRunningTasks) {
  std::atomic<bool> finished{false};
  {
    ErrGroup g;
    g.go([&] {
      std::this_thread::sleep_for(milliseconds(50));
      finished = true;
      return absl::OkStatus();
    });
  }  // no wait(): the destructor must not return before the task is done
  EXPECT_TRUE(finished.load());
}

TEST(ErrGroup, DestructorCancelsAWithCancelGroup) {
  std::atomic<bool> saw_stop{false};
  {
    auto g = ErrGroup::with_cancel();
    g.go([&](std::stop_token stop) {
      saw_stop = wait_for_stop(stop);
      return absl::OkStatus();
    });
  }
  EXPECT_TRUE(saw_stop.load());
}

// A one-thread pool (tests/testing) proves the seam.
TEST(ErrGroup, CustomExecutorRunsTheTasks) {
  OneThreadExecutor pool;
  ErrGroup g(pool);
  std::atomic<int> on_worker{0};
  for (int i = 0; i < 10; ++i) {
    g.go([&] {
      if (std::this_thread::get_id() == pool.worker_id()) on_worker++;
      return absl::OkStatus();
    });
  }
  EXPECT_TRUE(g.wait().ok());
  EXPECT_EQ(on_worker.load(), 10);
  EXPECT_EQ(pool.submitted(), 10);
}

class ThrowingExecutor final : public ErrGroup::Executor {
 public:
  void execute(absl::AnyInvocable<void() &&>) override {
    throw std::runtime_error("no threads left");
  }
};

TEST(ErrGroup, ExecutorFailureGivesTheSlotBack) {
  ThrowingExecutor executor;
  ErrGroup g(executor);
  g.set_limit(1);
  EXPECT_THROW(g.go([] { return absl::OkStatus(); }), std::runtime_error);
  EXPECT_THROW(g.go([] { return absl::OkStatus(); }), std::runtime_error);
  EXPECT_TRUE(g.wait().ok());  // nothing running: returns at once
}

// A task whose copy and move constructors throw: building the group's task
// from it (copying or moving it into the AnyInvocable) fails inside
// go()/try_go().
struct ThrowsWhenCopiedOrMoved {
  ThrowsWhenCopiedOrMoved() = default;
  ThrowsWhenCopiedOrMoved(const ThrowsWhenCopiedOrMoved&) {
    throw std::runtime_error("copy");
  }
  ThrowsWhenCopiedOrMoved(ThrowsWhenCopiedOrMoved&&) {  // NOLINT: throws
    throw std::runtime_error("move");
  }
  absl::Status operator()() const { return absl::OkStatus(); }
};

// After go()/try_go() threw while building the task, no slot is held: at
// limit 1 the next try_go() succeeds and wait() has nothing to wait for. The
// group lives on the heap and is leaked if a slot leaked, so that a
// regression fails here instead of hanging in ~ErrGroup().
template <class Start>
void expect_no_slot_leaked_by(Start start) {
  InlineExecutor executor;
  auto g = std::make_unique<ErrGroup>(executor);
  g->set_limit(1);
  EXPECT_THROW(start(*g), std::runtime_error);
  const bool slot_free = g->try_go([] { return absl::OkStatus(); });
  if (!slot_free) {
    (void)g.release();  // ~ErrGroup() would wait for the leaked slot forever
    FAIL() << "the failed go()/try_go() kept its slot";
  }
  EXPECT_TRUE(g->wait().ok());
}

TEST(ErrGroup, GoWhoseTaskCannotBeCopiedKeepsNoSlot) {
  expect_no_slot_leaked_by([](ErrGroup& g) {
    const ThrowsWhenCopiedOrMoved f;
    g.go(f);
  });
}

TEST(ErrGroup, GoWhoseTaskCannotBeMovedKeepsNoSlot) {
  expect_no_slot_leaked_by(
      [](ErrGroup& g) { g.go(ThrowsWhenCopiedOrMoved{}); });
}

TEST(ErrGroup, TryGoWhoseTaskCannotBeBuiltKeepsNoSlot) {
  expect_no_slot_leaked_by([](ErrGroup& g) {
    const ThrowsWhenCopiedOrMoved f;
    (void)g.try_go(f);
  });
}

// try_go() at the limit leaves f alone (it is neither copied nor moved).
TEST(ErrGroup, TryGoAtTheLimitDoesNotTouchTheTask) {
  ErrGroup g;
  g.set_limit(1);
  std::atomic<bool> release{false};
  g.go([&] {
    while (!release.load()) std::this_thread::yield();
    return absl::OkStatus();
  });
  ThrowsWhenCopiedOrMoved f;
  EXPECT_FALSE(g.try_go(std::move(f)));  // would throw if it were moved
  release = true;
  EXPECT_TRUE(g.wait().ok());
}

TEST(ErrGroup, ReusableAfterWaitWithStickyFirstError) {
  ErrGroup g;
  g.go([] { return absl::UnknownError("batch 1"); });
  EXPECT_EQ(g.wait().message(), "batch 1");
  g.go([] { return absl::OkStatus(); });
  EXPECT_EQ(g.wait().message(), "batch 1");
}

TEST(ErrGroup, WaitsAreReportedAsKindErrGroup) {
  testing::WaitCounter waits;
  {
    ErrGroup g;
    g.set_limit(1);
    std::atomic<bool> release{false};
    g.go([&] {
      EXPECT_TRUE(testing::wait_until([&] { return release.load(); },
                                      "the second go() parked at the limit"));
      return absl::OkStatus();
    });
    std::thread releaser([&] {
      EXPECT_TRUE(testing::wait_until_parked_within(g, 1));
      release = true;
    });
    g.go([] { return absl::OkStatus(); });  // parks at the limit
    EXPECT_TRUE(g.wait().ok());
    releaser.join();
  }
  EXPECT_GE(waits.ended(internal::WaitKind::kErrGroup,
                        internal::ParkStatus::kUnparked),
            1);
}

// --- Always-checked misuse -----------------------------------------------

class ErrGroupDeathTest : public ::testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

TEST_F(ErrGroupDeathTest, SetLimitWhileTasksRun) {
  EXPECT_DEATH(
      {
        ErrGroup g;
        std::atomic<bool> release{false};
        g.go([&] {
          while (!release.load()) std::this_thread::sleep_for(milliseconds(1));
          return absl::OkStatus();
        });
        g.set_limit(4);
      },
      "contend: ErrGroup::set_limit: called while tasks are running");
}

TEST_F(ErrGroupDeathTest, SetLimitZero) {
  ErrGroup g;
  EXPECT_DEATH(g.set_limit(0), "contend: ErrGroup::set_limit: limit 0");
}

}  // namespace
}  // namespace contend
