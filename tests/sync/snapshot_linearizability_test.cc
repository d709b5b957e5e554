// Copyright 2026 The contend Authors.
//
// Snapshot<T> histories checked for linearizability (tests/testing/
// linearizability.h), with Snapshot as a one-key map: load() is a load,
// store(v) a store, compare_and_swap(guard, v) a compare_and_swap from the
// value the guard held, and update(f) a swap whose previous value is the one
// f last saw. Every written value is unique, so CAS by object identity and
// the model's CAS by value agree. 0 violations in every history.

#include <cstdint>
#include <cstdio>
#include <optional>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "sync/snapshot.h"
#include "tests/testing/linearizability.h"
#include "tests/testing/linearizability_runner.h"
#include "tests/testing/stress.h"

namespace contend {
namespace {

using Model = testing::lin::MapModel;

std::vector<testing::lin::Operation<Model>> run_once(uint32_t seed) {
  constexpr int kThreads = 4;
  constexpr int kOps = 25;
  Snapshot<int> s(0);
  testing::lin::History<Model> history(kThreads);
  // The initial value as the model sees it: the key holds 0 from the start.
  history.record(0, Model::store(0, 0), [] { return Model::Output::of(true); });
  testing::lin::run_threads(kThreads, [&](int t) {
    std::mt19937 rng(seed * 104729 + static_cast<uint32_t>(t));
    for (int i = 0; i < kOps; ++i) {
      const int fresh = (t + 1) * 1000 + i;  // unique per write
      switch (rng() % 4) {
        case 0:
          history.record(t, Model::load(0), [&] {
            return Model::Output::of(std::optional<int>(*s.load()));
          });
          break;
        case 1:
          history.record(t, Model::store(0, fresh), [&] {
            s.store(fresh);
            return Model::Output::of(true);
          });
          break;
        case 2: {
          // The expected value comes from a load before the CAS's interval.
          auto g = s.load();
          const int seen = *g;
          history.record(t, Model::compare_and_swap(0, seen, fresh), [&] {
            return Model::Output::of(s.compare_and_swap(g.get(), fresh));
          });
          break;
        }
        default: {
          // update's previous value is known only after it returns: the
          // two-part form would do too; recording the call is the same.
          int prev = -1;
          history.record(t, Model::swap(0, fresh), [&] {
            s.update([&](int& v) {
              prev = v;
              v = fresh;
            });
            return Model::Output::of(std::optional<int>(prev));
          });
          break;
        }
      }
    }
  });
  return history.take();
}

TEST(SnapshotLinearizability, HistoriesOfFourThreads) {
  const int histories = 1000 / testing::kScale;
  const auto r = testing::lin::check_histories(Model{}, histories, run_once);
  EXPECT_EQ(r.violations, 0) << r.report;
  std::printf("%d histories of 4 threads x 25 operations, %d violations\n",
              r.histories, r.violations);
}

}  // namespace
}  // namespace contend
