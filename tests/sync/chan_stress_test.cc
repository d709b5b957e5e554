// Copyright 2026 The contend Authors.
//
// Chan and select under a random mix of blocking, timed, non-blocking and
// select operations on an unbuffered and a buffered channel: every value
// sent is received exactly once, each consumer sees each producer's values
// on a channel in send order, and nothing hangs (watchdog).

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "sync/chan.h"
#include "tests/testing/stress.h"

namespace contend {
namespace {

constexpr int kProducers = 3;
constexpr int kConsumers = 3;

// A value: producer (8 bits), channel (8 bits), sequence number (48 bits).
uint64_t encode(int p, int c, uint64_t seq) {
  return (static_cast<uint64_t>(p) << 56) | (static_cast<uint64_t>(c) << 48) |
         seq;
}
int producer_of(uint64_t v) { return static_cast<int>(v >> 56); }
int channel_of(uint64_t v) { return static_cast<int>((v >> 48) & 0xff); }
uint64_t seq_of(uint64_t v) { return v & ((uint64_t{1} << 48) - 1); }

TEST(ChanStress, RandomMixLosesNothingDuplicatesNothingKeepsOrder) {
  Chan<uint64_t> ch0(0);
  Chan<uint64_t> ch1(4);
  Chan<uint64_t>* chans[2] = {&ch0, &ch1};
  std::atomic<uint64_t> sent[kProducers][2] = {};
  std::vector<std::vector<uint64_t>> received(kConsumers);
  testing::Watchdog watchdog(testing::current_test_name());
  const testing::StressDeadline deadline;

  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    auto& me = watchdog.slot("producer " + std::to_string(p));
    producers.emplace_back([&, p] {
      std::mt19937 rng(static_cast<uint32_t>(p * 7919 + 3));
      uint64_t next[2] = {0, 0};
      while (deadline.running()) {
        me.tick();
        const int c = static_cast<int>(rng() % 2);
        uint64_t v = encode(p, c, next[c]);
        bool ok = false;
        switch (rng() % 5) {
          case 0:
            me.set_state("send");
            chans[c]->send(std::move(v));
            ok = true;
            break;
          case 1:
            me.set_state("try_send");
            ok = chans[c]->try_send(std::move(v));
            break;
          case 2:
            me.set_state("send_for");
            ok = chans[c]->send_for(std::move(v),
                                    std::chrono::microseconds(rng() % 50));
            break;
          default: {
            me.set_state("select send");
            // Both channels; the one that fires gets its own sequence.
            uint64_t v0 = encode(p, 0, next[0]);
            uint64_t v1 = encode(p, 1, next[1]);
            const size_t k = select(
                send(ch0, v0), send(ch1, v1),
                on_timeout(std::chrono::microseconds(rng() % 100), [] {}));
            if (k < 2) {
              ++next[k];
              sent[p][k].fetch_add(1, std::memory_order_relaxed);
            }
            continue;
          }
        }
        if (ok) {
          ++next[c];
          sent[p][c].fetch_add(1, std::memory_order_relaxed);
        }
      }
      me.finish();
    });
  }

  std::vector<std::thread> consumers;
  for (int i = 0; i < kConsumers; ++i) {
    auto& me = watchdog.slot("consumer " + std::to_string(i));
    consumers.emplace_back([&, i] {
      std::mt19937 rng(static_cast<uint32_t>(i * 104729 + 5));
      auto& mine = received[static_cast<size_t>(i)];
      bool open[2] = {true, true};
      auto take = [&](int c, std::optional<uint64_t> v) {
        if (v.has_value()) {
          mine.push_back(*v);
        } else if (chans[c]->drained()) {
          open[c] = false;
        }
      };
      while (open[0] || open[1]) {
        me.tick();
        const int c = open[0] && open[1] ? static_cast<int>(rng() % 2)
                                         : (open[0] ? 0 : 1);
        switch (rng() % 4) {
          case 0:
            me.set_state("recv_for");
            take(c, chans[c]->recv_for(std::chrono::microseconds(rng() % 50)));
            break;
          case 1:
            me.set_state("try_recv");
            take(c, chans[c]->try_recv());
            break;
          default:
            me.set_state("select recv");
            select(recv(ch0, [&](std::optional<uint64_t> v) { take(0, v); }),
                   recv(ch1, [&](std::optional<uint64_t> v) { take(1, v); }),
                   on_timeout(std::chrono::microseconds(200), [] {}));
            break;
        }
      }
      me.finish();
    });
  }

  for (auto& t : producers) t.join();
  ch0.close();
  ch1.close();
  for (auto& t : consumers) t.join();

  // Per consumer: each (producer, channel) stream in increasing order.
  std::vector<uint64_t> all;
  for (const auto& mine : received) {
    uint64_t last[kProducers][2];
    std::fill(&last[0][0], &last[0][0] + kProducers * 2, UINT64_MAX);
    for (uint64_t v : mine) {
      uint64_t& l = last[producer_of(v)][channel_of(v)];
      EXPECT_TRUE(l == UINT64_MAX || seq_of(v) > l) << "out of order";
      l = seq_of(v);
      all.push_back(v);
    }
  }
  // Exactly the values sent: sequences 0..sent-1 of every stream, once.
  std::sort(all.begin(), all.end());
  EXPECT_EQ(std::adjacent_find(all.begin(), all.end()), all.end())
      << "a value was received twice";
  size_t expected = 0;
  for (int p = 0; p < kProducers; ++p) {
    for (int c = 0; c < 2; ++c) {
      const uint64_t n = sent[p][c].load();
      expected += n;
      for (uint64_t s = 0; s < n; ++s) {
        ASSERT_TRUE(std::binary_search(all.begin(), all.end(), encode(p, c, s)))
            << "lost producer " << p << " channel " << c << " seq " << s;
      }
    }
  }
  EXPECT_EQ(all.size(), expected);
  EXPECT_GT(expected, 100u);
}

}  // namespace
}  // namespace contend
