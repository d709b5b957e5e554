// Copyright 2026 The contend Authors.
//
// Timeline (Chrome Trace Event JSON): recorded from real contention, checked
// by real clients -- `python3 -m json.tool` must parse it, and a Python
// checker verifies that X slices nest properly per thread, that each woken
// wait names its waker, and that every flow arrow has both ends. Also checks
// the ring-buffer bounds in C++.

#include <pthread.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "profile/hooks.h"
#include "profile/profile.h"
#include "sync/internal/clock.h"
#include "sync/internal/thread_id.h"
#include "sync/internal/wait_observer.h"
#include "sync/mutex.h"
#include "tests/profile/contention_workload.h"
#include "tests/profile/test_tools.h"
#include "tests/testing/wait.h"

namespace {

using ::testing::HasSubstr;

// Checks, per thread: X slices are properly nested (no partial overlap;
// integer nanoseconds to avoid float rounding), every wait slice with a
// waker names it in args.waker_tid, and every flow_in bind_id has exactly one
// flow_out on the waker's track at the wait's end. Prints "OK <slices>
// <flows> <threads>" on success, a reason on failure.
constexpr const char* kChecker = R"PY(
import json, sys
from collections import defaultdict
with open(sys.argv[1]) as f:
    doc = json.load(f)
events = doc["traceEvents"]
slices = defaultdict(list)
flow_in, flow_out = {}, {}
named = set()
for e in events:
    if e["ph"] == "M" and e["name"] == "thread_name":
        named.add(e["tid"])
    if e["ph"] != "X":
        continue
    ts = round(float(e["ts"]) * 1000)
    dur = round(float(e["dur"]) * 1000)
    if dur < 0:
        sys.exit("negative dur: %r" % e)
    slices[e["tid"]].append((ts, -dur, e))
    if e.get("flow_in"):
        if e["bind_id"] in flow_in:
            sys.exit("duplicate flow_in %s" % e["bind_id"])
        if "waker_tid" not in e["args"]:
            sys.exit("flow_in without waker_tid: %r" % e)
        flow_in[e["bind_id"]] = e
    if e.get("flow_out"):
        if e["bind_id"] in flow_out:
            sys.exit("duplicate flow_out %s" % e["bind_id"])
        flow_out[e["bind_id"]] = e
for tid, items in slices.items():
    if tid not in named:
        sys.exit("thread %d has no thread_name" % tid)
    items.sort(key=lambda x: (x[0], x[1]))
    stack = []
    for ts, negdur, e in items:
        end = ts - negdur
        while stack and stack[-1] <= ts:
            stack.pop()
        if stack and end > stack[-1]:
            sys.exit("partial overlap on tid %d at ts %d: %r" % (tid, ts, e))
        stack.append(end)
for bid, w in flow_in.items():
    src = flow_out.get(bid)
    if src is None:
        sys.exit("flow %s has no source" % bid)
    if src["tid"] != w["args"]["waker_tid"]:
        sys.exit("flow %s starts on tid %d, waker is %d" %
                 (bid, src["tid"], w["args"]["waker_tid"]))
    w_end = round(float(w["ts"]) * 1000) + round(float(w["dur"]) * 1000)
    if round(float(src["ts"]) * 1000) != w_end:
        sys.exit("flow %s source is not at the wait's end" % bid)
if set(flow_out) != set(flow_in):
    sys.exit("dangling flow_out")
print("OK %d %d %d" % (sum(len(v) for v in slices.values()), len(flow_in),
                       len(slices)))
)PY";

class TimelineTest : public ::testing::Test {
 protected:
  void TearDown() override {
    contend::profile::stop_timeline();
    contend::profile::start_timeline({});  // discard data for later tests
    contend::profile::stop_timeline();
  }
};

// Contention whose waits do not depend on the scheduler: each round, the
// calling thread (the holder) holds the labeled Mutex until two fresh waiter
// threads are parked on it, then unlocks. Every round therefore records two
// waits on the Mutex, one of them ended by the holder's unlock.
profile_testing::WorkloadResult RunParkedRounds(int rounds) {
  contend::Mutex mu{profile_testing::kWorkloadLabel};
  profile_testing::WorkloadResult result;
  result.key = &mu;
  result.holder_tid = contend::internal::current_thread_id();
  for (int r = 0; r < rounds; ++r) {
    mu.lock();
    std::vector<uint32_t> tids(2);
    std::vector<std::thread> waiters;
    for (size_t w = 0; w < 2; ++w) {
      waiters.emplace_back([&, w] {
        tids[w] = contend::internal::current_thread_id();
        profile_testing::WaitForLock(mu);
      });
    }
    EXPECT_TRUE(contend::testing::wait_until_parked(&mu, 2));
    mu.unlock();
    for (auto& t : waiters) t.join();
    result.waiter_tids.insert(result.waiter_tids.end(), tids.begin(),
                              tids.end());
  }
  return result;
}

TEST_F(TimelineTest, JsonParsesAndSlicesNestPerThread) {
  constexpr int kRounds = 10;
  contend::profile::start_timeline({});
  const auto run = RunParkedRounds(kRounds);
  contend::profile::stop_timeline();
  const int64_t stopped_at = contend::internal::monotonic_now_ns();
  // Nothing is recorded after stop.
  profile_testing::RunContention(2, std::chrono::microseconds(2000), 1);

  const contend::internal::TimelineSnapshot snap =
      contend::internal::timeline_snapshot();
  EXPECT_FALSE(snap.running);
  std::set<uint32_t> tids;
  size_t waits_on_lock = 0;
  size_t woken_by_holder = 0;
  for (const auto& t : snap.threads) {
    tids.insert(t.tid);
    for (const auto& e : t.entries) {
      EXPECT_LE(e.start_ns, e.end_ns);
      EXPECT_LT(e.start_ns, stopped_at) << "recorded after stop_timeline()";
      if (e.type == contend::internal::TimelineEntry::Type::kWait &&
          e.key == run.key) {
        ++waits_on_lock;
        if (e.other_tid == run.holder_tid) ++woken_by_holder;
      }
    }
  }
  for (uint32_t w : run.waiter_tids) EXPECT_EQ(tids.count(w), 1u) << w;
  // Two parked waiters per round; the holder's unlock ends one of them.
  EXPECT_GE(waits_on_lock, 2u * kRounds);
  EXPECT_GE(woken_by_holder, static_cast<size_t>(kRounds));

  std::ostringstream json;
  contend::profile::write_timeline_json(json);
  EXPECT_THAT(json.str(), HasSubstr("\"name\":\"profile_test.hold\""));
  EXPECT_THAT(json.str(), HasSubstr("\"flow_out\":true"));
  EXPECT_THAT(json.str(), HasSubstr("\"ph\":\"i\""));  // contended releases
  const std::string path = profile_testing::TempDir() + "/timeline.json";
  ASSERT_TRUE(profile_testing::WriteFile(path, json.str()));

  const std::string python =
      profile_testing::FindExecutable("/usr/bin/python3", "python3");
  if (python.empty()) GTEST_SKIP() << "missing tool: python3; JSON not checked";
  std::string out;
  EXPECT_EQ(profile_testing::RunCommand(
                python + " -m json.tool " + path + " > /dev/null", &out),
            0)
      << out;
  const std::string checker = profile_testing::TempDir() + "/check_trace.py";
  ASSERT_TRUE(profile_testing::WriteFile(checker, kChecker));
  ASSERT_EQ(
      profile_testing::RunCommand(python + " " + checker + " " + path, &out), 0)
      << out;
  EXPECT_THAT(out, HasSubstr("OK "));
  int slices = 0, flows = 0, threads = 0;
  ASSERT_EQ(std::sscanf(out.c_str(), "OK %d %d %d", &slices, &flows, &threads),
            3)
      << out;
  EXPECT_GE(flows, 10);
  EXPECT_GE(threads, 3);  // holder + 2 waiters
}

// The checker must reject a timeline whose slices overlap partially (so the
// test above can fail).
TEST_F(TimelineTest, CheckerRejectsPartialOverlap) {
  const std::string python =
      profile_testing::FindExecutable("/usr/bin/python3", "python3");
  if (python.empty()) GTEST_SKIP() << "missing tool: python3";
  const std::string path = profile_testing::TempDir() + "/bad.json";
  ASSERT_TRUE(profile_testing::WriteFile(
      path,
      R"({"traceEvents":[{"ph":"M","pid":1,"tid":7,"name":"thread_name","args":{"name":"t"}},)"
      R"({"ph":"X","pid":1,"tid":7,"ts":1.000,"dur":5.000,"name":"a","args":{}},)"
      R"({"ph":"X","pid":1,"tid":7,"ts":3.000,"dur":5.000,"name":"b","args":{}}]})"));
  const std::string checker = profile_testing::TempDir() + "/check_trace.py";
  ASSERT_TRUE(profile_testing::WriteFile(checker, kChecker));
  std::string out;
  EXPECT_NE(
      profile_testing::RunCommand(python + " " + checker + " " + path, &out),
      0);
  EXPECT_THAT(out, HasSubstr("partial overlap"));
}

// Thread names and labels are arbitrary bytes; the JSON must still be valid
// UTF-8 (Perfetto and Python's json reject it otherwise): invalid bytes
// become U+FFFD, valid multi-byte characters stay.
TEST_F(TimelineTest, JsonIsValidUtf8ForAnyThreadNameAndLabel) {
  static int key = 0;
  contend::internal::set_wait_label(&key, "lab\xff\xc3(el caf\xc3\xa9");
  contend::profile::start_timeline({});
  std::thread t([] {
    // 15 bytes + NUL: the kernel's limit for a thread name.
    pthread_setname_np(pthread_self(), "bad\xfe\xed\xa0\x80name");
    const uint32_t tid = contend::internal::current_thread_id();
    contend::internal::profiler_on_wait_end(contend::internal::WaitEvent{
        &key, contend::internal::WaitKind::kMutex,
        contend::internal::ParkStatus::kUnparked, 100, 200, tid, tid});
    // Named until the snapshot below: the name is read from /proc then.
    std::ostringstream json;
    contend::profile::write_timeline_json(json);
    ASSERT_TRUE(profile_testing::WriteFile(
        profile_testing::TempDir() + "/utf8.json", json.str()));
  });
  t.join();
  contend::profile::stop_timeline();
  contend::internal::clear_wait_label(&key);
  const std::string python =
      profile_testing::FindExecutable("/usr/bin/python3", "python3");
  if (python.empty()) GTEST_SKIP() << "missing tool: python3; JSON not checked";
  const std::string script = profile_testing::TempDir() + "/utf8.py";
  ASSERT_TRUE(profile_testing::WriteFile(script, R"PY(
import json, sys
raw = open(sys.argv[1], "rb").read()
doc = json.loads(raw.decode("utf-8", errors="strict"))
names = [e["args"]["name"] for e in doc["traceEvents"]
         if e["ph"] == "M" and e["name"] == "thread_name"]
labels = [e["args"]["label"] for e in doc["traceEvents"]
          if e["ph"] == "X" and "label" in e["args"]]
assert any(n.startswith("bad\ufffd\ufffd\ufffd\ufffdname") for n in names), names
assert labels == ["lab\ufffd\ufffd(el caf\u00e9"], labels
print("OK")
)PY"));
  std::string out;
  EXPECT_EQ(
      profile_testing::RunCommand(python + " " + script + " " +
                                      profile_testing::TempDir() + "/utf8.json",
                                  &out),
      0)
      << out;
  EXPECT_THAT(out, HasSubstr("OK"));
}

TEST_F(TimelineTest, RingsAreBoundedAndCountOverwrites) {
  contend::profile::start_timeline({/*events_per_thread=*/4,
                                    /*max_threads=*/2});
  profile_testing::RunContention(12, std::chrono::microseconds(1000), 2);
  contend::profile::stop_timeline();
  const contend::internal::TimelineSnapshot snap =
      contend::internal::timeline_snapshot();
  EXPECT_LE(snap.threads.size(), 2u);
  size_t kept = 0;
  for (const auto& t : snap.threads) {
    EXPECT_LE(t.entries.size(), 4u);
    kept += t.entries.size();
  }
  EXPECT_GT(kept, 0u);
  // 3 threads wait or release more than 4 times each: some entries were
  // overwritten, and the third thread's events were dropped or reused a
  // ring.
  EXPECT_GT(snap.overwritten + snap.dropped, 0u);
  std::ostringstream json;
  contend::profile::write_timeline_json(json);
  EXPECT_THAT(json.str(), HasSubstr("\"overwritten_events\":"));
}

TEST_F(TimelineTest, ExitedThreadsKeepTheirEvents) {
  contend::profile::start_timeline({});
  uint32_t exited_tid = 0;
  std::thread t([&] {
    exited_tid = contend::internal::current_thread_id();
    contend::internal::profiler_on_wait_end(contend::internal::WaitEvent{
        &exited_tid, contend::internal::WaitKind::kEvent,
        contend::internal::ParkStatus::kTimedOut, 100, 200, exited_tid, 0});
  });
  t.join();
  const contend::internal::TimelineSnapshot snap =
      contend::internal::timeline_snapshot();
  EXPECT_TRUE(snap.running);
  bool found = false;
  for (const auto& th : snap.threads) {
    if (th.tid != exited_tid) continue;
    ASSERT_EQ(th.entries.size(), 1u);
    EXPECT_EQ(th.entries[0].kind, contend::internal::WaitKind::kEvent);
    EXPECT_EQ(th.entries[0].status, contend::internal::ParkStatus::kTimedOut);
    EXPECT_EQ(th.entries[0].other_tid, 0u);
    found = true;
  }
  EXPECT_TRUE(found);
  contend::profile::stop_timeline();
}

}  // namespace
