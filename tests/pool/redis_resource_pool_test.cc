// Copyright 2026 The contend Authors.
//
// ResourcePool against a real Redis: Debian's redis-server, started by the
// test on a free loopback port, and hiredis as the client
// (tests/pool/redis_conn.h, the adapter; pool/ stays generic).

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "pool/resource_pool.h"
#include "tests/pool/redis_conn.h"
#include "tests/pool/redis_server.h"
#include "tests/testing/stress.h"
#include "tests/testing/wait.h"

namespace contend {
namespace {

using testing::RedisConn;
using testing::RedisServer;
using Pool = ResourcePool<RedisConn>;
using Clock = std::chrono::steady_clock;

constexpr int kThreads = 8;
constexpr int kMaxOpen = 4;

#define SKIP_WITHOUT_REDIS()                                            \
  if (RedisServer::binary().empty()) {                                  \
    GTEST_SKIP() << "missing tool: redis-server (Debian redis-server, " \
                    "installed by tools/setup)";                        \
  }

// Clients the server lists, minus the one asking.
int other_clients(RedisConn& monitor) {
  std::string list;
  if (!monitor.string("CLIENT LIST", &list)) return -1;
  return static_cast<int>(std::count(list.begin(), list.end(), '\n')) - 1;
}

void expect_consistent(const ResourcePoolStats& s) {
  EXPECT_EQ(s.open, s.idle + s.in_use);
  EXPECT_LE(s.open + s.creating, s.max_open);
}

TEST(RedisResourcePoolTest, PingIncrCountIsExactAndClientsStayBounded) {
  SKIP_WITHOUT_REDIS();
  RedisServer server;
  std::string error;
  ASSERT_TRUE(server.start(&error)) << error;
  Pool pool(testing::redis_pool_options(server.port(), kMaxOpen));
  auto monitor =
      RedisConn::dial(server.port(), Clock::now() + std::chrono::seconds(5));
  ASSERT_TRUE(monitor.ok()) << monitor.status();

  const int ops = 400 / testing::kScale;
  std::atomic<int> running{kThreads};
  std::atomic<uint64_t> progress{0};
  testing::Watchdog watchdog(progress);
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; ++t) {
    ts.emplace_back([&] {
      for (int i = 0; i < ops; ++i) {
        auto l = pool.acquire_for(std::chrono::seconds(10));
        ASSERT_TRUE(l.ok()) << l.status();
        long long v;
        ASSERT_TRUE((*l)->ping());
        ASSERT_TRUE((*l)->integer("INCR contend:counter", &v));
        progress.fetch_add(1, std::memory_order_relaxed);
      }
      running.fetch_sub(1);
    });
  }
  int max_clients = 0;
  int samples = 0;
  while (running.load() > 0) {
    const int n = other_clients(*monitor);
    ASSERT_GE(n, 0);
    max_clients = std::max(max_clients, n);
    ++samples;
    expect_consistent(pool.stats());
  }
  for (auto& t : ts) t.join();
  long long final_count = 0;
  std::string got;
  ASSERT_TRUE(monitor->string("GET contend:counter", &got));
  final_count = std::stoll(got);
  EXPECT_EQ(final_count, static_cast<long long>(kThreads) * ops);
  EXPECT_LE(max_clients, kMaxOpen)
      << "over " << samples << " CLIENT LIST samples";
  EXPECT_GE(max_clients, 1);
  const ResourcePoolStats s = pool.stats();
  expect_consistent(s);
  EXPECT_LE(s.creates, kMaxOpen);
  EXPECT_EQ(s.in_use, 0);
}

// Kill the server mid-run and restart it on the same port: errors, not
// hangs, during the outage; open == idle + in_use at every read; recovery
// within 1 s of the restart; a broken connection is never handed out again.
TEST(RedisResourcePoolTest, ServerKilledAndRestarted) {
  SKIP_WITHOUT_REDIS();
  RedisServer server;
  std::string error;
  ASSERT_TRUE(server.start(&error)) << error;
  Pool pool(testing::redis_pool_options(server.port(), kMaxOpen));

  std::atomic<bool> stop{false};
  std::atomic<uint64_t> successes{0}, errors{0}, progress{0};
  std::atomic<int64_t> last_success_ns{0};
  std::atomic<int64_t> max_op_ns{0};
  std::atomic<uint64_t> new_server_after_id{UINT64_MAX};
  std::atomic<uint64_t> new_server_incrs{0};
  std::mutex broken_mu;
  std::set<uint64_t> broken;
  auto now_ns = [] {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               Clock::now().time_since_epoch())
        .count();
  };
  testing::Watchdog watchdog(progress);
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; ++t) {
    ts.emplace_back([&] {
      while (!stop.load()) {
        const int64_t t0 = now_ns();
        auto l = pool.acquire_for(std::chrono::milliseconds(300));
        bool ok = false;
        if (l.ok()) {
          const uint64_t id = (*l)->id();
          {
            std::lock_guard<std::mutex> g(broken_mu);
            EXPECT_EQ(broken.count(id), 0u) << "broken connection reused";
          }
          long long v;
          ok = (*l)->integer("INCR contend:counter", &v);
          if (!ok) {
            l->mark_broken();
            std::lock_guard<std::mutex> g(broken_mu);
            broken.insert(id);
          } else if (id > new_server_after_id.load()) {
            new_server_incrs.fetch_add(1);
          }
          l->release();
        }
        const int64_t t1 = now_ns();
        int64_t m = max_op_ns.load();
        while (t1 - t0 > m && !max_op_ns.compare_exchange_weak(m, t1 - t0)) {
        }
        if (ok) {
          successes.fetch_add(1);
          last_success_ns.store(t1);
        } else {
          errors.fetch_add(1);
        }
        progress.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  std::atomic<bool> monitor_stop{false};
  std::atomic<uint64_t> stats_reads{0};
  std::thread monitor([&] {
    while (!monitor_stop.load()) {
      expect_consistent(pool.stats());
      stats_reads.fetch_add(1);
      std::this_thread::yield();
    }
  });

  ASSERT_TRUE(testing::wait_until([&] { return successes.load() >= 200; },
                                  "200 INCRs before the fault"));
  server.kill();
  const uint64_t errors_at_kill = errors.load();
  ASSERT_TRUE(testing::wait_until(
      [&] { return errors.load() >= errors_at_kill + 2 * kThreads; },
      "callers get errors during the outage"));
  const int64_t outage_max_op_ns = max_op_ns.load();
  new_server_after_id.store(RedisConn::last_id());
  ASSERT_TRUE(server.start(&error)) << error;
  const int64_t restart_ns = now_ns();
  ASSERT_TRUE(
      testing::wait_until([&] { return last_success_ns.load() > restart_ns; },
                          "a success after the restart"));
  const auto recovery =
      std::chrono::nanoseconds(last_success_ns.load() - restart_ns);
  const uint64_t at_recovery = successes.load();
  ASSERT_TRUE(
      testing::wait_until([&] { return successes.load() >= at_recovery + 200; },
                          "200 INCRs after the recovery"));
  stop.store(true);
  for (auto& t : ts) t.join();
  monitor_stop.store(true);
  monitor.join();

  EXPECT_LE(recovery, std::chrono::seconds(1) * testing::kSanitizerSlowdown)
      << "recovered " << std::chrono::duration<double>(recovery).count()
      << " s after the restart";
  // acquire_for(300 ms) + connect (500 ms) + command timeout (500 ms) bound
  // every operation: an error, never a hang.
  EXPECT_LT(outage_max_op_ns,
            std::chrono::nanoseconds(std::chrono::seconds(3)).count() *
                testing::kSanitizerSlowdown);
  const ResourcePoolStats s = pool.stats();
  expect_consistent(s);
  EXPECT_GT(s.closed_broken, 0);
  EXPECT_GT(s.create_failures + s.acquire_timeouts, 0);
  EXPECT_GT(stats_reads.load(), 0u);
  // The restarted server (no persistence) counted exactly the INCRs that
  // succeeded on connections made after the restart.
  auto direct =
      RedisConn::dial(server.port(), Clock::now() + std::chrono::seconds(5));
  ASSERT_TRUE(direct.ok());
  std::string got;
  ASSERT_TRUE(direct->string("GET contend:counter", &got));
  EXPECT_EQ(std::stoull(got), new_server_incrs.load());
  std::printf(
      "outage: %llu errors, max op %.3f s; recovery %.3f s after restart; "
      "closed_broken %lld, create_failures %lld\n",
      static_cast<unsigned long long>(errors.load() - errors_at_kill),
      static_cast<double>(outage_max_op_ns) / 1e9,
      std::chrono::duration<double>(recovery).count(),
      static_cast<long long>(s.closed_broken),
      static_cast<long long>(s.create_failures));
}

}  // namespace
}  // namespace contend
