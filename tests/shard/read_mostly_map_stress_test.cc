// Copyright 2026 The contend Authors.
//
// ReadMostlyMap under contention: per-key invariants that a lost or doubled
// write would break (exactly one load_or_store per key stores; CAS
// increments lose nothing), with readers checking that every loaded value is
// one a writer stored. Each runs against both value storages
// (tests/shard/read_mostly_map_values.h). Then the inline storage's own
// hazard: readers copying a two-word value while writers overwrite, delete
// and re-store it and inserts of other keys re-index its shard; a torn copy
// breaks the {x, ~x} shape of every stored value.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "shard/read_mostly_map.h"
#include "tests/shard/read_mostly_map_values.h"
#include "tests/testing/stress.h"

namespace contend {
namespace {

using testing::Boxed;
using testing::kTorn;
using testing::TwoWords;
using testing::ValueCodec;

static_assert(ReadMostlyMap<int, int>::kInlineValues);
static_assert(ReadMostlyMap<int, int64_t>::kInlineValues);
static_assert(ReadMostlyMap<int, TwoWords>::kInlineValues);
static_assert(!ReadMostlyMap<int, Boxed<int>>::kInlineValues);
static_assert(!ReadMostlyMap<int, Boxed<int64_t>>::kInlineValues);

template <class V>
class ReadMostlyMapStress : public ::testing::Test {};
using ValueTypes =
    ::testing::Types<int64_t, TwoWords, Boxed<int64_t>>;  // inline x2, boxed
TYPED_TEST_SUITE(ReadMostlyMapStress, ValueTypes, testing::ValueTypeName);

TYPED_TEST(ReadMostlyMapStress, OneLoadOrStoreWinsPerKey) {
  using V = TypeParam;
  using C = ValueCodec<V>;
  constexpr int kThreads = 4;
  const int keys = 2000 / testing::kScale;
  ReadMostlyMap<int, V> m;
  testing::Watchdog watchdog(testing::current_test_name());
  std::atomic<int> stored{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    auto& me = watchdog.slot("thread " + std::to_string(t));
    threads.emplace_back([&, t] {
      for (int k = 0; k < keys; ++k) {
        me.set_state("load_or_store");
        auto [v, loaded] = m.load_or_store(k, C::make(t));
        if (!loaded) {
          stored.fetch_add(1);
          EXPECT_EQ(C::get(v), t);
        }
        EXPECT_EQ(m.load(k), v) << "the winner's value is the one kept";
        me.tick();
      }
      me.finish();
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(stored.load(), keys);
  EXPECT_EQ(m.size(), static_cast<std::size_t>(keys));
}

TYPED_TEST(ReadMostlyMapStress, CompareAndSwapIncrementsLoseNothing) {
  using V = TypeParam;
  using C = ValueCodec<V>;
  constexpr int kKeys = 8;
  ReadMostlyMap<int, V> m;
  for (int k = 0; k < kKeys; ++k) m.store(k, C::make(0));
  testing::Watchdog watchdog(testing::current_test_name());
  testing::StressDeadline deadline(
      testing::stress_duration(std::chrono::milliseconds(300)));
  std::atomic<int64_t> wins[kKeys] = {};
  std::atomic<bool> stop{false};
  std::atomic<bool> bad{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    auto& me = watchdog.slot("incrementer " + std::to_string(t));
    threads.emplace_back([&, t] {
      uint32_t i = static_cast<uint32_t>(t);
      while (deadline.running()) {
        me.set_state("compare_and_swap");
        const int k = static_cast<int>(i++ % kKeys);
        const int64_t v = C::get(*m.load(k));
        if (v == kTorn) bad = true;
        if (m.compare_and_swap(k, C::make(v), C::make(v + 1))) {
          wins[k].fetch_add(1);
        }
        me.tick();
      }
      me.finish();
    });
  }
  auto& rd = watchdog.slot("reader");
  threads.emplace_back([&] {
    std::vector<int64_t> last(kKeys, 0);
    while (!stop.load()) {
      rd.set_state("load/range");
      for (int k = 0; k < kKeys; ++k) {
        const std::optional<V> v = m.load(k);
        if (!v || C::get(*v) < last[static_cast<size_t>(k)]) {
          bad = true;
          continue;
        }
        last[static_cast<size_t>(k)] = C::get(*v);
      }
      std::size_t n = 0;
      m.range([&](const int&, const V& v) {
        if (C::get(v) == kTorn) bad = true;
        return ++n, true;
      });
      if (n != kKeys) bad = true;
      rd.tick();
    }
    rd.finish();
  });
  for (size_t i = 0; i + 1 < threads.size(); ++i) threads[i].join();
  stop = true;
  threads.back().join();
  EXPECT_FALSE(bad.load()) << "a reader saw a key missing, torn or going back";
  for (int k = 0; k < kKeys; ++k) {
    EXPECT_EQ(C::get(*m.load(k)), wins[k].load()) << "key " << k;
  }
}

// Every verb on 64 keys from 4 threads; every value is a function of its
// key, so any load, swap or range that returns another is a mixed-up write.
template <class K, class V, class KeyOf, class ValueOf>
void mixed_verbs_keep_the_map_consistent(KeyOf key_of, ValueOf value_of) {
  ReadMostlyMap<K, V> m;
  testing::Watchdog watchdog(testing::current_test_name());
  testing::StressDeadline deadline(
      testing::stress_duration(std::chrono::milliseconds(300)));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    auto& me = watchdog.slot("mixer " + std::to_string(t));
    threads.emplace_back([&, t] {
      uint64_t x = 0x9E3779B97F4A7C15ULL * static_cast<uint64_t>(t + 1);
      while (deadline.running()) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        const K k = key_of(x % 64);
        const V v = value_of(k);
        me.set_state("op");
        switch (x % 7) {
          case 0:
            m.store(k, v);
            break;
          case 1:
            EXPECT_EQ(m.load_or_store(k, v).first, v);
            break;
          case 2: {
            auto got = m.load_and_delete(k);
            EXPECT_TRUE(!got || *got == v);
            break;
          }
          case 3: {
            auto got = m.swap(k, v);
            EXPECT_TRUE(!got || *got == v);
            break;
          }
          case 4:
            (void)m.compare_and_swap(k, v, v);
            break;
          case 5:
            (void)m.compare_and_delete(k, v);
            break;
          default: {
            auto got = m.load(k);
            EXPECT_TRUE(!got || *got == v);
          }
        }
        me.tick();
      }
      me.finish();
    });
  }
  for (auto& th : threads) th.join();
  std::size_t n = 0;
  m.range([&](const K& k, const V& v) {
    EXPECT_EQ(v, value_of(k));
    ++n;
    return true;
  });
  EXPECT_EQ(n, m.size());
}

TEST(ReadMostlyMapStressBoxed, MixedVerbsKeepTheMapConsistent) {
  static_assert(!ReadMostlyMap<std::string, std::string>::kInlineValues);
  mixed_verbs_keep_the_map_consistent<std::string, std::string>(
      [](uint64_t i) { return "k" + std::to_string(i); },
      [](const std::string& k) { return "v" + k; });
}

TEST(ReadMostlyMapStressInline, MixedVerbsKeepTheMapConsistent) {
  mixed_verbs_keep_the_map_consistent<int, TwoWords>(
      [](uint64_t i) { return static_cast<int>(i); },
      [](const int& k) { return ValueCodec<TwoWords>::make(k); });
}

// Keys with the same residue mod 2 share a shard: the writers' keys 0..3
// and the inserter's keys split over two shards, one per writer (hash values
// 0 and 1 pick different shards; if they picked one, the writers would only
// contend more).
struct ResidueHash {
  std::size_t operator()(int k) const {
    return static_cast<std::size_t>(k % 2);
  }
};

// Two-word values {x, ~x}. Writer t owns keys t and t + 2 (its own shard)
// and stores increasing x into them in bursts (store, swap,
// compare_and_swap, load_or_store), deleting and re-storing them now and
// then; an inserter adds and deletes other keys of both shards, so every
// insert copies an index that readers may hold. Readers check that every
// value is untorn and that, per key, x never goes back (an old index's
// frozen slot is a value the key had when that index was replaced, never
// older than what a later load saw).
TEST(ReadMostlyMapStressInline, TwoWordReadsAreNeverTornAcrossReindexes) {
  using C = ValueCodec<TwoWords>;
  using Map = ReadMostlyMap<int, TwoWords, ResidueHash>;
  constexpr int kWriters = 2;
  constexpr int kKeys = 2 * kWriters;
  constexpr int kChurnBase = 1000;
  Map m;
  testing::Watchdog watchdog(testing::current_test_name());
  testing::StressDeadline deadline(
      testing::stress_duration(std::chrono::milliseconds(300)));
  std::atomic<bool> stop{false};
  std::atomic<int64_t> torn{0};
  std::atomic<int64_t> backwards{0};
  std::atomic<int64_t> failed_cas{0};
  std::atomic<int64_t> reindexes{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < kWriters; ++t) {
    auto& me = watchdog.slot("writer " + std::to_string(t));
    writers.emplace_back([&, t] {
      int64_t x = 0;
      uint32_t i = 0;
      while (deadline.running()) {
        // Bursts of writes to one key: two stores in a row refill the
        // buffer a reader of that key may still be copying.
        const int k = t + kWriters * static_cast<int>((i >> 4) & 1);
        ++x;
        switch (i++ % 5) {
          case 0:
            me.set_state("store");
            m.store(k, C::make(x));
            break;
          case 1: {
            me.set_state("swap");
            const auto prev = m.swap(k, C::make(x));
            if (prev && C::get(*prev) == kTorn) torn.fetch_add(1);
            break;
          }
          case 2: {
            me.set_state("compare_and_swap");
            const auto cur = m.load(k);
            if (cur && !m.compare_and_swap(k, *cur, C::make(x))) {
              failed_cas.fetch_add(1);  // only this thread writes k
            }
            break;
          }
          case 3:
            if (x % 3 == 0) {
              me.set_state("erase");
              m.erase(k);
            }
            break;
          default: {
            me.set_state("load_or_store");
            const auto [v, loaded] = m.load_or_store(k, C::make(x));
            if (C::get(v) == kTorn) torn.fetch_add(1);
          }
        }
        me.tick();
      }
      me.finish();
    });
  }
  auto& ins = watchdog.slot("inserter");
  writers.emplace_back([&] {
    int j = 0;
    while (deadline.running()) {
      ins.set_state("store new key");
      m.store(kChurnBase + j, C::make(j));
      reindexes.fetch_add(1, std::memory_order_relaxed);
      ins.set_state("erase");
      m.erase(kChurnBase + j - 4);
      ++j;
      ins.tick();
    }
    ins.finish();
  });
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    auto& rd = watchdog.slot("reader " + std::to_string(r));
    readers.emplace_back([&] {
      std::vector<int64_t> last(kKeys, 0);
      while (!stop.load()) {
        rd.set_state("load");
        for (int k = 0; k < kKeys; ++k) {
          const auto v = m.load(k);
          if (!v) continue;
          const int64_t x = C::get(*v);
          if (x == kTorn) {
            torn.fetch_add(1);
          } else if (x < last[static_cast<size_t>(k)]) {
            backwards.fetch_add(1);
          } else {
            last[static_cast<size_t>(k)] = x;
          }
        }
        rd.set_state("range");
        m.range([&](const int&, const TwoWords& v) {
          if (C::get(v) == kTorn) torn.fetch_add(1);
          return true;
        });
        rd.tick();
      }
      rd.finish();
    });
  }
  for (auto& th : writers) th.join();
  stop = true;
  for (auto& th : readers) th.join();
  EXPECT_EQ(torn.load(), 0) << "torn two-word reads";
  EXPECT_EQ(backwards.load(), 0) << "a key's value went back";
  EXPECT_EQ(failed_cas.load(), 0) << "a CAS of a key's own value failed";
  EXPECT_GT(reindexes.load(), 0);
  m.range([&](const int& k, const TwoWords& v) {
    EXPECT_NE(C::get(v), kTorn) << "key " << k;
    return true;
  });
}

}  // namespace
}  // namespace contend
