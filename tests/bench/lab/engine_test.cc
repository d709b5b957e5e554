// Copyright 2026 The contend Authors.

#include "bench/lab/engine.h"

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>

#include "bench/lab/json.h"
#include "bench/lab/lock_workload.h"
#include "bench/lab/registry.h"
#include "gtest/gtest.h"
#include "sync/internal/clock.h"

namespace contend::lab {
namespace {

#if defined(CONTEND_TSAN)
constexpr int64_t kOps = 2'000;  // TSan is 5-15x slower
#else
constexpr int64_t kOps = 20'000;
#endif

void expect_invariants(const Workload& w, const Result& r) {
  ASSERT_EQ(r.per_thread.size(), static_cast<size_t>(w.threads));
  int64_t ops = 0, reads = 0, writes = 0;
  for (const ThreadResult& t : r.per_thread) {
    EXPECT_EQ(t.ops, t.reads + t.writes);
    ops += t.ops;
    reads += t.reads;
    writes += t.writes;
  }
  EXPECT_EQ(r.total_ops, ops);
  EXPECT_EQ(r.reads, reads);
  EXPECT_EQ(r.writes, writes);
  EXPECT_TRUE(r.exclusion_ok) << "lost update under " << w.primitive;
  // Fairness is min/max of the per-thread op rates, taken within each role
  // when threads have dedicated roles: recompute it from per_thread.
  auto rate_ratio = [&](int begin, int end) {
    double lo = 0, hi = 0;
    for (int i = begin; i < end; ++i) {
      const ThreadResult& t = r.per_thread[static_cast<size_t>(i)];
      const double rate =
          static_cast<double>(t.ops) /
          static_cast<double>(std::max<int64_t>(t.elapsed_ns, 1));
      lo = i == begin ? rate : std::min(lo, rate);
      hi = i == begin ? rate : std::max(hi, rate);
    }
    return begin == end ? 1.0 : hi <= 0 ? 0.0 : lo / hi;
  };
  const double expected_fairness =
      w.writers >= 0
          ? std::min(rate_ratio(0, w.writers), rate_ratio(w.writers, w.threads))
          : rate_ratio(0, w.threads);
  EXPECT_DOUBLE_EQ(r.fairness, expected_fairness);
  for (const LatencySummary* s :
       {&r.latency, &r.read_latency, &r.write_latency}) {
    EXPECT_LE(s->min_ns, s->p50_ns);
    EXPECT_LE(s->p50_ns, s->p90_ns);
    EXPECT_LE(s->p90_ns, s->p99_ns);
    EXPECT_LE(s->p99_ns, s->p999_ns);
    EXPECT_LE(s->p999_ns, s->max_ns);
  }
  EXPECT_EQ(r.latency.count, r.read_latency.count + r.write_latency.count);
}

TEST(EngineTest, EveryPrimitiveKeepsTheInvariants) {
  const std::vector<Primitive> prims = primitives();
  ASSERT_GE(prims.size(), 5u);
  for (const Primitive& p : prims) {
    SCOPED_TRACE(p.name);
    Workload w;
    w.primitive = p.name;
    w.threads = 3;
    w.read_share = 0.7;
    w.critical_ns = 20;
    w.outside_ns = 20;
    w.ops = kOps;
    w.latency_sample = 1;
    absl::StatusOr<Result> r = run(w);
    ASSERT_TRUE(r.ok()) << r.status();
    expect_invariants(w, *r);
    EXPECT_EQ(r->total_ops, kOps);
    EXPECT_EQ(r->latency.count, static_cast<uint64_t>(kOps));
    EXPECT_EQ(r->display_name, p.display_name);
    EXPECT_GT(r->ops_per_sec, 0);
  }
}

TEST(EngineTest, DedicatedRolesAndFixedShares) {
  Workload w;
  w.primitive = "rwmutex";
  w.threads = 5;
  w.writers = 1;
  w.critical_ns = 0;
  w.outside_ns = 0;
  w.ops = 1003;
  absl::StatusOr<Result> r = run(w);
  ASSERT_TRUE(r.ok()) << r.status();
  expect_invariants(w, *r);
  EXPECT_EQ(r->per_thread[0].reads, 0);
  for (int i = 1; i < 5; ++i) EXPECT_EQ(r->per_thread[i].writes, 0);
  // 1003 = 5 * 200 + 3: the first three threads do one op more.
  EXPECT_EQ(r->per_thread[0].ops, 201);
  EXPECT_EQ(r->per_thread[4].ops, 200);
}

TEST(EngineTest, DurationModeRunsForTheDuration) {
  Workload w;
  w.primitive = "mutex";
  w.threads = 2;
  w.duration_ns = 50'000'000;
  const int64_t t0 = internal::monotonic_now_ns();
  absl::StatusOr<Result> r = run(w);
  const int64_t took = internal::monotonic_now_ns() - t0;
  ASSERT_TRUE(r.ok()) << r.status();
  expect_invariants(w, *r);
  EXPECT_GE(r->elapsed_ns, w.duration_ns);
  EXPECT_LT(took, 20 * w.duration_ns);  // generous: 2 noisy cores
  EXPECT_GT(r->total_ops, 0);
}

TEST(EngineTest, CancelStopsARunPromptly) {
  Workload w;
  w.primitive = "mutex";
  w.threads = 2;
  w.duration_ns = 600'000'000'000;  // 10 minutes unless cancelled
  std::atomic<bool> cancel{false};
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    // Release: pairs with the acquire load in the harness (RunControl).
    cancel.store(true, std::memory_order_release);
  });
  const int64_t t0 = internal::monotonic_now_ns();
  absl::StatusOr<Result> r = run(w, RunControl{&cancel});
  const int64_t took = internal::monotonic_now_ns() - t0;
  canceller.join();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->cancelled);
  EXPECT_LT(took, 10'000'000'000);
  expect_invariants(w, *r);
}

// Producer/consumer: one producer, two consumers. exclusion_ok is the
// queue's delivery check (bench/lab/chan_primitives.cc): the multiset of items
// received, plus those left in the buffer, equals the multiset sent, so a lost
// or duplicated item fails it. The consumers' shares (2 x 200) exceed the
// producer's (200), so the run also shows that consumers stop waiting once
// the producer has finished. (Small: at capacity 0 or 1 every item costs a
// context switch, ~0.5 ms on the loaded 2-core machine.)
TEST(EngineTest, QueuesDeliverEveryItemExactlyOnce) {
  for (const char* primitive : {"chan", "mutex_queue"}) {
    for (int64_t capacity : {0, 1, 64}) {
      SCOPED_TRACE(std::string(primitive) + " cap " + std::to_string(capacity));
      Workload w;
      w.primitive = primitive;
      w.threads = 3;
      w.writers = 1;
      w.keys = capacity;
      w.critical_ns = 20;
      w.outside_ns = 20;
      w.ops = 600;
      absl::StatusOr<Result> r = run(w);
      ASSERT_TRUE(r.ok()) << r.status();
      expect_invariants(w, *r);
      EXPECT_EQ(r->writes, r->per_thread[0].ops);
      EXPECT_FALSE(r->cancelled);
      // More producers than consumers, by duration: producers give up when
      // the buffer stays full past the end.
      w.writers = 2;
      w.ops = 0;
      w.duration_ns = 20'000'000;
      r = run(w);
      ASSERT_TRUE(r.ok()) << r.status();
      expect_invariants(w, *r);
    }
  }
}

TEST(EngineTest, RejectsBadWorkloads) {
  Workload w;
  w.primitive = "no_such_lock";
  absl::StatusOr<Result> r = run(w);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("rwmutex"), std::string::npos)
      << "the message lists the known primitives";

  w.primitive = "mutex";
  w.threads = 0;
  EXPECT_EQ(run(w).status().code(), absl::StatusCode::kInvalidArgument);
  w.threads = 2;
  w.read_share = 1.5;
  EXPECT_EQ(run(w).status().code(), absl::StatusCode::kInvalidArgument);
  w.read_share = 0.5;
  w.writers = 3;
  EXPECT_EQ(run(w).status().code(), absl::StatusCode::kInvalidArgument);
  w.writers = -1;
  w.duration_ns = 0;
  EXPECT_EQ(run(w).status().code(), absl::StatusCode::kInvalidArgument);
}

#if !defined(CONTEND_TSAN)
// A "lock" that excludes nothing: the exclusion check must catch it. (Not
// under TSan, which would rightly report the race itself.)
struct NoLock {
  void lock() {}
  void unlock() {}
};

TEST(EngineTest, ExclusionCheckCatchesABrokenLock) {
  Registry::global().add(Primitive{"test_no_lock", "NoLock", "excludes nothing",
                                   false, &run_lock_workload<NoLock>});
  ASSERT_TRUE(Registry::global().find("test_no_lock").has_value());
  Workload w;
  w.primitive = "test_no_lock";
  // Each section's read-modify-write of the counter spans its whole 2 us of
  // critical work and the threads do nothing else, so any two sections that
  // overlap (on two CPUs, or on one when a preemption lands mid-section, which
  // is nearly every preemption) lose an update: not a matter of luck.
  w.threads = 4;
  w.critical_ns = 2000;
  w.outside_ns = 0;
  w.ops = 100'000;
  absl::StatusOr<Result> r = run(w);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->exclusion_ok)
      << "4 threads x 25k unprotected 2 us sections lost no update";
}
#endif

TEST(RegistryTest, NamesAreUniqueAndSorted) {
  EXPECT_FALSE(Registry::global().add(
      Primitive{"mutex", "dup", "", false, &run_lock_workload<std::mutex>}))
      << "duplicate names are refused";
  EXPECT_FALSE(Registry::global().add(Primitive{"", "x", "", false, nullptr}));
  const std::vector<Primitive> all = Registry::global().list();
  for (size_t i = 1; i < all.size(); ++i)
    EXPECT_LT(all[i - 1].name, all[i].name);
  ASSERT_TRUE(Registry::global().find("rwmutex").has_value());
  EXPECT_TRUE(Registry::global().find("rwmutex")->has_shared_mode);
  EXPECT_FALSE(Registry::global().find("mutex")->has_shared_mode);
  EXPECT_FALSE(Registry::global().find("nope").has_value());
}

TEST(JsonTest, ResultHasEveryField) {
  Workload w;
  w.primitive = "std_mutex";
  w.threads = 2;
  w.ops = 100;
  absl::StatusOr<Result> r = run(w);
  ASSERT_TRUE(r.ok()) << r.status();
  const std::string j = to_json(*r);
  EXPECT_EQ(j.front(), '{');
  EXPECT_EQ(j.back(), '}');
  EXPECT_EQ(j.find('\n'), std::string::npos);
  for (const char* key :
       {"\"primitive\":\"std_mutex\"", "\"display_name\":\"std::mutex\"",
        "\"total_ops\":100", "\"per_thread\":[{", "\"latency\":{",
        "\"p999_ns\":", "\"exclusion_ok\":true", "\"fairness\":"}) {
    EXPECT_NE(j.find(key), std::string::npos) << key << " in " << j;
  }
}

}  // namespace
}  // namespace contend::lab
