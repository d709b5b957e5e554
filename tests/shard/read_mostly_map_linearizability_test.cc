// Copyright 2026 The contend Authors.
//
// ReadMostlyMap histories checked for linearizability against the map model
// (tests/testing/linearizability.h): many short histories of 4 threads, each
// mixing every verb on a few keys, so both the lock-free decisions and the
// locked copy-and-publish paths overlap. 1000 histories (fewer under
// sanitizers), 0 violations.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "shard/read_mostly_map.h"
#include "tests/testing/linearizability.h"
#include "tests/testing/linearizability_runner.h"
#include "tests/testing/stress.h"

namespace contend {
namespace {

using Model = testing::lin::MapModel;

// Every key in one shard, so inserting one key drops (expunges) the deleted
// cells of the others and the re-index paths run in most histories.
struct OneShardHash {
  std::size_t operator()(int) const { return 0; }
};

template <class Map>
std::vector<testing::lin::Operation<Model>> run_once(uint32_t seed) {
  constexpr int kThreads = 4;
  constexpr int kOps = 30;
  constexpr int kKeys = 3;
  Map m;
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
          history.record(t, Model::load(k),
                         [&] { return Model::Output::of(m.load(k)); });
          break;
        case 2:
          history.record(t, Model::store(k, v), [&] {
            m.store(k, v);
            return Model::Output::of(true);
          });
          break;
        case 3:
          history.record(t, Model::load_or_store(k, v), [&] {
            return Model::Output::of(m.load_or_store(k, v));
          });
          break;
        case 4:
          history.record(t, Model::load_and_delete(k), [&] {
            return Model::Output::of(m.load_and_delete(k));
          });
          break;
        case 5:
          history.record(t, Model::erase(k), [&] {
            m.erase(k);
            return Model::Output::unchecked();
          });
          break;
        case 6:
          history.record(t, Model::swap(k, v),
                         [&] { return Model::Output::of(m.swap(k, v)); });
          break;
        case 7:
          history.record(t, Model::compare_and_swap(k, v, w), [&] {
            return Model::Output::of(m.compare_and_swap(k, v, w));
          });
          break;
        default:
          history.record(t, Model::compare_and_delete(k, v), [&] {
            return Model::Output::of(m.compare_and_delete(k, v));
          });
          break;
      }
    }
  });
  return history.take();
}

TEST(ReadMostlyMapLinearizability, ThousandHistoriesOfFourThreads) {
  // Half with the default hash (keys in separate shards: the lock-free cell
  // CASes), half with every key in one shard (inserts expunge the others'
  // deleted cells, so stores and loads race the re-index).
  const int histories = 1000 / testing::kScale;
  const auto spread = testing::lin::check_histories(
      Model{}, histories / 2, run_once<ReadMostlyMap<int, int>>);
  EXPECT_EQ(spread.violations, 0) << spread.report;
  const auto one_shard = testing::lin::check_histories(
      Model{}, histories - histories / 2,
      run_once<ReadMostlyMap<int, int, OneShardHash>>);
  EXPECT_EQ(one_shard.violations, 0) << one_shard.report;
  std::printf("%d histories of 4 threads x 30 operations, %d violations\n",
              spread.histories + one_shard.histories,
              spread.violations + one_shard.violations);
}

}  // namespace
}  // namespace contend
