// Copyright 2026 The contend Authors.
//
// Scaffolding for stress tests: loops that run for a fixed time (not a fixed
// count, so a slow build runs fewer iterations instead of timing out), and a
// watchdog that fails a stuck test with a message naming the stuck thread and
// what it was doing, instead of hanging until Bazel's timeout.
//
//   testing::Watchdog watchdog("MutexStress.Counter");
//   testing::StressDeadline deadline;
//   ... in each thread t:
//   auto& me = watchdog.slot("incrementer " + std::to_string(t));
//   while (deadline.running()) { me.set_state("lock()"); ...; me.tick(); }
//   me.finish();

#ifndef CONTEND_TESTS_TESTING_STRESS_H_
#define CONTEND_TESTS_TESTING_STRESS_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>

#include "tests/testing/wait.h"

namespace contend::testing {

// Divide fixed iteration counts by this (the few loops that must stay
// count-based, e.g. "exactly N*M increments"): sanitizers are slower.
inline constexpr int kScale = kSanitizerSlowdown;

// How long one stress loop runs: `base` (twice that under a sanitizer, which
// runs 3-10x fewer iterations in the same time), or CONTEND_STRESS_MS from
// the environment for long local runs (`--test_env=CONTEND_STRESS_MS=60000`).
[[nodiscard]] std::chrono::milliseconds stress_duration(
    std::chrono::milliseconds base = std::chrono::milliseconds(500));

// "Suite.Test" of the running gtest test ("" outside one).
[[nodiscard]] std::string current_test_name();

// A point in time after which stress loops stop.
class StressDeadline {
 public:
  explicit StressDeadline(std::chrono::milliseconds d = stress_duration())
      : end_(std::chrono::steady_clock::now() + d) {}
  [[nodiscard]] bool running() const {
    return std::chrono::steady_clock::now() < end_;
  }

 private:
  std::chrono::steady_clock::time_point end_;
};

// Aborts the process, printing every tracked thread's name, progress and
// last state, when an unfinished thread makes no progress for `stall`
// (default 20 s, x3 under a sanitizer). The watchdog thread is joined in the
// destructor; slots are created before or while the threads run and live as
// long as the Watchdog.
class Watchdog {
 public:
  class Slot {
   public:
    // Use Watchdog::slot().
    Slot(std::string name, const std::atomic<uint64_t>* counter)
        : name_(std::move(name)), counter_(counter) {}
    // One unit of progress (an iteration, an acquisition).
    void tick() noexcept {
      // Relaxed: a progress counter; only its change is observed.
      ticks_.fetch_add(1, std::memory_order_relaxed);
    }
    // What the thread is about to do: a string literal ("lock()").
    void set_state(const char* state) noexcept {
      // Relaxed: diagnostic text only.
      state_.store(state, std::memory_order_relaxed);
    }
    // The thread is done; it is no longer expected to make progress.
    void finish() noexcept {
      // Relaxed: read by the watchdog only.
      finished_.store(true, std::memory_order_relaxed);
    }

   private:
    friend class Watchdog;
    uint64_t progress() const noexcept {
      // Relaxed: see tick().
      return counter_ != nullptr ? counter_->load(std::memory_order_relaxed)
                                 : ticks_.load(std::memory_order_relaxed);
    }
    std::string name_;
    const std::atomic<uint64_t>* counter_;
    std::atomic<uint64_t> ticks_{0};
    std::atomic<const char*> state_{"started"};
    std::atomic<bool> finished_{false};
    uint64_t seen_ticks_ = 0;  // watchdog thread only
    std::chrono::steady_clock::time_point seen_at_;
  };

  explicit Watchdog(std::string test,
                    std::chrono::seconds stall =
                        std::chrono::seconds(kSanitizerSlowdown > 1 ? 60 : 20));
  // The running gtest test's name, with one slot "all threads" watching
  // `progress`, a counter every thread of the test bumps.
  explicit Watchdog(const std::atomic<uint64_t>& progress);
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  // A new tracked thread (or role) called `name`.
  Slot& slot(std::string name);
  // A role whose progress is an existing counter shared by its threads
  // (`counter` must outlive the Watchdog).
  Slot& slot(std::string name, const std::atomic<uint64_t>& counter);

 private:
  void watch(const std::stop_token& stop);

  const std::string test_;
  const std::chrono::seconds stall_;
  std::mutex mu_;
  std::deque<Slot> slots_;  // deque: references stay valid as it grows
  std::jthread thread_;
};

}  // namespace contend::testing

#endif  // CONTEND_TESTS_TESTING_STRESS_H_
