// Copyright 2026 The contend Authors.
//
// End-to-end tests of profile/profile.h on real contention: a holder thread
// in HoldLockLong() keeps a contend::Mutex while waiters block in
// WaitForLock(). The pprof output is read back with the independent decoder
// in tests/profile/pprof_decoder.h.

#include "profile/profile.h"

#include <chrono>
#include <cmath>
#include <cstdint>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "profile/hooks.h"
#include "sync/internal/clock.h"
#include "sync/internal/wait_observer.h"
#include "sync/mutex.h"
#include "tests/profile/contention_workload.h"
#include "tests/profile/inline_workload.h"
#include "tests/profile/pprof_decoder.h"
#include "tests/profile/test_tools.h"

namespace {

using ::profile_testing::DecodedProfile;
using ::testing::HasSubstr;

#if defined(CONTEND_TSAN) || defined(__SANITIZE_THREAD__) || \
    defined(CONTEND_EMULATED)
constexpr int kRounds = 12;
#else
constexpr int kRounds = 40;
#endif
constexpr auto kHold = std::chrono::microseconds(3000);

bool Contains(const std::vector<std::string>& stack, const std::string& fn) {
  for (const std::string& name : stack) {
    if (name.find(fn) != std::string::npos) return true;
  }
  return false;
}

std::string Join(const std::vector<std::string>& stack) {
  std::string out;
  for (const std::string& s : stack) out += "\n  " + (s.empty() ? "??" : s);
  return out;
}

DecodedProfile Decode(void (*writer)(std::ostream&, int)) {
  std::ostringstream out;
  writer(out, 0);
  DecodedProfile p;
  std::string error;
  EXPECT_TRUE(profile_testing::DecodeProfile(out.str(), &p, &error)) << error;
  return p;
}

// Sum of delay values of samples carrying the workload's lock label.
int64_t LabeledDelay(const DecodedProfile& p) {
  int64_t total = 0;
  for (const auto& s : p.samples) {
    if (DecodedProfile::label(s, "lock") == profile_testing::kWorkloadLabel) {
      total += s.values[1];
    }
  }
  return total;
}

const DecodedProfile::Sample* TopSample(const DecodedProfile& p) {
  const DecodedProfile::Sample* top = nullptr;
  for (const auto& s : p.samples) {
    if (top == nullptr || s.values[1] > top->values[1]) top = &s;
  }
  return top;
}

class ProfileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    contend::profile::set_mutex_profile_fraction(1);
    contend::profile::set_block_profile_rate(1);
    contend::profile::reset();
  }
  void TearDown() override {
    contend::profile::set_mutex_profile_fraction(0);
    contend::profile::set_block_profile_rate(0);
    contend::profile::reset();
  }
};

TEST_F(ProfileTest, MutexProfileChargesHolderBlockProfileChargesWaiters) {
  if (profile_testing::kNoFunctionNames) {
    GTEST_SKIP() << profile_testing::kNoFunctionNamesWhy;
  }
  const auto run = profile_testing::RunContention(kRounds, kHold, 2);

  const DecodedProfile mutex = Decode(&contend::profile::write_mutex_profile);
  ASSERT_FALSE(mutex.samples.empty());
  const DecodedProfile::Sample* top = TopSample(mutex);
  ASSERT_NE(top, nullptr);
  const std::vector<std::string> top_stack = mutex.stack(*top);
  // The releaser's stack: the bottleneck owner, not the victim.
  EXPECT_TRUE(Contains(top_stack, "HoldLockLong")) << Join(top_stack);
  EXPECT_FALSE(Contains(top_stack, "WaitForLock")) << Join(top_stack);
  // Machinery frames are trimmed: the stack starts at the primitive.
  EXPECT_THAT(top_stack.front(), HasSubstr("contend::Mutex::"))
      << Join(top_stack);
  EXPECT_EQ(DecodedProfile::label(*top, "lock"),
            profile_testing::kWorkloadLabel);
  EXPECT_EQ(DecodedProfile::label(*top, "kind"), "Mutex");

  const DecodedProfile block = Decode(&contend::profile::write_block_profile);
  ASSERT_FALSE(block.samples.empty());
  const DecodedProfile::Sample* top_block = TopSample(block);
  const std::vector<std::string> block_stack = block.stack(*top_block);
  EXPECT_TRUE(Contains(block_stack, "WaitForLock")) << Join(block_stack);
  EXPECT_FALSE(Contains(block_stack, "HoldLockLong")) << Join(block_stack);

  // Each of ~kRounds holds keeps two waiters for most of kHold, so the
  // block total is well above kRounds * kHold / 2.
  const int64_t block_total = LabeledDelay(block);
  const int64_t mutex_total = LabeledDelay(mutex);
  EXPECT_GT(block_total, kRounds * std::chrono::nanoseconds(kHold).count() / 2);
  // The Go 1.22 invariant: with fraction 1 and rate 1, what the releasers
  // are charged is what the waiters waited. Tolerance 10%: the two sides
  // read the clock at slightly different instants, and a waiter woken by a
  // release may re-park (a new wait) after losing a barging race.
  EXPECT_NEAR(static_cast<double>(mutex_total),
              static_cast<double>(block_total),
              0.10 * static_cast<double>(block_total))
      << "mutex " << mutex_total << " ns vs block " << block_total << " ns";
  (void)run;
}

TEST_F(ProfileTest, PprofLayoutMatchesGo) {
  if (profile_testing::kNoFunctionNames) {
    GTEST_SKIP() << profile_testing::kNoFunctionNamesWhy;
  }
  profile_testing::RunContention(4, kHold, 1);
  const DecodedProfile p = Decode(&contend::profile::write_mutex_profile);
  ASSERT_EQ(p.sample_types.size(), 2u);
  EXPECT_EQ(p.sample_types[0].type, "contentions");
  EXPECT_EQ(p.sample_types[0].unit, "count");
  EXPECT_EQ(p.sample_types[1].type, "delay");
  EXPECT_EQ(p.sample_types[1].unit, "nanoseconds");
  EXPECT_EQ(p.period_type.type, "contentions");
  EXPECT_EQ(p.period_type.unit, "count");
  EXPECT_EQ(p.period, 1);
  EXPECT_GT(p.time_nanos, 0);
  EXPECT_GT(p.duration_nanos, 0);
  ASSERT_FALSE(p.mappings.empty());
  // has_functions exactly when every location in the mapping has a name
  // (pprof re-symbolizes the others).
  std::map<uint64_t, bool> all_named;
  for (const auto& [id, loc] : p.locations) {
    if (loc.mapping_id == 0) continue;
    auto [it, inserted] = all_named.try_emplace(loc.mapping_id, true);
    if (loc.function_ids.empty()) it->second = false;
  }
  for (const auto& m : p.mappings) {
    EXPECT_EQ(m.has_functions, all_named.at(m.id)) << m.filename;
    EXPECT_LT(m.start, m.limit);
  }
  EXPECT_TRUE(all_named.at(p.mappings[0].id)) << p.mappings[0].filename;
  // Pre-symbolized: every location of a real stack has a function with a
  // name, and lies inside its mapping.
  size_t named = 0;
  for (const auto& [id, loc] : p.locations) {
    if (!loc.function_ids.empty()) {
      ++named;
      EXPECT_FALSE(p.functions.at(loc.function_ids[0]).name.empty());
    }
    if (loc.mapping_id != 0) {
      for (const auto& m : p.mappings) {
        if (m.id == loc.mapping_id) {
          EXPECT_GE(loc.address, m.start);
          EXPECT_LT(loc.address, m.limit);
        }
      }
    }
  }
  EXPECT_GT(named, 0u);
  ASSERT_FALSE(p.comments.empty());
  EXPECT_THAT(p.comments[0], HasSubstr("mutex profile, fraction 1"));
}

TEST_F(ProfileTest, TextReportAndAnalysis) {
  if (profile_testing::kNoFunctionNames) {
    GTEST_SKIP() << profile_testing::kNoFunctionNamesWhy;
  }
  const auto run = profile_testing::RunContention(kRounds / 2, kHold, 2);
  std::ostringstream text;
  contend::profile::write_text_report(text);
  const std::string report = text.str();
  EXPECT_THAT(report, HasSubstr("--- mutex:\ncycles/second=1000000000\n"
                                "sampling period=1\n"));
  EXPECT_THAT(report, HasSubstr("--- contention:\n"));
  EXPECT_THAT(report, HasSubstr("HoldLockLong"));
  EXPECT_THAT(report, HasSubstr("WaitForLock"));
  EXPECT_THAT(report, HasSubstr("lock=\"profile_test.hold\""));
  EXPECT_THAT(report, HasSubstr("--- analysis:"));
  EXPECT_THAT(report, HasSubstr("Amdahl ceiling"));
  EXPECT_THAT(report, HasSubstr("# overflow: 0 events"));

  const contend::profile::Analysis a = contend::profile::analyze();
  ASSERT_TRUE(a.mutex.enabled);
  ASSERT_FALSE(a.mutex.sites.empty());
  const contend::profile::Site& owner = a.mutex.sites[0];
  EXPECT_THAT(owner.function, HasSubstr("HoldLockLong"));
  EXPECT_EQ(owner.label, profile_testing::kWorkloadLabel);
  EXPECT_GT(owner.delay_ns, 0);
  EXPECT_GT(owner.contentions, 0);
  // Rates are per wall second of the window, and f = rate / 1 s.
  EXPECT_GT(a.mutex.wall_seconds, 0);
  EXPECT_LE(a.mutex.wall_seconds * 1e9,
            static_cast<double>(run.wall_ns) * 1.5 + 1e9);
  EXPECT_NEAR(owner.delay_per_second_ns,
              static_cast<double>(owner.delay_ns) / a.mutex.wall_seconds,
              1e-6 * owner.delay_per_second_ns);
  EXPECT_NEAR(owner.serialized_fraction,
              std::min(1.0, owner.delay_per_second_ns / 1e9), 1e-12);
  EXPECT_NEAR(owner.amdahl_ceiling, 1.0 / owner.serialized_fraction, 1e-9);
  EXPECT_GT(owner.serialized_fraction, 0);
  ASSERT_FALSE(a.block.sites.empty());
  EXPECT_THAT(a.block.sites[0].function, HasSubstr("WaitForLock"));
  EXPECT_GE(a.mutex.delay_ns, owner.delay_ns);
}

TEST_F(ProfileTest, DebugTextFormPerProfile) {
  if (profile_testing::kNoFunctionNames) {
    GTEST_SKIP() << profile_testing::kNoFunctionNamesWhy;
  }
  profile_testing::RunContention(4, kHold, 1);
  std::ostringstream mutex;
  contend::profile::write_mutex_profile(mutex, /*debug=*/1);
  EXPECT_THAT(mutex.str(), HasSubstr("--- mutex:"));
  EXPECT_THAT(mutex.str(), HasSubstr("HoldLockLong"));
  EXPECT_THAT(mutex.str(), ::testing::Not(HasSubstr("--- contention:")));
  std::ostringstream block;
  contend::profile::write_block_profile(block, /*debug=*/1);
  EXPECT_THAT(block.str(), HasSubstr("--- contention:"));
  EXPECT_THAT(block.str(), HasSubstr("WaitForLock"));
}

// Labels are arbitrary bytes; the debug=1 text quotes them exactly as Go's
// strconv.Quote would (expected strings checked against Go 1.19's
// strconv.Quote), so one line can never be split or forged by a label.
TEST_F(ProfileTest, DebugTextQuotesLabelsLikeGoStrconvQuote) {
  struct Case {
    const char* label;
    const char* quoted;
  };
  static const Case kCases[] = {
      {"cache.shard", R"("cache.shard")"},
      {"a\"b\\c", R"("a\"b\\c")"},
      {"line\nbreak\ttab\r\a\b\f\v", R"("line\nbreak\ttab\r\a\b\f\v")"},
      {"ctl\x01\x1f\x7f", R"("ctl\x01\x1f\x7f")"},
      {"bad\xff\xc3(", R"("bad\xff\xc3(")"},
      {"caf\xc3\xa9 \xe2\x82\xac", "\"caf\xc3\xa9 \xe2\x82\xac\""},
      {"nb\xc2\xa0sp\xe2\x80\xa8", R"("nb\u00a0sp\u2028")"},
      {"c1\xc2\x85", R"("c1\u0085")"},
      {"surrogate\xed\xa0\x80", R"("surrogate\xed\xa0\x80")"},
      {"overlong\xc0\xaf", R"("overlong\xc0\xaf")"},
      {"emoji\xf0\x9f\x94\x92", "\"emoji\xf0\x9f\x94\x92\""},
  };
  for (size_t i = 0; i < sizeof(kCases) / sizeof(kCases[0]); ++i) {
    uintptr_t pcs[1] = {
        reinterpret_cast<uintptr_t>(&profile_testing::WaitForLock) + 1 + i};
    contend::internal::profiler_add_sample(
        contend::internal::ProfileType::kMutex, pcs, 1,
        contend::internal::WaitKind::kMutex, kCases[i].label, 1.0,
        static_cast<int64_t>(1000 + i));
  }
  std::ostringstream text;
  contend::profile::write_mutex_profile(text, /*debug=*/1);
  for (const Case& c : kCases) {
    EXPECT_THAT(
        text.str(),
        HasSubstr(std::string("#\tlabels: kind=Mutex lock=") + c.quoted + "\n"))
        << c.quoted;
  }
}

// Off-time is not window time: turning a profile off and on keeps its
// records and continues its window, so per-second figures and pprof's
// duration_nanos describe the time the records were collected in.
TEST_F(ProfileTest, ToggleOffAndOnKeepsWindowAndRecordsTogether) {
  contend::profile::set_block_profile_rate(0);
  // Contention is likely, not certain, in 3 holds; under qemu-user (slow
  // thread start, emulated sleeps) 3 holds once recorded none, so more there.
#if defined(CONTEND_EMULATED)
  profile_testing::RunContention(12, kHold, 1);
#else
  profile_testing::RunContention(3, kHold, 1);
#endif
  contend::profile::set_mutex_profile_fraction(0);
  const DecodedProfile off = Decode(&contend::profile::write_mutex_profile);
  ASSERT_FALSE(off.samples.empty());
  ASSERT_GT(off.duration_nanos, 0);
  const int64_t until = contend::internal::monotonic_now_ns() + 300'000'000;
  while (contend::internal::monotonic_now_ns() < until) {
  }
  const DecodedProfile still_off =
      Decode(&contend::profile::write_mutex_profile);
  EXPECT_EQ(still_off.duration_nanos, off.duration_nanos);
  const double off_wall = contend::profile::analyze().mutex.wall_seconds;
  EXPECT_DOUBLE_EQ(off_wall * 1e9, static_cast<double>(off.duration_nanos));

  const int64_t on_at = contend::internal::monotonic_now_ns();
  contend::profile::set_mutex_profile_fraction(1);
  const contend::profile::Analysis a = contend::profile::analyze();
  const int64_t now = contend::internal::monotonic_now_ns();
  EXPECT_GE(a.mutex.wall_seconds * 1e9,
            static_cast<double>(off.duration_nanos));
  EXPECT_LE(a.mutex.wall_seconds * 1e9,
            static_cast<double>(off.duration_nanos + (now - on_at)) + 1);
  // The records from before the pause are still there, over that window.
  EXPECT_EQ(LabeledDelay(Decode(&contend::profile::write_mutex_profile)),
            LabeledDelay(off));
  EXPECT_NEAR(a.mutex.delay_per_second_ns,
              static_cast<double>(a.mutex.delay_ns) / a.mutex.wall_seconds,
              1e-6 * a.mutex.delay_per_second_ns);
}

uint64_t SampleCount(const DecodedProfile& p, uintptr_t leaf_pc) {
  for (const auto& s : p.samples) {
    const auto& loc = p.locations.at(s.location_ids[0]);
    if (loc.address == leaf_pc - 1) return static_cast<uint64_t>(s.values[0]);
  }
  return 0;
}

// A delta export holds only what was recorded after the Snapshot: per stack
// the difference, stacks with nothing new omitted, duration_nanos the
// enabled time in between; across a reset, everything since the reset.
TEST_F(ProfileTest, SnapshotDeltaHoldsOnlyWhatCameAfter) {
  const uintptr_t a[1] = {
      reinterpret_cast<uintptr_t>(&profile_testing::WaitForLock) + 1};
  const uintptr_t b[1] = {
      reinterpret_cast<uintptr_t>(&profile_testing::HoldLockLong) + 1};
  const auto add = [](const uintptr_t* pcs, double count) {
    contend::internal::profiler_add_sample(
        contend::internal::ProfileType::kMutex, pcs, 1,
        contend::internal::WaitKind::kMutex, nullptr, count, 10);
  };
  add(a, 5);
  const contend::profile::Snapshot since = contend::profile::Snapshot::mutex();
  const contend::profile::Snapshot copy = since;  // shares the data
  EXPECT_EQ(copy.time_ns(), since.time_ns());
  add(a, 2);
  add(b, 1);
  std::ostringstream delta;
  contend::profile::write_mutex_profile(delta, since);
  const int64_t after = contend::internal::monotonic_now_ns();
  DecodedProfile p;
  std::string error;
  ASSERT_TRUE(profile_testing::DecodeProfile(delta.str(), &p, &error)) << error;
  ASSERT_EQ(p.samples.size(), 2u);
  EXPECT_EQ(SampleCount(p, a[0]), 2u);
  EXPECT_EQ(SampleCount(p, b[0]), 1u);
  EXPECT_GT(p.duration_nanos, 0);
  EXPECT_LE(p.duration_nanos, after - since.time_ns());
  // The cumulative profile is unchanged by a delta export.
  const DecodedProfile whole = Decode(&contend::profile::write_mutex_profile);
  EXPECT_EQ(SampleCount(whole, a[0]), 7u);

  // Nothing new: an empty delta (text form too).
  const contend::profile::Snapshot now = contend::profile::Snapshot::mutex();
  std::ostringstream empty;
  contend::profile::write_mutex_profile(empty, now, /*debug=*/1);
  EXPECT_THAT(empty.str(), ::testing::Not(HasSubstr(" @ ")));

  // Across a reset the delta is the profile since the reset.
  contend::profile::reset();
  add(b, 3);
  std::ostringstream across;
  contend::profile::write_mutex_profile(across, since);
  ASSERT_TRUE(profile_testing::DecodeProfile(across.str(), &p, &error))
      << error;
  ASSERT_EQ(p.samples.size(), 1u);
  EXPECT_EQ(SampleCount(p, b[0]), 3u);
}

TEST_F(ProfileTest, SnapshotOfTheOtherProfileIsFatal) {
  const contend::profile::Snapshot block = contend::profile::Snapshot::block();
  const contend::profile::Snapshot mutex = contend::profile::Snapshot::mutex();
  std::ostringstream out;
  EXPECT_DEATH(contend::profile::write_mutex_profile(out, block),
               "contend: write_mutex_profile: since is a block-profile "
               "Snapshot");
  EXPECT_DEATH(contend::profile::write_block_profile(out, mutex),
               "contend: write_block_profile: since is a mutex-profile "
               "Snapshot");
}

// As Go's mutex profile starts at sync.(*Mutex).Unlock, ours starts at the
// public method: the primitive's internals (wake_one, unlock_slow,
// lock_slow) and the ParkingLot never appear as the leaf.
TEST_F(ProfileTest, LeafFrameIsThePublicMethod) {
  if (profile_testing::kNoFunctionNames) {
    GTEST_SKIP() << profile_testing::kNoFunctionNamesWhy;
  }
  profile_testing::RunContention(4, kHold, 2);
  using Writer = void (*)(std::ostream&, int);
  const std::pair<Writer, const char*> kProfiles[] = {
      {&contend::profile::write_mutex_profile, "contend::Mutex::unlock()"},
      {&contend::profile::write_block_profile, "contend::Mutex::lock()"}};
  for (const auto& [writer, leaf] : kProfiles) {
    const DecodedProfile p = Decode(writer);
    size_t checked = 0;
    for (const auto& s : p.samples) {
      if (DecodedProfile::label(s, "kind") != "Mutex") continue;
      const std::vector<std::string> stack = p.stack(s);
      ASSERT_FALSE(stack.empty());
      EXPECT_EQ(stack[0], leaf) << Join(stack);
      for (const std::string& frame : stack) {
        EXPECT_EQ(frame.find("_slow"), std::string::npos) << Join(stack);
        EXPECT_EQ(frame.find("wake_one"), std::string::npos) << Join(stack);
        EXPECT_EQ(frame.find("contend::internal::"), std::string::npos)
            << Join(stack);
      }
      ++checked;
    }
    EXPECT_GT(checked, 0u) << leaf;
  }
}

// Only a public primitive's own frames collapse into its public method:
// consecutive frames of one namespace (here contend::profile) all stay.
TEST_F(ProfileTest, LeafCollapseKeepsFramesOutsidePrimitives) {
  if (profile_testing::kNoFunctionNames) {
    GTEST_SKIP() << profile_testing::kNoFunctionNamesWhy;
  }
  const uintptr_t pcs[3] = {
      reinterpret_cast<uintptr_t>(&contend::profile::reset) + 1,
      reinterpret_cast<uintptr_t>(&contend::profile::stop_timeline) + 1,
      reinterpret_cast<uintptr_t>(&profile_testing::WaitForLock) + 1};
  contend::internal::profiler_add_sample(
      contend::internal::ProfileType::kMutex, pcs, 3,
      contend::internal::WaitKind::kOther, nullptr, 1.0, 1);
  const DecodedProfile p = Decode(&contend::profile::write_mutex_profile);
  ASSERT_EQ(p.samples.size(), 1u);
  const std::vector<std::string> stack = p.stack(p.samples[0]);
  ASSERT_EQ(stack.size(), 3u) << Join(stack);
  EXPECT_THAT(stack[0], HasSubstr("contend::profile::reset")) << Join(stack);
  EXPECT_THAT(stack[1], HasSubstr("contend::profile::stop_timeline"))
      << Join(stack);
}

// A PC in inlined code is one Location with a Line per function, the
// inlined ones first (pprof's Location.line order), each with its own line:
// the inner call's line inside each function.
TEST_F(ProfileTest, InlinedFunctionsAreLinesOfTheirLocation) {
  if (profile_testing::kNoFunctionNames) {
    GTEST_SKIP() << profile_testing::kNoFunctionNamesWhy;
  }
  const uintptr_t pcs[1] = {profile_testing::OuterOfInlined()};
  contend::internal::profiler_add_sample(
      contend::internal::ProfileType::kMutex, pcs, 1,
      contend::internal::WaitKind::kOther, nullptr, 1.0, 1);
  const DecodedProfile p = Decode(&contend::profile::write_mutex_profile);
  ASSERT_EQ(p.samples.size(), 1u);
  ASSERT_EQ(p.samples[0].location_ids.size(), 1u);
  const DecodedProfile::Location& loc =
      p.locations.at(p.samples[0].location_ids[0]);
  EXPECT_EQ(p.stack(p.samples[0]),
            (std::vector<std::string>{profile_testing::kInlinedLeafName,
                                      profile_testing::kInlinedMiddleName,
                                      profile_testing::kOuterOfInlinedName}))
      << Join(p.stack(p.samples[0]));
  ASSERT_EQ(loc.lines.size(), 3u);
  // Each function's line is the call inside it, and they appear in the
  // source in that order (leaf, middle, outer).
  EXPECT_GT(loc.lines[0], 0);
  EXPECT_LT(loc.lines[0], loc.lines[1]);
  EXPECT_LT(loc.lines[1], loc.lines[2]);

  std::ostringstream text;
  contend::profile::write_mutex_profile(text, /*debug=*/1);
  const std::string in_file =
      std::string("\t") + profile_testing::kInlineWorkloadFile + ":";
  for (const char* name :
       {profile_testing::kInlinedLeafName, profile_testing::kInlinedMiddleName,
        profile_testing::kOuterOfInlinedName}) {
    EXPECT_THAT(text.str(), HasSubstr(name + in_file)) << text.str();
  }
}

TEST_F(ProfileTest, ResetClearsBothProfiles) {
  profile_testing::RunContention(3, kHold, 1);
  EXPECT_FALSE(Decode(&contend::profile::write_mutex_profile).samples.empty());
  contend::profile::reset();
  EXPECT_TRUE(Decode(&contend::profile::write_mutex_profile).samples.empty());
  EXPECT_TRUE(Decode(&contend::profile::write_block_profile).samples.empty());
}

TEST_F(ProfileTest, FractionZeroRecordsNothing) {
  contend::profile::set_mutex_profile_fraction(0);
  contend::profile::set_block_profile_rate(0);
  contend::profile::reset();
  EXPECT_EQ(contend::internal::wait_observer(), nullptr);
  profile_testing::RunContention(3, kHold, 1);
  EXPECT_TRUE(Decode(&contend::profile::write_mutex_profile).samples.empty());
  EXPECT_TRUE(Decode(&contend::profile::write_block_profile).samples.empty());
}

TEST_F(ProfileTest, SettersReturnPreviousAndNegativeOnlyReads) {
  EXPECT_EQ(contend::profile::set_mutex_profile_fraction(7), 1);
  EXPECT_EQ(contend::profile::set_mutex_profile_fraction(-1), 7);
  EXPECT_EQ(contend::profile::set_mutex_profile_fraction(1), 7);
  EXPECT_EQ(contend::profile::set_block_profile_rate(1000), 1);
  EXPECT_EQ(contend::profile::set_block_profile_rate(-5), 1000);
  EXPECT_EQ(contend::profile::set_block_profile_rate(1), 1000);
}

TEST_F(ProfileTest, OverflowIsReportedInEveryExport) {
  const size_t old_cap = contend::internal::profiler_set_max_stacks(2);
  uintptr_t fake[3] = {0, 0, 0};
  for (uintptr_t i = 0; i < 5; ++i) {
    // Distinct synthetic stacks of real code addresses.
    fake[0] =
        reinterpret_cast<uintptr_t>(&profile_testing::WaitForLock) + 1 + i;
    contend::internal::profiler_add_sample(
        contend::internal::ProfileType::kMutex, fake, 1,
        contend::internal::WaitKind::kMutex, nullptr, 1.0, 100);
  }

  const DecodedProfile p = Decode(&contend::profile::write_mutex_profile);
  int64_t overflow_count = -1;
  for (const auto& s : p.samples) {
    if (p.stack(s) == std::vector<std::string>{"[contend: stack table full]"}) {
      overflow_count = s.values[0];
      EXPECT_EQ(s.values[1], 300);
    }
  }
  EXPECT_EQ(overflow_count, 3);  // 5 stacks, cap 2
  EXPECT_EQ(p.samples.size(), 3u);
  bool comment = false;
  for (const auto& c : p.comments) {
    comment =
        comment || c.find("stack table full (cap 2)") != std::string::npos;
  }
  EXPECT_TRUE(comment);

  std::ostringstream text;
  contend::profile::write_mutex_profile(text, 1);
  EXPECT_THAT(text.str(), HasSubstr("# overflow: stack table full (cap 2): "
                                    "3 events, 300 ns"));
  EXPECT_DOUBLE_EQ(contend::profile::analyze().mutex.overflow_contentions, 3);
  contend::internal::profiler_set_max_stacks(old_cap);
}

// Exports and resets while contention is being recorded: every export must
// decode (TSan checks the hooks against the snapshots).
TEST_F(ProfileTest, SnapshotAndResetWhileRunning) {
  std::atomic<bool> stop{false};
  std::thread exporter([&] {
    int i = 0;
    // Acquire: pairs with the release store below.
    while (!stop.load(std::memory_order_acquire)) {
      std::ostringstream out;
      contend::profile::write_mutex_profile(out);
      DecodedProfile p;
      std::string error;
      EXPECT_TRUE(profile_testing::DecodeProfile(out.str(), &p, &error))
          << error;
      if (++i % 3 == 0) contend::profile::reset();
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  profile_testing::RunContention(kRounds / 2, std::chrono::microseconds(500),
                                 3);
  // Release: pairs with the exporter's acquire load.
  stop.store(true, std::memory_order_release);
  exporter.join();
}

// The header's example, kept compiling.
TEST_F(ProfileTest, HeaderExample) {
  contend::profile::set_mutex_profile_fraction(1000);
  std::ostringstream out;
  contend::profile::write_mutex_profile(out);
  EXPECT_EQ(static_cast<unsigned char>(out.str()[0]), 0x1f);  // gzip magic
  EXPECT_EQ(static_cast<unsigned char>(out.str()[1]), 0x8b);
}

}  // namespace
