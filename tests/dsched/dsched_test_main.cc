// Copyright 2026 The contend Authors.
//
// The main of every dsched test binary: one gtest case per registered
// scenario and strategy, each a search with the schedule budget of
// CONTEND_DSCHED_SCHEDULES (per scenario and strategy; .bazelrc sets it for
// --config=dsched). A failing search prints the replay flag; rerun the same
// binary with it (plus --dsched_trace for every decision) to get exactly that
// interleaving again:
//
//   bazel-bin/tests/sync/mutex_dsched_test
//       --dsched_replay=mutex_lock_stop_vs_unlock:0,1*3,2 --dsched_trace
//
// Scenarios whose name starts with "bug_" are the explorer's own known-buggy
// fixtures: their searches must find the failure.

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/dsched/dsched.h"

namespace contend::dsched {
namespace {

int64_t budget() {
  const char* v = std::getenv("CONTEND_DSCHED_SCHEDULES");
  if (v != nullptr && *v != '\0') return std::atoll(v);
  return 150;
}

bool expects_bug(const Scenario& s) { return s.name.rfind("bug_", 0) == 0; }

class SearchTest : public testing::Test {
 public:
  SearchTest(const Scenario* s, Strategy st) : s_(s), st_(st) {}
  void TestBody() override {
    Options o;
    o.strategy = st_;
    o.seed = 0xC0FFEE;
    o.schedules = budget();
    if (st_ == Strategy::kBoundedPreemption) {
      o.schedules *= 2;
      if (s_->bounded_schedules_cap > 0) {
        o.schedules = std::min(o.schedules, s_->bounded_schedules_cap);
      }
    }
    const SearchResult r = explore(*s_, o);
    std::printf(
        "dsched: %s %s: %lld schedules, %lld steps (max %lld)%s -> %s\n",
        s_->name.c_str(), strategy_name(st_),
        static_cast<long long>(r.schedules),
        static_cast<long long>(r.total_steps),
        static_cast<long long>(r.max_steps),
        r.exhausted ? ", bound exhausted" : "",
        outcome_name(r.failure.outcome));
    if (r.failure.outcome != Outcome::kOk) {
      std::printf("dsched:   %s\ndsched:   %s\n", r.failure.message.c_str(),
                  replay_flag(*s_, r.failure).c_str());
      // A reported schedule must reproduce; then report its simplest form.
      const RunResult again = replay(*s_, r.failure.decisions);
      EXPECT_EQ(again.outcome, r.failure.outcome)
          << "the replay did not reproduce: " << again.message;
      const RunResult small = minimize(*s_, r.failure);
      std::printf("dsched:   minimized: %s\n", replay_flag(*s_, small).c_str());
    }
    if (expects_bug(*s_)) {
      EXPECT_NE(r.failure.outcome, Outcome::kOk)
          << s_->name << ": the known bug was not found in " << r.schedules
          << " schedules";
    } else {
      EXPECT_EQ(r.failure.outcome, Outcome::kOk)
          << outcome_name(r.failure.outcome) << ": " << r.failure.message
          << "\nreplay with: " << replay_flag(*s_, r.failure);
    }
  }

 private:
  const Scenario* s_;
  Strategy st_;
};

int replay_main(const std::string& arg, bool trace) {
  const size_t colon = arg.find(':');
  const std::string name = arg.substr(0, colon);
  const Scenario* s = find_scenario(name);
  if (s == nullptr) {
    std::fprintf(stderr, "dsched: no scenario named %s in this binary\n",
                 name.c_str());
    return 2;
  }
  std::vector<uint32_t> d;
  if (colon != std::string::npos &&
      !parse_decisions(arg.substr(colon + 1), &d)) {
    std::fprintf(stderr, "dsched: cannot parse the decision list\n");
    return 2;
  }
  const RunResult r = replay(*s, d, trace);
  std::printf("dsched: replay %s (%zu decisions): %s %s\n", name.c_str(),
              d.size(), outcome_name(r.outcome), r.message.c_str());
  return r.outcome == Outcome::kOk ? 0 : 1;
}

}  // namespace
}  // namespace contend::dsched

int main(int argc, char** argv) {
  using namespace contend::dsched;  // NOLINT: a test main
  std::string replay_arg;
  bool trace = false;
  std::vector<char*> rest;
  for (int i = 0; i < argc; ++i) {
    if (std::strncmp(argv[i], "--dsched_replay=", 16) == 0) {
      replay_arg = argv[i] + 16;
    } else if (std::strcmp(argv[i], "--dsched_trace") == 0) {
      trace = true;
    } else {
      rest.push_back(argv[i]);
    }
  }
  if (!replay_arg.empty()) return replay_main(replay_arg, trace);
  int rest_argc = static_cast<int>(rest.size());
  // argv[argc] must be null: InitGoogleTest shifts the array over each flag it
  // consumes, terminator included (ASan: heap-buffer-overflow without it).
  rest.push_back(nullptr);
  testing::InitGoogleTest(&rest_argc, rest.data());
  for (const Scenario* s : all_scenarios()) {
    for (Strategy st :
         {Strategy::kRandom, Strategy::kPct, Strategy::kBoundedPreemption}) {
      const std::string test = s->name + "/" + strategy_name(st);
      testing::RegisterTest(
          "Dsched", test.c_str(), nullptr, nullptr, __FILE__, __LINE__,
          [s, st]() -> testing::Test* { return new SearchTest(s, st); });
    }
  }
  return RUN_ALL_TESTS();
}
