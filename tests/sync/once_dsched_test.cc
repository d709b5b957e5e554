// Copyright 2026 The contend Authors.
//
// Deterministic-schedule scenarios for contend::Once (tests/dsched).

#include <memory>
#include <stdexcept>

#include "sync/internal/atomic.h"
#include "sync/once.h"
#include "tests/dsched/dsched.h"

namespace contend {
namespace {

using dsched::Env;
using internal::Atomic;

// Three callers: f runs exactly once, and every call() returns after it.
DSCHED_SCENARIO("once_three_callers", [](Env& env) {
  auto once = std::make_shared<Once>();
  auto runs = std::make_shared<Atomic<int>>(0);
  for (int t = 0; t < 3; ++t) {
    env.spawn([once, runs] {
      once->call([&] { runs->fetch_add(1, std::memory_order_relaxed); });
      DSCHED_CHECK(runs->load(std::memory_order_relaxed) == 1);
    });
  }
  env.run();
  DSCHED_CHECK(runs->load(std::memory_order_relaxed) == 1);
});

// The first run throws: a waiting caller (or a later one) runs f again;
// still at most one run returns normally and runs never overlap.
DSCHED_SCENARIO("once_throwing_run_is_retried", [](Env& env) {
  auto once = std::make_shared<Once>();
  auto attempts = std::make_shared<Atomic<int>>(0);
  auto inside = std::make_shared<Atomic<int>>(0);
  for (int t = 0; t < 2; ++t) {
    env.spawn([once, attempts, inside] {
      try {
        once->call([&] {
          DSCHED_CHECK(inside->fetch_add(1, std::memory_order_relaxed) == 0);
          const int a = attempts->fetch_add(1, std::memory_order_relaxed);
          inside->fetch_sub(1, std::memory_order_relaxed);
          if (a == 0) throw std::runtime_error("first attempt fails");
        });
      } catch (const std::runtime_error&) {
        once->call([] {});  // retried by this caller if nobody else did
      }
    });
  }
  env.run();
  DSCHED_CHECK(attempts->load(std::memory_order_relaxed) >= 1);
});

}  // namespace
}  // namespace contend
