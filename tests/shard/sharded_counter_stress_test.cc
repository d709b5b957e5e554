// Copyright 2026 The contend Authors.
//
// ShardedCounter under migration: worker threads are re-pinned between the
// CPUs (CPU 0 and 1 on the 2-core CI machine) by a pinner thread while they
// update, and also re-pin themselves mid-run, so updates keep landing on
// other CPUs' slots and threads move between reading their CPU number and
// their fetch_add. No update may be lost or counted twice.

#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "shard/internal/cpu_id.h"
#include "shard/sharded_counter.h"
#include "tests/shard/pinning.h"
#include "tests/testing/stress.h"

namespace contend {
namespace {

using testing::allowed_cpus;

bool pin(pid_t tid, int cpu) { return testing::pin_thread(tid, cpu); }

void run_migration_stress(internal::CpuIdSource source) {
  ASSERT_TRUE(internal::set_cpu_id_source_for_testing(source));
  const std::vector<int> cpus = allowed_cpus();
  ASSERT_FALSE(cpus.empty());
  constexpr int kWorkers = 4;
  ShardedCounter counter;
  std::atomic<uint64_t> progress{0};
  std::atomic<bool> stop{false};
  std::atomic<int> ready{0};
  std::vector<std::atomic<pid_t>> tids(kWorkers);
  std::vector<int64_t> added(kWorkers, 0);
  std::vector<int64_t> taken(kWorkers, 0);
  uint64_t repins = 0;
  {
    testing::Watchdog dog(progress);
    std::vector<std::thread> workers;
    for (int w = 0; w < kWorkers; ++w) {
      workers.emplace_back([&, w] {
        tids[static_cast<size_t>(w)].store(gettid(), std::memory_order_relaxed);
        ready.fetch_add(1, std::memory_order_release);
        int64_t mine = 0;
        int64_t took = 0;
        for (uint64_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
          const int64_t delta = static_cast<int64_t>(i % 7) - 2;  // signed
          counter.add(delta);
          mine += delta;
          {
            InFlight g = counter.track();  // +1 now, -1 below: net 0
          }
          if (i % 4096 == 0) {
            // Re-pin ourselves mid-run, between updates.
            ASSERT_TRUE(pin(
                0, cpus[(i / 4096 + static_cast<uint64_t>(w)) % cpus.size()]));
          }
          if (w == 0 && i % 1024 == 0) took += counter.take();
          progress.fetch_add(1, std::memory_order_relaxed);
        }
        added[static_cast<size_t>(w)] = mine;
        taken[static_cast<size_t>(w)] = took;
      });
    }
    // The pinner: moves the workers between CPUs asynchronously, so a
    // migration can fall between a worker's CPU read and its fetch_add.
    std::thread pinner([&] {
      while (ready.load(std::memory_order_acquire) < kWorkers) {
        std::this_thread::yield();
      }
      testing::StressDeadline deadline(
          testing::stress_duration(std::chrono::milliseconds(400)));
      for (uint64_t round = 0; deadline.running(); ++round) {
        for (int w = 0; w < kWorkers; ++w) {
          const pid_t tid =
              tids[static_cast<size_t>(w)].load(std::memory_order_relaxed);
          (void)pin(tid,
                    cpus[(round + static_cast<uint64_t>(w)) % cpus.size()]);
          ++repins;
        }
      }
      stop.store(true, std::memory_order_relaxed);
    });
    pinner.join();
    for (auto& t : workers) t.join();
  }
  int64_t expected = 0;
  int64_t took = 0;
  for (int w = 0; w < kWorkers; ++w) {
    expected += added[static_cast<size_t>(w)];
    took += taken[static_cast<size_t>(w)];
  }
  EXPECT_EQ(took + counter.load(), expected)
      << internal::cpu_id_source_name(source) << ", " << repins << " re-pins, "
      << progress.load() << " iterations";
  EXPECT_GT(repins, 0u);
  ASSERT_TRUE(
      internal::set_cpu_id_source_for_testing(internal::CpuIdSource::kUnknown));
}

TEST(ShardedCounterStress, MigrationLosesNothingWithRseq) {
  if (!internal::cpu_id_source_available(internal::CpuIdSource::kRseq)) {
    GTEST_SKIP() << "no rseq on this machine";
  }
  run_migration_stress(internal::CpuIdSource::kRseq);
}

TEST(ShardedCounterStress, MigrationLosesNothingWithSchedGetcpu) {
  run_migration_stress(internal::CpuIdSource::kSchedGetcpu);
}

TEST(ShardedCounterStress, MigrationLosesNothingWithThreadSlots) {
  run_migration_stress(internal::CpuIdSource::kThreadSlot);
}

}  // namespace
}  // namespace contend
