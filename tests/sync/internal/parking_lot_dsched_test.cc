// Copyright 2026 The contend Authors.
//
// Deterministic-schedule scenarios for the ParkingLot (tests/dsched): its
// timeout, cancellation and requeue races. Each wait must end exactly once,
// and the unparker's count must agree with the waiter's status.

#include <memory>
#include <stop_token>

#include "sync/internal/atomic.h"
#include "sync/internal/clock.h"
#include "sync/internal/parking_lot.h"
#include "tests/dsched/dsched.h"

namespace contend::internal {
namespace {

using ::contend::dsched::Env;

struct Keys {
  int a = 0;
  int b = 0;
  ParkStatus status = ParkStatus::kInvalid;  // written by the waiter
  size_t unparked = 0;                       // written by the unparker
};

ParkResult park_on(const void* key, int64_t deadline,
                   const std::stop_token* stop) {
  ParkOptions o;
  o.deadline_ns = deadline;
  o.stop = stop;
  return ParkingLot::park(
      key, [] { return true; }, o);
}

DSCHED_SCENARIO("parking_lot_timeout_vs_unpark_one", [](Env& env) {
  auto k = std::make_shared<Keys>();
  env.spawn([k] {
    k->status = park_on(&k->a, monotonic_now_ns() + 2'000, nullptr).status;
  });
  env.spawn([k] {
    k->unparked = ParkingLot::unpark_one(&k->a, [](const UnparkResult&) {
                    return uintptr_t{5};
                  }).unparked;
  });
  env.run();
  DSCHED_CHECK((k->status == ParkStatus::kUnparked) == (k->unparked == 1));
  DSCHED_CHECK(k->status == ParkStatus::kUnparked ||
               k->status == ParkStatus::kTimedOut);
  DSCHED_CHECK(ParkingLot::waiter_count(&k->a) == 0);
});

DSCHED_SCENARIO("parking_lot_cancel_vs_unpark_one", [](Env& env) {
  auto k = std::make_shared<Keys>();
  auto src = std::make_shared<std::stop_source>();
  env.spawn([k, src] {
    const std::stop_token tok = src->get_token();
    k->status = park_on(&k->a, kNoDeadline, &tok).status;
  });
  env.spawn([src] { src->request_stop(); });
  env.spawn([k] {
    k->unparked = ParkingLot::unpark_one(&k->a, [](const UnparkResult&) {
                    return uintptr_t{5};
                  }).unparked;
  });
  env.run();
  DSCHED_CHECK((k->status == ParkStatus::kUnparked) == (k->unparked == 1));
  DSCHED_CHECK(k->status == ParkStatus::kUnparked ||
               k->status == ParkStatus::kCancelled);
  DSCHED_CHECK(ParkingLot::waiter_count(&k->a) == 0);
});

// A waiter is requeued from a to b while it is being cancelled, and b is
// unparked: it is dequeued exactly once, from whichever queue it is on.
DSCHED_SCENARIO("parking_lot_requeue_vs_cancel", [](Env& env) {
  auto k = std::make_shared<Keys>();
  auto src = std::make_shared<std::stop_source>();
  env.spawn([k, src] {
    const std::stop_token tok = src->get_token();
    k->status = park_on(&k->a, kNoDeadline, &tok).status;
  });
  env.spawn([k] {
    ParkingLot::unpark_requeue(
        &k->a, &k->b, [] { return RequeueOp::kRequeueOne; },
        [](RequeueOp, const UnparkResult&) { return uintptr_t{0}; });
  });
  env.spawn([src] { src->request_stop(); });
  env.spawn([k] {
    k->unparked = ParkingLot::unpark_one(&k->b, [](const UnparkResult&) {
                    return uintptr_t{5};
                  }).unparked;
  });
  env.run();
  if (k->status == ParkStatus::kUnparked) {
    DSCHED_CHECK(k->unparked == 1);
  } else {
    DSCHED_CHECK(k->status == ParkStatus::kCancelled && k->unparked == 0);
  }
  DSCHED_CHECK(ParkingLot::waiter_count(&k->a) == 0);
  DSCHED_CHECK(ParkingLot::waiter_count(&k->b) == 0);
});

}  // namespace
}  // namespace contend::internal
