// Copyright 2026 The contend Authors.
//
// ResourcePool<T> acquire + release against a Go-style buffered-channel pool
// (std::mutex + std::condition_variable + std::deque), pool size 4:
// threads = 4 (uncontended) and 8 (contended). Then HikariCP's spike test
// ("Welcome to the Jungle"): creation takes 150 ms, each use 2 ms, 50
// threads at once, min_idle 5 -- how many resources does the pool end with?
// (HikariCP reports 5, DBCP2 45.)
//
//   bazel run -c opt //bench/pool:resource_pool_benchmark --
//     --benchmark_repetitions=5 --benchmark_report_aggregates_only=true

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "benchmark/benchmark.h"
#include "pool/resource_pool.h"

namespace contend {
namespace {

constexpr int kSize = 4;

struct Res {
  int v = 0;
};

ResourcePool<Res>& resource_pool() {
  static ResourcePool<Res>* const pool = [] {
    ResourcePool<Res>::Options o;
    o.create = [](ResourcePool<Res>::Clock::time_point) -> absl::StatusOr<Res> {
      return Res{};
    };
    o.max_open = kSize;
    auto* p = new ResourcePool<Res>(std::move(o));
    (void)p->fill(kSize);
    return p;
  }();
  return *pool;
}

void BM_ResourcePool_AcquireRelease(benchmark::State& state) {
  ResourcePool<Res>& pool = resource_pool();
  for (auto _ : state) {
    auto l = pool.acquire();
    ++(*l)->v;
  }
}
BENCHMARK(BM_ResourcePool_AcquireRelease)
    ->Threads(kSize)
    ->Threads(2 * kSize)
    ->UseRealTime();

// Go's idiom: a buffered channel of connections, here a deque under a mutex.
class ChannelPool {
 public:
  ChannelPool() {
    for (int i = 0; i < kSize; ++i) items_.push_back(new Res{});
  }
  Res* get() {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return !items_.empty(); });
    Res* r = items_.front();
    items_.pop_front();
    return r;
  }
  void put(Res* r) {
    {
      std::lock_guard<std::mutex> l(mu_);
      items_.push_back(r);
    }
    cv_.notify_one();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Res*> items_;
};

void BM_ChannelPool_AcquireRelease(benchmark::State& state) {
  static ChannelPool* const pool = new ChannelPool();
  for (auto _ : state) {
    Res* r = pool->get();
    ++r->v;
    pool->put(r);
  }
}
BENCHMARK(BM_ChannelPool_AcquireRelease)
    ->Threads(kSize)
    ->Threads(2 * kSize)
    ->UseRealTime();

// HikariCP's spike: one iteration = 50 threads each acquiring once (use
// 2 ms) against a pool with min_idle 5 already filled; creation 150 ms.
void BM_HikariSpike(benchmark::State& state) {
  for (auto _ : state) {
    ResourcePool<Res>::Options o;
    o.create = [](ResourcePool<Res>::Clock::time_point) -> absl::StatusOr<Res> {
      std::this_thread::sleep_for(std::chrono::milliseconds(150));
      return Res{};
    };
    o.max_open = 50;
    o.min_idle = 5;
    ResourcePool<Res> pool(std::move(o));
    (void)pool.fill(5);
    std::vector<std::thread> ts;
    for (int i = 0; i < 50; ++i) {
      ts.emplace_back([&] {
        auto l = pool.acquire();
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      });
    }
    for (auto& t : ts) t.join();
    // Let the in-flight creation (if any) land, as the HikariCP test does.
    while (pool.stats().creating > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    const ResourcePoolStats s = pool.stats();
    state.counters["final_open"] = static_cast<double>(s.open);
    state.counters["creates"] = static_cast<double>(s.creates);
    state.counters["mean_wait_ms"] =
        static_cast<double>(s.wait_duration.count()) / 1e6 /
        static_cast<double>(s.wait_count > 0 ? s.wait_count : 1);
  }
}
BENCHMARK(BM_HikariSpike)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace contend

BENCHMARK_MAIN();
