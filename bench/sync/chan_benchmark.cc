// Copyright 2026 The contend Authors.
//
// contend::Chan against the bounded queues C++ programs use instead, in one
// binary; Go's channels run the same workloads in bench/sync/go_chan (both
// in one run: bench/sync/chan_vs_go):
//
//   bazel run -c opt //bench/sync:chan_benchmark -- --benchmark_repetitions=5
//     --benchmark_report_aggregates_only=true
//
//  Buffered64/<queue>/threads:T  capacity 64, T/2 producers and T/2
//                                consumers; time per iteration = per message
//                                of one producer (real time)
//  Unbuffered/contend::Chan      capacity 0, 1 -> 1 (the C++ peers have no
//                                rendezvous form; Go only)
//  PingPong/<queue>              round trip: A sends on q1 and waits on q2,
//                                B echoes (capacity 1 queues; Chan also 0)
//  Select/K/contend::Chan        1 producer round-robins over K channels of
//                                capacity 64, 1 consumer selects over all K
//
// Peers: std::mutex + 2 std::condition_variable + std::deque (the textbook
// bounded queue); tbb::concurrent_bounded_queue (set_capacity); moodycamel
// BlockingConcurrentQueue, which is unbounded, bounded here by a
// moodycamel::LightweightSemaphore of free slots (a producer waits on it
// before enqueueing; the consumer signals it after dequeueing).

#include <concurrentqueue/blockingconcurrentqueue.h>
#include <concurrentqueue/lightweightsemaphore.h>
#include <tbb/concurrent_queue.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>

#include "benchmark/benchmark.h"
#include "sync/chan.h"

namespace contend::bench {
namespace {

constexpr size_t kCapacity = 64;

class StdQueue {
 public:
  explicit StdQueue(size_t capacity) : capacity_(capacity) {}
  void push(int64_t v) {
    std::unique_lock<std::mutex> lock(mu_);
    not_full_.wait(lock, [&] { return q_.size() < capacity_; });
    q_.push_back(v);
    lock.unlock();
    not_empty_.notify_one();
  }
  int64_t pop() {
    std::unique_lock<std::mutex> lock(mu_);
    not_empty_.wait(lock, [&] { return !q_.empty(); });
    const int64_t v = q_.front();
    q_.pop_front();
    lock.unlock();
    not_full_.notify_one();
    return v;
  }

 private:
  std::mutex mu_;
  std::condition_variable not_full_;
  std::condition_variable not_empty_;
  std::deque<int64_t> q_;
  const size_t capacity_;
};

class TbbQueue {
 public:
  explicit TbbQueue(size_t capacity) {
    q_.set_capacity(static_cast<std::ptrdiff_t>(capacity));
  }
  void push(int64_t v) { q_.push(v); }
  int64_t pop() {
    int64_t v;
    q_.pop(v);
    return v;
  }

 private:
  tbb::concurrent_bounded_queue<int64_t> q_;
};

class MoodycamelQueue {
 public:
  explicit MoodycamelQueue(size_t capacity)
      : free_(
            static_cast<moodycamel::LightweightSemaphore::ssize_t>(capacity)) {}
  void push(int64_t v) {
    free_.wait();
    q_.enqueue(v);
  }
  int64_t pop() {
    int64_t v;
    q_.wait_dequeue(v);
    free_.signal();
    return v;
  }

 private:
  moodycamel::BlockingConcurrentQueue<int64_t> q_;
  moodycamel::LightweightSemaphore free_;
};

class ChanQueue {
 public:
  explicit ChanQueue(size_t capacity) : ch_(capacity) {}
  void push(int64_t v) { ch_.send(std::move(v)); }
  int64_t pop() { return *ch_.recv(); }

 private:
  Chan<int64_t> ch_;
};

template <class Q>
void BM_Buffered(benchmark::State& state) {
  static Q* q = nullptr;
  if (state.thread_index() == 0) q = new Q(kCapacity);
  const bool producer = state.thread_index() % 2 == 0;
  int64_t sum = 0;
  for (auto _ : state) {
    if (producer) {
      q->push(1);
    } else {
      sum += q->pop();
    }
  }
  benchmark::DoNotOptimize(sum);
  // Every thread ran the same count, so the queue is empty again, and the
  // framework's end-of-loop barrier has let every thread out of the loop.
  if (state.thread_index() == 0) delete q;
}

#define CONTEND_BUFFERED(Q, NAME)    \
  BENCHMARK_TEMPLATE(BM_Buffered, Q) \
      ->Name("Buffered64/" NAME)     \
      ->Threads(2)                   \
      ->Threads(4)                   \
      ->UseRealTime()
CONTEND_BUFFERED(ChanQueue, "contend::Chan");
CONTEND_BUFFERED(StdQueue, "std::mutex+condvar+deque");
CONTEND_BUFFERED(TbbQueue, "tbb::concurrent_bounded_queue");
CONTEND_BUFFERED(MoodycamelQueue, "moodycamel::BlockingConcurrentQueue+sem");

void BM_Unbuffered(benchmark::State& state) {
  static Chan<int64_t>* ch = nullptr;
  if (state.thread_index() == 0) ch = new Chan<int64_t>(0);
  int64_t sum = 0;
  for (auto _ : state) {
    if (state.thread_index() == 0) {
      ch->send(1);
    } else {
      sum += *ch->recv();
    }
  }
  benchmark::DoNotOptimize(sum);
  if (state.thread_index() == 0) delete ch;
}
BENCHMARK(BM_Unbuffered)
    ->Name("Unbuffered/contend::Chan")
    ->Threads(2)
    ->UseRealTime();

// Capacity 1 for every queue; Chan also unbuffered (0), as Go's benchmark.
template <class Q, size_t kCap = 1>
void BM_PingPong(benchmark::State& state) {
  static Q* ping = nullptr;
  static Q* pong = nullptr;
  if (state.thread_index() == 0) {
    ping = new Q(kCap);
    pong = new Q(kCap);
  }
  for (auto _ : state) {
    if (state.thread_index() == 0) {
      ping->push(1);
      benchmark::DoNotOptimize(pong->pop());
    } else {
      pong->push(ping->pop());
    }
  }
  if (state.thread_index() == 0) {
    delete ping;
    delete pong;
  }
}
#define CONTEND_PINGPONG(Q, NAME)    \
  BENCHMARK_TEMPLATE(BM_PingPong, Q) \
      ->Name("PingPong/" NAME)       \
      ->Threads(2)                   \
      ->UseRealTime()
CONTEND_PINGPONG(ChanQueue, "contend::Chan");
BENCHMARK_TEMPLATE(BM_PingPong, ChanQueue, 0)
    ->Name("PingPong/contend::Chan(unbuffered)")
    ->Threads(2)
    ->UseRealTime();
CONTEND_PINGPONG(StdQueue, "std::mutex+condvar+deque");
CONTEND_PINGPONG(TbbQueue, "tbb::concurrent_bounded_queue");
CONTEND_PINGPONG(MoodycamelQueue, "moodycamel::BlockingConcurrentQueue+sem");

template <size_t K>
void BM_Select(benchmark::State& state) {
  static std::unique_ptr<Chan<int64_t>>* chans = nullptr;
  if (state.thread_index() == 0) {
    chans = new std::unique_ptr<Chan<int64_t>>[K];
    for (size_t i = 0; i < K; ++i) {
      chans[i] = std::make_unique<Chan<int64_t>>(kCapacity);
    }
  }
  size_t next = 0;
  int64_t sum = 0;
  auto add = [&sum](std::optional<int64_t> v) { sum += *v; };
  for (auto _ : state) {
    if (state.thread_index() == 0) {
      chans[next]->send(1);
      next = next + 1 == K ? 0 : next + 1;
    } else if constexpr (K == 2) {
      select(recv(*chans[0], add), recv(*chans[1], add));
    } else {
      select(recv(*chans[0], add), recv(*chans[1], add), recv(*chans[2], add),
             recv(*chans[3], add));
    }
  }
  benchmark::DoNotOptimize(sum);
  if (state.thread_index() == 0) delete[] chans;
}
BENCHMARK_TEMPLATE(BM_Select, 2)
    ->Name("Select/2/contend::Chan")
    ->Threads(2)
    ->UseRealTime();
BENCHMARK_TEMPLATE(BM_Select, 4)
    ->Name("Select/4/contend::Chan")
    ->Threads(2)
    ->UseRealTime();

}  // namespace
}  // namespace contend::bench

BENCHMARK_MAIN();
