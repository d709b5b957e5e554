// Copyright 2026 The contend Authors.
//
// Real-client test: Debian's `go tool pprof` (package golang-go, installed by
// tools/setup) must read contend's pprof output with no binary at hand and
// report the expected functions and totals. Skips (with a message) where Go
// is not installed; tests/profile/profile_test.cc covers the same output with
// the in-repo decoder.

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "absl/base/attributes.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "profile/hooks.h"
#include "profile/profile.h"
#include "tests/profile/contention_workload.h"
#include "tests/profile/inline_workload.h"
#include "tests/profile/pprof_decoder.h"
#include "tests/profile/test_tools.h"

namespace {

using ::testing::HasSubstr;

struct Totals {
  int64_t count = 0;
  int64_t delay_ns = 0;
};

Totals DecodedTotals(const std::string& gz) {
  profile_testing::DecodedProfile p;
  std::string error;
  EXPECT_TRUE(profile_testing::DecodeProfile(gz, &p, &error)) << error;
  Totals t;
  for (const auto& s : p.samples) {
    t.count += s.values[0];
    t.delay_ns += s.values[1];
  }
  return t;
}

// Sums the "<count> <delay>: <locations>" lines of `pprof -raw` output.
// (Hand-parsed: GCC 12's std::regex trips -Wmaybe-uninitialized under ASan.)
Totals RawTotals(const std::string& raw) {
  Totals t;
  std::istringstream lines(raw);
  std::string line;
  while (std::getline(lines, line)) {
    long long count = 0, delay = 0;
    char colon = 0;
    if (!line.empty() && line[0] == ' ' &&
        std::sscanf(line.c_str(), "%lld %lld%c", &count, &delay, &colon) == 3 &&
        colon == ':') {
      t.count += count;
      t.delay_ns += delay;
    }
  }
  return t;
}

// "Total samples = 123ns" (with -unit=ns) or "Total samples = 18 " from -top.
int64_t TopTotal(const std::string& top) {
  const std::string key = "Total samples = ";
  const size_t at = top.find(key);
  if (at == std::string::npos) return -1;
  return std::strtoll(top.c_str() + at + key.size(), nullptr, 10);
}

// The cum% column of the -top row for `function`, or -1. Rows are
// "flat flat% sum% cum cum% name...".
double CumPercent(const std::string& top, const std::string& function) {
  std::istringstream lines(top);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::vector<std::string> f;
    std::string field;
    while (fields >> field) f.push_back(field);
    if (f.size() < 6 || f[1].back() != '%' || f[2].back() != '%' ||
        f[4].back() != '%') {
      continue;
    }
    if (line.find(function) != std::string::npos) return std::stod(f[4]);
  }
  return -1;
}

class GoPprofTest : public ::testing::Test {
 protected:
  void SetUp() override {
    go_ = profile_testing::FindGo();
    if (go_.empty()) {
      GTEST_SKIP()
          << "missing tool: go (/usr/bin/go or $PATH): install "
             "Debian's golang-go (tools/setup) to check pprof compatibility; "
             "//tests/profile:profile_test checks the same output "
             "with the in-repo decoder";
    }
    contend::profile::set_mutex_profile_fraction(1);
    contend::profile::set_block_profile_rate(1);
    contend::profile::reset();
  }
  void TearDown() override {
    contend::profile::set_mutex_profile_fraction(0);
    contend::profile::set_block_profile_rate(0);
    contend::profile::reset();
  }

  // Runs `go tool pprof <args>`; fails the test on a non-zero exit.
  std::string Pprof(const std::string& args) {
    std::string out;
    const int rc = profile_testing::RunCommand(
        profile_testing::GoEnvPrefix() + go_ + " tool pprof " + args, &out);
    EXPECT_EQ(rc, 0) << "go tool pprof " << args << ":\n" << out;
    return out;
  }

  // Records one mutex-profile sample whose stack is `pc` alone, then writes
  // the mutex profile to <TempDir>/<name>; returns the path.
  static std::string WriteProfileWithSampleAt(uintptr_t pc,
                                              contend::internal::WaitKind kind,
                                              const std::string& name) {
    const uintptr_t pcs[1] = {pc};
    contend::internal::profiler_add_sample(
        contend::internal::ProfileType::kMutex, pcs, 1, kind, nullptr, 1.0, 1);
    std::ostringstream gz;
    contend::profile::write_mutex_profile(gz);
    const std::string path = profile_testing::TempDir() + "/" + name;
    EXPECT_TRUE(profile_testing::WriteFile(path, gz.str()));
    return path;
  }

  std::string go_;
};

TEST_F(GoPprofTest, ReadsMutexAndBlockProfiles) {
  if (profile_testing::kNoFunctionNames) {
    GTEST_SKIP() << profile_testing::kNoFunctionNamesWhy;
  }
  profile_testing::RunContention(20, std::chrono::microseconds(3000), 2);
  std::ostringstream mutex_gz;
  contend::profile::write_mutex_profile(mutex_gz);
  std::ostringstream block_gz;
  contend::profile::write_block_profile(block_gz);
  const std::string dir = profile_testing::TempDir();
  const std::string mutex_path = dir + "/mutex.pb.gz";
  const std::string block_path = dir + "/block.pb.gz";
  ASSERT_TRUE(profile_testing::WriteFile(mutex_path, mutex_gz.str()));
  ASSERT_TRUE(profile_testing::WriteFile(block_path, block_gz.str()));
  const Totals mutex_expected = DecodedTotals(mutex_gz.str());
  const Totals block_expected = DecodedTotals(block_gz.str());
  ASSERT_GT(mutex_expected.delay_ns, 0);

  // -raw: Go's layout and every sample value, exactly.
  const std::string raw = Pprof("-raw " + mutex_path);
  EXPECT_THAT(raw, HasSubstr("PeriodType: contentions count"));
  EXPECT_THAT(raw, HasSubstr("contentions/count delay/nanoseconds"));
  EXPECT_THAT(raw, HasSubstr("HoldLockLong"));
  EXPECT_THAT(raw, HasSubstr("lock:[profile_test.hold]"));
  EXPECT_THAT(raw, HasSubstr("[FN]"));  // mappings marked has_functions
  const Totals raw_totals = RawTotals(raw);
  EXPECT_EQ(raw_totals.count, mutex_expected.count) << raw;
  EXPECT_EQ(raw_totals.delay_ns, mutex_expected.delay_ns) << raw;

  // -top: names and totals as a user sees them. The holder carries most of
  // the delay (cum), the waiters' own releases the rest.
  const std::string top = Pprof("-top -nodecount=200 -unit=ns " + mutex_path);
  EXPECT_EQ(TopTotal(top), mutex_expected.delay_ns) << top;
  EXPECT_GE(CumPercent(top, "HoldLockLong"), 50.0) << top;
  const std::string top_count =
      Pprof("-top -nodecount=200 -sample_index=contentions " + mutex_path);
  EXPECT_EQ(TopTotal(top_count), mutex_expected.count) << top_count;

  const std::string block_top =
      Pprof("-top -nodecount=200 -unit=ns " + block_path);
  EXPECT_EQ(TopTotal(block_top), block_expected.delay_ns) << block_top;
  EXPECT_GE(CumPercent(block_top, "WaitForLock"), 50.0) << block_top;
  // The holder waits too, but only briefly (when a waiter holds the lock
  // as it comes back for the next round).
  EXPECT_LT(CumPercent(block_top, "HoldLockLong"), 25.0) << block_top;

  // The Go 1.22 invariant as pprof sees it, restricted to the lock by its
  // label: what the releasers were charged is what the waiters waited.
  const std::string focus = "-tagfocus=lock=profile_test.hold ";
  const int64_t mutex_on_lock =
      TopTotal(Pprof("-top -unit=ns " + focus + mutex_path));
  const int64_t block_on_lock =
      TopTotal(Pprof("-top -unit=ns " + focus + block_path));
  ASSERT_GT(block_on_lock, 0);
  EXPECT_NEAR(static_cast<double>(mutex_on_lock),
              static_cast<double>(block_on_lock),
              0.10 * static_cast<double>(block_on_lock));
}

// Profiles merge with other processes' in the standard tools: pprof's
// -proto merges two of our files into one whose totals are the sums.
TEST_F(GoPprofTest, MergesTwoProfiles) {
  if (profile_testing::kNoFunctionNames) {
    GTEST_SKIP() << profile_testing::kNoFunctionNamesWhy;
  }
  const std::string dir = profile_testing::TempDir();
  std::string gz[2];
  for (int i = 0; i < 2; ++i) {
    contend::profile::reset();
    profile_testing::RunContention(4 + 4 * i, std::chrono::microseconds(2000),
                                   1);
    std::ostringstream out;
    contend::profile::write_mutex_profile(out);
    gz[i] = out.str();
    ASSERT_TRUE(profile_testing::WriteFile(
        dir + "/part" + std::to_string(i) + ".pb.gz", gz[i]));
  }
  const Totals a = DecodedTotals(gz[0]);
  const Totals b = DecodedTotals(gz[1]);
  ASSERT_GT(a.count, 0);
  ASSERT_GT(b.count, 0);
  const std::string merged_path = dir + "/merged.pb.gz";
  Pprof("-proto -output=" + merged_path + " " + dir + "/part0.pb.gz " + dir +
        "/part1.pb.gz");
  std::string merged;
  {
    std::string out;
    ASSERT_EQ(profile_testing::RunCommand("cat " + merged_path, &out), 0);
    merged = out;
  }
  const Totals m = DecodedTotals(merged);
  EXPECT_EQ(m.count, a.count + b.count);
  EXPECT_EQ(m.delay_ns, a.delay_ns + b.delay_ns);
  const std::string top = Pprof("-top -nodecount=200 " + merged_path);
  EXPECT_THAT(top, HasSubstr("HoldLockLong"));
}

// Built without -g (this file): its frames get a name but no line.
ABSL_ATTRIBUTE_NOINLINE void FrameWithoutDebugInfo() {
  asm volatile("" ::: "memory");
}

// File:line where the DWARF has it (test_support is built with -g: its
// frames and the inline Mutex::unlock compiled into it), names only where it
// does not, and per-mapping flags that say which, so pprof re-symbolizes
// only the rest. `-top -lines` shows the public leaf with its line.
TEST_F(GoPprofTest, LocationsCarryFileAndLineWhereDebugInfoExists) {
  if (profile_testing::kNoFunctionNames) {
    GTEST_SKIP() << profile_testing::kNoFunctionNamesWhy;
  }
  // On a loaded machine the waiter can miss every hold of a short run (its
  // retries are sleeps): run again until the lock's contention is recorded.
  for (int attempt = 0; attempt < 10; ++attempt) {
    profile_testing::RunContention(4, std::chrono::microseconds(2000), 1);
    std::ostringstream probe;
    contend::profile::write_mutex_profile(probe);
    profile_testing::DecodedProfile p;
    std::string error;
    ASSERT_TRUE(profile_testing::DecodeProfile(probe.str(), &p, &error))
        << error;
    bool contended = false;
    for (const auto& s : p.samples) {
      contended =
          contended || profile_testing::DecodedProfile::label(s, "lock") ==
                           profile_testing::kWorkloadLabel;
    }
    if (contended) break;
  }
  const std::string path = WriteProfileWithSampleAt(
      reinterpret_cast<uintptr_t>(&FrameWithoutDebugInfo) + 1,
      contend::internal::WaitKind::kMutex, "lines.pb.gz");

  const std::string top = Pprof("-top -lines -nodecount=500 " + path);
  // The leaf has a line where its code has DWARF: in fastbuild the inline
  // unlock() is compiled into test_support (-g); at -c opt it is inlined
  // and the leaf is the slow path in sync/ (no -g), named only.
  EXPECT_THAT(top, HasSubstr("contend::Mutex::unlock")) << top;
  EXPECT_THAT(top, HasSubstr("profile_testing::HoldLockLong "
                             "tests/profile/contention_workload.cc:"))
      << top;

  const std::string raw = Pprof("-raw " + path);
  bool support_lined = false;
  // The test binary's own code has line information only where the config
  // compiles everything with -g (the sanitizer configs in .bazelrc); its
  // mapping must say exactly that.
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
  constexpr bool kBinaryHasDebugInfo = true;
#else
  constexpr bool kBinaryHasDebugInfo = false;
#endif
  bool binary_flags_right = false;
  std::istringstream lines(raw);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.find("libtest_support.so") != std::string::npos) {
      support_lined = line.find("[FN][FL][LN]") != std::string::npos;
    }
    if (line.find("/profile_go_pprof_test ") != std::string::npos) {
      binary_flags_right =
          line.find("[FN]") != std::string::npos &&
          (line.find("[FL]") != std::string::npos) == kBinaryHasDebugInfo;
    }
  }
  EXPECT_TRUE(support_lined) << raw;
  EXPECT_TRUE(binary_flags_right) << raw;

  std::ostringstream text;
  contend::profile::write_mutex_profile(text, /*debug=*/1);
  EXPECT_THAT(text.str(), HasSubstr("profile_testing::HoldLockLong()\t"
                                    "tests/profile/contention_workload.cc:"));
}

// Inlined functions show in pprof as frames of their own, each with its
// file:line, at one address (`-raw` lists them under one location).
TEST_F(GoPprofTest, InlinedFunctionsShowAsFramesWithLines) {
  if (profile_testing::kNoFunctionNames) {
    GTEST_SKIP() << profile_testing::kNoFunctionNamesWhy;
  }
  const std::string path = WriteProfileWithSampleAt(
      profile_testing::OuterOfInlined(), contend::internal::WaitKind::kOther,
      "inlined.pb.gz");
  const std::string top = Pprof("-top -lines -nodecount=50 " + path);
  const std::string in_file =
      std::string(" ") + profile_testing::kInlineWorkloadFile + ":";
  // The innermost inlined function is the leaf (flat); all three are cum.
  for (const char* name :
       {profile_testing::kInlinedLeafName, profile_testing::kInlinedMiddleName,
        profile_testing::kOuterOfInlinedName}) {
    std::string bare = name;
    bare.resize(bare.size() - 2);  // pprof drops the "()"
    EXPECT_THAT(top, HasSubstr(bare + in_file)) << top;
  }
  const std::string raw = Pprof("-raw " + path);
  // "Locations" section: one location, three "<name> <file>:<line> s=0"
  // lines after its address.
  EXPECT_THAT(raw, HasSubstr("InlinedLeaf"));
  EXPECT_THAT(raw, HasSubstr("[FN][FL][LN]"));
}

}  // namespace
