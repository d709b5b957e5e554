// Copyright 2026 The contend Authors.
//
// Deterministic-schedule scenarios for contend::Singleflight (tests/dsched).

#include <memory>
#include <stop_token>

#include "absl/status/statusor.h"
#include "sync/internal/atomic.h"
#include "sync/singleflight.h"
#include "tests/dsched/dsched.h"

namespace contend {
namespace {

using dsched::Env;
using internal::Atomic;

struct Flights {
  Singleflight<int, int> sf;
  Atomic<int> calls{0};
};

// Two callers of one key: each gets a value from some flight, a shared
// result is the same value for both, and no flight is left behind.
DSCHED_SCENARIO("singleflight_two_callers", [](Env& env) {
  auto s = std::make_shared<Flights>();
  auto got = std::make_shared<int[]>(2);
  auto shared = std::make_shared<bool[]>(2);
  for (int t = 0; t < 2; ++t) {
    env.spawn([s, got, shared, t] {
      auto r = s->sf.call(7, [s]() -> absl::StatusOr<int> {
        return s->calls.fetch_add(1, std::memory_order_relaxed) + 1;
      });
      DSCHED_CHECK(r.value.ok());
      got[t] = *r.value;
      shared[t] = r.shared;
    });
  }
  env.run();
  const int calls = s->calls.load(std::memory_order_relaxed);
  DSCHED_CHECK(calls == 1 || calls == 2);
  if (calls == 1) DSCHED_CHECK(got[0] == 1 && got[1] == 1);
  DSCHED_CHECK(shared[0] == shared[1]);
  if (shared[0]) DSCHED_CHECK(got[0] == got[1]);
  DSCHED_CHECK(s->sf.callers(7) == 0);
});

// A follower that is cancelled while the flight runs, and forget() during
// the flight: the follower gets CancelledError or the flight's value; the
// next call starts a new flight; nothing is left behind.
DSCHED_SCENARIO("singleflight_cancel_and_forget", [](Env& env) {
  auto s = std::make_shared<Flights>();
  auto src = std::make_shared<std::stop_source>();
  auto fn = [s]() -> absl::StatusOr<int> {
    return s->calls.fetch_add(1, std::memory_order_relaxed) + 1;
  };
  env.spawn([s, fn] { DSCHED_CHECK(s->sf.call(1, fn).value.ok()); });
  env.spawn([s, src, fn] {
    auto r = s->sf.call(1, fn, src->get_token());
    DSCHED_CHECK(r.value.ok() || absl::IsCancelled(r.value.status()));
  });
  env.spawn([s, src] {
    s->sf.forget(1);
    src->request_stop();
  });
  env.run();
  DSCHED_CHECK(s->sf.callers(1) == 0);
});

}  // namespace
}  // namespace contend
