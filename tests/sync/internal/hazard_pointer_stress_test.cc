// Copyright 2026 The contend Authors.
//
// Hazard pointers under contention: readers protect and read while writers
// swap and retire as fast as they can. Checked: no reader ever sees a
// reclaimed object (a poisoned field; ASan also reports the use after free),
// and the bounded-garbage bound INV-BOUND (sync/internal/hazard_pointer.h)
// holds at every retire, even with readers that sit on guards for the whole
// run (the stalled reader that epochs cannot survive).

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "sync/internal/atomic.h"
#include "sync/internal/hazard_pointer.h"
#include "tests/testing/stress.h"

namespace contend::internal {
namespace {

constexpr uint64_t kAlive = 0xA11FE;
constexpr uint64_t kDead = 0xDEAD;

std::atomic<int64_t> g_live{0};

struct Obj : HazardPointerObjBase<Obj> {
  explicit Obj(uint64_t s) : seq(s) { g_live.fetch_add(1); }
  ~Obj() {
    magic = kDead;
    g_live.fetch_sub(1);
  }
  uint64_t magic = kAlive;
  uint64_t seq;
};

struct Result {
  int64_t max_unreclaimed = 0;
  int64_t max_bound = 0;
  uint64_t swaps = 0;
  bool bound_broken = false;
};

// `writers` threads swap and retire flat out; `readers` protect, check and
// release in a loop; `sitters` take a guard each and hold it for the whole
// run (re-protecting now and then, so they pin changing objects).
Result run(int writers, int readers, int sitters) {
  hazard_reclaim();
  const int64_t live_before = g_live.load();
  Atomic<Obj*> cell{new Obj(0)};
  testing::Watchdog watchdog(testing::current_test_name());
  testing::StressDeadline deadline(
      testing::stress_duration(std::chrono::milliseconds(400)));
  std::atomic<bool> stop{false};
  std::atomic<bool> bad_read{false};
  std::atomic<uint64_t> swaps{0};
  std::atomic<int64_t> max_unreclaimed{0};
  std::atomic<int64_t> max_bound{0};
  std::atomic<bool> bound_broken{false};
  std::vector<std::thread> threads;
  for (int r = 0; r < readers; ++r) {
    auto& me = watchdog.slot("reader " + std::to_string(r));
    threads.emplace_back([&] {
      while (!stop.load(std::memory_order_relaxed)) {
        me.set_state("protect");
        HazardPointer hp = make_hazard_pointer();
        Obj* p = hp.protect(cell);
        if (p->magic != kAlive) bad_read.store(true);
        me.tick();
      }
      me.finish();
    });
  }
  for (int s = 0; s < sitters; ++s) {
    auto& me = watchdog.slot("sitter " + std::to_string(s));
    threads.emplace_back([&] {
      HazardPointer a = make_hazard_pointer();
      HazardPointer b = make_hazard_pointer();
      Obj* pa = a.protect(cell);
      Obj* pb = b.protect(cell);
      uint64_t n = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        me.set_state("sit");
        if (pa->magic != kAlive || pb->magic != kAlive) bad_read.store(true);
        if (++n % 4096 == 0) pb = b.protect(cell);  // a pins forever
        std::this_thread::yield();
        me.tick();
      }
      me.finish();
    });
  }
  // Each writer checks INV-BOUND after every retire. Only writers retire,
  // so unreclaimed <= R per writer (plus the objects in the cell).
  for (int w = 0; w < writers; ++w) {
    auto& me = watchdog.slot("writer " + std::to_string(w));
    threads.emplace_back([&, w] {
      uint64_t seq = static_cast<uint64_t>(w) << 48;
      while (deadline.running()) {
        me.set_state("swap+retire");
        Obj* old = cell.exchange(new Obj(++seq), std::memory_order_acq_rel);
        old->retire();
        const int64_t unreclaimed = g_live.load() - live_before - 1;
        const auto bound = static_cast<int64_t>(
            static_cast<std::size_t>(writers) * hazard_retire_threshold());
        int64_t m = max_unreclaimed.load();
        while (unreclaimed > m &&
               !max_unreclaimed.compare_exchange_weak(m, unreclaimed)) {
        }
        int64_t b = max_bound.load();
        while (bound > b && !max_bound.compare_exchange_weak(b, bound)) {
        }
        if (unreclaimed > bound) bound_broken.store(true);
        swaps.fetch_add(1, std::memory_order_relaxed);
        me.tick();
      }
      me.finish();
    });
  }
  // The writers are the last `writers` threads; they stop at the deadline.
  for (int w = 0; w < writers; ++w) {
    threads[static_cast<std::size_t>(readers + sitters + w)].join();
  }
  stop.store(true);
  for (int i = 0; i < readers + sitters; ++i) {
    threads[static_cast<std::size_t>(i)].join();
  }
  EXPECT_FALSE(bad_read.load()) << "a reader saw a reclaimed object";
  cell.load(std::memory_order_relaxed)->retire();
  hazard_reclaim();
  Result res;
  res.max_unreclaimed = max_unreclaimed.load();
  res.max_bound = max_bound.load();
  res.swaps = swaps.load();
  res.bound_broken = bound_broken.load();
  std::printf(
      "writers=%d readers=%d sitters=%d swaps=%llu max unreclaimed=%lld "
      "bound=%lld (H=%zu)\n",
      writers, readers, sitters, static_cast<unsigned long long>(res.swaps),
      static_cast<long long>(res.max_unreclaimed),
      static_cast<long long>(res.max_bound), hazard_record_count());
  return res;
}

TEST(HazardPointerStress, OneWriterReadersAndSittersStayWithinTheBound) {
  const Result r = run(/*writers=*/1, /*readers=*/2, /*sitters=*/2);
  EXPECT_FALSE(r.bound_broken) << "max " << r.max_unreclaimed << " > bound";
  EXPECT_GT(r.swaps, static_cast<uint64_t>(4 * r.max_bound))
      << "too few swaps to exercise reclamation";
  // Sitters pin objects: their slots must not stop the rest from going.
  EXPECT_LE(r.max_unreclaimed, r.max_bound);
}

TEST(HazardPointerStress, TwoWritersStayWithinTwiceTheBound) {
  const Result r = run(/*writers=*/2, /*readers=*/2, /*sitters=*/1);
  EXPECT_FALSE(r.bound_broken) << "max " << r.max_unreclaimed << " > bound";
}

TEST(HazardPointerStress, EverythingIsReclaimedOnceGuardsAreGone) {
  hazard_reclaim();
  (void)run(1, 1, 1);
  // Writers exited: their lists were handed on; one scan adopts them all.
  hazard_reclaim();
  EXPECT_EQ(g_live.load(), 0) << "objects leaked after every guard ended";
  EXPECT_EQ(hazard_unreclaimed(), 0u);
}

}  // namespace
}  // namespace contend::internal
