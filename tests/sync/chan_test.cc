// Copyright 2026 The contend Authors.
//
// Unit tests for contend::Chan and contend::select (sync/chan.h).

#include "sync/chan.h"

#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "sync/internal/wait_observer.h"
#include "tests/testing/wait.h"

namespace contend {
namespace {

using std::chrono::milliseconds;

// The header examples, kept compiling.
void use(std::optional<int>) {}
void sent() {}
void cancelled() {}
void timed_out() {}
void run(const std::string&) {}

TEST(ChanTest, HeaderExampleChan) {
  contend::Chan<std::string> jobs(16);
  std::thread worker([&] {
    for (std::string& job : jobs) run(job);  // until closed and drained
  });
  jobs.send("a");
  jobs.send("b");
  jobs.close();
  worker.join();
  EXPECT_TRUE(jobs.drained());
}

TEST(ChanTest, HeaderExampleSelect) {
  std::stop_source source;
  std::stop_token token = source.get_token();
  contend::Chan<int> numbers(8);
  contend::Chan<std::string> names;
  std::string out = "report";
  numbers.send(7);
  const size_t fired = contend::select(
      contend::recv(numbers, [](std::optional<int> n) { use(n); }),
      contend::send(names, out, [] { sent(); }),
      contend::on_stop(token, [] { cancelled(); }),
      contend::on_timeout(std::chrono::seconds(1), [] { timed_out(); }));
  EXPECT_EQ(fired, 0u);      // the only ready case
  EXPECT_EQ(out, "report");  // the send case did not fire: value untouched
}

TEST(ChanTest, BufferedIsFifoAndBounded) {
  Chan<int> ch(3);
  EXPECT_EQ(ch.capacity(), 3u);
  EXPECT_TRUE(ch.try_send(1));
  EXPECT_TRUE(ch.try_send(2));
  ch.send(3);
  EXPECT_EQ(ch.size(), 3u);
  EXPECT_FALSE(ch.try_send(4));
  EXPECT_EQ(ch.recv(), 1);
  EXPECT_TRUE(ch.try_send(4));
  EXPECT_EQ(ch.try_recv(), 2);
  EXPECT_EQ(ch.try_recv(), 3);
  EXPECT_EQ(ch.recv(), 4);
  EXPECT_EQ(ch.try_recv(), std::nullopt);
  EXPECT_EQ(ch.size(), 0u);
}

TEST(ChanTest, WrapsAroundManyTimes) {
  Chan<int> ch(5);
  int next_in = 0, next_out = 0;
  for (int round = 0; round < 100; ++round) {
    for (int i = 0; i < round % 6; ++i) {
      if (ch.try_send(next_in)) ++next_in;
    }
    for (int i = 0; i < (round * 7) % 5; ++i) {
      if (auto v = ch.try_recv()) {
        EXPECT_EQ(*v, next_out++);
      }
    }
  }
  while (auto v = ch.try_recv()) EXPECT_EQ(*v, next_out++);
  EXPECT_EQ(next_in, next_out);
}

TEST(ChanTest, FailedSendLeavesMoveOnlyValueWithCaller) {
  Chan<std::unique_ptr<int>> ch(1);
  auto a = std::make_unique<int>(1);
  auto b = std::make_unique<int>(2);
  EXPECT_TRUE(ch.try_send(std::move(a)));
  EXPECT_EQ(a, nullptr);  // moved: sent
  EXPECT_FALSE(ch.try_send(std::move(b)));
  ASSERT_NE(b, nullptr);  // not moved: still ours
  EXPECT_EQ(*b, 2);
  EXPECT_FALSE(ch.send_for(std::move(b), milliseconds(1)));
  ASSERT_NE(b, nullptr);
  EXPECT_FALSE(ch.send_until(
      std::move(b), std::chrono::steady_clock::now() + milliseconds(1)));
  ASSERT_NE(b, nullptr);
  std::stop_source stopped;
  stopped.request_stop();
  EXPECT_FALSE(ch.send(std::move(b), stopped.get_token()));
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(*ch.recv().value(), 1);
  EXPECT_TRUE(ch.send_for(std::move(b), milliseconds(1)));
  EXPECT_EQ(b, nullptr);
  EXPECT_EQ(*ch.recv().value(), 2);
}

TEST(ChanTest, CopyOverloadsSendACopy) {
  Chan<std::string> ch(4);
  const std::string s = "x";
  ch.send(s);
  EXPECT_TRUE(ch.try_send(s));
  EXPECT_TRUE(ch.send_for(s, milliseconds(1)));
  EXPECT_TRUE(ch.send(s, std::stop_token{}));
  EXPECT_EQ(s, "x");
  EXPECT_EQ(ch.size(), 4u);
}

TEST(ChanTest, UnbufferedSendWaitsForAReceiver) {
  Chan<int> ch;
  EXPECT_EQ(ch.capacity(), 0u);
  EXPECT_FALSE(ch.try_send(1));  // nobody receiving
  EXPECT_EQ(ch.try_recv(), std::nullopt);
  std::atomic<bool> returned{false};
  std::thread sender([&] {
    ch.send(42);
    returned.store(true);
  });
  ASSERT_TRUE(testing::wait_until_parked_within(ch, 1));
  EXPECT_FALSE(returned.load());  // parked: no receiver yet
  EXPECT_EQ(ch.recv(), 42);
  sender.join();
  EXPECT_TRUE(returned.load());
}

TEST(ChanTest, TrySendHandsToABlockedReceiver) {
  Chan<int> ch;
  std::optional<int> got;
  std::thread receiver([&] { got = ch.recv(); });
  ASSERT_TRUE(testing::wait_until_parked_within(ch, 1));
  EXPECT_TRUE(ch.try_send(5));
  receiver.join();
  EXPECT_EQ(got, 5);
}

TEST(ChanTest, TimedAndCancelledReceives) {
  Chan<int> ch(1);
  EXPECT_EQ(ch.recv_for(milliseconds(1)), std::nullopt);
  EXPECT_EQ(ch.recv_for(milliseconds(0)), std::nullopt);
  EXPECT_EQ(ch.recv_until(std::chrono::system_clock::now() + milliseconds(1)),
            std::nullopt);
  EXPECT_FALSE(ch.drained());  // a timeout, not the end
  std::stop_source source;
  std::optional<int> got = 0;
  std::thread receiver([&] { got = ch.recv(source.get_token()); });
  ASSERT_TRUE(testing::wait_until_parked_within(ch, 1));
  source.request_stop();
  receiver.join();
  EXPECT_EQ(got, std::nullopt);
  EXPECT_EQ(ch.recv(source.get_token()), std::nullopt);  // stopped on entry
  // Nothing was consumed by the failed receives.
  ch.send(9);
  EXPECT_EQ(ch.recv_for(milliseconds(1)), 9);
}

TEST(ChanTest, CancelledBlockedSendKeepsValue) {
  Chan<std::unique_ptr<int>> ch;
  auto v = std::make_unique<int>(3);
  std::stop_source source;
  bool ok = true;
  std::thread sender([&] { ok = ch.send(std::move(v), source.get_token()); });
  ASSERT_TRUE(testing::wait_until_parked_within(ch, 1));
  source.request_stop();
  sender.join();
  EXPECT_FALSE(ok);
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(*v, 3);
  EXPECT_EQ(ch.try_recv(), std::nullopt);
}

TEST(ChanTest, CloseDrainsThenEnds) {
  Chan<int> ch(4);
  ch.send(1);
  ch.send(2);
  ch.close();
  EXPECT_TRUE(ch.closed());
  EXPECT_FALSE(ch.drained());
  EXPECT_EQ(ch.recv(), 1);
  EXPECT_EQ(ch.try_recv(), 2);
  EXPECT_TRUE(ch.drained());
  EXPECT_EQ(ch.recv(), std::nullopt);
  EXPECT_EQ(ch.recv_for(milliseconds(100)), std::nullopt);
  EXPECT_EQ(ch.try_recv(), std::nullopt);
}

TEST(ChanTest, CloseWakesBlockedReceivers) {
  Chan<int> ch;
  std::vector<std::thread> receivers;
  std::atomic<int> ended{0};
  for (int i = 0; i < 3; ++i) {
    receivers.emplace_back([&] {
      if (!ch.recv().has_value()) ended.fetch_add(1);
    });
  }
  ASSERT_TRUE(testing::wait_until_parked_within(ch, 3));
  ch.close();
  for (auto& t : receivers) t.join();
  EXPECT_EQ(ended.load(), 3);
}

TEST(ChanTest, RangeForReceivesUntilClosed) {
  Chan<std::unique_ptr<int>> ch(2);
  std::thread producer([&] {
    for (int i = 0; i < 100; ++i) ch.send(std::make_unique<int>(i));
    ch.close();
  });
  int expect = 0;
  for (std::unique_ptr<int>& v : ch) EXPECT_EQ(*v, expect++);
  producer.join();
  EXPECT_EQ(expect, 100);
}

TEST(ChanTest, ManyProducersManyConsumersLoseNothing) {
  constexpr int kPer = 2000;
  constexpr int kProducers = 3;
  for (size_t capacity : {size_t{0}, size_t{1}, size_t{8}}) {
    Chan<int> ch(capacity);
    std::vector<std::thread> threads;
    std::atomic<int64_t> sum{0};
    std::atomic<int> count{0};
    for (int p = 0; p < kProducers; ++p) {
      threads.emplace_back([&, p] {
        for (int i = 0; i < kPer; ++i) ch.send(p * kPer + i);
      });
    }
    for (int c = 0; c < 2; ++c) {
      threads.emplace_back([&] {
        for (int v : ch) {
          sum.fetch_add(v);
          count.fetch_add(1);
        }
      });
    }
    for (int p = 0; p < kProducers; ++p) threads[static_cast<size_t>(p)].join();
    ch.close();
    for (size_t i = kProducers; i < threads.size(); ++i) threads[i].join();
    const int64_t n = kProducers * kPer;
    EXPECT_EQ(count.load(), n) << "capacity " << capacity;
    EXPECT_EQ(sum.load(), n * (n - 1) / 2) << "capacity " << capacity;
  }
}

// The k-th receive happens-before the (k+C)-th send completes: a channel of
// capacity C bounds the values in flight (used as a semaphore).
TEST(ChanTest, BufferedChannelIsASemaphore) {
  Chan<int> tokens(2);
  std::atomic<int> inside{0};
  std::atomic<int> max_inside{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 500; ++i) {
        tokens.send(0);
        const int now = inside.fetch_add(1) + 1;
        int m = max_inside.load();
        while (now > m && !max_inside.compare_exchange_weak(m, now)) {
        }
        inside.fetch_sub(1);
        (void)tokens.recv();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_LE(max_inside.load(), 2);
}

TEST(SelectTest, DefaultWhenNothingIsReady) {
  Chan<int> a;
  Chan<std::string> b(1);
  b.send("full");
  std::string v = "mine";
  bool defaulted = false;
  const size_t fired =
      select(recv(a, [](std::optional<int>) { FAIL(); }),
             send(b, v, [] { FAIL(); }), on_default([&] { defaulted = true; }));
  EXPECT_EQ(fired, 2u);
  EXPECT_TRUE(defaulted);
  EXPECT_EQ(v, "mine");
}

TEST(SelectTest, ChoosesUniformlyAmongReadyCases) {
  Chan<int> a(1), b(1), c(1);
  std::array<int, 3> wins{};
  constexpr int kTrials = 3000;
  for (int i = 0; i < kTrials; ++i) {
    if (a.size() == 0) a.send(0);
    if (b.size() == 0) b.send(1);
    if (c.size() == 0) c.send(2);
    const size_t k = select(recv(a, [](std::optional<int>) {}),
                            recv(b, [](std::optional<int>) {}),
                            recv(c, [](std::optional<int>) {}));
    ++wins[k];
  }
  // Expected 1000 each; 6 sigma (sigma ~ 26) is 150 either way.
  for (int w : wins) {
    EXPECT_GT(w, 850);
    EXPECT_LT(w, 1150);
  }
}

TEST(SelectTest, BlockedSelectIsWokenByEitherChannel) {
  for (int which = 0; which < 2; ++which) {
    Chan<int> a;
    Chan<std::string> b;
    std::optional<int> got_a;
    std::optional<std::string> got_b;
    size_t fired = 9;
    std::thread selector([&] {
      fired = select(recv(a, [&](std::optional<int> v) { got_a = v; }),
                     recv(b, [&](std::optional<std::string> v) { got_b = v; }));
    });
    // Parked once, on its first channel case's key.
    ASSERT_TRUE(testing::wait_until_parked_within(a, 1));
    if (which == 0) {
      a.send(1);
    } else {
      b.send("b");
    }
    selector.join();
    EXPECT_EQ(fired, static_cast<size_t>(which));
    if (which == 0) {
      EXPECT_EQ(got_a, 1);
      EXPECT_FALSE(got_b.has_value());
    } else {
      EXPECT_EQ(got_b, "b");
      EXPECT_FALSE(got_a.has_value());
    }
    // The losing case's record is gone: the other channel has no waiter.
    EXPECT_FALSE(a.try_send(5));
    EXPECT_FALSE(b.try_send("x"));
  }
}

TEST(SelectTest, SendCaseHandsToReceiverAndMovesOnlyThen) {
  Chan<std::unique_ptr<int>> out;
  Chan<int> never;
  auto v = std::make_unique<int>(8);
  std::unique_ptr<int> got;
  std::thread receiver([&] { got = out.recv().value(); });
  bool was_sent = false;
  const size_t fired = select(recv(never, [](std::optional<int>) { FAIL(); }),
                              send(out, v, [&] { was_sent = true; }));
  receiver.join();
  EXPECT_EQ(fired, 1u);
  EXPECT_TRUE(was_sent);
  EXPECT_EQ(v, nullptr);
  EXPECT_EQ(*got, 8);
}

TEST(SelectTest, StopAndTimeoutCases) {
  Chan<int> a;
  std::stop_source source;
  std::thread stopper([&] {
    ASSERT_TRUE(testing::wait_until_parked_within(a, 1));
    source.request_stop();
  });
  bool stopped = false;
  EXPECT_EQ(select(recv(a, [](std::optional<int>) { FAIL(); }),
                   on_stop(source.get_token(), [&] { stopped = true; })),
            1u);
  stopper.join();
  EXPECT_TRUE(stopped);
  bool timed = false;
  EXPECT_EQ(select(recv(a, [](std::optional<int>) { FAIL(); }),
                   on_timeout(milliseconds(2), [&] { timed = true; })),
            1u);
  EXPECT_TRUE(timed);
  EXPECT_EQ(select(on_deadline(std::chrono::steady_clock::now(), [] {})), 0u);
  // A stop already requested is a ready case; nothing else is queued after.
  EXPECT_EQ(select(recv(a, [](std::optional<int>) {}),
                   on_stop(source.get_token(), [] {})),
            1u);
  EXPECT_FALSE(a.try_send(1));
}

TEST(SelectTest, ClosedChannelMakesRecvCaseReady) {
  Chan<int> a;
  Chan<int> b;
  std::optional<int> got = 1;
  std::thread selector([&] {
    EXPECT_EQ(select(recv(a, [&](std::optional<int> v) { got = v; }),
                     recv(b, [](std::optional<int>) { FAIL(); })),
              0u);
  });
  ASSERT_TRUE(testing::wait_until_parked_within(a, 1));
  a.close();
  selector.join();
  EXPECT_EQ(got, std::nullopt);
}

TEST(SelectTest, SendAndRecvCasesOnOneChannel) {
  // A select never matches itself: with only itself on the channel it waits,
  // and a partner takes exactly one of its two cases.
  Chan<int> ch;
  for (int round = 0; round < 50; ++round) {
    int mine = 100 + round;
    size_t fired = 9;
    std::optional<int> got;
    std::thread selector([&] {
      fired = select(send(ch, mine),
                     recv(ch, [&](std::optional<int> v) { got = v; }));
    });
    ASSERT_TRUE(testing::wait_until_parked_within(ch, 1));
    if (round % 2 == 0) {
      EXPECT_EQ(ch.recv(), 100 + round);
    } else {
      ch.send(round);
    }
    selector.join();
    if (round % 2 == 0) {
      EXPECT_EQ(fired, 0u);
    } else {
      EXPECT_EQ(fired, 1u);
      EXPECT_EQ(got, round);
    }
    EXPECT_FALSE(ch.try_send(1));  // no stale receiver left behind
    EXPECT_EQ(ch.try_recv(), std::nullopt);
  }
}

// More cases than select keeps on the stack (16): the heap path.
TEST(SelectTest, ManyCases) {
  std::vector<std::unique_ptr<Chan<int>>> chans;
  for (int i = 0; i < 20; ++i) chans.push_back(std::make_unique<Chan<int>>(1));
  chans[17]->send(17);
  std::optional<int> got;
  auto r = [&](int i) {
    return recv(*chans[static_cast<size_t>(i)],
                [&](std::optional<int> v) { got = v; });
  };
  const size_t k =
      select(r(0), r(1), r(2), r(3), r(4), r(5), r(6), r(7), r(8), r(9), r(10),
             r(11), r(12), r(13), r(14), r(15), r(16), r(17), r(18), r(19));
  EXPECT_EQ(k, 17u);
  EXPECT_EQ(got, 17);
}

// Waits are reported as kind Chan under the channel's label.
struct Seen {
  std::atomic<int> chan_waits{0};
  std::atomic<const char*> label{nullptr};
};
Seen g_seen;
void on_wait_end(const internal::WaitEvent& e) {
  if (e.kind == internal::WaitKind::kChan) {
    g_seen.label.store(internal::wait_label(e.key));
    g_seen.chan_waits.fetch_add(1);
  }
}
const internal::WaitObserver kObserver{&on_wait_end, nullptr};

TEST(ChanTest, WaitsAreProfiledUnderTheLabel) {
  EXPECT_STREQ(internal::wait_kind_name(internal::WaitKind::kChan), "Chan");
  const internal::WaitObserver* previous = internal::wait_observer();
  internal::set_wait_observer(&kObserver);
  {
    Chan<int> ch(0, "jobs");
    std::thread receiver([&] { EXPECT_EQ(ch.recv(), 1); });
    ASSERT_TRUE(testing::wait_until_parked_within(ch, 1));
    ch.send(1);
    receiver.join();
  }
  internal::set_wait_observer(previous);
  EXPECT_EQ(g_seen.chan_waits.load(), 1);
  EXPECT_STREQ(g_seen.label.load(), "jobs");
}

using ChanDeathTest = ::testing::Test;

TEST(ChanDeathTest, SendOnClosedChannel) {
  Chan<int> ch(1);
  ch.close();
  EXPECT_DEATH(ch.send(1), "contend: Chan::send: send on closed channel");
  EXPECT_DEATH((void)ch.try_send(1),
               "contend: Chan::try_send: send on closed channel");
  EXPECT_DEATH((void)ch.send_for(1, milliseconds(1)),
               "contend: Chan::send_for: send on closed channel");
  EXPECT_DEATH((void)ch.send_until(1, std::chrono::steady_clock::now()),
               "contend: Chan::send_until: send on closed channel");
  EXPECT_DEATH((void)ch.send(1, std::stop_token{}),
               "contend: Chan::send: send on closed channel");
  int v = 1;
  EXPECT_DEATH(select(send(ch, v), on_default([] {})),
               "contend: select: send on closed channel");
}

TEST(ChanDeathTest, CloseOfClosedChannel) {
  Chan<int> ch;
  ch.close();
  EXPECT_DEATH(ch.close(), "contend: Chan::close: close of closed channel");
}

TEST(ChanDeathTest, BlockedSenderDiesWhenClosed) {
  EXPECT_DEATH(
      {
        Chan<int> ch;
        std::thread closer([&] {
          if (testing::wait_until_parked_within(ch, 1)) ch.close();
        });
        ch.send(1);
        closer.join();
      },
      "contend: Chan::send: send on closed channel");
  EXPECT_DEATH(
      {
        Chan<int> ch;
        Chan<int> other;
        std::thread closer([&] {
          if (testing::wait_until_parked_within(ch, 1)) ch.close();
        });
        select(send(ch, 1), recv(other, [](std::optional<int>) {}));
        closer.join();
      },
      "contend: select: send on closed channel");
}

TEST(ChanDeathTest, DestroyedWithABlockedReceiver) {
  EXPECT_DEATH(
      {
        auto* ch = new Chan<int>;
        std::thread receiver([ch] { (void)ch->recv(); });
        if (testing::wait_until_parked_within(*ch, 1)) delete ch;
        receiver.join();
      },
      "contend: Chan::~Chan: destroyed with blocked senders or receivers");
}

}  // namespace
}  // namespace contend
