// Copyright 2026 The contend Authors.
//
// What profiling costs:
//  - Contended contend::Mutex throughput (W2 of bench/sync: each thread
//    loops {lock; ~50 ns of work; unlock; ~50 ns outside}, one dependent
//    chain) with profiling off, mutex fraction 1000, the article's production
//    setting (fraction 1000 + block rate 1 ms), and everything at 1.
//    Target: fraction 1000 within 3% of off. std::mutex as the peer.
//  - Uncontended lock/unlock with profiling off vs on (target: no change;
//    the fast path never reaches the ParkingLot).
//  - Export time for 10,000 distinct stacks: first export (symbolizes every
//    new PC) and later exports (symbol cache warm).
//
// Run (numbers in bench/profile/RESULTS.md):
//   bazel run -c opt //bench/profile:profile_benchmark --
//     --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
// (one command line).

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/base/thread_annotations.h"
#include "bench/sync/busy_work.h"
#include "benchmark/benchmark.h"
#include "profile/hooks.h"
#include "profile/profile.h"
#include "sync/cond.h"
#include "sync/internal/cache_padded.h"
#include "sync/internal/clock.h"
#include "sync/internal/parking_lot.h"
#include "sync/mutex.h"

namespace contend::bench {
namespace {

using internal::CachePadded;
using internal::monotonic_now_ns;

// Profiling settings compared by the benchmarks.
enum Mode : int64_t {
  kOff = 0,
  kFraction1000 = 1,  // set_mutex_profile_fraction(1000)
  kProduction = 2,    // fraction 1000 + block rate 1 ms (sync — Senior)
  kEverything = 3,    // fraction 1 + block rate 1 ns: every event
};

const char* mode_name(int64_t mode) {
  switch (mode) {
    case kOff:
      return "profiling off";
    case kFraction1000:
      return "mutex fraction 1000";
    case kProduction:
      return "fraction 1000 + block 1ms";
    case kEverything:
      return "fraction 1 + block 1ns";
  }
  return "?";
}

void apply_mode(int64_t mode) {
  switch (mode) {
    case kOff:
      profile::set_mutex_profile_fraction(0);
      profile::set_block_profile_rate(0);
      break;
    case kFraction1000:
      profile::set_mutex_profile_fraction(1000);
      profile::set_block_profile_rate(0);
      break;
    case kProduction:
      profile::set_mutex_profile_fraction(1000);
      profile::set_block_profile_rate(1'000'000);
      break;
    case kEverything:
      profile::set_mutex_profile_fraction(1);
      profile::set_block_profile_rate(1);
      break;
  }
  profile::reset();
}

// --- Contended throughput (W2) ---------------------------------------------

constexpr int64_t kRunNs = 150'000'000;  // wall time per measurement

struct ContendedResult {
  double ns_per_op = 0;
  uint64_t ops = 0;
};

template <class Lock>
ContendedResult run_contended(int threads, double work_ns) {
  struct Shared {
    Lock lock;
    alignas(internal::kCacheLineSize) uint64_t data = 1;  // guarded by lock
  };
  auto shared = std::make_unique<CachePadded<Shared>>();
  CachePadded<std::atomic<bool>> go{false};
  CachePadded<std::atomic<bool>> stop{false};
  std::vector<CachePadded<uint64_t>> ops(static_cast<size_t>(threads));
  const uint64_t in_steps = busy_steps_for_ns(work_ns);
  const uint64_t out_steps = busy_steps_for_ns(work_ns);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      Shared& s = **shared;
      uint64_t x = static_cast<uint64_t>(t) + 1;
      uint64_t n = 0;
      // Acquire: pairs with the release store of `go` below.
      while (!go->load(std::memory_order_acquire)) {
      }
      // Relaxed: a stop flag; the join below orders the results.
      while (!stop->load(std::memory_order_relaxed)) {
        s.lock.lock();
        x = busy_chain(x + s.data, in_steps);
        s.data = x;
        s.lock.unlock();
        x = busy_chain(x, out_steps);
        ++n;
      }
      *ops[static_cast<size_t>(t)] = n;
      benchmark::DoNotOptimize(x);
    });
  }
  const int64_t t0 = monotonic_now_ns();
  // Release: pairs with the workers' acquire loads.
  go->store(true, std::memory_order_release);
  std::this_thread::sleep_for(std::chrono::nanoseconds(kRunNs));
  stop->store(true, std::memory_order_relaxed);  // Relaxed: see above.
  const int64_t t1 = monotonic_now_ns();
  for (auto& w : workers) w.join();
  ContendedResult r;
  for (auto& n : ops) r.ops += *n;
  r.ns_per_op = static_cast<double>(t1 - t0) / static_cast<double>(r.ops);
  return r;
}

// Recorded events (unscaled: only meaningful at fraction 1 / rate 1).
double recorded_events(internal::ProfileType type) {
  double n = 0;
  for (const auto& r : internal::profiler_snapshot(type).records) n += r.count;
  return n;
}

struct ContendMutex {
  contend::Mutex mu;
  void lock() ABSL_NO_THREAD_SAFETY_ANALYSIS { mu.lock(); }
  void unlock() ABSL_NO_THREAD_SAFETY_ANALYSIS { mu.unlock(); }
};
struct StdMutex {
  std::mutex mu;
  void lock() { mu.lock(); }
  void unlock() { mu.unlock(); }
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// Ratios in one run: the four profiling modes (and std::mutex as the peer)
// are measured in interleaved rounds -- mode order rotating each round -- so
// that load drift on a shared machine hits every mode alike; the counters
// are per-mode medians over kRounds runs of kRunNs each.
// Args: {threads, ns of work inside = ns outside}. 50 ns is W2 of bench/sync
// (contend::Mutex mostly spins there and rarely parks); 20 us makes waiters
// park, so the hooks run on a large share of operations.
constexpr int kRounds = 11;
constexpr int kModes = 5;  // kOff..kEverything, then std::mutex

// Runs `run(mode)` for every mode in interleaved rounds and reports the
// per-mode medians, the loss vs off, and (from the fraction-1 runs) how often
// the slow paths ran per 1000 operations.
template <class Run>
void report_modes(benchmark::State& state, Run run) {
  std::vector<double> ns[kModes];
  double parks_per_kop = 0;
  double releases_per_kop = 0;
  for (auto _ : state) {
    for (int round = 0; round < kRounds; ++round) {
      for (int k = 0; k < kModes; ++k) {
        const int m = (k + round) % kModes;
        apply_mode(m == kModes - 1 ? int64_t{kOff} : int64_t{m});
        const ContendedResult r = run(m);
        if (m == kEverything) {
          releases_per_kop += 1000 *
                              recorded_events(internal::ProfileType::kMutex) /
                              static_cast<double>(r.ops) / kRounds;
          parks_per_kop += 1000 *
                           recorded_events(internal::ProfileType::kBlock) /
                           static_cast<double>(r.ops) / kRounds;
        }
        ns[m].push_back(r.ns_per_op);
      }
    }
    apply_mode(kOff);
    state.SetIterationTime(median(ns[kOff]) * 1e-9);
  }
  const double off = median(ns[kOff]);
  state.counters["off_ns"] = off;
  state.counters["f1000_ns"] = median(ns[kFraction1000]);
  state.counters["prod_ns"] = median(ns[kProduction]);
  state.counters["all_ns"] = median(ns[kEverything]);
  state.counters["std_ns"] = median(ns[kModes - 1]);
  // Throughput loss vs off, in percent (negative: noise in our favour).
  auto loss = [&](int m) { return 100 * (1 - off / median(ns[m])); };
  state.counters["f1000_loss%"] = loss(kFraction1000);
  state.counters["prod_loss%"] = loss(kProduction);
  state.counters["all_loss%"] = loss(kEverything);
  state.counters["parks/kop"] = parks_per_kop;
  state.counters["releases/kop"] = releases_per_kop;
}

void BM_ContendedModes(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  const double work_ns = static_cast<double>(state.range(1));
  report_modes(state, [&](int m) {
    return m == kModes - 1 ? run_contended<StdMutex>(threads, work_ns)
                           : run_contended<ContendMutex>(threads, work_ns);
  });
}
BENCHMARK(BM_ContendedModes)
    ->Args({2, 50})
    ->Args({4, 50})
    ->Args({2, 20000})
    ->Args({4, 20000})
    ->UseManualTime()
    ->Iterations(1)
    ->Repetitions(1)
    ->Unit(benchmark::kNanosecond);

// --- Park-heavy: Cond ping-pong -------------------------------------------

// Two threads take turns through a Mutex + Cond: every operation is one
// signal and one park/unpark, so the ParkingLot (and with profiling on, the
// hooks) runs on every operation -- the worst case for profiling overhead.
// Peer: std::mutex + std::condition_variable.
template <class Mu, class Cv, class Guard>
ContendedResult run_ping_pong() {
  Mu mu;
  Cv cv;
  int turn = 0;       // guarded by mu
  bool stop = false;  // guarded by mu
  uint64_t ops = 0;   // guarded by mu
  auto player = [&](int me) {
    Guard g(mu);
    for (;;) {
      while (turn != me && !stop) cv.wait(g);
      if (stop) break;
      turn = 1 - me;
      ++ops;
      cv.notify();
    }
  };
  const int64_t t0 = monotonic_now_ns();
  std::thread a(player, 0);
  std::thread b(player, 1);
  std::this_thread::sleep_for(std::chrono::nanoseconds(kRunNs));
  {
    Guard g(mu);
    stop = true;
    cv.notify_all();
  }
  a.join();
  b.join();
  const int64_t t1 = monotonic_now_ns();
  ContendedResult r;
  r.ops = ops;
  r.ns_per_op = static_cast<double>(t1 - t0) / static_cast<double>(ops);
  return r;
}

struct ContendGuard {
  explicit ContendGuard(contend::Mutex& m) ABSL_NO_THREAD_SAFETY_ANALYSIS
      : mu(m) {
    mu.lock();
  }
  ~ContendGuard() ABSL_NO_THREAD_SAFETY_ANALYSIS { mu.unlock(); }
  contend::Mutex& mu;
};
struct ContendCv {
  contend::Cond cond;
  void wait(ContendGuard& g) ABSL_NO_THREAD_SAFETY_ANALYSIS { cond.wait(g.mu); }
  void notify() { cond.signal(); }
  void notify_all() { cond.broadcast(); }
};
struct StdCv {
  std::condition_variable cv;
  void wait(std::unique_lock<std::mutex>& g) { cv.wait(g); }
  void notify() { cv.notify_one(); }
  void notify_all() { cv.notify_all(); }
};

void BM_PingPongModes(benchmark::State& state) {
  report_modes(state, [](int m) {
    return m == kModes - 1
               ? run_ping_pong<std::mutex, StdCv,
                               std::unique_lock<std::mutex>>()
               : run_ping_pong<contend::Mutex, ContendCv, ContendGuard>();
  });
}
BENCHMARK(BM_PingPongModes)
    ->UseManualTime()
    ->Iterations(1)
    ->Repetitions(1)
    ->Unit(benchmark::kNanosecond);

// The frame-pointer walk alone, 16 frames deep (a noinline recursion of our
// own, compiled with frame pointers: Debian's libbenchmark is not, so the
// walk would stop at the benchmark runner).
ABSL_ATTRIBUTE_NOINLINE int walk_at_depth(int n, uintptr_t* pcs) {
  const int depth = n == 0
                        ? internal::capture_stack(pcs, internal::kMaxStackDepth)
                        : walk_at_depth(n - 1, pcs);
  asm volatile("" ::: "memory");  // no tail call: keep every frame
  return depth;
}

void BM_CaptureStack(benchmark::State& state) {
  uintptr_t pcs[internal::kMaxStackDepth];
  int depth = 0;
  for (auto _ : state) {
    depth = walk_at_depth(15, pcs);
    benchmark::DoNotOptimize(pcs);
  }
  state.counters["frames"] = depth;
}
BENCHMARK(BM_CaptureStack);

// --- One park through the ParkingLot, per mode ------------------------------

// A complete ParkingLot::park() whose deadline has already passed: enqueue,
// immediate timeout, dequeue, WaitEvent to the observer -- single-threaded,
// so the difference between modes is the profiler's cost per wait, free of
// scheduler noise. (The wait lasts ~0 ns, so block rate 1 ms never keeps it;
// "everything" records each one with a stack walk.)
void BM_ParkTimeout(benchmark::State& state) {
  const int64_t mode = state.range(0);
  apply_mode(mode);
  static int key = 0;
  internal::ParkOptions options;
  options.deadline_ns = 1;  // CLOCK_MONOTONIC 1 ns: long past
  options.kind = internal::WaitKind::kOther;
  for (auto _ : state) {
    benchmark::DoNotOptimize(internal::ParkingLot::park(
        &key, [] { return true; }, options));
  }
  state.SetLabel(mode_name(mode));
  apply_mode(kOff);
}
BENCHMARK(BM_ParkTimeout)
    ->Arg(kOff)
    ->Arg(kFraction1000)
    ->Arg(kProduction)
    ->Arg(kEverything);

// --- Uncontended lock/unlock -------------------------------------------------

void BM_Uncontended(benchmark::State& state) {
  const int64_t mode = state.range(0);
  apply_mode(mode);
  static CachePadded<contend::Mutex> mu;
  for (auto _ : state) {
    mu->lock();
    mu->unlock();
  }
  state.SetLabel(mode_name(mode));
  apply_mode(kOff);
}
BENCHMARK(BM_Uncontended)->Arg(kOff)->Arg(kEverything);

// --- Per-event cost of the hooks ---------------------------------------------

// One contended-release report as the ParkingLot makes it, straight into the
// observer callback: the sampling decision alone (fraction 1000: 999 of 1000
// calls return after one PRNG draw) versus a recorded event (fraction 1:
// stack walk, label lookup, table update).
void BM_ReleaseHook(benchmark::State& state) {
  const int fraction = static_cast<int>(state.range(0));
  profile::set_mutex_profile_fraction(fraction);
  profile::reset();
  static int key = 0;
  const internal::ReleaseEvent event{
      &key, internal::WaitKind::kMutex, 0, 100, 1, 1};
  for (auto _ : state) {
    internal::profiler_on_contended_release(event);
  }
  profile::set_mutex_profile_fraction(0);
  profile::reset();
}
BENCHMARK(BM_ReleaseHook)->Arg(1000)->Arg(1);

// One finished wait: block rate 1 ms with a 10 us wait (kept with
// probability 1%) versus rate 1 (always kept).
void BM_WaitHook(benchmark::State& state) {
  const int64_t rate = state.range(0);
  profile::set_block_profile_rate(rate);
  profile::reset();
  static int key = 0;
  const internal::WaitEvent event{&key,
                                  internal::WaitKind::kMutex,
                                  internal::ParkStatus::kUnparked,
                                  0,
                                  10'000,
                                  1,
                                  2};
  for (auto _ : state) {
    internal::profiler_on_wait_end(event);
  }
  profile::set_block_profile_rate(0);
  profile::reset();
}
BENCHMARK(BM_WaitHook)->Arg(1'000'000)->Arg(1);

// --- Export of 10,000 distinct stacks
// -----------------------------------------

// 256 distinct real functions, so that symbolization does real work and the
// names are real.
template <int N>
ABSL_ATTRIBUTE_NOINLINE int frame_fn(int x) {
  asm volatile("" ::: "memory");
  return x * (N + 3) + N;
}

template <int... Ns>
std::vector<uintptr_t> frame_addresses(std::integer_sequence<int, Ns...>) {
  return {reinterpret_cast<uintptr_t>(&frame_fn<Ns>)...};
}

constexpr int kStacks = 10'000;
constexpr int kDepth = 16;

// Fills the mutex profile with kStacks distinct stacks of kDepth frames. PCs
// are function start + 1 + `pc_offset` (+1 for the return-address
// adjustment), so different offsets give PCs the symbol cache has not seen.
void fill_profile(uintptr_t pc_offset) {
  static const std::vector<uintptr_t> fns =
      frame_addresses(std::make_integer_sequence<int, 256>());
  profile::reset();
  uintptr_t pcs[kDepth];
  uint64_t h = 0x9e3779b97f4a7c15ULL;
  for (int i = 0; i < kStacks; ++i) {
    // The two innermost frames encode i (distinct stacks); the rest vary.
    pcs[0] = fns[static_cast<size_t>(i % 256)] + 2 + pc_offset;
    pcs[1] = fns[static_cast<size_t>((i / 256) % 256)] + 2 + pc_offset;
    for (int d = 2; d < kDepth; ++d) {
      h = h * 6364136223846793005ULL + 1442695040888963407ULL;
      pcs[d] = fns[(h >> 33) % 256] + 2 + pc_offset;
    }
    internal::profiler_add_sample(internal::ProfileType::kMutex, pcs, kDepth,
                                  internal::WaitKind::kMutex, nullptr, 1.0,
                                  1000);
  }
}

void BM_ExportFirst10kStacks(benchmark::State& state) {
  // One iteration: the first export of a new set of PCs (256 functions, one
  // fresh PC each) pays symbolization.
  fill_profile(/*pc_offset=*/1);
  size_t bytes = 0;
  for (auto _ : state) {
    std::ostringstream out;
    profile::write_mutex_profile(out);
    bytes = out.str().size();
  }
  state.counters["gzip_bytes"] = static_cast<double>(bytes);
  profile::reset();
}
BENCHMARK(BM_ExportFirst10kStacks)
    ->Iterations(1)
    ->Repetitions(1)
    ->Unit(benchmark::kMillisecond);

void BM_Export10kStacks(benchmark::State& state) {
  fill_profile(/*pc_offset=*/0);
  size_t bytes = 0;
  for (auto _ : state) {
    std::ostringstream out;
    profile::write_mutex_profile(out);
    bytes = out.str().size();
  }
  state.counters["gzip_bytes"] = static_cast<double>(bytes);
  profile::reset();
}
BENCHMARK(BM_Export10kStacks)->Unit(benchmark::kMillisecond);

void BM_TextReport10kStacks(benchmark::State& state) {
  fill_profile(/*pc_offset=*/0);
  for (auto _ : state) {
    std::ostringstream out;
    profile::write_mutex_profile(out, /*debug=*/1);
    benchmark::DoNotOptimize(out.str().size());
  }
  profile::reset();
}
BENCHMARK(BM_TextReport10kStacks)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace contend::bench

BENCHMARK_MAIN();
