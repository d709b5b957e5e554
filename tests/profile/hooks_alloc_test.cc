// Copyright 2026 The contend Authors.
//
// The hooks never throw: when a record or a timeline ring cannot be
// allocated, the event is dropped and counted. This binary replaces the
// global operator new with one that fails on demand in the calling thread.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>

#include "gtest/gtest.h"
#include "profile/hooks.h"
#include "sync/internal/wait_observer.h"

namespace {
constinit thread_local bool tls_fail_allocations = false;
}  // namespace

void* operator new(std::size_t size) {
  if (tls_fail_allocations) throw std::bad_alloc();
  void* p = std::malloc(size == 0 ? 1 : size);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace {

using contend::internal::ParkStatus;
using contend::internal::ProfileType;
using contend::internal::ReleaseEvent;
using contend::internal::WaitEvent;
using contend::internal::WaitKind;

int key = 0;

class FailAllocations {
 public:
  FailAllocations() { tls_fail_allocations = true; }
  ~FailAllocations() { tls_fail_allocations = false; }
};

TEST(HooksAllocTest, FailedAllocationDropsAndCountsTheEvent) {
  contend::internal::profiler_set_mutex_fraction(1);
  contend::internal::profiler_set_block_rate(1);
  contend::internal::profiler_reset();
  contend::internal::timeline_start(8, 4);
  const WaitEvent wait{&key, WaitKind::kMutex, ParkStatus::kUnparked, 10, 20, 1,
                       2};
  const ReleaseEvent release{&key, WaitKind::kMutex, 30, 5, 1, 1};
  {
    FailAllocations fail;
    // Each would allocate a new record (and the thread's ring): all throw
    // std::bad_alloc inside, none escapes.
    contend::internal::profiler_on_wait_end(wait);
    contend::internal::profiler_on_contended_release(release);
  }
  auto block = contend::internal::profiler_snapshot(ProfileType::kBlock);
  auto mutex = contend::internal::profiler_snapshot(ProfileType::kMutex);
  auto timeline = contend::internal::timeline_snapshot();
  EXPECT_TRUE(block.records.empty());
  EXPECT_TRUE(mutex.records.empty());
  EXPECT_EQ(block.alloc_failures, 1u);
  EXPECT_EQ(mutex.alloc_failures, 1u);
  EXPECT_EQ(timeline.alloc_failures, 2u);
  EXPECT_TRUE(timeline.threads.empty());

  // Nothing was left half-done: the same events now land normally.
  contend::internal::profiler_on_wait_end(wait);
  contend::internal::profiler_on_contended_release(release);
  block = contend::internal::profiler_snapshot(ProfileType::kBlock);
  mutex = contend::internal::profiler_snapshot(ProfileType::kMutex);
  timeline = contend::internal::timeline_snapshot();
  ASSERT_EQ(block.records.size(), 1u);
  EXPECT_EQ(block.records[0].count, 1);
  ASSERT_EQ(mutex.records.size(), 1u);
  ASSERT_EQ(timeline.threads.size(), 1u);
  EXPECT_EQ(timeline.threads[0].entries.size(), 2u);

  // reset() clears the profile counters; a new timeline clears its own.
  contend::internal::profiler_reset();
  EXPECT_EQ(
      contend::internal::profiler_snapshot(ProfileType::kBlock).alloc_failures,
      0u);
  contend::internal::timeline_start(8, 4);
  EXPECT_EQ(contend::internal::timeline_snapshot().alloc_failures, 0u);
  contend::internal::timeline_stop();
  contend::internal::profiler_set_mutex_fraction(0);
  contend::internal::profiler_set_block_rate(0);
}

}  // namespace
