#include "sync/internal/thread_id.h"

#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <set>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace contend::internal {
namespace {

uint32_t raw_gettid() { return static_cast<uint32_t>(syscall(SYS_gettid)); }

TEST(ThreadIdTest, EqualsGettid) {
  EXPECT_EQ(current_thread_id(), raw_gettid());
  EXPECT_EQ(current_thread_id(), raw_gettid());  // cached path too
}

TEST(ThreadIdTest, MainThreadIdIsThePid) {
  // gtest runs tests on the main thread, whose tid is the process id.
  EXPECT_EQ(current_thread_id(), static_cast<uint32_t>(getpid()));
}

TEST(ThreadIdTest, StableWithinAThreadAndDistinctAcrossThreads) {
  constexpr int kThreads = 8;
  std::vector<uint32_t> first(kThreads), second(kThreads), raw(kThreads);
  std::vector<std::thread> threads;
  // All threads are alive at once (each waits on the barrier-like join
  // below only after recording), so kernel tids must be distinct.
  std::atomic<int> arrived{0};
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      first[i] = current_thread_id();
      raw[i] = raw_gettid();
      // Relaxed on both sides: only liveness overlap matters, no data.
      arrived.fetch_add(1, std::memory_order_relaxed);
      while (arrived.load(std::memory_order_relaxed) < kThreads) {
        std::this_thread::yield();
      }
      second[i] = current_thread_id();
    });
  }
  for (auto& t : threads) t.join();
  std::set<uint32_t> distinct(first.begin(), first.end());
  distinct.insert(current_thread_id());
  EXPECT_EQ(distinct.size(), static_cast<size_t>(kThreads + 1));
  for (int i = 0; i < kThreads; ++i) {
    EXPECT_EQ(first[i], second[i]);
    EXPECT_EQ(first[i], raw[i]);
  }
}

#if !defined(__SANITIZE_THREAD__) && !defined(CONTEND_TSAN)
// TSan does not support fork() from a multithreaded process reliably.
TEST(ThreadIdTest, ForkChildSeesItsOwnTid) {
  const uint32_t parent = current_thread_id();  // cache filled in the parent
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const bool ok =
        current_thread_id() == raw_gettid() && current_thread_id() != parent;
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}
#endif

}  // namespace
}  // namespace contend::internal
