// Copyright 2026 The contend Authors.
//
// Deterministic-schedule scenarios for contend::Event (tests/dsched).

#include <chrono>
#include <memory>
#include <stop_token>

#include "sync/event.h"
#include "sync/internal/atomic.h"
#include "tests/dsched/dsched.h"

namespace contend {
namespace {

using dsched::Env;
using internal::Atomic;

// Waiters of every kind see set(), and see what was written before it.
DSCHED_SCENARIO("event_set_wakes_every_waiter", [](Env& env) {
  auto e = std::make_shared<Event>();
  auto data = std::make_shared<Atomic<int>>(0);
  env.spawn([e, data] {
    e->wait();
    DSCHED_CHECK(data->load(std::memory_order_relaxed) == 1);
  });
  env.spawn([e, data] {
    if (e->wait_for(std::chrono::microseconds(5))) {
      DSCHED_CHECK(data->load(std::memory_order_relaxed) == 1);
    } else {
      DSCHED_CHECK(!e->is_set() || data->load(std::memory_order_relaxed) == 1);
    }
  });
  env.spawn([e, data] {
    data->store(1, std::memory_order_relaxed);
    e->set();
  });
  env.run();
  DSCHED_CHECK(e->is_set());
});

// wait(stop) racing both set() and request_stop(): it returns true only if
// set, false only if stopped, and never stays blocked.
DSCHED_SCENARIO("event_wait_stop_vs_set", [](Env& env) {
  auto e = std::make_shared<Event>();
  auto src = std::make_shared<std::stop_source>();
  env.spawn([e, src] {
    const bool set = e->wait(src->get_token());
    if (set) DSCHED_CHECK(e->is_set());
    if (!set) DSCHED_CHECK(src->stop_requested());
  });
  env.spawn([src] { src->request_stop(); });
  env.spawn([e] { e->set(); });
  env.run();
});

}  // namespace
}  // namespace contend
