// Cost of a Parker handoff: uncontended park() with a permit already there,
// unpark() with nobody parked, and a full ping-pong round trip between two
// threads (two futex sleeps and two wakes), against its peer: the same
// ping-pong with std::mutex + std::condition_variable.
//
//   bazel run -c opt //bench/sync/internal:parker_benchmark --
//   --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true   (one line)

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include "benchmark/benchmark.h"
#include "sync/internal/parker.h"

namespace contend::internal {
namespace {

void BM_UnparkThenPark(benchmark::State& state) {
  Parker p;
  for (auto _ : state) {
    p.unpark();
    benchmark::DoNotOptimize(p.park());
  }
}
BENCHMARK(BM_UnparkThenPark);

// One iteration = one round trip: main unparks the partner and parks until
// the partner unparks it back.
void BM_ParkerPingPong(benchmark::State& state) {
  Parker ping;
  Parker pong;
  bool stop = false;  // written before the last pong.unpark(): ordered by it
  std::thread partner([&] {
    for (;;) {
      pong.park();
      if (stop) return;
      ping.unpark();
    }
  });
  for (auto _ : state) {
    pong.unpark();
    ping.park();
  }
  stop = true;
  pong.unpark();
  partner.join();
}
BENCHMARK(BM_ParkerPingPong)->UseRealTime();

void BM_CondVarPingPong(benchmark::State& state) {
  std::mutex mu;
  std::condition_variable cv;
  int64_t turn = 0;  // even: partner's turn is odd; guarded by mu
  bool stop = false;
  std::thread partner([&] {
    std::unique_lock<std::mutex> lock(mu);
    for (;;) {
      cv.wait(lock, [&] { return stop || turn % 2 == 1; });
      if (stop) return;
      ++turn;
      cv.notify_one();
    }
  });
  for (auto _ : state) {
    std::unique_lock<std::mutex> lock(mu);
    ++turn;
    cv.notify_one();
    cv.wait(lock, [&] { return turn % 2 == 0; });
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    stop = true;
  }
  cv.notify_one();
  partner.join();
}
BENCHMARK(BM_CondVarPingPong)->UseRealTime();

}  // namespace
}  // namespace contend::internal
