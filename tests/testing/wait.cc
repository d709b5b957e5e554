// Copyright 2026 The contend Authors.

#include "tests/testing/wait.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "sync/internal/parking_lot.h"

namespace contend::testing {

namespace internal_wait {
void pause(int round) {
  if (round < 100) {
    std::this_thread::yield();
  } else {
    std::this_thread::sleep_for(
        std::chrono::microseconds(round < 200 ? 100 : 1000));
  }
}
}  // namespace internal_wait

::testing::AssertionResult wait_until_parked(const void* key, size_t n,
                                             std::chrono::nanoseconds timeout) {
  size_t last = 0;
  const ::testing::AssertionResult r = wait_until(
      [&] {
        last = internal::ParkingLot::waiter_count(key);
        return last == n;
      },
      "", timeout);
  if (r) return r;
  return ::testing::AssertionFailure()
         << "never saw " << n << " thread(s) parked on key " << key
         << " (last count " << last << ", after "
         << std::chrono::duration<double>(timeout).count() << " s)";
}

size_t parked_within(const void* object, size_t size) {
  const auto* base = static_cast<const char*>(object);
  size_t parked = 0;
  for (size_t offset = 0; offset < size; ++offset) {
    parked += internal::ParkingLot::waiter_count(base + offset);
  }
  return parked;
}

// --- The per-test watchdog ----------------------------------------------
// A test that hangs (a lost wakeup, a deadlock) is killed after its time
// limit with a message naming the test and its last stage, instead of
// running into Bazel's timeout, which names neither. SIGALRM, not a thread:
// gtest's fork-style death tests must not see a second thread, and a forked
// child does not inherit the alarm. Linked into every test that uses this
// library (alwayslink).
namespace {

// Set by the listener on the main thread before the alarm is armed; read by
// the signal handler.
char g_message[512];
std::atomic<const char*> g_stage{nullptr};

unsigned time_limit_s() {
  if (const char* env = std::getenv("CONTEND_TEST_TIME_LIMIT_S")) {
    const long v = std::strtol(env, nullptr, 10);
    if (v > 0) return static_cast<unsigned>(v);
  }
  return 30u * static_cast<unsigned>(kSanitizerSlowdown > 1 ? 4 : 1);
}

void write_all(const char* s) {
  size_t len = std::strlen(s);
  while (len > 0) {
    const ssize_t w = ::write(STDERR_FILENO, s, len);
    if (w <= 0) return;
    s += w;
    len -= static_cast<size_t>(w);
  }
}

void on_alarm(int) {
  write_all(g_message);
  // Relaxed: a string literal's address; the handler runs on some thread of
  // this process and only prints it.
  if (const char* stage = g_stage.load(std::memory_order_relaxed)) {
    write_all("; last stage: ");
    write_all(stage);
  }
  write_all("\n");
  std::abort();
}

class TimeLimitListener final : public ::testing::EmptyTestEventListener {
  void OnTestStart(const ::testing::TestInfo& info) override {
    const unsigned limit = time_limit_s();
    std::snprintf(g_message, sizeof g_message,
                  "\nwatchdog: %s.%s still running after %u s (a lost wakeup "
                  "or a deadlock: some thread is stuck)",
                  info.test_suite_name(), info.name(), limit);
    g_stage.store(nullptr, std::memory_order_relaxed);
    struct sigaction sa {};
    sa.sa_handler = &on_alarm;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGALRM, &sa, nullptr);
    ::alarm(limit);
  }
  void OnTestEnd(const ::testing::TestInfo&) override { ::alarm(0); }
};

const bool g_installed = [] {
  ::testing::UnitTest::GetInstance()->listeners().Append(new TimeLimitListener);
  return true;
}();

}  // namespace

void set_stage(const char* stage) noexcept {
  // Relaxed: see on_alarm.
  g_stage.store(stage, std::memory_order_relaxed);
}

}  // namespace contend::testing
