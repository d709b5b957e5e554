// Copyright 2026 The contend Authors.

#include "shard/striped_map.h"

#include <atomic>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "sync/internal/wait_observer.h"
#include "sync/mutex.h"
#include "sync/rw_mutex.h"
#include "tests/testing/wait.h"

namespace contend {

class StripedMapTestPeer {
 public:
  template <class M>
  static const void* shard_lock(const M& m, size_t i) {
    return &m.shards_[i].mu;
  }
};

namespace {

using IntMap = StripedMap<int, int>;

TEST(StripedMapTest, ExampleFromTheHeader) {
  contend::StripedMap<std::string, int> hits({.label = "hits"});
  hits.compute("/index", [](std::optional<int>& n) { n = n.value_or(0) + 1; });
  std::optional<int> n = hits.load("/index");  // 1
  EXPECT_EQ(n, 1);
}

TEST(StripedMapTest, EveryVerb) {
  IntMap m;
  EXPECT_EQ(m.load(1), std::nullopt);
  m.store(1, 10);
  EXPECT_EQ(m.load(1), 10);
  m.store(1, 11);
  EXPECT_EQ(m.load(1), 11);
  EXPECT_EQ(m.load_or_store(1, 12), std::make_pair(11, true));
  EXPECT_EQ(m.load_or_store(2, 20), std::make_pair(20, false));
  EXPECT_EQ(m.swap(1, 13), 11);
  EXPECT_EQ(m.swap(3, 30), std::nullopt);
  EXPECT_EQ(m.load(3), 30);
  EXPECT_FALSE(m.compare_and_swap(1, 11, 14));
  EXPECT_EQ(m.load(1), 13);
  EXPECT_TRUE(m.compare_and_swap(1, 13, 14));
  EXPECT_EQ(m.load(1), 14);
  EXPECT_FALSE(m.compare_and_swap(9, 0, 1));
  EXPECT_EQ(m.load(9), std::nullopt);
  EXPECT_FALSE(m.compare_and_delete(1, 13));
  EXPECT_TRUE(m.compare_and_delete(1, 14));
  EXPECT_EQ(m.load(1), std::nullopt);
  EXPECT_EQ(m.load_and_delete(2), 20);
  EXPECT_EQ(m.load_and_delete(2), std::nullopt);
  EXPECT_EQ(m.size(), 1u);
  EXPECT_TRUE(m.erase(3));
  EXPECT_FALSE(m.erase(3));
  EXPECT_EQ(m.size(), 0u);
}

TEST(StripedMapTest, StringKeysAndValues) {
  StripedMap<std::string, std::string> m({.shards = 4});
  m.store("a", "x");
  EXPECT_EQ(m.load_or_store("a", "y"), std::make_pair(std::string("x"), true));
  EXPECT_EQ(m.swap("a", "z"), "x");
  EXPECT_TRUE(m.compare_and_swap("a", "z", "w"));
  EXPECT_EQ(m.load("a"), "w");
}

TEST(StripedMapTest, ShardCountIsAPowerOfTwo) {
  IntMap d;
  EXPECT_GE(d.shard_count(), 16u);
  EXPECT_LE(d.shard_count(), 1024u);
  EXPECT_EQ(d.shard_count() & (d.shard_count() - 1), 0u);
  EXPECT_EQ(IntMap({.shards = 100}).shard_count(), 128u);
  EXPECT_EQ(IntMap({.shards = 256}).shard_count(), 256u);
  IntMap one({.shards = 1});
  EXPECT_EQ(one.shard_count(), 1u);
  for (int k = 0; k < 100; ++k) one.store(k, k);
  EXPECT_EQ(one.size(), 100u);
  EXPECT_EQ(one.shard_of(42), 0u);
}

TEST(StripedMapTest, WeakHashStillSpreadsOverShards) {
  // std::hash<int> is the identity: the shard index must not come from its
  // (all-zero) top bits.
  StripedMap<int, int, std::hash<int>> m({.shards = 16});
  std::set<size_t> used;
  for (int k = 0; k < 256; ++k) used.insert(m.shard_of(k));
  EXPECT_EQ(used.size(), 16u);
  m.store(7, 70);
  EXPECT_EQ(m.load(7), 70);
}

TEST(StripedMapTest, UpdateComputeLoadOrCompute) {
  IntMap m;
  EXPECT_FALSE(m.update(1, [](int& v) { v = 100; }));
  EXPECT_EQ(m.load(1), std::nullopt);
  m.store(1, 1);
  EXPECT_TRUE(m.update(1, [](int& v) { v += 1; }));
  EXPECT_EQ(m.load(1), 2);

  // compute: insert, change, erase, and its result.
  EXPECT_EQ(m.compute(5,
                      [](std::optional<int>& v) {
                        EXPECT_FALSE(v.has_value());
                        v = 50;
                        return 7;
                      }),
            7);
  EXPECT_EQ(m.load(5), 50);
  m.compute(5, [](std::optional<int>& v) { *v += 1; });
  EXPECT_EQ(m.load(5), 51);
  EXPECT_TRUE(m.compute(5, [](std::optional<int>& v) {
    v.reset();
    return true;
  }));
  EXPECT_EQ(m.load(5), std::nullopt);
  m.compute(6, [](std::optional<int>&) {});  // absent stays absent
  EXPECT_EQ(m.load(6), std::nullopt);

  int made = 0;
  EXPECT_EQ(m.load_or_compute(8, [&] { return ++made * 80; }),
            std::make_pair(80, false));
  EXPECT_EQ(m.load_or_compute(8, [&] { return ++made * 80; }),
            std::make_pair(80, true));
  EXPECT_EQ(made, 1);
}

TEST(StripedMapTest, RangeVisitsEachEntryOnceAndStops) {
  IntMap m({.shards = 8});
  for (int k = 0; k < 1000; ++k) m.store(k, k * 2);
  std::set<int> seen;
  m.range([&](const int& k, const int& v) {
    EXPECT_EQ(v, k * 2);
    EXPECT_TRUE(seen.insert(k).second) << "visited twice: " << k;
    return true;
  });
  EXPECT_EQ(seen.size(), 1000u);
  int visits = 0;
  m.range([&](const int&, const int&) { return ++visits < 10; });
  EXPECT_EQ(visits, 10);
  m.clear();
  EXPECT_EQ(m.size(), 0u);
  m.range([](const int&, const int&) {
    ADD_FAILURE() << "range over an empty map called f";
    return true;
  });
}

// Entries present for the whole range are visited exactly once while
// another thread inserts and erases other keys.
TEST(StripedMapTest, RangeIsNotASnapshotButSeesStableEntriesOnce) {
  IntMap m({.shards = 16});
  for (int k = 0; k < 500; ++k) m.store(k, k);
  std::atomic<bool> stop{false};
  std::thread churn([&] {
    int i = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      const int k = 1000 + (i++ % 500);
      m.store(k, k);
      m.erase(k - 250 < 1000 ? k + 250 : k - 250);
    }
  });
  for (int round = 0; round < 20; ++round) {
    std::vector<int> count(1500, 0);
    m.range([&](const int& k, const int&) {
      ++count[static_cast<size_t>(k)];
      return true;
    });
    for (int k = 0; k < 500; ++k) {
      ASSERT_EQ(count[static_cast<size_t>(k)], 1) << "stable key " << k;
    }
    for (int k = 1000; k < 1500; ++k)
      ASSERT_LE(count[static_cast<size_t>(k)], 1);
  }
  stop.store(true, std::memory_order_relaxed);
  churn.join();
}

TEST(StripedMapTest, CallbacksMayUseAnotherMap) {
  IntMap a, b;
  a.store(1, 1);
  EXPECT_TRUE(a.update(1, [&](int& v) {
    b.store(1, v);
    v = b.load(1).value_or(0) + 1;
  }));
  EXPECT_EQ(a.load(1), 2);
  EXPECT_EQ(b.load(1), 1);
  // And a callback of b may use a while no callback of a is running.
  b.compute(2, [&](std::optional<int>& v) { v = a.load(1); });
  EXPECT_EQ(b.load(2), 2);
}

TEST(StripedMapTest, ShardLocksCarryTheLabel) {
  IntMap labeled({.shards = 4, .label = "striped_map_test.sessions"});
  for (size_t i = 0; i < labeled.shard_count(); ++i) {
    EXPECT_STREQ(
        internal::wait_label(StripedMapTestPeer::shard_lock(labeled, i)),
        "striped_map_test.sessions");
  }
  IntMap plain({.shards = 4});
  EXPECT_EQ(internal::wait_label(StripedMapTestPeer::shard_lock(plain, 0)),
            nullptr);
  // RWMutex shard locks carry it too (RWMutex's labeled constructor).
  StripedMap<int, int, absl::Hash<int>, std::equal_to<int>, RWMutex> rw(
      {.shards = 4, .label = "striped_map_test.rw"});
  for (size_t i = 0; i < rw.shard_count(); ++i) {
    EXPECT_STREQ(internal::wait_label(StripedMapTestPeer::shard_lock(rw, i)),
                 "striped_map_test.rw");
  }
}

TEST(StripedMapTest, LabelIsRemovedWithTheMap) {
  const void* key;
  {
    IntMap labeled({.shards = 2, .label = "striped_map_test.gone"});
    key = StripedMapTestPeer::shard_lock(labeled, 1);
    EXPECT_STREQ(internal::wait_label(key), "striped_map_test.gone");
  }
  EXPECT_EQ(internal::wait_label(key), nullptr);
}

// With Lock = RWMutex, loads take the shared side: a load on a shard whose
// read lock range() holds completes (with Mutex it would wait).
TEST(StripedMapTest, RWMutexLoadsShareTheShard) {
  StripedMap<int, int, absl::Hash<int>, std::equal_to<int>, RWMutex> m(
      {.shards = 1});
  m.store(1, 1);
  m.store(2, 2);
  std::atomic<bool> loaded{false};
  bool first = true;
  m.range([&](const int&, const int&) {
    if (!first) return true;
    first = false;
    std::thread reader([&] {
      EXPECT_TRUE(m.load(1).has_value());
      loaded.store(true,
                   std::memory_order_release);  // pairs with the load below
    });
    EXPECT_TRUE(testing::wait_until(
        [&] { return loaded.load(std::memory_order_acquire); },
        "a load while range holds the only shard's read lock"));
    reader.join();
    return true;
  });
  EXPECT_EQ(m.size(), 2u);
  EXPECT_EQ(m.load_or_store(3, 3), std::make_pair(3, false));
}

#ifndef NDEBUG
TEST(StripedMapDeathTest, UpdateInsideUpdateAborts) {
  IntMap m;
  m.store(1, 1);
  EXPECT_DEATH(m.update(1, [&](int&) { m.update(1, [](int&) {}); }),
               "contend: StripedMap::update: re-entrant call from a callback");
}

TEST(StripedMapDeathTest, AnyCallFromAnyCallbackAborts) {
  IntMap m({.shards = 64});
  m.store(1, 1);
  // Another key (likely another shard) is refused too: two threads doing
  // the converse would deadlock.
  EXPECT_DEATH(m.compute(1, [&](std::optional<int>&) { (void)m.load(2); }),
               "contend: StripedMap::load: re-entrant call from a callback");
  EXPECT_DEATH(m.range([&](const int&, const int&) {
    m.store(3, 3);
    return true;
  }),
               "contend: StripedMap::store: re-entrant call from a callback");
  EXPECT_DEATH(m.load_or_compute(9, [&] { return static_cast<int>(m.size()); }),
               "contend: StripedMap::size: re-entrant call from a callback");
}
#else
TEST(StripedMapDeathTest, ReentrancyCheckIsDebugOnly) {
  GTEST_SKIP() << "the re-entrancy check is compiled only without NDEBUG";
}
#endif

}  // namespace
}  // namespace contend
