// Copyright 2026 The contend Authors.
//
// The thread harness every lab workload runs on: start barrier, per-thread
// op mix, calibrated outside work, sampled acquisition latency, fixed shares
// or fixed duration, cancellation, and the Result arithmetic. A primitive
// supplies only the body of one operation (see run_workload below), so every
// module's workload is measured the same way.

#ifndef CONTEND_BENCH_LAB_HARNESS_H_
#define CONTEND_BENCH_LAB_HARNESS_H_

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>
#include <memory>
#include <thread>
#include <vector>

#include "bench/lab/histogram.h"
#include "bench/lab/registry.h"
#include "bench/lab/workload.h"
#include "bench/sync/busy_work.h"
#include "sync/internal/clock.h"

namespace contend::lab {

// SplitMix64, one per worker thread: deterministic from (seed, thread index),
// independent of the process-wide generator in sync/internal/prng.h so that a
// run's op mix is reproducible.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) noexcept : state_(seed) {}
  uint64_t next() noexcept {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, 1).
  double unit() noexcept {
    return static_cast<double>(next() >> 11) * 0x1.0p-53;
  }
  // Uniform in [0, n) for n > 0 (Lemire's multiply-shift).
  uint64_t below(uint64_t n) noexcept {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(next()) * n) >>
                                 64);
  }

 private:
  uint64_t state_;
};

// What an operation body sees: the op's key, its critical-section work, and
// the two timing hooks around the acquisition.
class OpContext {
 public:
  // Call right before blocking on the primitive, then acquired() right after
  // it is held; together they sample the acquisition latency.
  void start_acquire() noexcept {
    if (sampled_) t0_ = bench::ticks();
  }
  void acquired(bool shared) noexcept {
    if (sampled_) {
      const double ticks = static_cast<double>(bench::ticks() - t0_);
      (shared ? *read_hist_ : *write_hist_)
          .record(static_cast<int64_t>(ticks * ns_per_tick_));
    }
  }
  // The calibrated critical-section work (workload.critical_ns), continuing
  // the chain from x. Shortened by one timestamp read on sampled ops, so
  // timing an acquisition does not lengthen the hold.
  uint64_t critical(uint64_t x) const noexcept {
    return bench::busy_chain(x, sampled_ ? critical_sampled_ : critical_);
  }
  // A key in [0, workload.keys) (0 when keys == 0), for map-shaped bodies.
  uint64_t key() noexcept { return keys_ == 0 ? 0 : rng_->below(keys_); }
  int thread_index() const noexcept { return thread_; }

 private:
  template <class State>
  friend Result run_workload(const Workload&, const RunControl&, State&);

  bool sampled_ = false;
  int thread_ = 0;
  uint64_t t0_ = 0;
  double ns_per_tick_ = 0;
  uint64_t critical_ = 0;
  uint64_t critical_sampled_ = 0;
  uint64_t keys_ = 0;
  SplitMix64* rng_ = nullptr;
  LatencyHistogram* read_hist_ = nullptr;
  LatencyHistogram* write_hist_ = nullptr;
};

namespace harness_detail {

struct alignas(128) ThreadState {
  ThreadResult result;
  int64_t end_ns = 0;
  LatencyHistogram read_hist;
  LatencyHistogram write_hist;
};

// Cost of one bench::ticks() read in ns (measured once; thread-safe).
double timestamp_cost_ns();

// Fills the aggregate fields of r from r.per_thread (and the histograms).
void finish_result(const Workload& w, int64_t start_ns,
                   const std::vector<std::unique_ptr<ThreadState>>& threads,
                   Result& r);

// Waits (sleeping in slices of at most 10 ms) until `deadline_ns` or until
// *cancel is set or `done` reaches `target`; returns true if cancelled.
bool wait_until(int64_t deadline_ns, const std::atomic<bool>* cancel,
                const std::atomic<int>* done, int target);

}  // namespace harness_detail

// Runs workload w: w.threads threads each loop { body; outside work }.
//
// State must provide
//   uint64_t op(OpContext& ctx, bool shared, uint64_t chain);
//     one operation: call ctx.start_acquire(), acquire (shared or exclusive),
//     ctx.acquired(shared), chain = ctx.critical(chain ^ protected data),
//     release; return the new chain value;
//   bool verify(const Result& r) const;
//     after the threads joined: does the protected data show exactly the
//     exclusive sections r counted (no lost update)? Sets
//     Result::exclusion_ok.
// Requires: validate(w).ok(). The caller sets Result::workload,
// display_name and the profiles.
template <class State>
Result run_workload(const Workload& w, const RunControl& ctl, State& state) {
  using harness_detail::ThreadState;
  const bench::BusyCalibration& cal = bench::busy_calibration();
  const int n = w.threads;
  const bool fixed = w.ops > 0;
  const uint64_t crit =
      bench::busy_steps_for_ns(static_cast<double>(w.critical_ns));
  const uint64_t outside =
      bench::busy_steps_for_ns(static_cast<double>(w.outside_ns));
  const uint64_t clock_iters =
      bench::busy_steps_for_ns(harness_detail::timestamp_cost_ns());
  const uint64_t crit_sampled = crit > clock_iters ? crit - clock_iters : 0;
  const uint64_t outside_sampled =
      outside > clock_iters ? outside - clock_iters : 0;

  std::vector<std::unique_ptr<ThreadState>> ts;
  for (int i = 0; i < n; ++i) ts.push_back(std::make_unique<ThreadState>());

  std::atomic<int> ready{0};
  std::atomic<int> finished{0};
  std::atomic<bool> go{false};
  std::atomic<bool> stop{false};
  int64_t start_ns = 0;  // written before the release store to `go`

  auto worker = [&](int index) {
    ThreadState& me = *ts[static_cast<size_t>(index)];
    SplitMix64 rng(w.seed * 0x100000001b3ULL + static_cast<uint64_t>(index) +
                   1);
    OpContext ctx;
    ctx.thread_ = index;
    ctx.critical_ = crit;
    ctx.critical_sampled_ = crit_sampled;
    ctx.ns_per_tick_ = cal.ns_per_tick;
    ctx.keys_ = static_cast<uint64_t>(w.keys);
    ctx.rng_ = &rng;
    ctx.read_hist_ = &me.read_hist;
    ctx.write_hist_ = &me.write_hist;
    const bool roles = w.writers >= 0;
    const bool role_shared = index >= w.writers;
    const uint64_t sample_every = static_cast<uint64_t>(w.latency_sample);
    const int64_t quota = fixed ? w.ops / n + (index < w.ops % n ? 1 : 0)
                                : std::numeric_limits<int64_t>::max();
    uint64_t chain = rng.next();

    // Release: pairs with the acquire loads in the main thread's wait for all
    // workers (only the count matters; the main thread reads no worker data
    // until the joins, which order everything).
    ready.fetch_add(1, std::memory_order_release);
    ready.notify_one();
    // Acquire: pairs with the release store of `go`, making start_ns visible.
    while (!go.load(std::memory_order_acquire))
      go.wait(false, std::memory_order_acquire);

    int64_t done = 0, reads = 0;
    while (done < quota) {
      // Relaxed: a hint to stop; nothing is published through it (the join
      // orders the results).
      if (stop.load(std::memory_order_relaxed)) break;
      const bool shared = roles ? role_shared : rng.unit() < w.read_share;
      const bool sampled = sample_every != 0 && rng.below(sample_every) == 0;
      ctx.sampled_ = sampled;
      chain = state.op(ctx, shared, chain);
      chain = bench::busy_chain(chain, sampled ? outside_sampled : outside);
      ++done;
      reads += shared ? 1 : 0;
    }
    me.end_ns = internal::monotonic_now_ns();
    me.result.ops = done;
    me.result.reads = reads;
    me.result.writes = done - reads;
    me.result.elapsed_ns = me.end_ns - start_ns;
    asm volatile("" : : "r"(chain));
    // Release: pairs with the acquire load in wait_until (count only).
    finished.fetch_add(1, std::memory_order_release);
  };

  std::vector<std::thread> threads;
  threads.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) threads.emplace_back(worker, i);
  for (int r; (r = ready.load(std::memory_order_acquire)) < n;) {
    ready.wait(r, std::memory_order_acquire);
  }
  start_ns = internal::monotonic_now_ns();
  // Release: pairs with the workers' acquire loads of `go`.
  go.store(true, std::memory_order_release);
  go.notify_all();

  bool cancelled;
  if (fixed) {
    cancelled = harness_detail::wait_until(std::numeric_limits<int64_t>::max(),
                                           ctl.cancel, &finished, n);
  } else {
    cancelled = harness_detail::wait_until(start_ns + w.duration_ns, ctl.cancel,
                                           nullptr, 0);
  }
  // Relaxed: see the load in the worker loop.
  stop.store(true, std::memory_order_relaxed);
  for (std::thread& t : threads) t.join();

  Result r;
  r.cancelled = cancelled;
  r.busy_iterations_per_ns = cal.steps_per_ns;
  harness_detail::finish_result(w, start_ns, ts, r);
  r.exclusion_ok = state.verify(r);
  return r;
}

}  // namespace contend::lab

#endif  // CONTEND_BENCH_LAB_HARNESS_H_
