// Copyright 2026 The contend Authors.
//
// The checker checked: linearizable histories are accepted, and histories
// with a known violation (stale read, lost update, FIFO reorder, lost or
// duplicated element, send after close, overfull channel) are rejected.

#include "tests/testing/linearizability.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/testing/wait.h"

namespace contend::testing::lin {
namespace {

using Map = MapModel;
using Queue = QueueModel;

template <class M>
Operation<M> op(int thread, typename M::Input in, typename M::Output out,
                int64_t invoke, int64_t ret) {
  return Operation<M>{thread, in, out, invoke, ret};
}

// --- map model ---------------------------------------------------------

TEST(Linearizability, EmptyHistory) {
  EXPECT_TRUE(check(Map{}, std::vector<Operation<Map>>{}).linearizable);
  EXPECT_TRUE(check(Queue{}, std::vector<Operation<Queue>>{}).linearizable);
}

TEST(Linearizability, SequentialMapHistoryOfEveryVerb) {
  std::vector<Operation<Map>> h = {
      op<Map>(0, Map::load(1), Map::Output::of(std::optional<int>()), 0, 1),
      op<Map>(0, Map::store(1, 10), Map::Output::unchecked(), 2, 3),
      op<Map>(0, Map::load(1), Map::Output::of(std::optional<int>(10)), 4, 5),
      op<Map>(0, Map::load_or_store(1, 11),
              Map::Output::of(std::pair<int, bool>(10, true)), 6, 7),
      op<Map>(0, Map::load_or_store(2, 20),
              Map::Output::of(std::pair<int, bool>(20, false)), 8, 9),
      op<Map>(0, Map::swap(1, 12), Map::Output::of(std::optional<int>(10)), 10,
              11),
      op<Map>(0, Map::compare_and_swap(1, 10, 13), Map::Output::of(false), 12,
              13),
      op<Map>(0, Map::compare_and_swap(1, 12, 13), Map::Output::of(true), 14,
              15),
      op<Map>(0, Map::compare_and_delete(1, 12), Map::Output::of(false), 16,
              17),
      op<Map>(0, Map::compare_and_delete(1, 13), Map::Output::of(true), 18, 19),
      op<Map>(0, Map::load_and_delete(2),
              Map::Output::of(std::optional<int>(20)), 20, 21),
      op<Map>(0, Map::erase(2), Map::Output::of(false), 22, 23),
      op<Map>(0, Map::store(2, 1), Map::Output::unchecked(), 24, 25),
      op<Map>(0, Map::erase(2), Map::Output::of(true), 26, 27),
      op<Map>(0, Map::erase(2), Map::Output::unchecked(), 28, 29),
      op<Map>(0, Map::swap(2, 5), Map::Output::of(std::optional<int>()), 30,
              31),
  };
  const CheckResult r = check(Map{}, h);
  EXPECT_TRUE(r.linearizable) << r.explanation;
}

TEST(Linearizability, ReadOverlappingAWriteMaySeeEitherValue) {
  for (const std::optional<int> seen :
       {std::optional<int>(), std::optional<int>(7)}) {
    std::vector<Operation<Map>> h = {
        op<Map>(0, Map::store(1, 7), Map::Output::unchecked(), 10, 30),
        op<Map>(1, Map::load(1), Map::Output::of(seen), 20, 40),
    };
    const CheckResult r = check(Map{}, h);
    EXPECT_TRUE(r.linearizable) << r.explanation;
  }
}

TEST(Linearizability, RejectsStaleReadAfterCompletedWrite) {
  std::vector<Operation<Map>> h = {
      op<Map>(0, Map::store(1, 7), Map::Output::unchecked(), 0, 10),
      op<Map>(1, Map::store(1, 8), Map::Output::unchecked(), 20, 30),
      op<Map>(1, Map::load(1), Map::Output::of(std::optional<int>(7)), 40, 50),
  };
  const CheckResult r = check(Map{}, h);
  EXPECT_FALSE(r.linearizable);
  EXPECT_FALSE(r.budget_exceeded);
  EXPECT_NE(r.explanation.find("load(1) -> 7"), std::string::npos)
      << r.explanation;
  EXPECT_NE(r.explanation.find("partition 1"), std::string::npos)
      << r.explanation;
}

TEST(Linearizability, RejectsLostUpdateBySwap) {
  // Two overlapping swaps both report the initial value: one update lost.
  std::vector<Operation<Map>> h = {
      op<Map>(0, Map::store(1, 0), Map::Output::unchecked(), 0, 1),
      op<Map>(0, Map::swap(1, 1), Map::Output::of(std::optional<int>(0)), 2,
              10),
      op<Map>(1, Map::swap(1, 2), Map::Output::of(std::optional<int>(0)), 3,
              11),
  };
  EXPECT_FALSE(check(Map{}, h).linearizable);
}

TEST(Linearizability, RejectsTwoWinnersOfOneCompareAndSwap) {
  std::vector<Operation<Map>> h = {
      op<Map>(0, Map::store(1, 0), Map::Output::unchecked(), 0, 1),
      op<Map>(0, Map::compare_and_swap(1, 0, 1), Map::Output::of(true), 2, 10),
      op<Map>(1, Map::compare_and_swap(1, 0, 2), Map::Output::of(true), 3, 11),
  };
  EXPECT_FALSE(check(Map{}, h).linearizable);
  // With one loser it is fine, in either order.
  h[2].output = Map::Output::of(false);
  EXPECT_TRUE(check(Map{}, h).linearizable);
}

TEST(Linearizability, RejectsLostIncrementByLoadThenStore) {
  // Two read-modify-write "increments" made of load + compare_and_swap:
  // both CAS succeed from the same old value only if one update was lost.
  std::vector<Operation<Map>> h = {
      op<Map>(0, Map::load_or_store(5, 0),
              Map::Output::of(std::pair<int, bool>(0, false)), 0, 1),
      op<Map>(0, Map::load(5), Map::Output::of(std::optional<int>(0)), 2, 3),
      op<Map>(1, Map::load(5), Map::Output::of(std::optional<int>(0)), 2, 3),
      op<Map>(0, Map::compare_and_swap(5, 0, 1), Map::Output::of(true), 4, 6),
      op<Map>(1, Map::compare_and_swap(5, 0, 1), Map::Output::of(true), 5, 7),
  };
  EXPECT_FALSE(check(Map{}, h).linearizable);
}

TEST(Linearizability, KeysArePartitionedIndependently) {
  // Interleaved in time but on different keys: each key alone is fine.
  std::vector<Operation<Map>> h = {
      op<Map>(0, Map::store(1, 1), Map::Output::unchecked(), 0, 10),
      op<Map>(1, Map::load(2), Map::Output::of(std::optional<int>()), 20, 30),
      op<Map>(0, Map::store(2, 2), Map::Output::unchecked(), 40, 50),
      op<Map>(1, Map::load(1), Map::Output::of(std::optional<int>(1)), 60, 70),
  };
  EXPECT_TRUE(check(Map{}, h).linearizable);
  // The same history with key 2's load seeing a future write is not.
  h[1].output = Map::Output::of(std::optional<int>(2));
  const CheckResult r = check(Map{}, h);
  EXPECT_FALSE(r.linearizable);
  EXPECT_NE(r.explanation.find("partition 2"), std::string::npos)
      << r.explanation;
}

// --- queue model -------------------------------------------------------

TEST(Linearizability, FifoQueueAccepted) {
  std::vector<Operation<Queue>> h = {
      op<Queue>(0, Queue::send(1), Queue::Output::of(true), 0, 1),
      op<Queue>(0, Queue::send(2), Queue::Output::of(true), 2, 3),
      op<Queue>(1, Queue::recv(), Queue::Output::of(std::optional<int>(1)), 4,
                5),
      op<Queue>(1, Queue::try_recv(), Queue::Output::of(std::optional<int>(2)),
                6, 7),
      op<Queue>(1, Queue::try_recv(), Queue::Output::of(std::optional<int>()),
                8, 9),
      op<Queue>(0, Queue::close(), Queue::Output::of(true), 10, 11),
      op<Queue>(1, Queue::recv(), Queue::Output::of(std::optional<int>()), 12,
                13),
      op<Queue>(0, Queue::send(3), Queue::Output::of(false), 14, 15),
      op<Queue>(0, Queue::close(), Queue::Output::of(false), 16, 17),
  };
  const CheckResult r = check(Queue{}, h);
  EXPECT_TRUE(r.linearizable) << r.explanation;
}

TEST(Linearizability, ConcurrentSendsMayLandInEitherOrder) {
  std::vector<Operation<Queue>> h = {
      op<Queue>(0, Queue::send(1), Queue::Output::of(true), 0, 10),
      op<Queue>(1, Queue::send(2), Queue::Output::of(true), 0, 10),
      op<Queue>(2, Queue::recv(), Queue::Output::of(std::optional<int>(2)), 20,
                30),
      op<Queue>(2, Queue::recv(), Queue::Output::of(std::optional<int>(1)), 40,
                50),
  };
  EXPECT_TRUE(check(Queue{}, h).linearizable);
}

TEST(Linearizability, RejectsFifoReorder) {
  std::vector<Operation<Queue>> h = {
      op<Queue>(0, Queue::send(1), Queue::Output::of(true), 0, 1),
      op<Queue>(0, Queue::send(2), Queue::Output::of(true), 2, 3),
      op<Queue>(1, Queue::recv(), Queue::Output::of(std::optional<int>(2)), 4,
                5),
      op<Queue>(1, Queue::recv(), Queue::Output::of(std::optional<int>(1)), 6,
                7),
  };
  const CheckResult r = check(Queue{}, h);
  EXPECT_FALSE(r.linearizable);
  EXPECT_NE(r.explanation.find("recv() -> 2"), std::string::npos)
      << r.explanation;
}

TEST(Linearizability, RejectsDuplicatedElement) {
  std::vector<Operation<Queue>> h = {
      op<Queue>(0, Queue::send(1), Queue::Output::of(true), 0, 1),
      op<Queue>(1, Queue::recv(), Queue::Output::of(std::optional<int>(1)), 2,
                10),
      op<Queue>(2, Queue::try_recv(), Queue::Output::of(std::optional<int>(1)),
                3, 11),
  };
  EXPECT_FALSE(check(Queue{}, h).linearizable);
}

TEST(Linearizability, RejectsLostElement) {
  // 2 was sent, the channel closed, and a receiver saw "closed" after 1.
  std::vector<Operation<Queue>> h = {
      op<Queue>(0, Queue::send(1), Queue::Output::of(true), 0, 1),
      op<Queue>(0, Queue::send(2), Queue::Output::of(true), 2, 3),
      op<Queue>(0, Queue::close(), Queue::Output::of(true), 4, 5),
      op<Queue>(1, Queue::recv(), Queue::Output::of(std::optional<int>(1)), 6,
                7),
      op<Queue>(1, Queue::recv(), Queue::Output::of(std::optional<int>()), 8,
                9),
  };
  EXPECT_FALSE(check(Queue{}, h).linearizable);
}

TEST(Linearizability, RejectsSendAfterCloseAndBlockingRecvOfNothing) {
  std::vector<Operation<Queue>> after_close = {
      op<Queue>(0, Queue::close(), Queue::Output::of(true), 0, 1),
      op<Queue>(1, Queue::send(1), Queue::Output::of(true), 2, 3),
  };
  EXPECT_FALSE(check(Queue{}, after_close).linearizable);
  // A blocking recv cannot report "closed" on a channel never closed.
  std::vector<Operation<Queue>> phantom = {
      op<Queue>(0, Queue::recv(), Queue::Output::of(std::optional<int>()), 0,
                1),
  };
  EXPECT_FALSE(check(Queue{}, phantom).linearizable);
}

TEST(Linearizability, CapacityIsEnforced) {
  std::vector<Operation<Queue>> h = {
      op<Queue>(0, Queue::send(1), Queue::Output::of(true), 0, 1),
      op<Queue>(0, Queue::send(2), Queue::Output::of(true), 2, 3),
      op<Queue>(0, Queue::try_send(3), Queue::Output::of(false), 4, 5),
  };
  EXPECT_FALSE(check(Queue{}, h).linearizable);  // unbounded: try_send fits
  EXPECT_TRUE(check(Queue{2}, h).linearizable);
  EXPECT_FALSE(check(Queue{1}, h).linearizable);  // second send had no room
  // A blocking send may complete once a concurrent recv made room.
  std::vector<Operation<Queue>> waits = {
      op<Queue>(0, Queue::send(1), Queue::Output::of(true), 0, 1),
      op<Queue>(0, Queue::send(2), Queue::Output::of(true), 2, 20),
      op<Queue>(1, Queue::recv(), Queue::Output::of(std::optional<int>(1)), 10,
                15),
  };
  EXPECT_TRUE(check(Queue{1}, waits).linearizable);
}

// --- run time ----------------------------------------------------------

// A history of `threads` x `rounds` operations on ONE partition where, in
// every round, all threads' operations overlap (the worst case for the
// search: every permutation of a round is a candidate), and each round
// overlaps the next. Results come from a
// random sequential order of each round, so the history is linearizable.
template <class M, class Gen, class Apply>
std::vector<Operation<M>> overlapping_rounds(const M& model, int threads,
                                             int rounds, Gen&& gen,
                                             Apply&& apply, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<Operation<M>> h;
  typename M::State state = model.init();
  for (int r = 0; r < rounds; ++r) {
    std::vector<int> order(static_cast<size_t>(threads));
    for (int t = 0; t < threads; ++t) order[static_cast<size_t>(t)] = t;
    std::shuffle(order.begin(), order.end(), rng);
    for (int t : order) {
      typename M::Input in = gen(rng, state);
      typename M::Output out = apply(state, in);
      // Staggered so that late threads of a round overlap early threads of
      // the next; each thread still has one operation open at a time, as
      // in a recorded history.
      const int64_t base = int64_t{r} * 100 + int64_t{t} * 20;
      h.push_back(Operation<M>{t, in, out, base, base + 90});
    }
  }
  return h;
}

std::vector<Operation<Map>> overlapping_map_history(uint32_t seed) {
  return overlapping_rounds(
      Map{}, 4, 100,
      [](std::mt19937& rng, const Map::State&) {
        const int v = static_cast<int>(rng() % 3);
        switch (rng() % 5) {
          case 0:
            return Map::load(0);
          case 1:
            return Map::store(0, v);
          case 2:
            return Map::compare_and_swap(0, v, (v + 1) % 3);
          case 3:
            return Map::swap(0, v);
          default:
            return Map::load_and_delete(0);
        }
      },
      [](Map::State& s, const Map::Input& in) {
        const Map::Output old{s.present, s.present ? s.value : 0, true};
        switch (in.kind) {
          case Map::Kind::kLoad:
            return old;
          case Map::Kind::kStore:
            s = {true, in.value};
            return Map::Output::unchecked();
          case Map::Kind::kCompareAndSwap:
            if (s.present && s.value == in.value) {
              s = {true, in.new_value};
              return Map::Output::of(true);
            }
            return Map::Output::of(false);
          case Map::Kind::kSwap:
            s = {true, in.value};
            return old;
          default:
            s = {false, 0};
            return old;
        }
      },
      seed);
}

std::vector<Operation<Queue>> overlapping_queue_history(uint32_t seed,
                                                        int rounds = 100) {
  int next = 0;
  return overlapping_rounds(
      Queue{}, 4, rounds,
      [&next](std::mt19937& rng, const Queue::State&) {
        return rng() % 5 < 2 ? Queue::send(next++) : Queue::try_recv();
      },
      [](Queue::State& s, const Queue::Input& in) {
        if (in.kind == Queue::Kind::kSend) {
          s.items.push_back(in.value);
          return Queue::Output::of(true);
        }
        if (s.items.empty()) return Queue::Output::of(std::optional<int>());
        const int v = s.items.front();
        s.items.erase(s.items.begin());
        return Queue::Output::of(std::optional<int>(v));
      },
      seed);
}

// 4 threads x 100 operations, all on one partition, fully overlapping in
// rounds: accepted, and rejected once one result is corrupted, within a
// bounded number of steps (the time bound is loose: a shared, loaded
// machine and -O0 builds).
TEST(Linearizability, RunTimeBoundFourThreadsHundredOps) {
  const auto start = std::chrono::steady_clock::now();
  uint64_t max_steps = 0;
  const uint32_t seeds = kSanitizerSlowdown > 1 ? 1 : 5;
  for (uint32_t seed = 1; seed <= seeds; ++seed) {
    std::vector<Operation<Map>> m = overlapping_map_history(seed);
    ASSERT_EQ(m.size(), 400u);
    CheckResult r = check(Map{}, m);
    EXPECT_TRUE(r.linearizable) << r.explanation;
    max_steps = std::max(max_steps, r.steps);
    // Corrupt a late load: it reports a value no operation ever wrote.
    for (size_t i = m.size(); i-- > 0;) {
      if (m[i].input.kind == Map::Kind::kLoad) {
        m[i].output = Map::Output::of(std::optional<int>(99));
        break;
      }
    }
    r = check(Map{}, m);
    EXPECT_FALSE(r.linearizable);
    EXPECT_FALSE(r.budget_exceeded);
    max_steps = std::max(max_steps, r.steps);

    std::vector<Operation<Queue>> q = overlapping_queue_history(seed);
    CheckResult rq = check(Queue{}, q);
    EXPECT_TRUE(rq.linearizable) << rq.explanation;
    max_steps = std::max(max_steps, rq.steps);
    // Duplicate a received element: the last successful try_recv reports
    // the value of the first one. A rejected queue history is searched
    // exhaustively, and the distinct queue contents grow with the number of
    // concurrent sends still buffered (see the header), so this one is 4 x 25.
    q = overlapping_queue_history(seed, 25);
    std::optional<int> first;
    for (auto& o : q) {
      if (o.input.kind == Queue::Kind::kTryRecv && o.output.ok) {
        first = o.output.value;
        break;
      }
    }
    ASSERT_TRUE(first.has_value());
    for (size_t i = q.size(); i-- > 0;) {
      if (q[i].input.kind == Queue::Kind::kTryRecv && q[i].output.ok) {
        q[i].output.value = *first;
        break;
      }
    }
    rq = check(Queue{}, q);
    EXPECT_FALSE(rq.linearizable);
    EXPECT_FALSE(rq.budget_exceeded);
    max_steps = std::max(max_steps, rq.steps);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  EXPECT_LT(max_steps, 500'000u);
  EXPECT_LT(seconds, 5.0 * kSanitizerSlowdown)
      << 4 * seeds << " checks took " << seconds;
}

TEST(Linearizability, BudgetExceededIsReportedAsUnknown) {
  std::vector<Operation<Queue>> q = overlapping_queue_history(7);
  const CheckResult r = check(Queue{}, q, CheckOptions{.max_steps = 10});
  EXPECT_FALSE(r.linearizable);
  EXPECT_TRUE(r.budget_exceeded);
  EXPECT_NE(r.explanation.find("unknown"), std::string::npos) << r.explanation;
}

// --- recording ---------------------------------------------------------

// Four threads drive a mutex-protected std::map through History::record and
// a mutex-protected deque through invoke()/complete(); both histories check.
TEST(Linearizability, RecordedHistoriesOfALockedObjectAreLinearizable) {
  constexpr int kThreads = 4;
  constexpr int kOps = 100;
  std::mutex mu;
  std::map<int, int> map;
  std::deque<int> queue;
  History<Map> map_history(kThreads);
  History<Queue> queue_history(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(static_cast<uint32_t>(t) + 1);
      for (int i = 0; i < kOps; ++i) {
        const int k = static_cast<int>(rng() % 3);
        const int v = static_cast<int>(rng() % 4);
        if (rng() % 2 == 0) {
          map_history.record(t, Map::swap(k, v), [&] {
            std::lock_guard<std::mutex> l(mu);
            std::optional<int> old;
            if (auto it = map.find(k); it != map.end()) old = it->second;
            map[k] = v;
            return Map::Output::of(old);
          });
        } else {
          map_history.record(t, Map::load(k), [&] {
            std::lock_guard<std::mutex> l(mu);
            auto it = map.find(k);
            return Map::Output::of(it == map.end()
                                       ? std::optional<int>()
                                       : std::optional<int>(it->second));
          });
        }
        const bool send = rng() % 2 == 0;
        const int value = t * kOps + i;
        const size_t h = queue_history.invoke(
            t, send ? Queue::send(value) : Queue::try_recv());
        Queue::Output out;
        {
          std::lock_guard<std::mutex> l(mu);
          if (send) {
            queue.push_back(value);
            out = Queue::Output::of(true);
          } else if (!queue.empty()) {
            out = Queue::Output::of(std::optional<int>(queue.front()));
            queue.pop_front();
          } else {
            out = Queue::Output::of(std::optional<int>());
          }
        }
        queue_history.complete(t, h, out);
      }
    });
  }
  for (auto& th : threads) th.join();
  std::vector<Operation<Map>> mh = map_history.take();
  std::vector<Operation<Queue>> qh = queue_history.take();
  ASSERT_EQ(mh.size(), size_t{kThreads * kOps});
  ASSERT_EQ(qh.size(), size_t{kThreads * kOps});
  for (const auto& o : qh) ASSERT_LE(o.invoke_ns, o.return_ns);
  CheckResult r = check(Map{}, mh);
  EXPECT_TRUE(r.linearizable) << r.explanation;
  r = check(Queue{}, qh);
  EXPECT_TRUE(r.linearizable) << r.explanation;
  EXPECT_TRUE(map_history.take().empty());
}

}  // namespace
}  // namespace contend::testing::lin
