// Copyright 2026 The contend Authors.
//
// Unit tests of profile/hooks.h: sampling math (Go's rules, unbiased, within
// binomial bounds with a fixed seed), the frame-pointer walk, the bounded
// record table, observer installation, and concurrent reset/snapshot.

#include "profile/hooks.h"

#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/debugging/symbolize.h"
#include "gtest/gtest.h"
#include "sync/internal/clock.h"
#include "sync/internal/prng.h"
#include "sync/internal/wait_observer.h"
#include "tests/testing/stress.h"

namespace {

using contend::internal::ParkStatus;
using contend::internal::ProfileSnapshot;
using contend::internal::ProfileType;
using contend::internal::ReleaseEvent;
using contend::internal::WaitEvent;
using contend::internal::WaitKind;

int dummy_key = 0;

struct Totals {
  double count = 0;
  int64_t delay_ns = 0;
  size_t records = 0;
};

Totals Sum(ProfileType type) {
  const ProfileSnapshot s = contend::internal::profiler_snapshot(type);
  Totals t;
  for (const auto& r : s.records) {
    t.count += r.count;
    t.delay_ns += r.delay_ns;
  }
  t.records = s.records.size();
  return t;
}

class HooksTest : public ::testing::Test {
 protected:
  void TearDown() override {
    contend::internal::profiler_set_mutex_fraction(0);
    contend::internal::profiler_set_block_rate(0);
    contend::internal::timeline_stop();
    contend::internal::profiler_reset();
  }
};

ReleaseEvent Release(int64_t delay_ns) {
  return ReleaseEvent{&dummy_key, WaitKind::kMutex, 0, delay_ns, 1, 1};
}

WaitEvent Wait(int64_t waited_ns) {
  return WaitEvent{&dummy_key, WaitKind::kMutex, ParkStatus::kUnparked,
                   1000,       1000 + waited_ns, 1,
                   2};
}

// Mutex fraction n keeps K ~ Binomial(N, 1/n) events and scales each by n.
// Five standard deviations: a correct sampler fails this with probability
// < 1e-6, and with a fixed seed the outcome is deterministic anyway; a
// sampler with the wrong probability or scale (e.g. 1/(n+1), or no scaling)
// lands far outside.
TEST_F(HooksTest, MutexFractionIsUnbiasedWithinBinomialBound) {
  constexpr int kN = 100;
  constexpr int kEvents = 200000;
  constexpr int64_t kDelay = 1000;
  contend::internal::profiler_set_mutex_fraction(kN);
  contend::internal::profiler_reset();
  contend::internal::seed_thread_random(12345);
  for (int i = 0; i < kEvents; ++i) {
    contend::internal::profiler_on_contended_release(Release(kDelay));
  }
  const Totals t = Sum(ProfileType::kMutex);
  const double kept = t.count / kN;
  EXPECT_DOUBLE_EQ(kept, std::round(kept)) << "count must be a multiple of n";
  const double p = 1.0 / kN;
  const double mean = kEvents * p;
  const double sd = std::sqrt(kEvents * p * (1 - p));
  EXPECT_NEAR(kept, mean, 5 * sd);
  // Scaled totals estimate the truth (kEvents events, kEvents * kDelay ns).
  EXPECT_NEAR(t.count, kEvents, 5 * sd * kN);
  EXPECT_EQ(t.delay_ns, static_cast<int64_t>(kept) * kN * kDelay);
  EXPECT_EQ(t.records, 1u);  // one call site, one stack
}

TEST_F(HooksTest, MutexFractionOneKeepsEveryEventExactly) {
  contend::internal::profiler_set_mutex_fraction(1);
  contend::internal::profiler_reset();
  for (int i = 1; i <= 1000; ++i) {
    contend::internal::profiler_on_contended_release(Release(i));
  }
  const Totals t = Sum(ProfileType::kMutex);
  EXPECT_EQ(t.count, 1000);
  EXPECT_EQ(t.delay_ns, 1000 * 1001 / 2);
}

// Block rate R, waits of d < R: kept with probability d/R, each kept one
// counted as R/d waits of total R ns.
TEST_F(HooksTest, BlockRateShortWaitsSampledProportionallyAndScaled) {
  constexpr int64_t kRate = 10000;
  constexpr int64_t kWait = 2500;  // p = 0.25
  constexpr int kEvents = 100000;
  contend::internal::profiler_set_block_rate(kRate);
  contend::internal::profiler_reset();
  contend::internal::seed_thread_random(777);
  for (int i = 0; i < kEvents; ++i) {
    contend::internal::profiler_on_wait_end(Wait(kWait));
  }
  const Totals t = Sum(ProfileType::kBlock);
  const double p = static_cast<double>(kWait) / kRate;
  const double kept = static_cast<double>(t.delay_ns) / kRate;
  EXPECT_DOUBLE_EQ(kept, std::round(kept));
  const double sd = std::sqrt(kEvents * p * (1 - p));
  EXPECT_NEAR(kept, kEvents * p, 5 * sd);
  // Unbiased: the truth is kEvents waits and kEvents * kWait ns.
  EXPECT_NEAR(t.count, kept * kRate / kWait, 1e-6 * t.count);
  EXPECT_NEAR(t.count, kEvents, 5 * sd * kRate / kWait);
  EXPECT_NEAR(static_cast<double>(t.delay_ns),
              static_cast<double>(kEvents) * kWait, 5 * sd * kRate);
}

// The rate is not a cut-off: waits at or above it are all kept, unscaled.
TEST_F(HooksTest, BlockRateLongWaitsAlwaysKeptExactly) {
  constexpr int64_t kRate = 10000;
  contend::internal::profiler_set_block_rate(kRate);
  contend::internal::profiler_reset();
  for (int i = 0; i < 1000; ++i) {
    contend::internal::profiler_on_wait_end(Wait(kRate + i));
  }
  const Totals t = Sum(ProfileType::kBlock);
  EXPECT_EQ(t.count, 1000);
  EXPECT_EQ(t.delay_ns, 1000 * kRate + 999 * 1000 / 2);
}

// A wait of 0 ns (or negative, from skew between the two clock reads)
// happened: it counts as 1 ns, so rate 1 records every wait; a release that
// charges < 1 ns charges 1 ns. Timeline entries never end before they start.
TEST_F(HooksTest, ZeroAndNegativeWaitsCountAsOneNanosecond) {
  contend::internal::profiler_set_block_rate(1);
  contend::internal::profiler_set_mutex_fraction(1);
  contend::internal::profiler_reset();
  contend::internal::timeline_start(16, 4);
  contend::internal::profiler_on_wait_end(Wait(0));
  contend::internal::profiler_on_wait_end(Wait(-50));
  contend::internal::profiler_on_contended_release(Release(0));
  contend::internal::profiler_on_contended_release(Release(-7));
  const Totals block = Sum(ProfileType::kBlock);
  EXPECT_EQ(block.count, 2);
  EXPECT_EQ(block.delay_ns, 2);
  const Totals mutex = Sum(ProfileType::kMutex);
  EXPECT_EQ(mutex.count, 2);
  EXPECT_EQ(mutex.delay_ns, 2);
  const contend::internal::TimelineSnapshot snap =
      contend::internal::timeline_snapshot();
  size_t entries = 0;
  for (const auto& t : snap.threads) {
    for (const auto& e : t.entries) {
      EXPECT_LE(e.start_ns, e.end_ns);
      if (e.type == contend::internal::TimelineEntry::Type::kRelease) {
        EXPECT_EQ(e.delay_ns, 1);
      }
      ++entries;
    }
  }
  EXPECT_EQ(entries, 4u);
}

// With rate R a 0 ns wait is a 1 ns wait: kept with probability 1/R.
TEST_F(HooksTest, ZeroLengthWaitsSampledAsOneNanosecondAndOffMeansOff) {
  constexpr int64_t kRate = 10;
  constexpr int kEvents = 10000;
  contend::internal::profiler_set_block_rate(kRate);
  contend::internal::profiler_reset();
  contend::internal::seed_thread_random(99);
  for (int i = 0; i < kEvents; ++i) {
    contend::internal::profiler_on_wait_end(Wait(0));
  }
  const Totals t = Sum(ProfileType::kBlock);
  const double kept = static_cast<double>(t.delay_ns) / kRate;
  const double sd = std::sqrt(kEvents * 0.1 * 0.9);
  EXPECT_NEAR(kept, kEvents * 0.1, 5 * sd);
  EXPECT_NEAR(t.count, kEvents, 5 * sd * kRate);
  contend::internal::profiler_set_block_rate(0);
  contend::internal::profiler_set_mutex_fraction(0);
  contend::internal::profiler_reset();
  for (int i = 0; i < 100; ++i) {
    contend::internal::profiler_on_wait_end(Wait(1'000'000));
    contend::internal::profiler_on_contended_release(Release(1'000'000));
  }
  EXPECT_EQ(Sum(ProfileType::kBlock).records, 0u);
  EXPECT_EQ(Sum(ProfileType::kMutex).records, 0u);
}

// Huge options are clamped to the documented maxima instead of throwing
// std::length_error out of the next (noexcept) hook; 0 becomes 1.
TEST_F(HooksTest, TimelineOptionsAreClamped) {
  contend::internal::timeline_start(SIZE_MAX, SIZE_MAX);
  contend::internal::profiler_on_wait_end(Wait(5));
  contend::internal::TimelineSnapshot snap =
      contend::internal::timeline_snapshot();
  EXPECT_EQ(snap.events_per_thread,
            contend::internal::kMaxTimelineEventsPerThread);
  EXPECT_EQ(snap.max_threads, contend::internal::kMaxTimelineThreads);
  ASSERT_EQ(snap.threads.size(), 1u);
  EXPECT_EQ(snap.threads[0].entries.size(), 1u);
  EXPECT_EQ(snap.alloc_failures, 0u);

  contend::internal::timeline_start(0, 0);
  contend::internal::profiler_on_wait_end(Wait(5));
  contend::internal::profiler_on_wait_end(Wait(6));
  snap = contend::internal::timeline_snapshot();
  EXPECT_EQ(snap.events_per_thread, 1u);
  EXPECT_EQ(snap.max_threads, 1u);
  ASSERT_EQ(snap.threads.size(), 1u);
  ASSERT_EQ(snap.threads[0].entries.size(), 1u);
  EXPECT_EQ(snap.threads[0].entries[0].end_ns, 1006);
  EXPECT_EQ(snap.overwritten, 1u);
}

// Spins (no sleep) until CLOCK_MONOTONIC has advanced by `ns`.
void SpinFor(int64_t ns) {
  const int64_t until = contend::internal::monotonic_now_ns() + ns;
  while (contend::internal::monotonic_now_ns() < until) {
  }
}

// Records accumulate only while a profile is on, so its window is the
// enabled time summed over toggles: the time off does not dilute the
// per-second figures. reset() restarts both.
TEST_F(HooksTest, ToggleAccumulatesEnabledTimeWithTheRecords) {
  constexpr int64_t kGap = 200'000'000;  // 200 ms off
  contend::internal::profiler_set_mutex_fraction(1);
  contend::internal::profiler_reset();
  const uint64_t epoch =
      contend::internal::profiler_snapshot(ProfileType::kMutex).epoch;
  contend::internal::profiler_on_contended_release(Release(100));
  SpinFor(10'000'000);
  contend::internal::profiler_set_mutex_fraction(0);
  const ProfileSnapshot off1 =
      contend::internal::profiler_snapshot(ProfileType::kMutex);
  EXPECT_GE(off1.enabled_ns, 10'000'000);
  SpinFor(kGap);
  const ProfileSnapshot off2 =
      contend::internal::profiler_snapshot(ProfileType::kMutex);
  EXPECT_EQ(off2.enabled_ns, off1.enabled_ns) << "window grew while off";
  ASSERT_EQ(off2.records.size(), 1u) << "records are kept while off";

  const int64_t on_at = contend::internal::monotonic_now_ns();
  contend::internal::profiler_set_mutex_fraction(1);
  contend::internal::profiler_on_contended_release(Release(100));
  const ProfileSnapshot on =
      contend::internal::profiler_snapshot(ProfileType::kMutex);
  EXPECT_GT(on.enabled_ns, off1.enabled_ns);
  EXPECT_LE(on.enabled_ns - off1.enabled_ns, on.now_ns - on_at);
  EXPECT_EQ(Sum(ProfileType::kMutex).count, 2);
  EXPECT_EQ(on.epoch, epoch);

  contend::internal::profiler_reset();
  const ProfileSnapshot after =
      contend::internal::profiler_snapshot(ProfileType::kMutex);
  EXPECT_EQ(after.epoch, epoch + 1);
  EXPECT_TRUE(after.records.empty());
  EXPECT_LT(after.enabled_ns, off1.enabled_ns);
  // The block profile was never on: no window.
  EXPECT_EQ(
      contend::internal::profiler_snapshot(ProfileType::kBlock).enabled_ns, 0);
}

TEST_F(HooksTest, LabelIsRecordedAndSplitsRecords) {
  static int labeled_key = 0;
  contend::internal::set_wait_label(&labeled_key, "hooks_test.label");
  contend::internal::profiler_set_mutex_fraction(1);
  contend::internal::profiler_reset();
  contend::internal::profiler_on_contended_release(
      ReleaseEvent{&labeled_key, WaitKind::kMutex, 0, 10, 1, 1});
  contend::internal::profiler_on_contended_release(Release(10));
  contend::internal::clear_wait_label(&labeled_key);
  const ProfileSnapshot s =
      contend::internal::profiler_snapshot(ProfileType::kMutex);
  ASSERT_EQ(s.records.size(), 2u);
  int labeled = 0;
  for (const auto& r : s.records) {
    if (r.label != nullptr) {
      EXPECT_STREQ(r.label, "hooks_test.label");
      ++labeled;
    }
  }
  EXPECT_EQ(labeled, 1);
}

ABSL_ATTRIBUTE_NOINLINE int Level3(uintptr_t* pcs) {
  const int n = contend::internal::capture_stack(pcs, 16);
  asm volatile("" ::: "memory");
  return n;
}
ABSL_ATTRIBUTE_NOINLINE int Level2(uintptr_t* pcs) {
  const int n = Level3(pcs);
  asm volatile("" ::: "memory");
  return n;
}
ABSL_ATTRIBUTE_NOINLINE int Level1(uintptr_t* pcs) {
  const int n = Level2(pcs);
  asm volatile("" ::: "memory");
  return n;
}

// As tests/profile/test_tools.h's kNoFunctionNames (this test does not link
// :test_support): absl::Symbolize names nothing under qemu-user.
#if defined(CONTEND_EMULATED)
constexpr bool kNoFunctionNames = true;
#else
constexpr bool kNoFunctionNames = false;
#endif
constexpr const char* kNoFunctionNamesWhy =
    "qemu-user: absl::Symbolize reads /proc/self/task/<tid>/maps, which "
    "qemu-user does not emulate (tests/profile/test_tools.h)";

std::string Symbol(uintptr_t pc) {
  char buf[1024];
  if (!absl::Symbolize(reinterpret_cast<const void*>(pc - 1), buf,
                       sizeof(buf))) {
    return "??";
  }
  return buf;
}

TEST_F(HooksTest, FramePointerWalkSeesCallersInOrder) {
  if (kNoFunctionNames) GTEST_SKIP() << kNoFunctionNamesWhy;
  uintptr_t pcs[16] = {};
  const int n = Level1(pcs);
  ASSERT_GE(n, 4);
  EXPECT_NE(Symbol(pcs[0]).find("Level3"), std::string::npos) << Symbol(pcs[0]);
  EXPECT_NE(Symbol(pcs[1]).find("Level2"), std::string::npos) << Symbol(pcs[1]);
  EXPECT_NE(Symbol(pcs[2]).find("Level1"), std::string::npos) << Symbol(pcs[2]);
  EXPECT_NE(Symbol(pcs[3]).find("FramePointerWalkSeesCallersInOrder"),
            std::string::npos)
      << Symbol(pcs[3]);
  // max_depth is honoured.
  EXPECT_EQ(contend::internal::capture_stack(pcs, 2), 2);
}

TEST_F(HooksTest, WalkWorksOnOtherThreads) {
  if (kNoFunctionNames) GTEST_SKIP() << kNoFunctionNamesWhy;
  int n = 0;
  uintptr_t pcs[16] = {};
  std::thread t([&] { n = Level1(pcs); });
  t.join();
  ASSERT_GE(n, 3);
  EXPECT_NE(Symbol(pcs[2]).find("Level1"), std::string::npos) << Symbol(pcs[2]);
}

TEST_F(HooksTest, TableIsBoundedAndOverflowCounted) {
  const size_t old = contend::internal::profiler_set_max_stacks(10);
  contend::internal::profiler_reset();
  for (uintptr_t i = 0; i < 25; ++i) {
    uintptr_t pcs[2] = {0x1000 + i, 0x2000};
    contend::internal::profiler_add_sample(ProfileType::kBlock, pcs, 2,
                                           WaitKind::kCond, nullptr, 2.0, 7);
    // Existing stacks still accumulate after the cap is reached.
    contend::internal::profiler_add_sample(ProfileType::kBlock, pcs, 2,
                                           WaitKind::kCond, nullptr, 1.0, 1);
  }
  const ProfileSnapshot s =
      contend::internal::profiler_snapshot(ProfileType::kBlock);
  EXPECT_EQ(s.records.size(), 10u);
  EXPECT_EQ(s.max_stacks, 10u);
  EXPECT_DOUBLE_EQ(s.overflow_count, 15 * 3.0);
  EXPECT_EQ(s.overflow_delay_ns, 15 * 8);
  for (const auto& r : s.records) {
    EXPECT_DOUBLE_EQ(r.count, 3.0);
    EXPECT_EQ(r.delay_ns, 8);
  }
  // reset() frees the slots.
  contend::internal::profiler_reset();
  uintptr_t pcs[1] = {0x5000};
  contend::internal::profiler_add_sample(ProfileType::kBlock, pcs, 1,
                                         WaitKind::kCond, nullptr, 1.0, 1);
  const ProfileSnapshot after =
      contend::internal::profiler_snapshot(ProfileType::kBlock);
  EXPECT_EQ(after.records.size(), 1u);
  EXPECT_EQ(after.overflow_count, 0);
  contend::internal::profiler_set_max_stacks(old);
}

TEST_F(HooksTest, ObserverInstalledOnlyWhileSomethingIsOn) {
  EXPECT_EQ(contend::internal::wait_observer(), nullptr);
  contend::internal::profiler_set_mutex_fraction(5);
  const contend::internal::WaitObserver* ours =
      contend::internal::wait_observer();
  ASSERT_NE(ours, nullptr);
  EXPECT_NE(ours->on_wait_end, nullptr);
  EXPECT_NE(ours->on_contended_release, nullptr);
  contend::internal::profiler_set_block_rate(100);
  contend::internal::profiler_set_mutex_fraction(0);
  EXPECT_EQ(contend::internal::wait_observer(), ours);
  contend::internal::profiler_set_block_rate(0);
  EXPECT_EQ(contend::internal::wait_observer(), nullptr);
  contend::internal::timeline_start(16, 4);
  EXPECT_EQ(contend::internal::wait_observer(), ours);
  contend::internal::timeline_stop();
  EXPECT_EQ(contend::internal::wait_observer(), nullptr);
}

TEST_F(HooksTest, ForeignObserverIsNotRemoved) {
  static const contend::internal::WaitObserver foreign{nullptr, nullptr};
  contend::internal::set_wait_observer(&foreign);
  contend::internal::profiler_set_mutex_fraction(0);
  EXPECT_EQ(contend::internal::wait_observer(), &foreign);
  contend::internal::set_wait_observer(nullptr);
}

TEST_F(HooksTest, ConcurrentRecordResetSnapshot) {
  contend::internal::profiler_set_mutex_fraction(1);
  contend::internal::profiler_set_block_rate(1);
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (int w = 0; w < 3; ++w) {
    writers.emplace_back([&, w] {
      uintptr_t i = 0;
      // Acquire: pairs with the release store below.
      while (!stop.load(std::memory_order_acquire)) {
        uintptr_t pcs[2] = {0x100 + (i++ % 64), static_cast<uintptr_t>(w)};
        contend::internal::profiler_add_sample(
            ProfileType::kMutex, pcs, 2, WaitKind::kMutex, nullptr, 1.0, 1);
        contend::internal::profiler_on_wait_end(Wait(5));
        contend::internal::profiler_on_contended_release(Release(5));
      }
    });
  }
  // At least 20 snapshots (two resets), then up to 200 while the stress
  // duration lasts: under TSan on a loaded machine the writers' lock convoy
  // can make each snapshot take a second.
  const contend::testing::StressDeadline deadline;
  for (int i = 0; i < 200 && (i < 20 || deadline.running()); ++i) {
    const ProfileSnapshot s =
        contend::internal::profiler_snapshot(ProfileType::kMutex);
    for (const auto& r : s.records) {
      // Each add is count 1 with delay 1 or count 1 with delay 5: a torn
      // record would break count <= delay <= 5 * count.
      EXPECT_LE(r.count, static_cast<double>(r.delay_ns));
      EXPECT_LE(static_cast<double>(r.delay_ns), 5 * r.count);
    }
    if (i % 10 == 0) contend::internal::profiler_reset();
  }
  // Release: pairs with the writers' acquire loads.
  stop.store(true, std::memory_order_release);
  for (auto& t : writers) t.join();
}

}  // namespace
