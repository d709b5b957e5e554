// Copyright 2026 The contend Authors.
//
// Snapshot<T>: the header contract, case by case, and the header's example.

#include "sync/snapshot.h"

#include <memory>
#include <string>
#include <thread>
#include <utility>

#include "gtest/gtest.h"
#include "sync/internal/hazard_pointer.h"

namespace contend {
namespace {

struct Config {
  int limit = 0;
  std::string name;
};

// Counts live values, to see when a replaced value is destroyed.
struct Tracked {
  static inline int live = 0;
  explicit Tracked(int v) : value(v) { ++live; }
  Tracked(const Tracked& o) : value(o.value) { ++live; }
  ~Tracked() { --live; }
  int value;
};

static_assert(sizeof(Snapshot<Config>) == sizeof(void*));

TEST(SnapshotTest, HeaderExample) {
  contend::Snapshot<Config> config(Config{.limit = 10, .name = ""});
  {
    auto cfg = config.load();
    EXPECT_EQ(cfg->limit, 10);
  }
  config.update([](Config& c) { c.limit = 20; });
  EXPECT_EQ(config.load()->limit, 20);
}

TEST(SnapshotTest, StoreIsSeenByLaterLoads) {
  Snapshot<Config> s(Config{1, "a"});
  s.store(Config{2, "b"});
  auto g = s.load();
  EXPECT_EQ(g->limit, 2);
  EXPECT_EQ((*g).name, "b");
  s.store(std::make_unique<Config>(Config{3, "c"}));
  EXPECT_EQ(s.load()->limit, 3);
  EXPECT_EQ(g->limit, 2) << "a Guard keeps its value, not the cell's";
}

TEST(SnapshotTest, GuardKeepsReplacedValueAlive) {
  internal::hazard_reclaim();
  const int before = Tracked::live;
  {
    Snapshot<Tracked> s(Tracked(1));
    auto g = s.load();
    s.store(Tracked(2));
    internal::hazard_reclaim();
    EXPECT_EQ(g->value, 1);
    EXPECT_EQ(Tracked::live, before + 2);
  }
  internal::hazard_reclaim();
  EXPECT_EQ(Tracked::live, before + 1)
      << "this thread's last loaded value stays pinned after its Guard";
  internal::hazard_release_sticky();
  internal::hazard_reclaim();
  EXPECT_EQ(Tracked::live, before) << "replaced values are reclaimed";
}

TEST(SnapshotTest, AThreadPinsOnlyTheLastValueItLoaded) {
  internal::hazard_release_sticky();
  internal::hazard_reclaim();
  const int before = Tracked::live;
  Snapshot<Tracked> s(Tracked(1));
  EXPECT_EQ(s.load()->value, 1);  // the Guard ends here
  s.store(Tracked(2));
  internal::hazard_reclaim();
  EXPECT_EQ(Tracked::live, before + 2) << "Tracked(1) is still pinned";
  EXPECT_EQ(s.load()->value, 2);
  internal::hazard_reclaim();
  EXPECT_EQ(Tracked::live, before + 1)
      << "loading another value unpinned Tracked(1)";
}

TEST(SnapshotTest, AGuardOnTheUnchangedLastValueKeepsItAlive) {
  internal::hazard_release_sticky();
  internal::hazard_reclaim();
  const int before = Tracked::live;
  Snapshot<Tracked> s(Tracked(1));
  EXPECT_EQ(s.load()->value, 1);
  {
    auto g = s.load();  // the same value again: no slot store
    s.store(Tracked(2));
    internal::hazard_reclaim();
    EXPECT_EQ(Tracked::live, before + 2) << "g keeps Tracked(1) alive";
    EXPECT_EQ(g->value, 1);
  }
  EXPECT_EQ(s.load()->value, 2);
  internal::hazard_reclaim();
  EXPECT_EQ(Tracked::live, before + 1);
}

TEST(SnapshotTest, NestedGuardsKeepTheirOwnValues) {
  internal::hazard_release_sticky();
  internal::hazard_reclaim();
  const int before = Tracked::live;
  {
    Snapshot<Tracked> s(Tracked(1));
    auto a = s.load();
    s.store(Tracked(2));
    auto b = s.load();
    s.store(std::make_unique<Tracked>(3));
    auto c = s.load();
    internal::hazard_reclaim();
    EXPECT_EQ(a->value, 1);
    EXPECT_EQ(b->value, 2);
    EXPECT_EQ(c->value, 3);
    EXPECT_EQ(Tracked::live, before + 3);
    b = std::move(c);  // ends b's protection of Tracked(2)
    internal::hazard_reclaim();
    EXPECT_EQ(Tracked::live, before + 2);
    EXPECT_EQ(a->value, 1);
    EXPECT_EQ(b->value, 3);
  }
  internal::hazard_release_sticky();
  internal::hazard_reclaim();
  EXPECT_EQ(Tracked::live, before);
}

TEST(SnapshotTest, GuardOutlivesTheSnapshot) {
  internal::hazard_reclaim();
  const int before = Tracked::live;
  auto s = std::make_unique<Snapshot<Tracked>>(Tracked(5));
  auto g = s->load();
  s.reset();
  internal::hazard_reclaim();
  EXPECT_EQ(g->value, 5);
  g = Snapshot<Tracked>(Tracked(6)).load();  // the old guard ends here
  internal::hazard_release_sticky();         // ... and the pin it leaves behind
  internal::hazard_reclaim();
  EXPECT_EQ(g->value, 6);
  EXPECT_EQ(Tracked::live, before + 1);
}

TEST(SnapshotTest, LoadSharedOutlivesReclamation) {
  internal::hazard_reclaim();
  Snapshot<Tracked> s(Tracked(1));
  std::shared_ptr<const Tracked> held = s.load_shared();
  for (int i = 0; i < 200; ++i) s.store(Tracked(i + 2));  // > one scan batch
  internal::hazard_reclaim();
  EXPECT_EQ(held->value, 1);
  EXPECT_EQ(s.load_shared()->value, 201);
}

TEST(SnapshotTest, LoadSharedOfAUniquePtrValueOutlivesReclamation) {
  internal::hazard_reclaim();
  auto first = std::make_unique<Tracked>(1);
  const Tracked* address = first.get();
  Snapshot<Tracked> s(std::move(first));
  EXPECT_EQ(s.load().get(), address) << "the object keeps its address";
  std::shared_ptr<const Tracked> held = s.load_shared();
  EXPECT_EQ(held.get(), address);
  for (int i = 0; i < 200; ++i) s.store(Tracked(i + 2));
  internal::hazard_reclaim();
  EXPECT_EQ(held->value, 1);
}

TEST(SnapshotTest, CompareAndSwapSucceedsOnlyAgainstTheCurrentValue) {
  Snapshot<Config> s(Config{1, ""});
  auto g = s.load();
  EXPECT_TRUE(s.compare_and_swap(g.get(), Config{2, ""}));
  EXPECT_EQ(s.load()->limit, 2);
  EXPECT_FALSE(s.compare_and_swap(g.get(), Config{3, ""}))
      << "the value at g was replaced";
  EXPECT_EQ(s.load()->limit, 2);
  auto g2 = s.load();
  EXPECT_TRUE(
      s.compare_and_swap(g2.get(), std::make_unique<Config>(Config{4, ""})));
  EXPECT_EQ(s.load()->limit, 4);
}

TEST(SnapshotTest, UpdateRetriesWithAFreshCopy) {
  Snapshot<int> s(0);
  int runs = 0;
  // A write lands between f's copy and its CAS on the first run only.
  s.update([&](int& v) {
    if (++runs == 1) s.store(100);
    v += 1;
  });
  EXPECT_EQ(runs, 2) << "the conflicting store forces one retry";
  EXPECT_EQ(*s.load(), 101) << "f ran on the value the store published";
}

TEST(SnapshotTest, LoadsFromManyThreads) {
  Snapshot<int> s(7);
  std::thread t([&] { EXPECT_EQ(*s.load(), 7); });
  t.join();
}

TEST(SnapshotTest, ReaderSeesEveryStoreAndPinsOnlyItsLastValue) {
  internal::hazard_reclaim();
  const int before = Tracked::live;
  {
    Snapshot<Tracked> s(Tracked(1));
    Snapshot<Tracked>::Reader r(s);
    const Tracked& first = r.load();
    EXPECT_EQ(first.value, 1);
    s.store(Tracked(2));
    internal::hazard_reclaim();
    EXPECT_EQ(first.value, 1) << "the last loaded value stays valid";
    EXPECT_EQ(Tracked::live, before + 2);
    EXPECT_EQ(r.load().value, 2);
    internal::hazard_reclaim();
    EXPECT_EQ(Tracked::live, before + 1)
        << "the next load() released the value loaded before";
    r.reset();
    s.store(Tracked(3));
    internal::hazard_reclaim();
    EXPECT_EQ(Tracked::live, before + 1) << "reset() released the last value";
  }
  internal::hazard_reclaim();
  EXPECT_EQ(Tracked::live, before);
}

TEST(SnapshotTest, ReaderValueOutlivesTheSnapshotAndMovesWithTheReader) {
  internal::hazard_reclaim();
  const int before = Tracked::live;
  auto s = std::make_unique<Snapshot<Tracked>>(Tracked(5));
  Snapshot<Tracked>::Reader r(*s);
  const Tracked& v = r.load();
  Snapshot<Tracked>::Reader moved(std::move(r));
  s.reset();
  internal::hazard_reclaim();
  EXPECT_EQ(v.value, 5) << "the moved-to Reader holds the protection";
  EXPECT_EQ(Tracked::live, before + 1);
  moved.reset();
  internal::hazard_reclaim();
  EXPECT_EQ(Tracked::live, before);
}

TEST(SnapshotTest, ReadersOnManyThreads) {
  Snapshot<int> s(7);
  std::thread t([&] {
    Snapshot<int>::Reader r(s);
    EXPECT_EQ(r.load(), 7);
  });
  t.join();
  Snapshot<int>::Reader r(s);
  EXPECT_EQ(r.load(), 7);
}

TEST(SnapshotDeathTest, MovedFromReaderAborts) {
  Snapshot<int> s(1);
  Snapshot<int>::Reader r(s);
  Snapshot<int>::Reader other(std::move(r));
  EXPECT_EQ(other.load(), 1);
  // NOLINTNEXTLINE(bugprone-use-after-move): the misuse under test.
  EXPECT_DEATH((void)r.load(),
               "contend: Snapshot::Reader::load: moved-from Reader");
}

TEST(SnapshotDeathTest, GuardReleasedOnAnotherThreadAborts) {
  Snapshot<int> s(1);
  EXPECT_DEATH(
      {
        auto g = s.load();
        std::thread([g = std::move(g)]() { EXPECT_EQ(*g, 1); }).join();
      },
      "contend: Snapshot::Guard: released on another thread than its "
      "load\\(\\) \\(use load_shared\\(\\) to hand a value to another "
      "thread\\)");
}

TEST(SnapshotTest, AGuardMayVisitAnotherThreadAndComeBack) {
  Snapshot<int> s(1);
  auto g = s.load();
  std::thread([&g] {
    auto visiting = std::move(g);
    EXPECT_EQ(*visiting, 1);
    g = std::move(visiting);  // g's empty state ends nothing here
  }).join();
  EXPECT_EQ(*g, 1);
}

TEST(SnapshotDeathTest, NullUniquePtrAborts) {
  Snapshot<int> s(1);
  EXPECT_DEATH(s.store(std::unique_ptr<int>()),
               "contend: Snapshot::store: null value");
  EXPECT_DEATH((void)s.compare_and_swap(s.load().get(), std::unique_ptr<int>()),
               "contend: Snapshot::compare_and_swap: null value");
  EXPECT_DEATH(Snapshot<int>(std::unique_ptr<int>()),
               "contend: Snapshot::Snapshot: null value");
}

}  // namespace
}  // namespace contend
