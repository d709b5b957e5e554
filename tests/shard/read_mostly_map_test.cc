// Copyright 2026 The contend Authors.
//
// ReadMostlyMap: each of sync.Map's verbs against its contract, range's
// visiting rule, size(), and the header's example. The verb tests are typed
// over the value storage (tests/shard/read_mostly_map_values.h): an int
// value lives inline in the index, a Boxed<int> in its own node. The inline
// storage's own cases follow: which types it takes, a two-word value through
// every verb, size() and range() over deleted (unmapped) slots.

#include "shard/read_mostly_map.h"

#include <atomic>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>

#include "gtest/gtest.h"
#include "tests/shard/read_mostly_map_values.h"

namespace contend {
namespace {

using testing::Boxed;
using testing::OneShardHash;
using testing::TwoWords;

void use(int) {}

static_assert(sizeof(ReadMostlyMap<int, int>) == sizeof(void*));
static_assert(sizeof(ReadMostlyMap<int, Boxed<int>>) == sizeof(void*));

// Inline: trivially copyable, at most 16 bytes, at most 8-aligned.
struct ThreeWords {
  int64_t a, b, c;
};
struct alignas(16) Aligned16 {
  int64_t a;
};
static_assert(ReadMostlyMap<int, int>::kInlineValues);
static_assert(ReadMostlyMap<int, int64_t>::kInlineValues);
static_assert(ReadMostlyMap<int, double>::kInlineValues);
static_assert(ReadMostlyMap<int, char>::kInlineValues);
static_assert(ReadMostlyMap<int, TwoWords>::kInlineValues);
static_assert(ReadMostlyMap<std::string, TwoWords>::kInlineValues,
              "the key type does not matter");
static_assert(!ReadMostlyMap<int, std::string>::kInlineValues);
static_assert(!ReadMostlyMap<int, Boxed<int>>::kInlineValues);
static_assert(!ReadMostlyMap<int, ThreeWords>::kInlineValues);
static_assert(!ReadMostlyMap<int, Aligned16>::kInlineValues);

TEST(ReadMostlyMapTest, HeaderExample) {
  contend::ReadMostlyMap<std::string, int> ports;
  ports.store("http", 80);
  if (auto p = ports.load("http")) use(*p);
  auto [v, loaded] = ports.load_or_store("https", 443);
  EXPECT_EQ(v, 443);
  EXPECT_FALSE(loaded);
}

TEST(ReadMostlyMapTest, LoadOrStoreStringValues) {
  ReadMostlyMap<int, std::string> m;
  EXPECT_EQ(m.load_or_store(1, "x"), std::make_pair(std::string("x"), false));
  EXPECT_EQ(m.load_or_store(1, "y"), std::make_pair(std::string("x"), true));
  EXPECT_EQ(m.load(1), "x");
}

// The verbs, once per storage: V is int (inline) or Boxed<int> (boxed).
template <class V>
class ReadMostlyMapTypedTest : public ::testing::Test {};
using ValueTypes = ::testing::Types<int, Boxed<int>>;
TYPED_TEST_SUITE(ReadMostlyMapTypedTest, ValueTypes, testing::ValueTypeName);

TYPED_TEST(ReadMostlyMapTypedTest, LoadStoreSwap) {
  using V = TypeParam;
  ReadMostlyMap<std::string, V> m;
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

TYPED_TEST(ReadMostlyMapTypedTest, LoadOrStore) {
  using V = TypeParam;
  ReadMostlyMap<int, V> m;
  EXPECT_EQ(m.load_or_store(1, 7), std::make_pair(V(7), false));
  EXPECT_EQ(m.load_or_store(1, 8), std::make_pair(V(7), true));
  EXPECT_EQ(m.load(1), 7);
  m.erase(1);
  EXPECT_EQ(m.load_or_store(1, 9), std::make_pair(V(9), false))
      << "a deleted key is stored again";
  EXPECT_EQ(m.size(), 1u);
}

TYPED_TEST(ReadMostlyMapTypedTest, LoadAndDeleteAndErase) {
  using V = TypeParam;
  ReadMostlyMap<int, V> m;
  EXPECT_EQ(m.load_and_delete(1), std::nullopt);
  m.store(1, 10);
  m.store(2, 20);
  EXPECT_EQ(m.load_and_delete(1), 10);
  EXPECT_EQ(m.load(1), std::nullopt);
  EXPECT_EQ(m.load_and_delete(1), std::nullopt);
  m.erase(2);
  m.erase(3);
  EXPECT_EQ(m.size(), 0u);
}

TYPED_TEST(ReadMostlyMapTypedTest, CompareAndSwapAndDelete) {
  using V = TypeParam;
  ReadMostlyMap<int, V> m;
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
  EXPECT_FALSE(m.compare_and_swap(1, 6, 7)) << "a deleted key never matches";
  EXPECT_EQ(m.size(), 0u);
}

TYPED_TEST(ReadMostlyMapTypedTest, RangeVisitsEveryKeyOnceAndStops) {
  using V = TypeParam;
  ReadMostlyMap<int, V> m;
  for (int i = 0; i < 1000; ++i) m.store(i, i * i);
  std::map<int, V> seen;
  m.range([&](const int& k, const V& v) {
    EXPECT_TRUE(seen.emplace(k, v).second) << "key visited twice: " << k;
    return true;
  });
  ASSERT_EQ(seen.size(), 1000u);
  for (const auto& [k, v] : seen) EXPECT_EQ(v, k * k);
  int calls = 0;
  m.range([&](const int&, const V&) { return ++calls < 10; });
  EXPECT_EQ(calls, 10) << "returning false stops the range";
}

TYPED_TEST(ReadMostlyMapTypedTest, RangeMayCallTheMap) {
  using V = TypeParam;
  ReadMostlyMap<int, V> m;
  for (int i = 0; i < 100; ++i) m.store(i, i);
  m.range([&](const int& k, const V&) {
    m.erase(k);  // no lock is held: no deadlock
    return true;
  });
  EXPECT_EQ(m.size(), 0u);
}

TYPED_TEST(ReadMostlyMapTypedTest,
           RangeSeesKeysPresentThroughoutDespiteWriters) {
  using V = TypeParam;
  ReadMostlyMap<int, V> m;
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
    m.range([&](const int& k, const V&) {
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

TYPED_TEST(ReadMostlyMapTypedTest, ClearAndSize) {
  using V = TypeParam;
  ReadMostlyMap<std::string, V> m;
  for (int i = 0; i < 300; ++i) m.store(std::to_string(i), i);
  EXPECT_EQ(m.size(), 300u);
  m.clear();
  EXPECT_EQ(m.size(), 0u);
  EXPECT_EQ(m.load("7"), std::nullopt);
  m.store("7", 7);
  EXPECT_EQ(m.size(), 1u);
  EXPECT_EQ(m.load("7"), 7);
}

// Deleted keys keep their slot (inline) or cell (boxed) until the next
// insert of a new key into their shard: size() counts only mapped keys
// before, across and after that re-index, and a deleted key stored again
// counts once.
TYPED_TEST(ReadMostlyMapTypedTest, SizeAfterDeletesAndReStores) {
  using V = TypeParam;
  ReadMostlyMap<int, V, OneShardHash> m;
  for (int i = 0; i < 10; ++i) m.store(i, i);
  EXPECT_EQ(m.size(), 10u);
  for (int i = 0; i < 10; i += 2) m.erase(i);
  EXPECT_EQ(m.size(), 5u);
  m.erase(0);
  EXPECT_EQ(m.load_and_delete(2), std::nullopt);
  EXPECT_FALSE(m.compare_and_delete(4, 4));
  EXPECT_EQ(m.size(), 5u) << "deleting a deleted key changes nothing";
  m.store(0, 100);  // re-store into the kept slot or cell
  EXPECT_EQ(m.swap(2, 102), std::nullopt);
  EXPECT_EQ(m.load_or_store(4, 104), std::make_pair(V(104), false));
  EXPECT_EQ(m.size(), 8u);
  m.store(0, 200);
  EXPECT_EQ(m.size(), 8u) << "overwriting a mapped key";
  m.store(50, 50);  // a new key: re-indexes the shard without keys 6 and 8
  EXPECT_EQ(m.size(), 9u);
  m.store(6, 106);  // a new key again, after the re-index dropped it
  EXPECT_EQ(m.size(), 10u);
  EXPECT_EQ(m.load(0), 200);
  EXPECT_EQ(m.load(2), 102);
  EXPECT_EQ(m.load(4), 104);
  EXPECT_EQ(m.load(6), 106);
  EXPECT_EQ(m.load(8), std::nullopt);
  EXPECT_EQ(m.load(50), 50);
  for (int i = 1; i < 10; i += 2) EXPECT_EQ(m.load(i), i);
  m.clear();
  EXPECT_EQ(m.size(), 0u);
  m.store(8, 8);
  EXPECT_EQ(m.size(), 1u);
}

// range() visits only mapped keys: not the deleted keys whose slots (cells)
// are still indexed, nor the ones the next insert dropped.
TYPED_TEST(ReadMostlyMapTypedTest, RangeSkipsDeletedKeys) {
  using V = TypeParam;
  ReadMostlyMap<int, V, OneShardHash> m;
  for (int i = 0; i < 10; ++i) m.store(i, 10 * i);
  for (int i = 1; i < 10; i += 2) m.erase(i);
  auto visited = [&] {
    std::map<int, V> seen;
    m.range([&](const int& k, const V& v) {
      EXPECT_TRUE(seen.emplace(k, v).second) << "key visited twice: " << k;
      return true;
    });
    return seen;
  };
  std::map<int, V> want;
  for (int i = 0; i < 10; i += 2) want.emplace(i, 10 * i);
  EXPECT_EQ(visited(), want) << "deleted slots still indexed";
  m.store(3, 30);  // re-mapped in place
  want.emplace(3, 30);
  EXPECT_EQ(visited(), want);
  m.store(100, 1000);  // a new key: the re-index drops 1, 5, 7, 9
  want.emplace(100, 1000);
  EXPECT_EQ(visited(), want) << "after the re-index";
  for (const auto& [k, v] : want) m.erase(k);
  EXPECT_TRUE(visited().empty());
}

// A two-word inline value (double-buffered in its slot) through every verb.
// The values differ in one word or the other, so a verb that compared,
// copied or stored only one word would fail.
TEST(ReadMostlyMapInlineTest, TwoWordValueThroughEveryVerb) {
  ReadMostlyMap<int, TwoWords> m;
  const TwoWords x{1, 2}, y{1, 3}, z{4, 3}, w{-1, -2};
  EXPECT_EQ(m.load(1), std::nullopt);
  m.store(1, x);
  EXPECT_EQ(m.load(1), x);
  m.store(1, y);  // the other buffer
  EXPECT_EQ(m.load(1), y);
  m.store(1, z);  // the first buffer again
  EXPECT_EQ(m.load(1), z);
  EXPECT_EQ(m.swap(1, x), z);
  EXPECT_EQ(m.swap(2, w), std::nullopt);
  EXPECT_EQ(m.load(1), x);
  EXPECT_EQ(m.load(2), w);
  EXPECT_EQ(m.load_or_store(1, y), std::make_pair(x, true));
  EXPECT_EQ(m.load_or_store(3, y), std::make_pair(y, false));
  EXPECT_FALSE(m.compare_and_swap(1, TwoWords{1, 3}, z)) << "second word";
  EXPECT_FALSE(m.compare_and_swap(1, TwoWords{2, 2}, z)) << "first word";
  EXPECT_EQ(m.load(1), x);
  EXPECT_TRUE(m.compare_and_swap(1, x, z));
  EXPECT_EQ(m.load(1), z);
  EXPECT_FALSE(m.compare_and_delete(1, TwoWords{4, 4}));
  EXPECT_TRUE(m.compare_and_delete(1, z));
  EXPECT_EQ(m.load(1), std::nullopt);
  EXPECT_EQ(m.load_and_delete(2), w);
  EXPECT_EQ(m.load_and_delete(2), std::nullopt);
  m.store(2, z);  // the deleted key's slot again
  EXPECT_EQ(m.load(2), z);
  std::map<int, TwoWords> seen;
  m.range([&](const int& k, const TwoWords& v) {
    seen.emplace(k, v);
    return true;
  });
  EXPECT_EQ(seen, (std::map<int, TwoWords>{{2, z}, {3, y}}));
  m.erase(3);
  EXPECT_EQ(m.size(), 1u);
  m.clear();
  EXPECT_EQ(m.size(), 0u);
  EXPECT_EQ(m.load(2), std::nullopt);
}

// Many stores to one two-word key: the slot alternates buffers, and each
// load returns the last value whichever buffer holds it; re-indexing the
// shard (inserts of new keys) copies both buffers and the generation.
TEST(ReadMostlyMapInlineTest, TwoWordValueAcrossBuffersAndReindexes) {
  ReadMostlyMap<int, TwoWords, OneShardHash> m;
  for (int64_t i = 0; i < 9; ++i) {
    m.store(0, TwoWords{i, ~i});
    ASSERT_EQ(m.load(0), (TwoWords{i, ~i}));
    if (i % 3 == 2) m.erase(0);
    m.store(static_cast<int>(100 + i), TwoWords{i, i});  // a new key
    ASSERT_EQ(m.load(0),
              i % 3 == 2 ? std::nullopt : std::optional<TwoWords>({i, ~i}));
  }
  EXPECT_EQ(m.size(), 9u) << "the new keys; key 0 ends deleted";
}

}  // namespace
}  // namespace contend
