// Copyright 2026 The contend Authors.
//
// Shared scaffolding for the sync stress tests: the sanitizer scale factor
// and a progress watchdog.

#ifndef CONTEND_TESTS_SYNC_STRESS_UTIL_H_
#define CONTEND_TESTS_SYNC_STRESS_UTIL_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stop_token>
#include <thread>

namespace contend::stress {

// Divide iteration counts by this: ThreadSanitizer runs 5-15x slower.
#if defined(__SANITIZE_THREAD__) || defined(CONTEND_TSAN)
inline constexpr int kScale = 10;
#else
inline constexpr int kScale = 1;
#endif

// Aborts the test binary if `progress` stops moving for 60 s, so that a lost
// wakeup or a deadlock fails loudly instead of running into the Bazel
// timeout. `progress` must outlive the Watchdog; the watchdog thread stops
// and is joined in the destructor.
class Watchdog {
 public:
  explicit Watchdog(const std::atomic<uint64_t>& progress)
      : thread_([&progress](const std::stop_token& stop) {
          // Relaxed: a progress counter; only its change is observed.
          uint64_t last = progress.load(std::memory_order_relaxed);
          auto last_change = std::chrono::steady_clock::now();
          while (!stop.stop_requested()) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            const uint64_t now = progress.load(std::memory_order_relaxed);
            if (now != last) {
              last = now;
              last_change = std::chrono::steady_clock::now();
            } else if (std::chrono::steady_clock::now() - last_change >
                       std::chrono::seconds(60)) {
              std::fprintf(stderr, "watchdog: no progress for 60 s at %llu\n",
                           static_cast<unsigned long long>(now));
              std::abort();
            }
          }
        }) {}

 private:
  std::jthread thread_;
};

}  // namespace contend::stress

#endif  // CONTEND_TESTS_SYNC_STRESS_UTIL_H_
