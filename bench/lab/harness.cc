// Copyright 2026 The contend Authors.

#include "bench/lab/harness.h"

#include <algorithm>
#include <thread>

namespace contend::lab::harness_detail {

double timestamp_cost_ns() {
  static const double cost = [] {
    constexpr int kReads = 20'000;
    double best = 1e9;
    for (int run = 0; run < 5; ++run) {
      uint64_t sink = 0;
      const int64_t t0 = internal::monotonic_now_ns();
      for (int i = 0; i < kReads; ++i) sink += bench::ticks();
      const int64_t t1 = internal::monotonic_now_ns();
      asm volatile("" : : "r"(sink));
      best = std::min(best, static_cast<double>(t1 - t0) / kReads);
    }
    return best;
  }();
  return cost;
}

void finish_result(const Workload& w, int64_t start_ns,
                   const std::vector<std::unique_ptr<ThreadState>>& threads,
                   Result& r) {
  LatencyHistogram reads, writes;
  int64_t last_end = start_ns;
  r.per_thread.clear();
  for (const auto& t : threads) {
    r.per_thread.push_back(t->result);
    r.total_ops += t->result.ops;
    r.reads += t->result.reads;
    r.writes += t->result.writes;
    last_end = std::max(last_end, t->end_ns);
    reads.merge(t->read_hist);
    writes.merge(t->write_hist);
  }
  r.elapsed_ns = std::max<int64_t>(last_end - start_ns, 1);
  r.ops_per_sec = static_cast<double>(r.total_ops) * 1e9 /
                  static_cast<double>(r.elapsed_ns);
  r.ns_per_op = r.total_ops == 0 ? 0
                                 : static_cast<double>(r.elapsed_ns) /
                                       static_cast<double>(r.total_ops);
  r.read_latency = reads.summary();
  r.write_latency = writes.summary();
  LatencyHistogram all = reads;
  all.merge(writes);
  r.latency = all.summary();

  // Fairness: min/max of per-thread op rates, within each role when threads
  // have dedicated roles (a writer is not expected to match a reader).
  auto role_fairness = [&](int begin, int end) {
    double lo = 0, hi = 0;
    bool any = false;
    for (int i = begin; i < end; ++i) {
      const ThreadResult& t = r.per_thread[static_cast<size_t>(i)];
      const double rate =
          static_cast<double>(t.ops) /
          static_cast<double>(std::max<int64_t>(t.elapsed_ns, 1));
      lo = any ? std::min(lo, rate) : rate;
      hi = any ? std::max(hi, rate) : rate;
      any = true;
    }
    return !any ? 1.0 : hi <= 0 ? 0.0 : lo / hi;
  };
  const int n = static_cast<int>(r.per_thread.size());
  if (w.writers >= 0) {
    r.fairness =
        std::min(role_fairness(0, w.writers), role_fairness(w.writers, n));
  } else {
    r.fairness = role_fairness(0, n);
  }
}

bool wait_until(int64_t deadline_ns, const std::atomic<bool>* cancel,
                const std::atomic<int>* done, int target) {
  constexpr int64_t kSliceNs = 10'000'000;
  for (;;) {
    // Acquire: pairs with the canceller's release store (nothing else is
    // read through it, but the contract in RunControl promises acquire).
    if (cancel != nullptr && cancel->load(std::memory_order_acquire)) {
      return true;
    }
    // Acquire: pairs with the workers' release increments (count only).
    if (done != nullptr && done->load(std::memory_order_acquire) >= target) {
      return false;
    }
    const int64_t now = internal::monotonic_now_ns();
    if (now >= deadline_ns) return false;
    std::this_thread::sleep_for(
        std::chrono::nanoseconds(std::min(kSliceNs, deadline_ns - now)));
  }
}

}  // namespace contend::lab::harness_detail
