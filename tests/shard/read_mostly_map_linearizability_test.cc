// Copyright 2026 The contend Authors.
//
// ReadMostlyMap histories checked for linearizability against the map model
// (tests/testing/linearizability.h): many short histories of 4 threads, each
// mixing every verb on a few keys, so both the lock-free decisions and the
// locked copy-and-publish paths overlap. 1000 histories (fewer under
// sanitizers), 0 violations, split between the value storages
// (tests/shard/read_mostly_map_values.h): one-word and two-word inline
// values, and boxed values.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <random>
#include <utility>
#include <vector>

#include "absl/hash/hash.h"
#include "gtest/gtest.h"
#include "shard/read_mostly_map.h"
#include "tests/shard/read_mostly_map_values.h"
#include "tests/testing/linearizability.h"
#include "tests/testing/linearizability_runner.h"
#include "tests/testing/stress.h"

namespace contend {
namespace {

using Model = testing::lin::MapModel;
using testing::Boxed;
using testing::OneShardHash;
using testing::TwoWords;

static_assert(ReadMostlyMap<int, int>::kInlineValues);
static_assert(ReadMostlyMap<int, TwoWords>::kInlineValues);
static_assert(!ReadMostlyMap<int, Boxed<int>>::kInlineValues);

// The model's int for a map value: a torn TwoWords becomes a value no
// operation stores (kTorn does not fit an int), which the check rejects.
template <class V>
int model_value(const V& v) {
  const int64_t x = testing::ValueCodec<V>::get(v);
  return x == testing::kTorn ? -1 : static_cast<int>(x);
}
template <class V>
std::optional<int> model_value(const std::optional<V>& v) {
  if (!v) return std::nullopt;
  return model_value(*v);
}
template <class V>
std::pair<int, bool> model_value(const std::pair<V, bool>& p) {
  return {model_value(p.first), p.second};
}

template <class V, class Hash>
std::vector<testing::lin::Operation<Model>> run_once(uint32_t seed) {
  constexpr int kThreads = 4;
  constexpr int kOps = 30;
  constexpr int kKeys = 3;
  const auto make = [](int x) { return testing::ValueCodec<V>::make(x); };
  ReadMostlyMap<int, V, Hash> m;
  testing::lin::History<Model> history(kThreads);
  testing::lin::run_threads(kThreads, [&](int t) {
    std::mt19937 rng(seed * 7919 + static_cast<uint32_t>(t));
    for (int i = 0; i < kOps; ++i) {
      const int k = static_cast<int>(rng() % kKeys);
      const int v = static_cast<int>(rng() % 4);
      const int w = static_cast<int>(rng() % 4);
      switch (rng() % 9) {
        case 0:
        case 1:
          history.record(t, Model::load(k), [&] {
            return Model::Output::of(model_value(m.load(k)));
          });
          break;
        case 2:
          history.record(t, Model::store(k, v), [&] {
            m.store(k, make(v));
            return Model::Output::of(true);
          });
          break;
        case 3:
          history.record(t, Model::load_or_store(k, v), [&] {
            return Model::Output::of(model_value(m.load_or_store(k, make(v))));
          });
          break;
        case 4:
          history.record(t, Model::load_and_delete(k), [&] {
            return Model::Output::of(model_value(m.load_and_delete(k)));
          });
          break;
        case 5:
          history.record(t, Model::erase(k), [&] {
            m.erase(k);
            return Model::Output::unchecked();
          });
          break;
        case 6:
          history.record(t, Model::swap(k, v), [&] {
            return Model::Output::of(model_value(m.swap(k, make(v))));
          });
          break;
        case 7:
          history.record(t, Model::compare_and_swap(k, v, w), [&] {
            return Model::Output::of(m.compare_and_swap(k, make(v), make(w)));
          });
          break;
        default:
          history.record(t, Model::compare_and_delete(k, v), [&] {
            return Model::Output::of(m.compare_and_delete(k, make(v)));
          });
          break;
      }
    }
  });
  return history.take();
}

TEST(ReadMostlyMapLinearizability, ThousandHistoriesOfFourThreads) {
  // A fifth of the histories per configuration: the default hash (keys in
  // separate shards: the lock-free reads and, boxed, the lock-free cell
  // CASes) and every key in one shard (an insert re-indexes the shard, so
  // stores and loads race the copy that drops deleted slots or expunges
  // deleted cells), for one-word inline values; one shard for two-word
  // inline values; both for boxed values.
  const int histories = 1000 / testing::kScale;
  struct Config {
    const char* name;
    std::vector<testing::lin::Operation<Model>> (*run)(uint32_t);
  };
  const Config configs[] = {
      {"inline int, spread", run_once<int, absl::Hash<int>>},
      {"inline int, one shard", run_once<int, OneShardHash>},
      {"inline two words, one shard", run_once<TwoWords, OneShardHash>},
      {"boxed, spread", run_once<Boxed<int>, absl::Hash<int>>},
      {"boxed, one shard", run_once<Boxed<int>, OneShardHash>},
  };
  constexpr int kConfigs = sizeof(configs) / sizeof(configs[0]);
  int total = 0, violations = 0;
  for (int c = 0; c < kConfigs; ++c) {
    const int n = histories * (c + 1) / kConfigs - histories * c / kConfigs;
    const auto r = testing::lin::check_histories(Model{}, n, configs[c].run);
    EXPECT_EQ(r.violations, 0) << configs[c].name << ": " << r.report;
    total += r.histories;
    violations += r.violations;
  }
  EXPECT_GE(total, histories);
  std::printf("%d histories of 4 threads x 30 operations, %d violations\n",
              total, violations);
}

}  // namespace
}  // namespace contend
