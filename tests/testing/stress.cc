// Copyright 2026 The contend Authors.

#include "tests/testing/stress.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <utility>

#include "gtest/gtest.h"

namespace contend::testing {

std::chrono::milliseconds stress_duration(std::chrono::milliseconds base) {
  if (const char* env = std::getenv("CONTEND_STRESS_MS")) {
    const long v = std::strtol(env, nullptr, 10);
    if (v > 0) return std::chrono::milliseconds(v);
  }
  return kSanitizerSlowdown > 1 ? 2 * base : base;
}

Watchdog::Watchdog(std::string test, std::chrono::seconds stall)
    : test_(std::move(test)),
      stall_(stall),
      thread_([this](const std::stop_token& stop) { watch(stop); }) {}

std::string current_test_name() {
  const ::testing::TestInfo* info =
      ::testing::UnitTest::GetInstance()->current_test_info();
  if (info == nullptr) return "";
  return std::string(info->test_suite_name()) + "." + info->name();
}

Watchdog::Watchdog(const std::atomic<uint64_t>& progress)
    : Watchdog(current_test_name()) {
  slot("all threads", progress);
}

Watchdog::~Watchdog() {
  thread_.request_stop();
  thread_.join();
}

Watchdog::Slot& Watchdog::slot(std::string name) {
  std::lock_guard<std::mutex> l(mu_);
  Slot& s = slots_.emplace_back(std::move(name), nullptr);
  s.seen_at_ = std::chrono::steady_clock::now();
  return s;
}

Watchdog::Slot& Watchdog::slot(std::string name,
                               const std::atomic<uint64_t>& counter) {
  std::lock_guard<std::mutex> l(mu_);
  Slot& s = slots_.emplace_back(std::move(name), &counter);
  s.seen_at_ = std::chrono::steady_clock::now();
  return s;
}

void Watchdog::watch(const std::stop_token& stop) {
  while (!stop.stop_requested()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::lock_guard<std::mutex> l(mu_);
    const auto now = std::chrono::steady_clock::now();
    const Slot* stuck = nullptr;
    for (Slot& s : slots_) {
      const uint64_t ticks = s.progress();
      if (ticks != s.seen_ticks_) {
        s.seen_ticks_ = ticks;
        s.seen_at_ = now;
      } else if (!s.finished_.load(std::memory_order_relaxed) &&
                 now - s.seen_at_ > stall_ && stuck == nullptr) {
        stuck = &s;
      }
    }
    if (stuck == nullptr) continue;
    std::fprintf(stderr,
                 "\nwatchdog: %s: thread \"%s\" made no progress for %lld s "
                 "(state: %s). All threads:\n",
                 test_.c_str(), stuck->name_.c_str(),
                 static_cast<long long>(stall_.count()),
                 stuck->state_.load(std::memory_order_relaxed));
    for (const Slot& s : slots_) {
      std::fprintf(
          stderr, "  %-28s %10llu ticks, %s, last progress %.1f s ago: %s\n",
          s.name_.c_str(), static_cast<unsigned long long>(s.progress()),
          s.finished_.load(std::memory_order_relaxed) ? "finished" : "running",
          std::chrono::duration<double>(now - s.seen_at_).count(),
          s.state_.load(std::memory_order_relaxed));
    }
    std::fflush(stderr);
    std::abort();
  }
}

}  // namespace contend::testing
