// Copyright 2026 The contend Authors.
//
// Hazard pointers, single-threaded and small multi-threaded cases: protection
// defers the deleter, reset releases it, slots are cached per thread, thread
// exit hands retired objects on, misuse aborts.

#include "sync/internal/hazard_pointer.h"

#include <atomic>
#include <cstddef>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "sync/internal/atomic.h"

namespace contend::internal {
namespace {

// Counts live objects; the deleter decrements.
std::atomic<int> g_live{0};

struct Obj : HazardPointerObjBase<Obj> {
  explicit Obj(int v) : value(v) { g_live.fetch_add(1); }
  ~Obj() { g_live.fetch_sub(1); }
  int value;
};

struct CountingDeleter {
  int* calls;
  void operator()(int* p) const {
    ++*calls;
    delete p;
  }
};

// Drains everything this thread can reclaim (protected objects stay).
void drain() { hazard_reclaim(); }

TEST(HazardPointerTest, DefaultIsEmptyAndMakeIsNot) {
  HazardPointer empty;
  EXPECT_TRUE(empty.empty());
  HazardPointer hp = make_hazard_pointer();
  EXPECT_FALSE(hp.empty());
  HazardPointer moved = std::move(hp);
  EXPECT_TRUE(hp.empty());  // NOLINT: moved-from state is specified
  EXPECT_FALSE(moved.empty());
  moved.swap(empty);
  EXPECT_TRUE(moved.empty());
  EXPECT_FALSE(empty.empty());
}

TEST(HazardPointerTest, ProtectedObjectOutlivesRetire) {
  drain();
  const int before = g_live.load();
  Atomic<Obj*> cell{new Obj(7)};
  HazardPointer hp = make_hazard_pointer();
  Obj* p = hp.protect(cell);
  ASSERT_NE(p, nullptr);
  Obj* old = cell.exchange(new Obj(8), std::memory_order_acq_rel);
  ASSERT_EQ(old, p);
  old->retire();
  drain();
  EXPECT_EQ(g_live.load(), before + 2) << "a protected object was reclaimed";
  EXPECT_EQ(p->value, 7);
  hp.reset_protection();
  drain();
  EXPECT_EQ(g_live.load(), before + 1);
  cell.load(std::memory_order_relaxed)->retire();
  drain();
  EXPECT_EQ(g_live.load(), before);
}

TEST(HazardPointerTest, TryProtectFailsWhenSourceMoved) {
  int a = 1;
  int b = 2;
  Atomic<int*> cell{&b};
  HazardPointer hp = make_hazard_pointer();
  int* guess = &a;
  EXPECT_FALSE(hp.try_protect(guess, cell));
  EXPECT_EQ(guess, &b) << "try_protect reports the current value";
  EXPECT_TRUE(hp.try_protect(guess, cell));
}

TEST(HazardPointerTest, RetireWithDeleterRunsItOnce) {
  drain();
  int calls = 0;
  auto* p = new int(5);
  hazard_retire(p, CountingDeleter{&calls});
  drain();
  EXPECT_EQ(calls, 1);
  drain();
  EXPECT_EQ(calls, 1);
}

TEST(HazardPointerTest, ResetProtectionToAnotherPointerMovesThePin) {
  drain();
  int calls = 0;
  auto* p = new int(1);
  auto* q = new int(2);
  HazardPointer hp = make_hazard_pointer();
  hp.reset_protection(p);
  hazard_retire(p, CountingDeleter{&calls});
  drain();
  EXPECT_EQ(calls, 0);
  hp.reset_protection(q);
  drain();
  EXPECT_EQ(calls, 1);
  hazard_retire(q, CountingDeleter{&calls});
  drain();
  EXPECT_EQ(calls, 1) << "q is still protected";
  hp = HazardPointer();  // releases the slot
  drain();
  EXPECT_EQ(calls, 2);
}

TEST(HazardPointerTest, SlotsAreCachedPerThread) {
  { HazardPointer warm = make_hazard_pointer(); }
  const std::size_t records = hazard_record_count();
  for (int i = 0; i < 1000; ++i) {
    HazardPointer hp = make_hazard_pointer();
    HazardPointer hp2 = make_hazard_pointer();
  }
  EXPECT_LE(hazard_record_count(), records + 1)
      << "make/destroy must reuse the thread's cached records";
}

TEST(HazardPointerTest, ScanRunsOnItsOwnAtTheThreshold) {
  drain();
  int calls = 0;
  const std::size_t r = hazard_retire_threshold();
  for (std::size_t i = 0; i < r; ++i) {
    hazard_retire(new int(0), CountingDeleter{&calls});
  }
  EXPECT_EQ(static_cast<std::size_t>(calls), r)
      << "the R-th retire scans and frees the unprotected batch";
}

TEST(HazardPointerTest, ThreadExitHandsRetiredObjectsOn) {
  drain();
  int calls = 0;
  std::thread t([&] {
    HazardPointer hp = make_hazard_pointer();
    hazard_retire(new int(3), CountingDeleter{&calls});
  });
  t.join();
  EXPECT_EQ(calls, 0) << "nothing scanned yet";
  EXPECT_GE(hazard_unreclaimed(), 1u);
  drain();  // adopts the exited thread's list
  EXPECT_EQ(calls, 1);
}

TEST(HazardPointerTest, ThreadExitReleasesSlotsForReuse) {
  std::thread([] { HazardPointer hp = make_hazard_pointer(); }).join();
  const std::size_t records = hazard_record_count();
  for (int i = 0; i < 4; ++i) {
    std::thread([] { HazardPointer hp = make_hazard_pointer(); }).join();
  }
  EXPECT_EQ(hazard_record_count(), records)
      << "an exited thread's records are free for the next thread";
}

TEST(HazardPointerTest, RetireFromADeleterIsDeferredNotRecursive) {
  drain();
  int inner_calls = 0;
  struct Outer {
    int* inner_calls;
  };
  auto* outer = new Outer{&inner_calls};
  hazard_retire(outer, [](Outer* o) {
    hazard_retire(new int(1), CountingDeleter{o->inner_calls});
    delete o;
  });
  drain();
  EXPECT_EQ(inner_calls, 0);
  drain();
  EXPECT_EQ(inner_calls, 1);
}

// Retires what `cell` holds and publishes a fresh Obj(v).
void replace(Atomic<Obj*>& cell, int v) {
  cell.exchange(new Obj(v), std::memory_order_acq_rel)->retire();
}

TEST(HazardHoldTest, ProtectsUntilItEndsThenTheStickySlotPinsTheValue) {
  hazard_release_sticky();
  drain();
  const int before = g_live.load();
  Atomic<Obj*> cell{new Obj(1)};
  {
    HazardHold h;
    EXPECT_TRUE(h.empty());
    Obj* p = h.protect(cell);
    ASSERT_NE(p, nullptr);
    EXPECT_FALSE(h.empty());
    EXPECT_EQ(h.get(), p);
    replace(cell, 2);
    drain();
    EXPECT_EQ(p->value, 1) << "a live hold defers the deleter";
    EXPECT_EQ(g_live.load(), before + 2);
  }
  drain();
  EXPECT_EQ(g_live.load(), before + 2)
      << "the sticky slot goes on protecting the last value after the hold";
  {
    HazardHold h;
    EXPECT_EQ(h.protect(cell)->value, 2);
  }
  drain();
  EXPECT_EQ(g_live.load(), before + 1)
      << "a hold of another pointer moves the sticky slot off the old one";
  hazard_release_sticky();
  replace(cell, 3);
  drain();
  EXPECT_EQ(g_live.load(), before + 1) << "hazard_release_sticky unpins";
  cell.load(std::memory_order_relaxed)->retire();
  drain();
  EXPECT_EQ(g_live.load(), before);
}

TEST(HazardHoldTest, ReprotectingAnUnchangedSourceReusesTheStickySlot) {
  Atomic<Obj*> cell{new Obj(1)};
  const std::size_t records = hazard_record_count();
  for (int i = 0; i < 1000; ++i) {
    HazardHold h;
    ASSERT_EQ(h.protect(cell)->value, 1);
  }
  EXPECT_EQ(hazard_record_count(), records) << "no record per hold";
  hazard_release_sticky();
  cell.load(std::memory_order_relaxed)->retire();
  drain();
}

TEST(HazardHoldTest, NestedHoldsEachKeepTheirValue) {
  hazard_release_sticky();
  drain();
  const int before = g_live.load();
  Atomic<Obj*> cell{new Obj(1)};
  {
    HazardHold outer;
    Obj* a = outer.protect(cell);  // the sticky record
    replace(cell, 2);
    {
      HazardHold inner;
      Obj* b = inner.protect(cell);  // the sticky record is held: its own
      EXPECT_EQ(b->value, 2);
      replace(cell, 3);
      drain();
      EXPECT_EQ(a->value, 1);
      EXPECT_EQ(b->value, 2);
      EXPECT_EQ(g_live.load(), before + 3);
    }
    drain();
    EXPECT_EQ(g_live.load(), before + 2) << "the inner hold released Obj(2)";
    EXPECT_EQ(a->value, 1);
    // Moving a hold keeps its protection; the moved-from one is empty.
    HazardHold moved = std::move(outer);
    EXPECT_TRUE(outer.empty());  // NOLINT: moved-from state is specified
    drain();
    EXPECT_EQ(static_cast<const Obj*>(moved.get())->value, 1);
    moved.reset();
    EXPECT_TRUE(moved.empty());
  }
  hazard_release_sticky();
  drain();
  EXPECT_EQ(g_live.load(), before + 1);
  cell.load(std::memory_order_relaxed)->retire();
  drain();
  EXPECT_EQ(g_live.load(), before);
}

TEST(HazardHoldTest, NullSourceGivesAnEmptyHold) {
  Atomic<Obj*> cell{nullptr};
  HazardHold h;
  EXPECT_EQ(h.protect(cell), nullptr);
  EXPECT_TRUE(h.empty());
}

TEST(HazardHoldTest, ThreadExitReleasesTheStickyRecord) {
  Atomic<Obj*> cell{new Obj(1)};
  const int before = g_live.load();
  std::thread t([&] {
    HazardHold h;
    EXPECT_EQ(h.protect(cell)->value, 1);
  });
  t.join();
  // The exited thread's sticky slot no longer pins Obj(1). Its exit hook
  // runs after join() returns, so retry the scan until then.
  replace(cell, 2);
  for (int i = 0; i < 100000 && g_live.load() != before; ++i) {
    drain();
    std::this_thread::yield();
  }
  EXPECT_EQ(g_live.load(), before);
  cell.load(std::memory_order_relaxed)->retire();
  drain();
}

TEST(HazardHoldDeathTest, ReleaseOnAnotherThreadAborts) {
  Atomic<Obj*> cell{new Obj(1)};
  EXPECT_DEATH(
      {
        HazardHold h;
        (void)h.protect(cell);
        std::thread([h = std::move(h)]() mutable { h.reset(); }).join();
      },
      "contend: Snapshot::Guard: released on another thread than its "
      "load\\(\\)");
  // Only the forked child protected it; this process may delete it.
  delete cell.load(std::memory_order_relaxed);
}

TEST(HazardPointerDeathTest, ProtectOnEmptyAborts) {
  Atomic<int*> cell{nullptr};
  EXPECT_DEATH(
      {
        HazardPointer hp;
        (void)hp.protect(cell);
      },
      "contend: HazardPointer::protect: empty hazard pointer");
}

}  // namespace
}  // namespace contend::internal
