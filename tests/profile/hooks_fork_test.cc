// Copyright 2026 The contend Authors.
//
// fork() while other threads record: the pthread_atfork handlers must leave
// every profiler lock usable in the child, which starts with empty profiles
// and no timeline. Each child has a watchdog (alarm) and the parent waits
// for it with a deadline, so a lock left held fails the test instead of
// hanging it.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "profile/hooks.h"
#include "profile/profile.h"
#include "sync/internal/wait_observer.h"

namespace {

using contend::internal::ProfileType;
using contend::internal::WaitKind;

// Exit codes of the child, one per check.
enum ChildResult : int {
  kOk = 0,
  kProfileNotEmpty = 10,
  kTimelineRunning,
  kTimelineNotEmpty,
  kRecordLost,
  kTimelineUnusable,
  kExportFailed,
};

// Runs in the child: only profiler paths that take profile/'s own locks
// (no wait_label(): the label table in sync/internal is not covered).
int ChildChecks() {
  alarm(20);  // watchdog: a deadlocked child dies of SIGALRM
  for (ProfileType type : {ProfileType::kMutex, ProfileType::kBlock}) {
    const auto s = contend::internal::profiler_snapshot(type);
    if (!s.records.empty() || s.overflow_count != 0) return kProfileNotEmpty;
  }
  const auto t = contend::internal::timeline_snapshot();
  if (t.running) return kTimelineRunning;
  if (!t.threads.empty()) return kTimelineNotEmpty;
  uintptr_t pcs[2] = {0x1234, 0x5678};
  contend::internal::profiler_add_sample(ProfileType::kMutex, pcs, 2,
                                         WaitKind::kMutex, nullptr, 1.0, 5);
  if (contend::internal::profiler_snapshot(ProfileType::kMutex)
          .records.size() != 1) {
    return kRecordLost;
  }
  contend::internal::timeline_start(8, 2);
  contend::internal::timeline_stop();
  if (contend::internal::timeline_snapshot().running) return kTimelineUnusable;
  std::ostringstream out;
  contend::profile::write_mutex_profile(out, /*debug=*/1);
  if (out.str().find("--- mutex:") == std::string::npos) return kExportFailed;
  return kOk;
}

// Waits for `pid` for at most 60 s (then kills it); returns its wait status.
int WaitWithDeadline(pid_t pid) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(60);
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      ADD_FAILURE() << "child " << pid << " hung";
      return status;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return status;
}

TEST(HooksForkTest, ChildStartsEmptyWithUsableLocksWhileOthersRecord) {
  contend::internal::profiler_set_mutex_fraction(1);
  contend::internal::profiler_set_block_rate(1);
  contend::internal::profiler_reset();
  contend::internal::timeline_start(64, 8);
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> events{0};
  std::vector<std::thread> recorders;
  static int key = 0;
  for (int w = 0; w < 3; ++w) {
    recorders.emplace_back([&, w] {
      uintptr_t i = 0;
      // Acquire: pairs with the release store below.
      while (!stop.load(std::memory_order_acquire)) {
        uintptr_t pcs[2] = {0x100 + (i++ % 512), static_cast<uintptr_t>(w)};
        contend::internal::profiler_add_sample(
            ProfileType::kBlock, pcs, 2, WaitKind::kCond, nullptr, 1.0, 1);
        contend::internal::profiler_on_wait_end(contend::internal::WaitEvent{
            &key, WaitKind::kMutex, contend::internal::ParkStatus::kUnparked,
            10, 20, 1, 2});
        contend::internal::profiler_on_contended_release(
            contend::internal::ReleaseEvent{&key, WaitKind::kMutex, 30, 5, 1,
                                            1});
        if (i % 64 == 0) {
          (void)contend::internal::profiler_snapshot(ProfileType::kMutex);
          (void)contend::internal::timeline_snapshot();
        }
        if (i % 1024 == 0) contend::internal::profiler_reset();
        // Relaxed: a progress counter read only by this test's poll.
        events.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  // Bounded poll: the recorders are running before the first fork.
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (events.load(std::memory_order_relaxed) < 1000 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  ASSERT_GE(events.load(std::memory_order_relaxed), 1000u);

  constexpr int kForks = 30;
  for (int i = 0; i < kForks; ++i) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) _exit(ChildChecks());
    const int status = WaitWithDeadline(pid);
    ASSERT_TRUE(WIFEXITED(status))
        << "fork " << i << ": child killed by signal "
        << (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    ASSERT_EQ(WEXITSTATUS(status), kOk) << "fork " << i;
  }
  // Release: pairs with the recorders' acquire loads.
  stop.store(true, std::memory_order_release);
  for (auto& t : recorders) t.join();
  // The parent is unaffected: still recording, locks usable.
  EXPECT_TRUE(contend::internal::timeline_snapshot().running);
  contend::internal::timeline_stop();
  contend::internal::profiler_set_mutex_fraction(0);
  contend::internal::profiler_set_block_rate(0);
  contend::internal::profiler_reset();
}

}  // namespace
