// Copyright 2026 The contend Authors.
//
// ErrGroup fan-out: 1,000 trivial tasks with limit 8, per
// iteration, so time/iteration / 1000 = cost per task.
//
//   bazel run -c opt //bench/sync:errgroup_benchmark --
//   --benchmark_repetitions=5
//
//  FanOut1000/ErrGroup/thread_per_task  the default executor: a detached
//                                       std::thread per task; go() blocks at
//                                       the limit (ParkingLot, kErrGroup).
//  FanOut1000/ErrGroup/pool8            the same group on a fixed pool of 8
//                                       workers through the Executor seam
//                                       (a mutex + condvar queue, written
//                                       here): what plugging in a pool buys.
//  FanOut1000/std::thread_batches_of_8  the hand-written peer: spawn 8
//                                       std::threads, join them, repeat 125
//                                       times (no error handling at all).

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "benchmark/benchmark.h"
#include "sync/errgroup.h"

namespace contend::bench {
namespace {

constexpr int kTasks = 1000;
constexpr int kLimit = 8;

class FixedPool final : public contend::ErrGroup::Executor {
 public:
  explicit FixedPool(int workers) {
    for (int i = 0; i < workers; ++i) threads_.emplace_back([this] { run(); });
  }
  ~FixedPool() {
    {
      std::lock_guard<std::mutex> l(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }
  void execute(absl::AnyInvocable<void() &&> task) override {
    {
      std::lock_guard<std::mutex> l(mu_);
      queue_.push_back(std::move(task));
    }
    cv_.notify_one();
  }

 private:
  void run() {
    for (;;) {
      absl::AnyInvocable<void() &&> task;
      {
        std::unique_lock<std::mutex> l(mu_);
        cv_.wait(l, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;
        task = std::move(queue_.front());
        queue_.pop_front();
      }
      std::move(task)();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<absl::AnyInvocable<void() &&>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

void fan_out(contend::ErrGroup& g, std::atomic<int>& ran) {
  g.set_limit(kLimit);
  for (int i = 0; i < kTasks; ++i) {
    g.go([&ran] {
      ran.fetch_add(1, std::memory_order_relaxed);
      return absl::OkStatus();
    });
  }
  if (!g.wait().ok()) std::abort();
}

void BM_ThreadPerTask(benchmark::State& state) {
  std::atomic<int> ran{0};
  for (auto _ : state) {
    contend::ErrGroup g;
    fan_out(g, ran);
  }
  state.counters["ns_per_task"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * kTasks,
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_ThreadPerTask)
    ->Name("FanOut1000/ErrGroup/thread_per_task")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void BM_Pool8(benchmark::State& state) {
  FixedPool pool(kLimit);
  std::atomic<int> ran{0};
  for (auto _ : state) {
    contend::ErrGroup g(pool);
    fan_out(g, ran);
  }
  state.counters["ns_per_task"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * kTasks,
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_Pool8)
    ->Name("FanOut1000/ErrGroup/pool8")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void BM_StdThreadBatches(benchmark::State& state) {
  std::atomic<int> ran{0};
  for (auto _ : state) {
    for (int batch = 0; batch < kTasks / kLimit; ++batch) {
      std::thread threads[kLimit];
      for (auto& t : threads) {
        t = std::thread(
            [&ran] { ran.fetch_add(1, std::memory_order_relaxed); });
      }
      for (auto& t : threads) t.join();
    }
  }
  state.counters["ns_per_task"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * kTasks,
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_StdThreadBatches)
    ->Name("FanOut1000/std::thread_batches_of_8")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace contend::bench

BENCHMARK_MAIN();
