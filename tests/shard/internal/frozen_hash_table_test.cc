// Copyright 2026 The contend Authors.

#include "shard/internal/frozen_hash_table.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

#include "absl/hash/hash.h"
#include "gtest/gtest.h"

namespace contend::internal {
namespace {

using StringTable = FrozenHashTable<std::string, int, std::equal_to<>>;

std::size_t h(const std::string& s) { return absl::Hash<std::string>{}(s); }

TEST(FrozenHashTable, EmptyFindsNothingAndAllocatesNothing) {
  const StringTable t;
  EXPECT_EQ(t.size(), 0u);
  EXPECT_TRUE(t.empty());
  EXPECT_EQ(t.find("a", h("a")), nullptr);
  EXPECT_TRUE(t.begin() == t.end());
  const StringTable sized(0);
  EXPECT_EQ(sized.find("a", h("a")), nullptr);
}

TEST(FrozenHashTable, FindsEveryKeyAndNoOther) {
  StringTable t(1000);
  for (int i = 0; i < 1000; ++i) {
    const std::string k = "user:" + std::to_string(i);
    t.emplace(h(k), k, i * 3);
  }
  EXPECT_EQ(t.size(), 1000u);
  for (int i = 0; i < 1000; ++i) {
    const std::string k = "user:" + std::to_string(i);
    const auto* e = t.find(k, h(k));
    ASSERT_NE(e, nullptr) << k;
    EXPECT_EQ(e->first, k);
    EXPECT_EQ(e->second, i * 3);
  }
  for (int i = 1000; i < 2000; ++i) {
    const std::string k = "user:" + std::to_string(i);
    EXPECT_EQ(t.find(k, h(k)), nullptr) << k;
  }
}

TEST(FrozenHashTable, IterationVisitsEachEntryOnceAndCopiesByHash) {
  StringTable t(100);
  std::map<std::string, int> want;
  for (int i = 0; i < 100; ++i) {
    const std::string k = "k" + std::to_string(i);
    t.emplace(h(k), k, i);
    want[k] = i;
  }
  std::map<std::string, int> seen;
  StringTable copy(t.size());
  for (auto it = t.begin(); it != t.end(); ++it) {
    EXPECT_TRUE(seen.emplace(it->first, it->second).second) << it->first;
    copy.emplace(it.hash(), it->first, it->second);
  }
  EXPECT_EQ(seen, want);
  for (const auto& [k, v] : want) {
    const auto* e = copy.find(k, h(k));
    ASSERT_NE(e, nullptr) << k;
    EXPECT_EQ(e->second, v);
  }
}

// Every key with one hash: one probe run that wraps past the array's end.
TEST(FrozenHashTable, CollidingHashesProbeAndWrap) {
  FrozenHashTable<int, int, std::equal_to<>> t(6);  // 16 entries
  const std::size_t same = 15 << 1;                 // the last position
  for (int k = 0; k < 6; ++k) t.emplace(same, k, -k);
  for (int k = 0; k < 6; ++k) {
    const auto* e = t.find(k, same);
    ASSERT_NE(e, nullptr) << k;
    EXPECT_EQ(e->second, -k);
  }
  EXPECT_EQ(t.find(6, same), nullptr);
  EXPECT_EQ(t.find(0, same + 2), nullptr);  // another position: empty
}

// A key or payload with no default constructor; payload lifetimes counted.
struct Counted {
  explicit Counted(int value, int* counter) : v(value), live(counter) {
    ++*live;
  }
  Counted(const Counted& o) : v(o.v), live(o.live) { ++*live; }
  Counted& operator=(const Counted&) = delete;
  ~Counted() { --*live; }
  int v;
  int* live;
};

TEST(FrozenHashTable, DestroysEachPayloadOnce) {
  int live = 0;
  {
    FrozenHashTable<int, Counted, std::equal_to<>> t(10);
    for (int k = 0; k < 10; ++k) t.emplace(std::hash<int>{}(k), k, k, &live);
    EXPECT_EQ(live, 10);
    FrozenHashTable<int, Counted, std::equal_to<>> moved(std::move(t));
    EXPECT_EQ(live, 10);
    EXPECT_EQ(moved.find(3, std::hash<int>{}(3))->second.v, 3);
  }
  EXPECT_EQ(live, 0);
}

struct ThrowOnCopy {
  explicit ThrowOnCopy(bool t) : throws(t) {}
  ThrowOnCopy(const ThrowOnCopy& o) : throws(o.throws) {
    if (throws) throw std::runtime_error("copy");
  }
  bool throws;
};

TEST(FrozenHashTable, ThrowingConstructionLeavesTheEntryEmpty) {
  FrozenHashTable<int, ThrowOnCopy, std::equal_to<>> t(4);
  t.emplace(1, 1, ThrowOnCopy(false));
  const ThrowOnCopy bad(true);
  EXPECT_THROW(t.emplace(2, 2, bad), std::runtime_error);
  EXPECT_EQ(t.size(), 1u);
  EXPECT_EQ(t.find(2, 2), nullptr);
  EXPECT_NE(t.find(1, 1), nullptr);
  int n = 0;
  for (const auto& e : t) n += e.first;
  EXPECT_EQ(n, 1);
}

// An entry of up to 64 bytes sits within one cache line.
TEST(FrozenHashTable, SmallEntriesDoNotStraddleCacheLines) {
  struct Payload {
    uint64_t a, b;
  };
  FrozenHashTable<std::string, Payload, std::equal_to<>> t(64);
  for (int i = 0; i < 64; ++i) {
    const std::string k = "user:" + std::to_string(i);
    t.emplace(h(k), k, Payload{1, 2});
  }
  for (const auto& e : t) {
    const auto first = reinterpret_cast<uintptr_t>(&e) - sizeof(uint64_t);
    const auto last = reinterpret_cast<uintptr_t>(&e) + sizeof(e) - 1;
    EXPECT_EQ(first / 64, last / 64) << e.first;
  }
}

}  // namespace
}  // namespace contend::internal
