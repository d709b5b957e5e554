// Copyright 2026 The contend Authors.
//
// Snapshot<T> under contention: readers (through a Guard, load_shared and a
// Reader) check that every loaded value is one a writer published whole (plain
// fields, so TSan reports a missing happens-before and ASan a reclaimed value),
// and concurrent update()s lose no increment (the RCU loop's compare-and-swap).

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "sync/internal/hazard_pointer.h"
#include "sync/snapshot.h"
#include "tests/testing/stress.h"

namespace contend {
namespace {

struct Pair {
  int64_t a;
  int64_t b;                     // always 2 * a
  std::vector<int64_t> payload;  // a heap part: its reads race a free if
                                 // reclamation is early
};

TEST(SnapshotStress, ReadersSeeWholeValuesWhileWritersStore) {
  Snapshot<Pair> s(Pair{0, 0, {0}});
  testing::Watchdog watchdog(testing::current_test_name());
  testing::StressDeadline deadline;
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> loads{0};
  std::atomic<bool> torn{false};
  std::vector<std::thread> threads;
  for (int r = 0; r < 3; ++r) {
    auto& me = watchdog.slot("reader " + std::to_string(r));
    threads.emplace_back([&, r] {
      Snapshot<Pair>::Reader reader(s);
      int64_t last = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        me.set_state("load()");
        if (r == 0) {
          auto g = s.load();
          if (g->b != 2 * g->a || g->payload.at(0) != g->a) torn = true;
          if (g->a < last) torn = true;  // one writer: values only grow
          last = g->a;
        } else if (r == 2) {
          const Pair& p = reader.load();
          if (p.b != 2 * p.a || p.payload.at(0) != p.a) torn = true;
          if (p.a < last) torn = true;
          last = p.a;
        } else {
          auto sp = s.load_shared();
          if (sp->b != 2 * sp->a || sp->payload.at(0) != sp->a) torn = true;
        }
        loads.fetch_add(1, std::memory_order_relaxed);
        me.tick();
      }
      me.finish();
    });
  }
  auto& me = watchdog.slot("writer");
  int64_t i = 0;
  while (deadline.running()) {
    me.set_state("store()");
    ++i;
    if (i % 2 == 0) {
      s.store(Pair{i, 2 * i, {i}});
    } else {
      s.store(std::make_unique<Pair>(Pair{i, 2 * i, {i}}));
    }
    me.tick();
  }
  me.finish();
  stop = true;
  for (auto& t : threads) t.join();
  EXPECT_FALSE(torn.load()) << "a reader saw a value no writer published";
  EXPECT_GT(loads.load(), 0u);
  EXPECT_EQ(s.load()->a, i);
}

TEST(SnapshotStress, ConcurrentUpdatesLoseNothing) {
  Snapshot<int64_t> s(0);
  testing::Watchdog watchdog(testing::current_test_name());
  testing::StressDeadline deadline(
      testing::stress_duration(std::chrono::milliseconds(300)));
  std::atomic<int64_t> done{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    auto& me = watchdog.slot("updater " + std::to_string(t));
    threads.emplace_back([&] {
      while (deadline.running()) {
        me.set_state("update()");
        s.update([](int64_t& v) { v += 1; });
        done.fetch_add(1, std::memory_order_relaxed);
        me.tick();
      }
      me.finish();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(*s.load(), done.load()) << "an update was lost";
}

TEST(SnapshotStress, CompareAndSwapIncrementsLoseNothing) {
  Snapshot<int64_t> s(0);
  testing::Watchdog watchdog(testing::current_test_name());
  testing::StressDeadline deadline(
      testing::stress_duration(std::chrono::milliseconds(300)));
  std::atomic<int64_t> wins{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    auto& me = watchdog.slot("cas " + std::to_string(t));
    threads.emplace_back([&] {
      while (deadline.running()) {
        me.set_state("compare_and_swap()");
        auto g = s.load();
        if (s.compare_and_swap(g.get(), *g + 1)) {
          wins.fetch_add(1, std::memory_order_relaxed);
        }
        me.tick();
      }
      me.finish();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(*s.load(), wins.load()) << "two CASes won against one value";
  internal::hazard_reclaim();
}

}  // namespace
}  // namespace contend
