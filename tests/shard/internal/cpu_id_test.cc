// Copyright 2026 The contend Authors.

#include "shard/internal/cpu_id.h"

#include <sched.h>

#include <cstdint>
#include <cstdlib>
#include <set>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/shard/pinning.h"

namespace contend::internal {
namespace {

// Run with GLIBC_TUNABLES=glibc.pthread.rseq=0 by the cpu_id_no_rseq_test
// target, which sets this too.
// Under qemu-user (--config=aarch64) rseq is off too: Debian's qemu 7.2 does
// not implement the syscall, so glibc's registration fails and __rseq_size
// is 0 (shard/internal/cpu_id.h, "aarch64").
bool rseq_disabled_by_environment() {
#if defined(CONTEND_EMULATED)
  return true;
#else
  const char* v = std::getenv("CONTEND_EXPECT_NO_RSEQ");
  return v != nullptr && v[0] == '1';
#endif
}

// Restores the automatic choice after a test forced a source.
class CpuIdTest : public ::testing::Test {
 protected:
  void TearDown() override {
    ASSERT_TRUE(set_cpu_id_source_for_testing(CpuIdSource::kUnknown));
  }
};

using testing::allowed_cpus;

bool pin_to(int cpu) { return testing::pin_thread(0, cpu); }

TEST_F(CpuIdTest, AutomaticChoiceIsRseqOnThisGlibcUnlessDisabled) {
  const CpuIdSource s = cpu_id_source();
  if (rseq_disabled_by_environment()) {
    EXPECT_FALSE(cpu_id_source_available(CpuIdSource::kRseq));
    EXPECT_EQ(s, CpuIdSource::kSchedGetcpu) << cpu_id_source_name(s);
  } else {
#if CONTEND_HAVE_GLIBC_RSEQ
    EXPECT_EQ(s, CpuIdSource::kRseq) << cpu_id_source_name(s);
#else
    EXPECT_EQ(s, CpuIdSource::kSchedGetcpu) << cpu_id_source_name(s);
#endif
  }
}

TEST_F(CpuIdTest, SlotCountCoversEveryAllowedCpu) {
  const std::vector<int> cpus = allowed_cpus();
  ASSERT_FALSE(cpus.empty());
  EXPECT_GE(cpu_slot_count(), static_cast<uint32_t>(cpus.back()) + 1);
  EXPECT_GE(cpu_slot_count(), std::thread::hardware_concurrency());
}

// Each CPU-reporting source tells where the thread is after it was pinned,
// on every allowed CPU (the 2-CPU machine: CPU 0 then 1 and back).
void expect_follows_pinning(CpuIdSource source) {
  ASSERT_TRUE(set_cpu_id_source_for_testing(source))
      << cpu_id_source_name(source);
  std::thread t([] {
    const std::vector<int> cpus = allowed_cpus();
    for (int round = 0; round < 2; ++round) {
      for (int c : cpus) {
        ASSERT_TRUE(pin_to(c));
        EXPECT_EQ(current_cpu(), static_cast<uint32_t>(c));
        EXPECT_LT(current_cpu(), cpu_slot_count());
      }
    }
  });
  t.join();
}

TEST_F(CpuIdTest, RseqFollowsPinning) {
  if (!cpu_id_source_available(CpuIdSource::kRseq)) {
    ASSERT_TRUE(rseq_disabled_by_environment() || !CONTEND_HAVE_GLIBC_RSEQ);
    EXPECT_FALSE(set_cpu_id_source_for_testing(CpuIdSource::kRseq));
    return;
  }
  expect_follows_pinning(CpuIdSource::kRseq);
}

TEST_F(CpuIdTest, SchedGetcpuFollowsPinning) {
  expect_follows_pinning(CpuIdSource::kSchedGetcpu);
}

TEST_F(CpuIdTest, RseqAgreesWithSchedGetcpu) {
  if (!cpu_id_source_available(CpuIdSource::kRseq)) GTEST_SKIP();
  std::thread t([] {
    ASSERT_TRUE(pin_to(allowed_cpus().front()));
    ASSERT_TRUE(set_cpu_id_source_for_testing(CpuIdSource::kRseq));
    const uint32_t via_rseq = current_cpu();
    ASSERT_TRUE(set_cpu_id_source_for_testing(CpuIdSource::kSchedGetcpu));
    EXPECT_EQ(current_cpu(), via_rseq);
  });
  t.join();
}

TEST_F(CpuIdTest, ThreadSlotIsStablePerThreadAndDistinctAcrossThreads) {
  ASSERT_TRUE(set_cpu_id_source_for_testing(CpuIdSource::kThreadSlot));
  constexpr int kThreads = 8;
  std::vector<uint32_t> slots(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&slots, i] {
      const uint32_t first = current_cpu();
      EXPECT_EQ(first, thread_slot());
      // Stable across migration: the slot names the thread, not the CPU.
      for (int c : allowed_cpus()) {
        ASSERT_TRUE(pin_to(c));
        EXPECT_EQ(current_cpu(), first);
      }
      slots[static_cast<size_t>(i)] = first;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(std::set<uint32_t>(slots.begin(), slots.end()).size(),
            static_cast<size_t>(kThreads));
}

TEST_F(CpuIdTest, ForcingAnUnavailableSourceChangesNothing) {
  const CpuIdSource before = cpu_id_source();
  if (!cpu_id_source_available(CpuIdSource::kRseq)) {
    EXPECT_FALSE(set_cpu_id_source_for_testing(CpuIdSource::kRseq));
  }
  EXPECT_EQ(cpu_id_source(), before);
  EXPECT_STREQ(cpu_id_source_name(CpuIdSource::kRseq), "rseq");
  EXPECT_STREQ(cpu_id_source_name(CpuIdSource::kSchedGetcpu), "sched_getcpu");
  EXPECT_STREQ(cpu_id_source_name(CpuIdSource::kThreadSlot), "thread_slot");
}

}  // namespace
}  // namespace contend::internal
