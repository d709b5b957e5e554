// Copyright 2026 The contend Authors.
//
// The driver loop every linearizability test shares: run a few threads that
// record one history (run_threads), and record-and-check many histories under
// a watchdog (check_histories), stopping at the first few violations.
//
//   using Map = testing::lin::MapModel;
//   auto record = [](uint32_t seed) {
//     ReadMostlyMap<int, int> m;
//     testing::lin::History<Map> history(4);
//     testing::lin::run_threads(4, [&](int t) { ... history.record(t, ...); });
//     return history.take();
//   };
//   const auto r = testing::lin::check_histories(Map{}, 1000, record);
//   EXPECT_EQ(r.violations, 0) << r.report;

#ifndef CONTEND_TESTS_TESTING_LINEARIZABILITY_RUNNER_H_
#define CONTEND_TESTS_TESTING_LINEARIZABILITY_RUNNER_H_

#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "tests/testing/linearizability.h"
#include "tests/testing/stress.h"

namespace contend::testing::lin {

// Runs body(t) for t in [0, threads) on as many threads at once, then joins
// them all.
template <class Body>
void run_threads(int threads, Body body) {
  std::vector<std::thread> ts;
  ts.reserve(static_cast<std::size_t>(threads));
  for (int t = 0; t < threads; ++t) ts.emplace_back([&body, t] { body(t); });
  for (auto& th : ts) th.join();
}

struct HistoriesResult {
  int histories = 0;   // recorded and checked
  int violations = 0;  // not linearizable (or the search's budget ran out)
  std::string report;  // the explanations of the first violations
};

// For h in [0, histories): checks record(uint32_t{h}) (a vector of
// Operation<M>) against `model`. Stops after `max_violations` violations.
// Runs under a Watchdog named after the current test, so a recording that
// hangs is reported with its history number instead of timing out silently.
template <Model M, class Record>
[[nodiscard]] HistoriesResult check_histories(const M& model, int histories,
                                              Record record,
                                              int max_violations = 3) {
  HistoriesResult out;
  Watchdog watchdog(current_test_name());
  auto& me = watchdog.slot("histories");
  for (int h = 0; h < histories; ++h) {
    me.set_state("run+check");
    const CheckResult r = check(model, record(static_cast<uint32_t>(h)));
    ++out.histories;
    if (!r.linearizable) {
      ++out.violations;
      out.report += "history " + std::to_string(h) + " not linearizable" +
                    (r.budget_exceeded ? " (budget exceeded)" : "") + ":\n" +
                    r.explanation + "\n";
      if (out.violations >= max_violations) break;
    }
    me.tick();
  }
  me.finish();
  return out;
}

}  // namespace contend::testing::lin

#endif  // CONTEND_TESTS_TESTING_LINEARIZABILITY_RUNNER_H_
