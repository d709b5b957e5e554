// Copyright 2026 The contend Authors.
//
// dsched: a deterministic-schedule explorer for contend's primitives.
//
// A scenario runs real primitive code (the `_dsched` twins of the sync
// libraries, tools/dsched.bzl) on real threads, but only one thread runs at a
// time. The explorer decides, at every scheduling point, which thread runs
// next. Scheduling points are every internal::Atomic operation, every spin
// hint (cpu_relax, sched_yield), every futex wait and wake (so every
// ParkingLot park and unpark), and thread start and exit. Time is virtual: the
// clock advances a fixed amount per scheduling point, and a timed wait times
// out either when the explorer chooses to fire its timer (a decision like any
// other) or when every thread is blocked and it is the earliest timer.
//
// A run is a function of its decision list: the i-th entry picks among the
// candidates of the i-th point that had more than one candidate (entry modulo
// the number of candidates). Candidate 0 is always "keep running the current
// thread" when that is possible, so an all-zero (or empty) list is the
// non-preemptive schedule, and shorter lists with smaller entries are simpler
// schedules (which is what Hypothesis shrinks towards).
//
// Strategies: random walk, PCT (Burckhardt et al., ASPLOS 2010: random thread
// priorities with d-1 priority change points, finds a bug of depth d with
// probability >= 1/(n k^(d-1))), and preemption-bounded exhaustive search
// (CHESS, Musuvathi & Qadeer: every schedule with at most B preemptions;
// switching away from a thread that is spinning or blocking is free).
//
// Detected: a failed DSCHED_CHECK (in a scenario thread or in the body after
// run()), a contend misuse abort or crash (fatal signal), deadlock (every
// thread blocked with no timer pending), lost wakeup (threads still blocked,
// no timer, after the other threads finished), livelock (step bound).
//
// Each search runs in a forked child, so a failing run (threads stuck in the
// primitive, a crash) cannot disturb the next search; the child reports the
// failing run's decision list, and replay() reruns exactly that schedule.
//
// Out of scope: weak-memory reorderings. One thread runs at a time on a
// strongly ordered machine, so a missing acquire/release is invisible here;
// TSan and the aarch64 build cover what they can (README, "dsched").

#ifndef CONTEND_TESTS_DSCHED_DSCHED_H_
#define CONTEND_TESTS_DSCHED_DSCHED_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace contend::dsched {

// A scenario's body runs on the controlling thread: it builds the shared
// state, spawns the scenario threads, calls run() (which returns once every
// spawned thread finished), then checks the final state with DSCHED_CHECK.
class Env {
 public:
  virtual ~Env() = default;
  // Adds a scenario thread; it starts when run() is called.
  virtual void spawn(std::function<void()> fn) = 0;
  // Runs every spawned thread to completion under the explorer.
  virtual void run() = 0;
};

struct Scenario {
  std::string name;
  std::function<void(Env&)> body;
  // Virtual nanoseconds per scheduling point (how fast time passes).
  int64_t ns_per_step = 100;
  // A run that takes more scheduling points than this is a livelock.
  int64_t max_steps = 50'000;
  // > 0: dsched_test_main's bounded-preemption search runs at most this many
  // schedules. Its depth-first order backtracks from the end of a run, so a
  // search that cannot exhaust the bound only ever preempts within the last
  // few dozen scheduling points; a scenario whose races happen earlier gains
  // little from a larger budget (tests/sync/chan_dsched_test.cc).
  int64_t bounded_schedules_cap = 0;
};

// Registers a scenario (at static-initialization time, see DSCHED_SCENARIO).
bool register_scenario(Scenario s);
const Scenario* find_scenario(const std::string& name);
std::vector<const Scenario*> all_scenarios();

#define DSCHED_CONCAT_INNER(a, b) a##b
#define DSCHED_CONCAT(a, b) DSCHED_CONCAT_INNER(a, b)
// DSCHED_SCENARIO("name", [](contend::dsched::Env& env) { ... });
#define DSCHED_SCENARIO(...)                                      \
  static const bool DSCHED_CONCAT(dsched_registered_, __LINE__) = \
      ::contend::dsched::register_scenario(                       \
          ::contend::dsched::Scenario{__VA_ARGS__})

// Fails the current run with `what` (from a scenario thread or the body).
[[noreturn]] void fail(const std::string& what);
#define DSCHED_CHECK(cond)                                                 \
  do {                                                                     \
    if (!(cond)) {                                                         \
      ::contend::dsched::fail(std::string("check failed: " #cond " at ") + \
                              __FILE__ + ":" + std::to_string(__LINE__));  \
    }                                                                      \
  } while (0)

// Virtual time of the current run, in ns (what internal::monotonic_now_ns
// returns inside a run).
int64_t now_ns();

// Marks [p, p + size) as destroyed: from now until the run ends, an atomic
// operation on it (a primitive touching its own memory after the thread that
// owns it destroyed it) fails the run. The memory itself stays allocated
// until the body returns, so the check cannot be fooled by reuse.
void mark_destroyed(const void* p, size_t size);

// While one is alive on a scenario thread, that thread is not preempted: its
// scheduling points are skipped, so the code in the scope runs as one step
// (a check that must see the state its own operation saw). Blocking inside
// fails the run.
class NoPreempt {
 public:
  NoPreempt();
  ~NoPreempt();
  NoPreempt(const NoPreempt&) = delete;
  NoPreempt& operator=(const NoPreempt&) = delete;
};

enum class Strategy { kRandom, kPct, kBoundedPreemption };
const char* strategy_name(Strategy s);

struct Options {
  Strategy strategy = Strategy::kRandom;
  uint64_t seed = 1;
  int pct_depth = 3;
  int preemption_bound = 2;
  int64_t schedules = 1'000;  // budget of runs for one search
};

enum class Outcome {
  kOk,
  kCheckFailed,
  kDeadlock,
  kLostWakeup,
  kLivelock,
  kUseAfterDestroy,
  kCrash,
};
const char* outcome_name(Outcome o);

struct RunResult {
  Outcome outcome = Outcome::kOk;
  std::string message;
  std::vector<uint32_t> decisions;  // the run's decision list (replayable)
  int64_t steps = 0;
};

struct SearchResult {
  RunResult failure;      // outcome kOk if no run failed
  int64_t schedules = 0;  // runs made (including the failing one)
  int64_t total_steps = 0;
  int64_t max_steps = 0;
  bool exhausted = false;  // bounded search only: every schedule was run
};

// Runs up to options.schedules runs of `s` with the given strategy in a
// forked child; stops at the first failing run.
SearchResult explore(const Scenario& s, const Options& options);

// Runs exactly one schedule (in a forked child). With trace, the child prints
// every decision (thread, candidate count, address) to stderr.
RunResult replay(const Scenario& s, const std::vector<uint32_t>& decisions,
                 bool trace = false);

// A simpler schedule with the same outcome: trailing zeros dropped (they are
// the default), then each preemption undone (entry set to 0) or made smaller
// when the failure survives it, greedily, with one replay per attempt (at
// most `max_replays`).
RunResult minimize(const Scenario& s, const RunResult& failing,
                   int max_replays = 200);

// "0,3,1*7,0" <-> {0,3,1,1,1,1,1,1,1,0} (v*n: n copies of v).
std::string format_decisions(const std::vector<uint32_t>& d);
bool parse_decisions(const std::string& text, std::vector<uint32_t>* out);

// The line a failing search prints: "--dsched_replay=<name>:<decisions>".
std::string replay_flag(const Scenario& s, const RunResult& r);

}  // namespace contend::dsched

#endif  // CONTEND_TESTS_DSCHED_DSCHED_H_
