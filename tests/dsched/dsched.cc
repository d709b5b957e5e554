// Copyright 2026 The contend Authors.
//
// The explorer's scheduler (dsched.h has the model).
//
// Hand-off: every scenario thread is a real thread that sleeps on its own
// futex word (`Turn`) except while it is the one running thread. A thread at
// a scheduling point picks the next thread, wakes it and sleeps; so the
// scheduler's state needs no lock: it is only ever touched by the running
// thread, and each hand-off is a release/acquire pair on the Turn word.
//
// Blocking: contend's futex calls come here (dsched_hooks.h). A thread whose
// futex_wait finds the expected value is marked blocked on that address and
// leaves the CPU; futex_wake marks blocked threads runnable in the order they
// blocked. libstdc++ also blocks on futexes of its own (std::stop_callback's
// destructor waits for a callback running on another thread); those calls go
// through `syscall`, which this file interposes for scenario threads, so they
// become scheduler waits too instead of real sleeps that would hang the run.
//
// The search runs in a forked child. It writes its result to a pipe in a line
// format (ReportWriter); a fatal signal handler writes the current run's
// decisions with async-signal-safe calls only, so a crash is replayable too.

#include "tests/dsched/dsched.h"

#include <dlfcn.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <thread>

#include "sync/internal/clock.h"
#include "sync/internal/dsched_hooks.h"
#include "sync/internal/futex.h"
#include "sync/internal/prng.h"

namespace contend::dsched {
namespace {

using internal::FutexResult;
using internal::kNoDeadline;

// Virtual time starts here, not at 0 (some primitives use 0 as "unset").
constexpr int64_t kTimeOrigin = 1'000'000'000;

// ---------------------------------------------------------------------------
// Real futex calls, bypassing the interposed syscall() below.

// No function-local static here: its guard would itself wait through
// syscall(). Every caller computes the same value, so racing is harmless.
using SyscallFn = long (*)(long, ...);
std::atomic<SyscallFn> g_real_syscall{nullptr};
SyscallFn real_syscall() {
  // Relaxed: the value is the same for every thread (dlsym is idempotent).
  SyscallFn fn = g_real_syscall.load(std::memory_order_relaxed);
  if (fn == nullptr) {
    fn = reinterpret_cast<SyscallFn>(dlsym(RTLD_NEXT, "syscall"));
    g_real_syscall.store(fn, std::memory_order_relaxed);
  }
  return fn;
}

// A binary hand-off flag: signal() lets one wait() return.
class Turn {
 public:
  void wait() {
    // Acquire: pairs with the release store in signal(), so the woken thread
    // sees everything the previous running thread did.
    while (go_.exchange(0, std::memory_order_acquire) == 0) {
      real_syscall()(SYS_futex, &go_, FUTEX_WAIT_PRIVATE, 0, nullptr, nullptr,
                     0);
    }
  }
  void signal() {
    // Release: pairs with the acquire exchange in wait().
    go_.store(1, std::memory_order_release);
    real_syscall()(SYS_futex, &go_, FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
  }

 private:
  std::atomic<uint32_t> go_{0};
};

[[noreturn]] void sleep_forever() {
  std::atomic<uint32_t> never{0};
  for (;;) {
    real_syscall()(SYS_futex, &never, FUTEX_WAIT_PRIVATE, 0, nullptr, nullptr,
                   0);
  }
}

// ---------------------------------------------------------------------------
// Deciders.

struct ChoicePoint {
  uint32_t n = 0;              // candidates (>= 2)
  bool current_first = false;  // candidate 0 is the running thread
  bool at_spin = false;        // the running thread is spinning/blocking
  const std::vector<int>* ids = nullptr;        // thread id per candidate
  const std::vector<bool>* is_timer = nullptr;  // candidate fires a timer
  int current = -1;                             // running thread id
};

class Decider {
 public:
  virtual ~Decider() = default;
  virtual uint32_t choose(const ChoicePoint& p) = 0;
};

class ReplayDecider : public Decider {
 public:
  explicit ReplayDecider(const std::vector<uint32_t>& d) : d_(d) {}
  uint32_t choose(const ChoicePoint& p) override {
    if (i_ >= d_.size()) return 0;
    return d_[i_++] % p.n;
  }

 private:
  const std::vector<uint32_t>& d_;
  size_t i_ = 0;
};

// SplitMix64: small, fast and good enough for schedule choices.
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t next() {
    uint64_t z = (s_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  uint32_t below(uint32_t n) { return static_cast<uint32_t>(next() % n); }

 private:
  uint64_t s_;
};

// Random walk with a per-run preemption density: each run draws p from
// {1/2, 1/4, ..., 1/256}; at each point the running thread is preempted with
// probability p (then a uniformly random other thread runs). Uniform choice
// at every point would almost never let a thread run a 100-step spin phase
// to its end, which is where several of the interesting races are. A
// pending timer fires with probability 1/8 of a preemption.
class RandomDecider : public Decider {
 public:
  explicit RandomDecider(uint64_t seed)
      : rng_(seed), shift_(1 + rng_.below(8)) {}
  uint32_t choose(const ChoicePoint& p) override {
    const bool preempt = (rng_.next() & ((uint64_t{1} << shift_) - 1)) == 0;
    if (p.current_first && !preempt) return 0;
    std::vector<uint32_t> threads, timers;
    for (uint32_t i = p.current_first ? 1 : 0; i < p.n; ++i) {
      ((*p.is_timer)[i] ? timers : threads).push_back(i);
    }
    if (!timers.empty() && (threads.empty() || rng_.below(8) == 0)) {
      return timers[rng_.below(static_cast<uint32_t>(timers.size()))];
    }
    if (threads.empty()) return 0;
    return threads[rng_.below(static_cast<uint32_t>(threads.size()))];
  }

 private:
  Rng rng_;
  uint32_t shift_;
};

// PCT: distinct random priorities >= depth; the highest-priority candidate
// runs; at each of depth-1 change points (uniform over the expected number
// of decisions) the running thread drops to priority j < depth. Spinning
// threads keep their priority: every spin loop in contend is bounded (it
// parks), so spinning for a lower-priority thread ends in a park, not a
// livelock.
class PctDecider : public Decider {
 public:
  PctDecider(uint64_t seed, int depth, int64_t expected_decisions)
      : rng_(seed), depth_(depth) {
    const uint64_t k =
        static_cast<uint64_t>(std::max<int64_t>(expected_decisions, 1));
    for (int j = 1; j < depth_; ++j) change_.push_back(rng_.next() % k);
  }
  uint32_t choose(const ChoicePoint& p) override {
    for (const int id : *p.ids) prio_of(id);
    for (size_t j = 0; j < change_.size(); ++j) {
      if (change_[j] == count_ && p.current >= 0) {
        prio_[p.current] = static_cast<int64_t>(j) + 1;
      }
    }
    ++count_;
    std::vector<uint32_t> timers;
    int64_t best = -1;
    uint32_t pick = 0;
    for (uint32_t i = 0; i < p.n; ++i) {
      if ((*p.is_timer)[i]) {
        timers.push_back(i);
        continue;
      }
      const int id = (*p.ids)[i];
      if (prio_[id] > best) {
        best = prio_[id];
        pick = i;
      }
    }
    if (!timers.empty() && (best < 0 || rng_.below(32) == 0)) {
      return timers[rng_.below(static_cast<uint32_t>(timers.size()))];
    }
    if (best < 0) return 0;
    return pick;
  }

 private:
  int64_t prio_of(int id) {
    auto it = prio_.find(id);
    if (it != prio_.end()) return it->second;
    // Distinct priorities >= depth: the order of arrival plus a random
    // offset in a wide range.
    const int64_t pr =
        depth_ + 1 + static_cast<int64_t>(rng_.below(1u << 20)) * 64 + id;
    prio_[id] = pr;
    return pr;
  }

  Rng rng_;
  int depth_;
  std::vector<uint64_t> change_;
  uint64_t count_ = 0;
  std::map<int, int64_t> prio_;
};

// Preemption-bounded depth-first search: follows `prefix`, then always takes
// candidate 0 (no preemption). Records every point so next_prefix() can find
// the deepest point with an untried alternative inside the bound.
class BoundedDecider : public Decider {
 public:
  struct Point {
    uint32_t n;
    uint32_t chosen;
    bool preemptible;  // choosing != 0 here costs one preemption
  };
  explicit BoundedDecider(const std::vector<uint32_t>& prefix)
      : prefix_(prefix) {}
  uint32_t choose(const ChoicePoint& p) override {
    const uint32_t c = i_ < prefix_.size() ? prefix_[i_] % p.n : 0;
    ++i_;
    points_.push_back({p.n, c, p.current_first && !p.at_spin});
    return c;
  }
  // The prefix of the next schedule in DFS order, or false if none is left.
  bool next_prefix(int bound, std::vector<uint32_t>* out) const {
    std::vector<int> used(points_.size() + 1, 0);
    for (size_t i = 0; i < points_.size(); ++i) {
      used[i + 1] =
          used[i] + (points_[i].preemptible && points_[i].chosen != 0);
    }
    for (size_t i = points_.size(); i-- > 0;) {
      const Point& pt = points_[i];
      if (pt.chosen + 1 >= pt.n) continue;
      if (used[i] + (pt.preemptible ? 1 : 0) > bound) continue;
      out->clear();
      for (size_t j = 0; j < i; ++j) out->push_back(points_[j].chosen);
      out->push_back(pt.chosen + 1);
      return true;
    }
    return false;
  }

 private:
  const std::vector<uint32_t>& prefix_;
  size_t i_ = 0;
  std::vector<Point> points_;
};

// ---------------------------------------------------------------------------
// The run.

enum class TState : uint8_t { kRunnable, kBlocked, kDone };

struct Thread {
  int id = 0;
  std::function<void()> fn;
  TState state = TState::kRunnable;
  const void* wait_addr = nullptr;
  int64_t deadline = kNoDeadline;
  uint64_t wait_seq = 0;
  FutexResult wake_result = FutexResult::kWoken;
  Turn turn;
  std::thread th;
};

class Run;
Run* g_run = nullptr;  // the run in progress (one per process at a time)
thread_local Thread* tls_thread = nullptr;
thread_local int tls_no_preempt = 0;  // NoPreempt scopes alive on this thread

// Where the search child reports to; set in the child only.
int g_report_fd = -1;
// The search's counters, reported with the result.
struct SearchCounters {
  int64_t schedules = 0;
  int64_t total_steps = 0;
  int64_t max_steps = 0;
  bool exhausted = false;
} g_counters;

void write_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    const ssize_t w = write(fd, p, n);
    if (w <= 0) {
      if (w < 0 && errno == EINTR) continue;
      return;
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
}

// Async-signal-safe formatting of a decimal number.
size_t format_u64(uint64_t v, char* buf) {
  char tmp[24];
  size_t n = 0;
  do {
    tmp[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  for (size_t i = 0; i < n; ++i) buf[i] = tmp[n - 1 - i];
  return n;
}

// Writes "decisions v,v,v*n,...\n" without allocating (signal handler too).
void write_decisions(int fd, const uint32_t* d, size_t n) {
  char buf[4096];
  size_t len = 0;
  auto flush = [&] {
    write_all(fd, buf, len);
    len = 0;
  };
  const char* head = "decisions ";
  write_all(fd, head, strlen(head));
  size_t i = 0;
  bool first = true;
  while (i < n) {
    size_t j = i;
    while (j < n && d[j] == d[i]) ++j;
    if (len > sizeof(buf) - 64) flush();
    if (!first) buf[len++] = ',';
    first = false;
    len += format_u64(d[i], buf + len);
    if (j - i > 1) {
      buf[len++] = '*';
      len += format_u64(j - i, buf + len);
    }
    i = j;
  }
  buf[len++] = '\n';
  flush();
}

void write_counters(int fd) {
  std::string s = "stats " + std::to_string(g_counters.schedules) + " " +
                  std::to_string(g_counters.total_steps) + " " +
                  std::to_string(g_counters.max_steps) + " " +
                  (g_counters.exhausted ? "1" : "0") + "\n";
  write_all(fd, s.data(), s.size());
}

class Run : public Env {
 public:
  Run(const Scenario& s, Decider& d, bool trace)
      : scenario_(s), decider_(d), trace_(trace) {
    decisions_.reserve(1 << 16);
  }

  void spawn(std::function<void()> fn) override {
    if (started_) fail("Env::spawn: called after run()");
    auto t = std::make_unique<Thread>();
    t->id = static_cast<int>(threads_.size());
    t->fn = std::move(fn);
    threads_.push_back(std::move(t));
  }

  void run() override {
    if (started_) fail("Env::run: called twice");
    started_ = true;
    if (threads_.empty()) {
      finished_ = true;
      return;
    }
    for (auto& tp : threads_) {
      Thread* t = tp.get();
      t->th = std::thread([this, t] { thread_main(t); });
    }
    // The first thread to run is a decision like any other.
    std::vector<int> ids;
    std::vector<bool> timers;
    for (auto& tp : threads_) {
      ids.push_back(tp->id);
      timers.push_back(false);
    }
    Thread* first = threads_[pick(ids, timers, /*current_first=*/false,
                                  /*at_spin=*/false, -1)]
                        .get();
    first->turn.signal();
    controller_.wait();
    if (failed_) report_failure_and_exit();
    for (auto& tp : threads_) tp->th.join();
    finished_ = true;
  }

  // --- hooks ---------------------------------------------------------------

  void switch_point(Thread* t, const void* addr, bool spin) {
    check_destroyed(t, addr);
    if (tls_no_preempt != 0) return;
    if (trace_ && addr != nullptr) {
      std::fprintf(stderr, "dsched: step %lld thread %d atomic %p\n",
                   static_cast<long long>(steps_), t->id, addr);
    }
    advance();
    std::vector<int> ids;
    std::vector<bool> timers;
    ids.push_back(t->id);
    timers.push_back(false);
    add_others(t, &ids, &timers);
    if (ids.size() == 1) return;
    const size_t c = pick(ids, timers, /*current_first=*/true, spin, t->id);
    if (c == 0) return;
    Thread* next = resolve(ids[c], timers[c]);
    if (next == t) return;
    next->turn.signal();
    t->turn.wait();
    // Again on resuming: what ran meanwhile may have destroyed the object
    // this thread is about to touch.
    check_destroyed(t, addr);
  }

  FutexResult futex_wait(Thread* t, const void* word, uint32_t expected,
                         int64_t deadline) {
    advance();
    // Relaxed: only the running thread touches memory now (one at a time);
    // the hand-offs order it.
    if (static_cast<const std::atomic<uint32_t>*>(word)->load(
            std::memory_order_relaxed) != expected) {
      return FutexResult::kValueMismatch;
    }
    if (deadline != kNoDeadline && deadline <= now_) {
      return FutexResult::kTimedOut;
    }
    if (tls_no_preempt != 0) {
      fail_run(Outcome::kCheckFailed,
               "a scenario thread blocked inside a NoPreempt scope");
    }
    if (trace_) {
      std::fprintf(stderr, "dsched: step %lld thread %d blocks on %p%s\n",
                   static_cast<long long>(steps_), t->id, word,
                   deadline == kNoDeadline ? "" : " (timed)");
    }
    t->state = TState::kBlocked;
    t->wait_addr = word;
    t->deadline = deadline;
    t->wait_seq = ++seq_;
    leave(t);
    t->turn.wait();
    return t->wake_result;
  }

  int futex_wake(const void* word, int count) {
    int woken = 0;
    while (woken < count) {
      Thread* best = nullptr;
      for (auto& tp : threads_) {
        Thread* o = tp.get();
        if (o->state == TState::kBlocked && o->wait_addr == word &&
            (best == nullptr || o->wait_seq < best->wait_seq)) {
          best = o;
        }
      }
      if (best == nullptr) break;
      best->state = TState::kRunnable;
      best->wake_result = FutexResult::kWoken;
      best->wait_addr = nullptr;
      ++woken;
    }
    return woken;
  }

  int64_t now() const { return now_; }

  void mark_destroyed(const void* p, size_t size) {
    destroyed_.push_back({reinterpret_cast<uintptr_t>(p), size});
  }

  // Fails the run. From a scenario thread: tells the controller and never
  // returns; from the controller: reports at once.
  [[noreturn]] void fail_run(Outcome o, const std::string& what) {
    if (!failed_) {
      failed_ = true;
      outcome_ = o;
      message_ = what;
    }
    Thread* t = tls_thread;
    if (t == nullptr) report_failure_and_exit();
    controller_.signal();
    sleep_forever();
  }

  const std::vector<uint32_t>& decisions() const { return decisions_; }
  int64_t steps() const { return steps_; }
  bool finished() const { return finished_; }

  // For the fatal-signal handler.
  const uint32_t* decisions_data() const { return decisions_.data(); }
  size_t decisions_size() const { return decisions_.size(); }

 private:
  void thread_main(Thread* t) {
    tls_thread = t;
    // Deterministic per-thread random streams (Backoff jitter and the like).
    internal::seed_thread_random(0x5EED0000u + static_cast<uint64_t>(t->id));
    t->turn.wait();
    t->fn();
    t->state = TState::kDone;
    if (trace_) {
      std::fprintf(stderr, "dsched: step %lld thread %d finished\n",
                   static_cast<long long>(steps_), t->id);
    }
    bool all_done = true;
    for (auto& tp : threads_) all_done &= tp->state == TState::kDone;
    if (all_done) {
      controller_.signal();
      return;
    }
    leave(t);
    tls_thread = nullptr;
  }

  void advance() {
    ++steps_;
    now_ += scenario_.ns_per_step;
    if (steps_ > scenario_.max_steps) {
      fail_run(Outcome::kLivelock, "livelock: more than " +
                                       std::to_string(scenario_.max_steps) +
                                       " scheduling points");
    }
    expire_timers();
  }

  void expire_timers() {
    for (auto& tp : threads_) {
      Thread* o = tp.get();
      if (o->state == TState::kBlocked && o->deadline <= now_) {
        o->state = TState::kRunnable;
        o->wake_result = FutexResult::kTimedOut;
        o->wait_addr = nullptr;
      }
    }
  }

  // Runnable threads other than t, then pending timers, in thread order.
  void add_others(Thread* t, std::vector<int>* ids, std::vector<bool>* timers) {
    for (auto& tp : threads_) {
      if (tp.get() != t && tp->state == TState::kRunnable) {
        ids->push_back(tp->id);
        timers->push_back(false);
      }
    }
    for (auto& tp : threads_) {
      if (tp->state == TState::kBlocked && tp->deadline != kNoDeadline) {
        ids->push_back(tp->id);
        timers->push_back(true);
      }
    }
  }

  size_t pick(const std::vector<int>& ids, const std::vector<bool>& timers,
              bool current_first, bool at_spin, int current) {
    if (ids.size() == 1) return 0;
    ChoicePoint p;
    p.n = static_cast<uint32_t>(ids.size());
    p.current_first = current_first;
    p.at_spin = at_spin;
    p.ids = &ids;
    p.is_timer = &timers;
    p.current = current;
    const uint32_t c = decider_.choose(p) % p.n;
    decisions_.push_back(c);
    if (trace_) {
      std::fprintf(stderr,
                   "dsched: step %lld decision #%zu: %u of %u -> %s %d\n",
                   static_cast<long long>(steps_), decisions_.size() - 1, c,
                   p.n, timers[c] ? "timer of thread" : "thread", ids[c]);
    }
    return c;
  }

  // The thread a chosen candidate runs: a timer fires (time jumps to its
  // deadline) and its thread becomes runnable.
  Thread* resolve(int id, bool timer) {
    Thread* t = threads_[static_cast<size_t>(id)].get();
    if (timer) {
      now_ = std::max(now_, t->deadline);
      expire_timers();
    }
    return t;
  }

  // t blocked or finished: hand the CPU to a candidate, or detect that none
  // is left.
  void leave(Thread* t) {
    std::vector<int> ids;
    std::vector<bool> timers;
    add_others(t, &ids, &timers);
    if (ids.empty()) {
      std::string blocked;
      bool any_done = false;
      for (auto& tp : threads_) {
        if (tp->state == TState::kDone) any_done = true;
        if (tp->state == TState::kBlocked) {
          char buf[64];
          std::snprintf(buf, sizeof(buf), " %d (on %p)", tp->id, tp->wait_addr);
          blocked += buf;
        }
      }
      if (any_done) {
        fail_run(Outcome::kLostWakeup,
                 "lost wakeup: thread(s)" + blocked +
                     " still blocked with no timer after the others finished");
      }
      fail_run(Outcome::kDeadlock,
               "deadlock: every thread blocked with no timer:" + blocked);
    }
    const size_t c = pick(ids, timers, /*current_first=*/false,
                          /*at_spin=*/true, t->id);
    Thread* next = resolve(ids[c], timers[c]);
    next->turn.signal();
  }

  void check_destroyed(Thread* t, const void* addr) {
    const auto a = reinterpret_cast<uintptr_t>(addr);
    for (const auto& [p, n] : destroyed_) {
      if (a >= p && a < p + n) {
        char buf[128];
        std::snprintf(buf, sizeof(buf),
                      "use after destroy: thread %d touched %p, inside an "
                      "object destroyed earlier in this run",
                      t->id, addr);
        fail_run(Outcome::kUseAfterDestroy, buf);
      }
    }
  }

  [[noreturn]] void report_failure_and_exit() {
    ++g_counters.schedules;
    g_counters.total_steps += steps_;
    g_counters.max_steps = std::max(g_counters.max_steps, steps_);
    if (g_report_fd < 0) {
      std::fprintf(stderr, "dsched: %s: %s\n", outcome_name(outcome_),
                   message_.c_str());
      _exit(3);
    }
    std::string head = "result " + std::to_string(static_cast<int>(outcome_)) +
                       " " + std::to_string(steps_) + "\nmessage ";
    for (char ch : message_) head += ch == '\n' ? ' ' : ch;
    head += "\n";
    write_all(g_report_fd, head.data(), head.size());
    write_decisions(g_report_fd, decisions_.data(), decisions_.size());
    write_counters(g_report_fd);
    write_all(g_report_fd, "end\n", 4);
    _exit(0);
  }

  const Scenario& scenario_;
  Decider& decider_;
  bool trace_;
  std::vector<std::unique_ptr<Thread>> threads_;
  Turn controller_;
  bool started_ = false;
  bool finished_ = false;
  int64_t now_ = kTimeOrigin;
  int64_t steps_ = 0;
  uint64_t seq_ = 0;
  std::vector<uint32_t> decisions_;
  std::vector<std::pair<uintptr_t, size_t>> destroyed_;
  bool failed_ = false;
  Outcome outcome_ = Outcome::kOk;
  std::string message_;
};

// --- hook table ------------------------------------------------------------

void hook_switch_point(const void* addr) {
  Thread* t = tls_thread;
  if (t == nullptr || g_run == nullptr) return;
  g_run->switch_point(t, addr, /*spin=*/false);
}

void hook_spin_point() {
  Thread* t = tls_thread;
  if (t == nullptr || g_run == nullptr) return;
  g_run->switch_point(t, nullptr, /*spin=*/true);
}

int hook_futex_wait(const std::atomic<uint32_t>* word, uint32_t expected,
                    int64_t deadline_ns) {
  Thread* t = tls_thread;
  if (t == nullptr || g_run == nullptr) {
    // The controller never blocks: nothing would wake it.
    if (word->load(std::memory_order_relaxed) != expected) {
      return static_cast<int>(FutexResult::kValueMismatch);
    }
    fail("a futex wait outside the scenario threads (in the body?)");
  }
  return static_cast<int>(g_run->futex_wait(t, word, expected, deadline_ns));
}

int hook_futex_wake(const std::atomic<uint32_t>* word, int count) {
  if (g_run == nullptr) return 0;
  return g_run->futex_wake(word, count);
}

int64_t hook_now_ns() { return g_run != nullptr ? g_run->now() : kTimeOrigin; }

constexpr internal::dsched::Hooks kHooks = {
    &hook_switch_point, &hook_spin_point, &hook_futex_wait,
    &hook_futex_wake,   &hook_now_ns,
};

// --- one run ---------------------------------------------------------------

void fatal_signal_handler(int sig) {
  if (g_report_fd >= 0) {
    char buf[64];
    size_t n = 0;
    const char* head = "result ";
    memcpy(buf, head, strlen(head));
    n += strlen(head);
    n += format_u64(static_cast<uint64_t>(Outcome::kCrash), buf + n);
    buf[n++] = ' ';
    n += format_u64(0, buf + n);
    const char* msg = "\nmessage fatal signal ";
    memcpy(buf + n, msg, strlen(msg));
    n += strlen(msg);
    n += format_u64(static_cast<uint64_t>(sig), buf + n);
    buf[n++] = '\n';
    write_all(g_report_fd, buf, n);
    if (g_run != nullptr) {
      write_decisions(g_report_fd, g_run->decisions_data(),
                      g_run->decisions_size());
    } else {
      write_all(g_report_fd, "decisions \n", 11);
    }
    write_all(g_report_fd, "end\n", 4);
  }
  _exit(4);
}

void install_signal_handlers() {
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = &fatal_signal_handler;
  for (int sig : {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL}) {
    sigaction(sig, &sa, nullptr);
  }
}

// Runs one schedule in this process. Returns normally only if it passed (a
// failing run reports and exits the process).
void run_once(const Scenario& s, Decider& d, bool trace,
              std::vector<uint32_t>* decisions, int64_t* steps) {
  Run run(s, d, trace);
  g_run = &run;
  s.body(run);
  if (!run.finished()) run.run();  // a body that forgot run(): run it now
  *steps = run.steps();
  if (decisions != nullptr) *decisions = run.decisions();
  g_run = nullptr;
}

void count_run(int64_t steps) {
  ++g_counters.schedules;
  g_counters.total_steps += steps;
  g_counters.max_steps = std::max(g_counters.max_steps, steps);
}

[[noreturn]] void report_ok_and_exit() {
  const char* head = "result 0 0\nmessage \ndecisions \n";
  write_all(g_report_fd, head, strlen(head));
  write_counters(g_report_fd);
  write_all(g_report_fd, "end\n", 4);
  _exit(0);
}

void child_setup(int report_fd) {
  real_syscall();  // resolved before any scenario thread exists
  g_report_fd = report_fd;
  g_counters = SearchCounters{};
  install_signal_handlers();
  // One CPU for the whole search: every hand-off is then a same-CPU wakeup.
  cpu_set_t set;
  CPU_ZERO(&set);
  const long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  CPU_SET(static_cast<int>(getpid() % (ncpu > 0 ? ncpu : 1)), &set);
  sched_setaffinity(0, sizeof(set), &set);
  internal::dsched::install_hooks(&kHooks);
}

[[noreturn]] void child_search(const Scenario& s, const Options& o) {
  std::vector<uint32_t> prefix;
  // PCT spreads its change points over the decisions a run makes: the most
  // seen so far (the first run's change points all fall on decision 0).
  int64_t expected_decisions = 1;
  for (int64_t r = 0; r < o.schedules; ++r) {
    const uint64_t seed = o.seed * 0x100000001B3ULL + static_cast<uint64_t>(r);
    int64_t steps = 0;
    std::vector<uint32_t> taken;
    switch (o.strategy) {
      case Strategy::kRandom: {
        RandomDecider d(seed);
        run_once(s, d, false, nullptr, &steps);
        break;
      }
      case Strategy::kPct: {
        PctDecider d(seed, o.pct_depth, expected_decisions);
        run_once(s, d, false, &taken, &steps);
        expected_decisions = std::max<int64_t>(
            expected_decisions, static_cast<int64_t>(taken.size()));
        break;
      }
      case Strategy::kBoundedPreemption: {
        BoundedDecider d(prefix);
        run_once(s, d, false, nullptr, &steps);
        count_run(steps);
        if (!d.next_prefix(o.preemption_bound, &prefix)) {
          g_counters.exhausted = true;
          report_ok_and_exit();
        }
        continue;
      }
    }
    count_run(steps);
  }
  report_ok_and_exit();
}

[[noreturn]] void child_replay(const Scenario& s,
                               const std::vector<uint32_t>& d, bool trace) {
  ReplayDecider dec(d);
  int64_t steps = 0;
  run_once(s, dec, trace, nullptr, &steps);
  count_run(steps);
  report_ok_and_exit();
}

// Parses the child's report.
bool parse_report(const std::string& text, RunResult* r, SearchResult* sr) {
  size_t pos = 0;
  bool saw_end = false;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    const std::string line = text.substr(pos, eol - pos);
    pos = eol + 1;
    if (line.rfind("result ", 0) == 0) {
      int o = 0;
      long long steps = 0;
      std::sscanf(line.c_str() + 7, "%d %lld", &o, &steps);
      r->outcome = static_cast<Outcome>(o);
      r->steps = steps;
    } else if (line.rfind("message ", 0) == 0) {
      r->message = line.substr(8);
    } else if (line.rfind("decisions ", 0) == 0) {
      parse_decisions(line.substr(10), &r->decisions);
    } else if (line.rfind("stats ", 0) == 0) {
      long long a = 0, b = 0, c = 0;
      int e = 0;
      std::sscanf(line.c_str() + 6, "%lld %lld %lld %d", &a, &b, &c, &e);
      sr->schedules = a;
      sr->total_steps = b;
      sr->max_steps = c;
      sr->exhausted = e != 0;
    } else if (line == "end") {
      saw_end = true;
    }
  }
  return saw_end;
}

template <class ChildFn>
SearchResult in_child(ChildFn fn) {
  SearchResult sr;
  int fds[2];
  if (pipe(fds) != 0) {
    sr.failure.outcome = Outcome::kCrash;
    sr.failure.message = "pipe() failed";
    return sr;
  }
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    child_setup(fds[1]);
    fn();
    _exit(5);  // fn never returns
  }
  close(fds[1]);
  std::string text;
  char buf[4096];
  for (;;) {
    const ssize_t n = read(fds[0], buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!parse_report(text, &sr.failure, &sr)) {
    sr.failure.outcome = Outcome::kCrash;
    sr.failure.message = "the search process ended without a report (status " +
                         std::to_string(status) + ")";
  }
  return sr;
}

std::map<std::string, Scenario>& registry() {
  static auto* m = new std::map<std::string, Scenario>;
  return *m;
}

}  // namespace

// --- public API --------------------------------------------------------------

bool register_scenario(Scenario s) {
  auto [it, inserted] = registry().emplace(s.name, s);
  if (!inserted) {
    std::fprintf(stderr, "dsched: scenario %s registered twice\n",
                 s.name.c_str());
    std::abort();
  }
  return true;
}

const Scenario* find_scenario(const std::string& name) {
  auto it = registry().find(name);
  return it == registry().end() ? nullptr : &it->second;
}

std::vector<const Scenario*> all_scenarios() {
  std::vector<const Scenario*> v;
  for (const auto& [name, s] : registry()) v.push_back(&s);
  return v;
}

void fail(const std::string& what) {
  if (g_run == nullptr) {
    std::fprintf(stderr, "dsched: %s (outside a run)\n", what.c_str());
    std::abort();
  }
  g_run->fail_run(Outcome::kCheckFailed, what);
}

int64_t now_ns() { return g_run != nullptr ? g_run->now() : kTimeOrigin; }

NoPreempt::NoPreempt() { ++tls_no_preempt; }
NoPreempt::~NoPreempt() { --tls_no_preempt; }

void mark_destroyed(const void* p, size_t size) {
  if (g_run != nullptr) g_run->mark_destroyed(p, size);
}

const char* strategy_name(Strategy s) {
  switch (s) {
    case Strategy::kRandom:
      return "random";
    case Strategy::kPct:
      return "pct";
    case Strategy::kBoundedPreemption:
      return "bounded";
  }
  return "?";
}

const char* outcome_name(Outcome o) {
  switch (o) {
    case Outcome::kOk:
      return "ok";
    case Outcome::kCheckFailed:
      return "check failed";
    case Outcome::kDeadlock:
      return "deadlock";
    case Outcome::kLostWakeup:
      return "lost wakeup";
    case Outcome::kLivelock:
      return "livelock";
    case Outcome::kUseAfterDestroy:
      return "use after destroy";
    case Outcome::kCrash:
      return "crash";
  }
  return "?";
}

SearchResult explore(const Scenario& s, const Options& options) {
  return in_child([&] { child_search(s, options); });
}

RunResult replay(const Scenario& s, const std::vector<uint32_t>& decisions,
                 bool trace) {
  return in_child([&] { child_replay(s, decisions, trace); }).failure;
}

RunResult minimize(const Scenario& s, const RunResult& failing,
                   int max_replays) {
  RunResult best = failing;
  auto strip = [](std::vector<uint32_t>* d) {
    while (!d->empty() && d->back() == 0) d->pop_back();
  };
  strip(&best.decisions);
  int replays = 0;
  bool progress = true;
  while (progress && replays < max_replays) {
    progress = false;
    for (size_t i = 0; i < best.decisions.size() && replays < max_replays;
         ++i) {
      for (uint32_t v = 0; v < best.decisions[i] && replays < max_replays;
           ++v) {
        std::vector<uint32_t> d = best.decisions;
        d[i] = v;
        strip(&d);
        ++replays;
        RunResult r = replay(s, d);
        if (r.outcome == failing.outcome) {
          r.decisions = d;
          best = r;
          progress = true;
          break;
        }
      }
    }
  }
  return best;
}

std::string format_decisions(const std::vector<uint32_t>& d) {
  std::string out;
  size_t i = 0;
  while (i < d.size()) {
    size_t j = i;
    while (j < d.size() && d[j] == d[i]) ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(d[i]);
    if (j - i > 1) out += "*" + std::to_string(j - i);
    i = j;
  }
  return out;
}

bool parse_decisions(const std::string& text, std::vector<uint32_t>* out) {
  out->clear();
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find(',', pos);
    if (end == std::string::npos) end = text.size();
    const std::string item = text.substr(pos, end - pos);
    pos = end + 1;
    if (item.empty()) continue;
    char* rest = nullptr;
    const unsigned long v = std::strtoul(item.c_str(), &rest, 10);
    unsigned long n = 1;
    if (*rest == '*') {
      n = std::strtoul(rest + 1, &rest, 10);
    }
    if (*rest != '\0' || n == 0) return false;
    out->insert(out->end(), n, static_cast<uint32_t>(v));
  }
  return true;
}

std::string replay_flag(const Scenario& s, const RunResult& r) {
  return "--dsched_replay=" + s.name + ":" + format_decisions(r.decisions);
}

}  // namespace contend::dsched

// Interposes the C library's syscall() for the futex calls libstdc++ makes
// inline (std::stop_callback's destructor waiting for a running callback,
// std::binary_semaphore, atomic::wait): made by a scenario thread during a
// run, they become scheduler waits; everything else goes to the real call.
// glibc's own syscall() reads six argument words the same way.
extern "C" long syscall(long number, ...) noexcept {
  va_list ap;
  va_start(ap, number);
  long a[6];
  for (long& x : a) x = va_arg(ap, long);
  va_end(ap);
  using contend::dsched::g_run;
  using contend::dsched::tls_thread;
  if (number == SYS_futex && tls_thread != nullptr && g_run != nullptr) {
    const int op = static_cast<int>(a[1]) & FUTEX_CMD_MASK;
    const void* addr = reinterpret_cast<const void*>(a[0]);
    if ((op == FUTEX_WAIT || op == FUTEX_WAIT_BITSET) && a[3] == 0) {
      const auto r =
          g_run->futex_wait(tls_thread, addr, static_cast<uint32_t>(a[2]),
                            contend::internal::kNoDeadline);
      if (r == contend::internal::FutexResult::kValueMismatch) {
        errno = EAGAIN;
        return -1;
      }
      return 0;
    }
    if (op == FUTEX_WAKE) {
      return g_run->futex_wake(addr, static_cast<int>(a[2]));
    }
  }
  return contend::dsched::real_syscall()(number, a[0], a[1], a[2], a[3], a[4],
                                         a[5]);
}
