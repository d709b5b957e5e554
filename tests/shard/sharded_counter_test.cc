// Copyright 2026 The contend Authors.

#include "shard/sharded_counter.h"

#include <sched.h>

#include <cstdint>
#include <limits>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "shard/internal/cpu_id.h"
#include "tests/shard/pinning.h"

namespace contend {
namespace {

// The header's example, kept compiling.
namespace example {
ShardedCounter requests;
ShardedCounter in_flight;
void serve() {}
void handle() {
  requests.inc();
  auto g = in_flight.track();  // decremented however handle() exits
  serve();
}
int64_t per_scrape() { return requests.take(); }
}  // namespace example

TEST(ShardedCounterTest, HeaderExample) {
  example::handle();
  example::handle();
  EXPECT_EQ(example::in_flight.load(), 0);
  EXPECT_EQ(example::per_scrape(), 2);
  EXPECT_EQ(example::per_scrape(), 0);
}

TEST(ShardedCounterTest, StartsAtZero) {
  ShardedCounter c;
  EXPECT_EQ(c.load(), 0);
  EXPECT_EQ(c.take(), 0);
}

TEST(ShardedCounterTest, AddIncDecLoad) {
  ShardedCounter c;
  c.add(40);
  c.inc();
  c.inc();
  c.dec();
  c.add(-10);
  EXPECT_EQ(c.load(), 31);
  EXPECT_EQ(c.load(), 31);  // load does not consume
}

TEST(ShardedCounterTest, TakeReturnsSumAndResets) {
  ShardedCounter c;
  c.add(7);
  EXPECT_EQ(c.take(), 7);
  EXPECT_EQ(c.load(), 0);
  c.dec();
  EXPECT_EQ(c.take(), -1);
}

TEST(ShardedCounterTest, SlotCountIsAPowerOfTwoCoveringEveryPossibleCpu) {
  ShardedCounter c;
  const size_t n = c.slot_count();
  EXPECT_EQ(n & (n - 1), 0u);
  EXPECT_GE(n, internal::cpu_slot_count());
}

TEST(ShardedCounterTest, WrapsInsteadOfOverflowing) {
  ShardedCounter c;
  c.add(std::numeric_limits<int64_t>::max());
  c.inc();
  EXPECT_EQ(c.load(), std::numeric_limits<int64_t>::min());
}

// Updates made on different CPUs land in different slots and still sum.
TEST(ShardedCounterTest, UpdatesFromEveryCpuSum) {
  ShardedCounter c;
  std::thread t([&c] {
    int64_t expected = 0;
    for (int cpu : testing::allowed_cpus()) {
      ASSERT_TRUE(testing::pin_thread(0, cpu));
      c.add(cpu + 1);
      c.dec();  // and a decrement on the same CPU
      expected += cpu;
    }
    EXPECT_EQ(c.load(), expected);
  });
  t.join();
}

// Every source of the CPU number gives a correct counter (the thread-slot
// fallback maps threads, not CPUs, onto slots).
TEST(ShardedCounterTest, CorrectWithEveryCpuIdSource) {
  for (auto source :
       {internal::CpuIdSource::kRseq, internal::CpuIdSource::kSchedGetcpu,
        internal::CpuIdSource::kThreadSlot}) {
    if (!internal::set_cpu_id_source_for_testing(source)) continue;
    ShardedCounter c;
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&c] {
        for (int i = 0; i < 10000; ++i) c.inc();
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(c.load(), 40000) << internal::cpu_id_source_name(source);
  }
  ASSERT_TRUE(
      internal::set_cpu_id_source_for_testing(internal::CpuIdSource::kUnknown));
}

TEST(InFlightTest, CountsTheScope) {
  ShardedCounter c;
  {
    InFlight g = c.track();
    EXPECT_TRUE(g.active());
    EXPECT_EQ(c.load(), 1);
    InFlight h = c.track();
    EXPECT_EQ(c.load(), 2);
  }
  EXPECT_EQ(c.load(), 0);
}

TEST(InFlightTest, MoveTransfersTheUnit) {
  static_assert(std::is_nothrow_move_constructible_v<InFlight>);
  static_assert(std::is_nothrow_move_assignable_v<InFlight>);
  static_assert(!std::is_copy_constructible_v<InFlight>);
  static_assert(!std::is_copy_assignable_v<InFlight>);
  ShardedCounter c;
  InFlight outer;
  EXPECT_FALSE(outer.active());
  {
    InFlight g = c.track();
    InFlight moved(std::move(g));
    EXPECT_FALSE(g.active());  // NOLINT(bugprone-use-after-move): tested
    EXPECT_TRUE(moved.active());
    EXPECT_EQ(c.load(), 1);
    outer = std::move(moved);
  }
  EXPECT_EQ(c.load(), 1);  // outer still holds it
  outer.reset();
  EXPECT_EQ(c.load(), 0);
  outer.reset();  // a second reset is a no-op
  EXPECT_EQ(c.load(), 0);
}

TEST(InFlightTest, MoveAssignOverAnActiveGuardReleasesItsUnit) {
  ShardedCounter a;
  ShardedCounter b;
  InFlight g = a.track();
  InFlight h = b.track();
  g = std::move(h);
  EXPECT_EQ(a.load(), 0);
  EXPECT_EQ(b.load(), 1);
  InFlight& self = g;
  g = std::move(self);  // self-move keeps the unit
  EXPECT_EQ(b.load(), 1);
  EXPECT_TRUE(g.active());
}

// The postmortem: a handler that throws halfway. With hand-written
// inc()/dec() the counter would stay at 1000; with track() it returns to 0.
TEST(InFlightTest, ExceptionsCannotLeakTheCount) {
  ShardedCounter in_flight;
  ShardedCounter leaky;
  auto handler = [&](int i) {
    auto g = in_flight.track();
    leaky.inc();
    if (i % 2 == 0) throw std::runtime_error("upstream failed");
    leaky.dec();
  };
  int thrown = 0;
  for (int i = 0; i < 2000; ++i) {
    try {
      handler(i);
    } catch (const std::runtime_error&) {
      ++thrown;
    }
  }
  EXPECT_EQ(thrown, 1000);
  EXPECT_EQ(in_flight.load(), 0);
  EXPECT_EQ(leaky.load(), 1000);  // what the guard prevents
}

TEST(InFlightTest, GuardsAcrossThreads) {
  ShardedCounter c;
  std::vector<InFlight> held;
  for (int i = 0; i < 8; ++i) held.push_back(c.track());
  EXPECT_EQ(c.load(), 8);
  std::vector<std::thread> threads;
  for (auto& g : held) {
    threads.emplace_back([g = std::move(g)]() mutable { g.reset(); });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.load(), 0);
}

}  // namespace
}  // namespace contend
