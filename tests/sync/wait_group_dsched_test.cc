// Copyright 2026 The contend Authors.
//
// Deterministic-schedule scenarios for contend::WaitGroup (tests/dsched).

#include <chrono>
#include <memory>
#include <stop_token>

#include "sync/internal/atomic.h"
#include "sync/wait_group.h"
#include "tests/dsched/dsched.h"

namespace contend {
namespace {

using dsched::Env;
using internal::Atomic;

// wait() returns only after every done(), and sees the workers' writes.
DSCHED_SCENARIO("wait_group_wait_vs_done", [](Env& env) {
  auto wg = std::make_shared<WaitGroup>();
  auto work = std::make_shared<Atomic<int>>(0);
  wg->add(2);
  for (int w = 0; w < 2; ++w) {
    env.spawn([wg, work] {
      work->fetch_add(1, std::memory_order_relaxed);
      wg->done();
    });
  }
  env.spawn([wg, work] {
    wg->wait();
    DSCHED_CHECK(work->load(std::memory_order_relaxed) == 2);
  });
  env.run();
});

// wait(stop) and wait_for racing the last done() and request_stop().
DSCHED_SCENARIO("wait_group_stop_and_timeout_vs_done", [](Env& env) {
  auto wg = std::make_shared<WaitGroup>();
  auto work = std::make_shared<Atomic<int>>(0);
  auto src = std::make_shared<std::stop_source>();
  wg->add(1);
  env.spawn([wg, work, src] {
    if (wg->wait(src->get_token())) {
      DSCHED_CHECK(work->load(std::memory_order_relaxed) == 1);
    } else {
      DSCHED_CHECK(src->stop_requested());
    }
  });
  env.spawn([wg, work] {
    if (wg->wait_for(std::chrono::microseconds(5))) {
      DSCHED_CHECK(work->load(std::memory_order_relaxed) == 1);
    }
  });
  env.spawn([src] { src->request_stop(); });
  env.spawn([wg, work] {
    work->store(1, std::memory_order_relaxed);
    wg->done();
  });
  env.run();
});

}  // namespace
}  // namespace contend
