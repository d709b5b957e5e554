// Copyright 2026 The contend Authors.
//
// Deterministic-schedule scenarios for contend::LazyRetry (tests/dsched).
// Backoff windows are virtual time: the explorer decides when they pass.

#include <chrono>
#include <memory>
#include <stop_token>

#include "absl/status/statusor.h"
#include "sync/internal/atomic.h"
#include "sync/lazy_retry.h"
#include "tests/dsched/dsched.h"

namespace contend {
namespace {

using dsched::Env;
using internal::Atomic;

struct Attempts {
  Atomic<int> inside{0};
  Atomic<int> started{0};
};

LazyRetryOptions fast() {
  LazyRetryOptions o;
  o.initial_backoff = std::chrono::microseconds(1);
  o.max_backoff = std::chrono::microseconds(4);
  return o;
}

// The first attempt fails, the second succeeds: attempts never overlap, a
// result's generation says which attempt it came from, and once a value is
// returned it is the only value.
DSCHED_SCENARIO("lazy_retry_fail_then_succeed", [](Env& env) {
  auto a = std::make_shared<Attempts>();
  auto lr = std::make_shared<LazyRetry<int>>(
      [a]() -> absl::StatusOr<int> {
        DSCHED_CHECK(a->inside.fetch_add(1, std::memory_order_relaxed) == 0);
        const int n = a->started.fetch_add(1, std::memory_order_relaxed) + 1;
        a->inside.fetch_sub(1, std::memory_order_relaxed);
        if (n == 1) return absl::UnavailableError("dial failed");
        return 40 + n;
      },
      fast());
  for (int t = 0; t < 2; ++t) {
    env.spawn([lr] {
      for (int i = 0; i < 2; ++i) {
        auto r = lr->get();
        DSCHED_CHECK(r.generation() >= 1);
        if (r.ok()) {
          DSCHED_CHECK(r.generation() >= 2 &&
                       *r == 40 + static_cast<int>(r.generation()));
        } else {
          DSCHED_CHECK(absl::IsUnavailable(r.status()) && r.generation() == 1);
        }
      }
    });
  }
  env.run();
  DSCHED_CHECK(a->started.load(std::memory_order_relaxed) <= 2);
});

// A waiter cancelled during an attempt leaves with CancelledError; the
// attempt goes on and its runner gets its outcome.
DSCHED_SCENARIO("lazy_retry_cancelled_waiter", [](Env& env) {
  auto lr = std::make_shared<LazyRetry<int>>(
      []() -> absl::StatusOr<int> { return 7; }, fast());
  auto src = std::make_shared<std::stop_source>();
  env.spawn([lr] { DSCHED_CHECK(lr->get().ok()); });
  env.spawn([lr, src] {
    auto r = lr->get(src->get_token());
    DSCHED_CHECK(r.ok() || absl::IsCancelled(r.status()));
  });
  env.spawn([src] { src->request_stop(); });
  env.run();
  DSCHED_CHECK(lr->get().ok());
});

}  // namespace
}  // namespace contend
