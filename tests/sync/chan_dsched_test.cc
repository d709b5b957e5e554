// Copyright 2026 The contend Authors.
//
// Deterministic-schedule scenarios for contend::Chan and contend::select
// (tests/dsched).

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <utility>

#include "sync/chan.h"
#include "sync/internal/atomic.h"
#include "tests/dsched/dsched.h"

namespace contend {
namespace {

using dsched::Env;
using internal::Atomic;

// The bounded-preemption search of every chan scenario stops after this many
// schedules (the binary's budget is 2 x CONTEND_DSCHED_SCHEDULES = 6800
// under --config=dsched). Its depth-first order backtracks from the last
// scheduling point of a run, so with 170-630 points per run and bound 2 a
// search of 6800 schedules never exhausts the bound and only ever preempts
// within the last few dozen points -- the teardown after each race these
// scenarios set up -- while it took 55% of the test's time (148 of 270 s at
// load 22). The first 400 keep that tail covered; the random and PCT
// searches, which place preemptions anywhere in a run, keep their full
// budget.
constexpr int64_t kBoundedCap = 400;

dsched::Scenario chan_scenario(std::string name,
                               std::function<void(Env&)> body) {
  dsched::Scenario s;
  s.name = std::move(name);
  s.body = std::move(body);
  s.bounded_schedules_cap = kBoundedCap;
  return s;
}

#define CHAN_SCENARIO(name, ...)                                \
  static const bool DSCHED_CONCAT(chan_registered_, __LINE__) = \
      ::contend::dsched::register_scenario(chan_scenario(name, __VA_ARGS__))

// Close racing receivers (buffered and unbuffered): the values sent before
// close() arrive once each, each receiver sees them in send order, then
// every receiver ends.
void close_vs_recv(Env& env, size_t capacity) {
  auto ch = std::make_shared<Chan<int>>(capacity);
  auto seen = std::make_shared<Atomic<int>>(0);  // bit v: v was received
  env.spawn([ch] {
    ch->send(0);
    ch->send(1);
    ch->close();
  });
  for (int r = 0; r < 2; ++r) {
    env.spawn([ch, seen] {
      int last = -1;
      while (std::optional<int> v = ch->recv()) {
        DSCHED_CHECK(*v > last);
        last = *v;
        const int bit = 1 << *v;
        DSCHED_CHECK((seen->fetch_or(bit, std::memory_order_relaxed) & bit) ==
                     0);
      }
    });
  }
  env.run();
  DSCHED_CHECK(seen->load(std::memory_order_relaxed) == 3);
  DSCHED_CHECK(ch->drained());
}

CHAN_SCENARIO("chan_close_vs_recv_unbuffered",
              [](Env& env) { close_vs_recv(env, 0); });
CHAN_SCENARIO("chan_close_vs_recv_buffered",
              [](Env& env) { close_vs_recv(env, 1); });

// Close racing a blocked select and a plain sender on its other channel:
// exactly one case fires, and a value whose case did not fire is still in
// its channel.
CHAN_SCENARIO("chan_close_vs_select", [](Env& env) {
  auto a = std::make_shared<Chan<int>>(0);
  auto b = std::make_shared<Chan<int>>(1);
  auto fired = std::make_shared<Atomic<int>>(0);
  auto from_b = std::make_shared<Atomic<int>>(0);
  env.spawn([a, b, fired, from_b] {
    select(recv(*a,
                [fired](std::optional<int> v) {
                  DSCHED_CHECK(!v.has_value());  // a only ever closes
                  fired->fetch_add(1, std::memory_order_relaxed);
                }),
           recv(*b, [fired, from_b](std::optional<int> v) {
             DSCHED_CHECK(v == 7);
             from_b->store(1, std::memory_order_relaxed);
             fired->fetch_add(1, std::memory_order_relaxed);
           }));
  });
  env.spawn([a] { a->close(); });
  env.spawn([b] { b->send(7); });
  env.run();
  DSCHED_CHECK(fired->load(std::memory_order_relaxed) == 1);
  const bool taken = from_b->load(std::memory_order_relaxed) == 1;
  DSCHED_CHECK(b->size() == (taken ? 0u : 1u));
  DSCHED_CHECK(a->try_recv() == std::nullopt);
});

// Close racing a timed sender and a receiver on a buffered channel: the
// sender only sends before close (it observes the closed flag through the
// value it got back), and the value arrives exactly once.
CHAN_SCENARIO("chan_close_vs_send_then_drain", [](Env& env) {
  auto ch = std::make_shared<Chan<int>>(1);
  auto sent = std::make_shared<Atomic<int>>(0);
  auto got = std::make_shared<Atomic<int>>(0);
  auto go = std::make_shared<Chan<int>>(1);  // sender -> closer: "done"
  env.spawn([ch, sent, go] {
    if (ch->send_for(5, std::chrono::microseconds(3))) {
      sent->store(1, std::memory_order_relaxed);
    }
    go->send(0);
  });
  env.spawn([ch, go] {
    (void)go->recv();
    ch->close();
  });
  env.spawn([ch, got] {
    while (std::optional<int> v = ch->recv()) {
      DSCHED_CHECK(*v == 5);
      got->fetch_add(1, std::memory_order_relaxed);
    }
  });
  env.run();
  DSCHED_CHECK(got->load(std::memory_order_relaxed) ==
               sent->load(std::memory_order_relaxed));
});

// A select with a send and a receive case on one unbuffered channel, racing
// a plain receiver, a plain sender and a stop for all three: the select
// never matches itself, at most one of its cases fires, and every value
// sent is received exactly once.
CHAN_SCENARIO("chan_select_two_cases_same_channel", [](Env& env) {
  auto ch = std::make_shared<Chan<int>>(0);
  auto stop = std::make_shared<std::stop_source>();
  auto sent = std::make_shared<Atomic<int>>(0);      // sum of values sent
  auto received = std::make_shared<Atomic<int>>(0);  // sum of values received
  env.spawn([ch, stop, sent, received] {
    int mine = 10;
    const size_t k =
        select(send(*ch, mine,
                    [sent] { sent->fetch_add(10, std::memory_order_relaxed); }),
               recv(*ch,
                    [received](std::optional<int> v) {
                      DSCHED_CHECK(v == 1);  // never its own 10
                      received->fetch_add(*v, std::memory_order_relaxed);
                    }),
               on_stop(stop->get_token(), [] {}));
    DSCHED_CHECK(k <= 2);
  });
  env.spawn([ch, stop, received] {
    if (std::optional<int> v = ch->recv(stop->get_token())) {
      received->fetch_add(*v, std::memory_order_relaxed);
    }
  });
  env.spawn([ch, stop, sent] {
    if (ch->send(1, stop->get_token())) {
      sent->fetch_add(1, std::memory_order_relaxed);
    }
  });
  env.spawn([stop] { stop->request_stop(); });
  env.run();
  DSCHED_CHECK(sent->load(std::memory_order_relaxed) ==
               received->load(std::memory_order_relaxed));
});

// Cancellation racing a rendezvous: a sender with a stop token, a receiver
// with a deadline and a stopper. "Sent" exactly when received; a failed
// send keeps its value.
CHAN_SCENARIO("chan_cancel_vs_rendezvous", [](Env& env) {
  auto ch = std::make_shared<Chan<std::unique_ptr<int>>>(0);
  auto src = std::make_shared<std::stop_source>();
  auto sent = std::make_shared<Atomic<int>>(-1);
  auto got = std::make_shared<Atomic<int>>(0);
  env.spawn([ch, src, sent] {
    auto v = std::make_unique<int>(4);
    const bool ok = ch->send(std::move(v), src->get_token());
    DSCHED_CHECK(ok == (v == nullptr));  // moved from exactly when sent
    sent->store(ok ? 1 : 0, std::memory_order_relaxed);
  });
  env.spawn([ch, got] {
    if (auto v = ch->recv_for(std::chrono::microseconds(4))) {
      DSCHED_CHECK(**v == 4);
      got->store(1, std::memory_order_relaxed);
    }
  });
  env.spawn([src] { src->request_stop(); });
  env.run();
  DSCHED_CHECK(sent->load(std::memory_order_relaxed) ==
               got->load(std::memory_order_relaxed));
});

// A select with a stop case racing the sends that would satisfy it: exactly
// one case fires, and an unfired value stays in its channel.
CHAN_SCENARIO("chan_select_stop_vs_sends", [](Env& env) {
  auto a = std::make_shared<Chan<int>>(1);
  auto b = std::make_shared<Chan<int>>(1);
  auto src = std::make_shared<std::stop_source>();
  auto fired = std::make_shared<Atomic<int>>(0);
  auto which = std::make_shared<Atomic<int>>(-1);
  env.spawn([a, b, src, fired, which] {
    auto count = [fired](std::optional<int>) {
      fired->fetch_add(1, std::memory_order_relaxed);
    };
    const size_t k = select(recv(*a, count), recv(*b, count),
                            on_stop(src->get_token(), [fired] {
                              fired->fetch_add(1, std::memory_order_relaxed);
                            }));
    which->store(static_cast<int>(k), std::memory_order_relaxed);
  });
  env.spawn([a] { a->send(1); });
  env.spawn([b] { b->send(2); });
  env.spawn([src] { src->request_stop(); });
  env.run();
  DSCHED_CHECK(fired->load(std::memory_order_relaxed) == 1);
  const int k = which->load(std::memory_order_relaxed);
  DSCHED_CHECK(a->size() == (k == 0 ? 0u : 1u));
  DSCHED_CHECK(b->size() == (k == 1 ? 0u : 1u));
});

// Two selects on the same pair of channels in opposite argument order (lock
// order by address, not by argument) with two senders: no deadlock, both
// values delivered once.
CHAN_SCENARIO("chan_two_selects_cross", [](Env& env) {
  auto a = std::make_shared<Chan<int>>(0);
  auto b = std::make_shared<Chan<int>>(0);
  auto sum = std::make_shared<Atomic<int>>(0);
  auto add = [sum](std::optional<int> v) {
    DSCHED_CHECK(v.has_value());
    sum->fetch_add(*v, std::memory_order_relaxed);
  };
  env.spawn([a, b, add] { select(recv(*a, add), recv(*b, add)); });
  env.spawn([a, b, add] { select(recv(*b, add), recv(*a, add)); });
  env.spawn([a, b] {
    int one = 1;
    int two = 2;
    // Whichever receiver is ready; then the other value goes wherever the
    // remaining select waits.
    const size_t k = select(send(*a, one), send(*b, two));
    if (k == 0) {
      select(send(*a, two), send(*b, two));
    } else {
      select(send(*a, one), send(*b, one));
    }
  });
  env.run();
  DSCHED_CHECK(sum->load(std::memory_order_relaxed) == 3);
});

// The receiver that a close() wakes may destroy the channel at once: close
// must not touch it after publishing the wake (INV-CS-2).
CHAN_SCENARIO("chan_destroy_after_close_wakes", [](Env& env) {
  auto* ch = new Chan<int>(0);
  env.spawn([ch] {
    DSCHED_CHECK(ch->recv() == std::nullopt);
    dsched::mark_destroyed(ch, sizeof(Chan<int>));
  });
  env.spawn([ch] { ch->close(); });
  env.run();
  delete ch;
});

// The same for a rendezvous, either side blocked first: the receiver
// destroys the channel as soon as it has the value, while the sender may
// still be inside send() (it touches nothing of the channel after the
// hand-off).
CHAN_SCENARIO("chan_destroy_after_rendezvous", [](Env& env) {
  auto* ch = new Chan<int>(0);
  env.spawn([ch] { ch->send(3); });
  env.spawn([ch] {
    DSCHED_CHECK(ch->recv() == 3);
    dsched::mark_destroyed(ch, sizeof(Chan<int>));
  });
  env.run();
  delete ch;
});

// Close racing the reporting sends of language bindings
// (internal::ChanBindingAccess, the Python Chan): a blocked send and a
// blocked select send on an unbuffered channel, a receiver and close().
// Each send either reached the receiver (its value moved from) or reports
// kClosed with its value untouched -- never both, never a process abort.
CHAN_SCENARIO("chan_close_vs_reporting_sends", [](Env& env) {
  using internal::ChanBindingAccess;
  using internal::ChanSendStatus;
  auto ch = std::make_shared<Chan<std::unique_ptr<int>>>(0);
  auto sent = std::make_shared<Atomic<int>>(0);
  auto got = std::make_shared<Atomic<int>>(0);
  env.spawn([ch, sent] {
    auto v = std::make_unique<int>(1);
    const ChanSendStatus r =
        ChanBindingAccess::send(*ch, v, internal::kNoDeadline, nullptr);
    DSCHED_CHECK((r == ChanSendStatus::kSent) == (v == nullptr));
    DSCHED_CHECK(r != ChanSendStatus::kNotSent);
    if (r == ChanSendStatus::kSent) {
      sent->fetch_add(1, std::memory_order_relaxed);
    }
  });
  env.spawn([ch, sent] {
    auto v = std::make_unique<int>(2);
    bool closed = false;
    bool fired = false;
    auto c = send(*ch, v, [&fired] { fired = true; });
    ChanBindingAccess::report_closed(c, &closed);
    select(c);
    DSCHED_CHECK(fired != closed);  // exactly one outcome, fn only if sent
    DSCHED_CHECK(closed == (v != nullptr));
    if (fired) sent->fetch_add(1, std::memory_order_relaxed);
  });
  env.spawn([ch, got] {
    if (auto v = ch->recv()) {
      DSCHED_CHECK(**v == 1 || **v == 2);
      got->fetch_add(1, std::memory_order_relaxed);
    }
  });
  env.spawn([ch] { ch->close(); });
  env.run();
  DSCHED_CHECK(sent->load(std::memory_order_relaxed) ==
               got->load(std::memory_order_relaxed));
});

}  // namespace
}  // namespace contend
