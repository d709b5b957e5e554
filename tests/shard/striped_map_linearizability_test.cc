// Copyright 2026 The contend Authors.
//
// StripedMap's per-key operations are linearizable: concurrent histories of
// 4 threads on a few keys (all sharing few shards), checked by the
// Wing & Gong checker (tests/testing/linearizability.h).

#include <latch>
#include <optional>
#include <random>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "shard/striped_map.h"
#include "sync/rw_mutex.h"
#include "tests/testing/linearizability.h"
#include "tests/testing/stress.h"

namespace contend {
namespace {

using Model = testing::lin::MapModel;

constexpr int kThreads = 4;
constexpr int kOpsPerThread = 25;
constexpr int kKeys = 3;
constexpr int kValues = 3;

template <class Map>
Model::Output apply(Map& m, const Model::Input& in) {
  switch (in.kind) {
    case Model::Kind::kLoad:
      return Model::Output::of(m.load(in.key));
    case Model::Kind::kStore:
      m.store(in.key, in.value);
      return Model::Output::unchecked();
    case Model::Kind::kLoadOrStore:
      return Model::Output::of(m.load_or_store(in.key, in.value));
    case Model::Kind::kLoadAndDelete:
      return Model::Output::of(m.load_and_delete(in.key));
    case Model::Kind::kErase:
      return Model::Output::of(m.erase(in.key));
    case Model::Kind::kSwap:
      return Model::Output::of(m.swap(in.key, in.value));
    case Model::Kind::kCompareAndSwap:
      return Model::Output::of(
          m.compare_and_swap(in.key, in.value, in.new_value));
    case Model::Kind::kCompareAndDelete:
      return Model::Output::of(m.compare_and_delete(in.key, in.value));
  }
  return Model::Output::unchecked();
}

Model::Input random_input(std::mt19937& rng) {
  const int k = static_cast<int>(rng() % kKeys);
  const int v = static_cast<int>(rng() % kValues);
  const int n = static_cast<int>(rng() % kValues);
  switch (rng() % 8) {
    case 0:
      return Model::load(k);
    case 1:
      return Model::store(k, v);
    case 2:
      return Model::load_or_store(k, v);
    case 3:
      return Model::load_and_delete(k);
    case 4:
      return Model::erase(k);
    case 5:
      return Model::swap(k, v);
    case 6:
      return Model::compare_and_swap(k, v, n);
    default:
      return Model::compare_and_delete(k, v);
  }
}

// Also exercises the closure forms, recorded as the verb they implement.
template <class Map>
Model::Output apply_via_closures(Map& m, const Model::Input& in) {
  switch (in.kind) {
    case Model::Kind::kLoadOrStore:
      return Model::Output::of(
          m.load_or_compute(in.key, [&] { return in.value; }));
    case Model::Kind::kSwap:
      return Model::Output::of(m.compute(in.key, [&](std::optional<int>& v) {
        std::optional<int> old = v;
        v = in.value;
        return old;
      }));
    case Model::Kind::kCompareAndSwap: {
      bool swapped = false;
      m.update(in.key, [&](int& v) {
        if (v == in.value) {
          v = in.new_value;
          swapped = true;
        }
      });
      return Model::Output::of(swapped);
    }
    default:
      return apply(m, in);
  }
}

template <class Map, bool kClosures>
void check_histories(int histories) {
  int violations = 0;
  for (int h = 0; h < histories; ++h) {
    Map m({.shards = 2});
    testing::lin::History<Model> history(kThreads, kOpsPerThread);
    std::latch start(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        std::mt19937 rng(static_cast<uint32_t>(h * kThreads + t) + 1);
        start.arrive_and_wait();
        for (int i = 0; i < kOpsPerThread; ++i) {
          const Model::Input in = random_input(rng);
          history.record(t, in, [&] {
            return kClosures ? apply_via_closures(m, in) : apply(m, in);
          });
        }
      });
    }
    for (auto& th : threads) th.join();
    const testing::lin::CheckResult r =
        testing::lin::check(Model{}, history.take());
    if (!r.linearizable) {
      ++violations;
      ADD_FAILURE() << "history " << h << ": " << r.explanation;
      if (violations > 3) return;
    }
  }
  EXPECT_EQ(violations, 0);
}

// 1000 histories of 4 threads x 25 operations (100 under a sanitizer).
const int kHistories = 1000 / testing::kScale;

TEST(StripedMapLinearizability, MutexShards) {
  check_histories<StripedMap<int, int>, false>(kHistories);
}

TEST(StripedMapLinearizability, RWMutexShards) {
  check_histories<
      StripedMap<int, int, absl::Hash<int>, std::equal_to<int>, RWMutex>,
      false>(kHistories / 2);
}

TEST(StripedMapLinearizability, ClosureForms) {
  check_histories<StripedMap<int, int>, true>(kHistories / 2);
}

}  // namespace
}  // namespace contend
