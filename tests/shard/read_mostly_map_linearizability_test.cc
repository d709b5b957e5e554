// Copyright 2026 The contend Authors.
//
// ReadMostlyMap histories checked for linearizability against the map model
// (tests/testing/linearizability.h): many short histories of 4 threads, each
// mixing every verb on a few keys, so both the lock-free decisions and the
// locked copy-and-publish paths overlap. 1000 histories (fewer under
// sanitizers), 0 violations.

#include <cstdint>
#include <random>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "shard/read_mostly_map.h"
#include "tests/testing/linearizability.h"
#include "tests/testing/stress.h"

namespace contend {
namespace {

using Model = testing::lin::MapModel;

std::vector<testing::lin::Operation<Model>> run_once(uint32_t seed) {
  constexpr int kThreads = 4;
  constexpr int kOps = 30;
  constexpr int kKeys = 3;
  ReadMostlyMap<int, int> m;
  testing::lin::History<Model> history(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
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
  }
  for (auto& th : threads) th.join();
  return history.take();
}

TEST(ReadMostlyMapLinearizability, ThousandHistoriesOfFourThreads) {
  const int histories = 1000 / testing::kScale;
  testing::Watchdog watchdog(testing::current_test_name());
  auto& me = watchdog.slot("histories");
  int violations = 0;
  for (int h = 0; h < histories; ++h) {
    me.set_state("run+check");
    const testing::lin::CheckResult r =
        testing::lin::check(Model{}, run_once(static_cast<uint32_t>(h)));
    if (!r.linearizable) {
      ++violations;
      ADD_FAILURE() << "history " << h << " not linearizable"
                    << (r.budget_exceeded ? " (budget exceeded)" : "") << ":\n"
                    << r.explanation;
      if (violations > 2) break;
    }
    me.tick();
  }
  me.finish();
  EXPECT_EQ(violations, 0);
  std::printf("%d histories of 4 threads x 30 operations, %d violations\n",
              histories, violations);
}

}  // namespace
}  // namespace contend
