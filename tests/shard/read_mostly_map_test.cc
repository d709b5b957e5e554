// Copyright 2026 The contend Authors.
//
// ReadMostlyMap: each of sync.Map's verbs against its contract, range's
// visiting rule, size(), and the header's example.

#include "shard/read_mostly_map.h"

#include <atomic>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>

#include "gtest/gtest.h"

namespace contend {
namespace {

void use(int) {}

static_assert(sizeof(ReadMostlyMap<int, int>) == sizeof(void*));

TEST(ReadMostlyMapTest, HeaderExample) {
  contend::ReadMostlyMap<std::string, int> ports;
  ports.store("http", 80);
  if (auto p = ports.load("http")) use(*p);
  auto [v, loaded] = ports.load_or_store("https", 443);
  EXPECT_EQ(v, 443);
  EXPECT_FALSE(loaded);
}

TEST(ReadMostlyMapTest, LoadStoreSwap) {
  ReadMostlyMap<std::string, int> m;
  EXPECT_EQ(m.load("a"), std::nullopt);
  m.store("a", 1);
  EXPECT_EQ(m.load("a"), 1);
  m.store("a", 2);
  EXPECT_EQ(m.load("a"), 2);
  EXPECT_EQ(m.swap("a", 3), 2);
  EXPECT_EQ(m.swap("b", 4), std::nullopt);
  EXPECT_EQ(m.load("a"), 3);
  EXPECT_EQ(m.load("b"), 4);
  EXPECT_EQ(m.size(), 2u);
}

TEST(ReadMostlyMapTest, LoadOrStore) {
  ReadMostlyMap<int, std::string> m;
  EXPECT_EQ(m.load_or_store(1, "x"), std::make_pair(std::string("x"), false));
  EXPECT_EQ(m.load_or_store(1, "y"), std::make_pair(std::string("x"), true));
  EXPECT_EQ(m.load(1), "x");
}

TEST(ReadMostlyMapTest, LoadAndDeleteAndErase) {
  ReadMostlyMap<int, int> m;
  EXPECT_EQ(m.load_and_delete(1), std::nullopt);
  m.store(1, 10);
  m.store(2, 20);
  EXPECT_EQ(m.load_and_delete(1), 10);
  EXPECT_EQ(m.load(1), std::nullopt);
  m.erase(2);
  m.erase(3);
  EXPECT_EQ(m.size(), 0u);
}

TEST(ReadMostlyMapTest, CompareAndSwapAndDelete) {
  ReadMostlyMap<int, int> m;
  EXPECT_FALSE(m.compare_and_swap(1, 0, 1)) << "absent key never matches";
  m.store(1, 5);
  EXPECT_FALSE(m.compare_and_swap(1, 4, 6));
  EXPECT_EQ(m.load(1), 5);
  EXPECT_TRUE(m.compare_and_swap(1, 5, 6));
  EXPECT_EQ(m.load(1), 6);
  EXPECT_FALSE(m.compare_and_delete(1, 5));
  EXPECT_EQ(m.load(1), 6);
  EXPECT_TRUE(m.compare_and_delete(1, 6));
  EXPECT_EQ(m.load(1), std::nullopt);
  EXPECT_FALSE(m.compare_and_delete(1, 6));
}

TEST(ReadMostlyMapTest, RangeVisitsEveryKeyOnceAndStops) {
  ReadMostlyMap<int, int> m;
  for (int i = 0; i < 1000; ++i) m.store(i, i * i);
  std::map<int, int> seen;
  m.range([&](const int& k, const int& v) {
    EXPECT_TRUE(seen.emplace(k, v).second) << "key visited twice: " << k;
    return true;
  });
  ASSERT_EQ(seen.size(), 1000u);
  for (const auto& [k, v] : seen) EXPECT_EQ(v, k * k);
  int calls = 0;
  m.range([&](const int&, const int&) { return ++calls < 10; });
  EXPECT_EQ(calls, 10) << "returning false stops the range";
}

TEST(ReadMostlyMapTest, RangeMayCallTheMap) {
  ReadMostlyMap<int, int> m;
  for (int i = 0; i < 100; ++i) m.store(i, i);
  m.range([&](const int& k, const int&) {
    m.erase(k);  // no lock is held: no deadlock
    return true;
  });
  EXPECT_EQ(m.size(), 0u);
}

TEST(ReadMostlyMapTest, RangeSeesKeysPresentThroughoutDespiteWriters) {
  ReadMostlyMap<int, int> m;
  for (int i = 0; i < 500; ++i) m.store(i, 0);
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    int j = 1000;
    while (!stop.load()) {
      m.store(j, 1);  // keys outside [0, 500): churn on every shard
      m.erase(j - 50);
      ++j;
    }
  });
  for (int round = 0; round < 20; ++round) {
    std::set<int> stable;
    m.range([&](const int& k, const int&) {
      if (k < 500) {
        EXPECT_TRUE(stable.insert(k).second);
      }
      return true;
    });
    EXPECT_EQ(stable.size(), 500u);
  }
  stop = true;
  writer.join();
}

TEST(ReadMostlyMapTest, ClearAndSize) {
  ReadMostlyMap<std::string, int> m;
  for (int i = 0; i < 300; ++i) m.store(std::to_string(i), i);
  EXPECT_EQ(m.size(), 300u);
  m.clear();
  EXPECT_EQ(m.size(), 0u);
  EXPECT_EQ(m.load("7"), std::nullopt);
  m.store("7", 7);
  EXPECT_EQ(m.size(), 1u);
}

}  // namespace
}  // namespace contend
