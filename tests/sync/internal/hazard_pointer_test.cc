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
