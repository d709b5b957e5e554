// Copyright 2026 The contend Authors.
//
// The lab's data model: a Workload says what to run, a Result what happened.

#ifndef CONTEND_BENCH_LAB_WORKLOAD_H_
#define CONTEND_BENCH_LAB_WORKLOAD_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "bench/lab/histogram.h"

namespace contend::lab {

// A contention workload: `threads` threads each loop
//   { acquire (shared or exclusive); critical_ns of busy work on the protected
//     data; release; outside_ns of busy work }
// until `duration_ns` has passed or, when ops > 0, until each thread has done
// its fixed share of `ops` (so fairness cannot change the read/write mix).
//
// Which operations are shared:
//  - writers < 0 (default): every thread draws each op from its own PRNG
//    (seeded from `seed` and the thread index): shared with probability
//    read_share, exclusive otherwise;
//  - writers >= 0: dedicated roles, *sync — Senior*'s "4 readers, 1 writer":
//    threads [0, writers) only write, the others only read; read_share is
//    ignored.
// A primitive without a shared mode (Mutex, std::mutex) runs shared ops
// exclusively: that is the comparison the decision matrix makes.
struct Workload {
  std::string primitive = "mutex";    // a Registry name, e.g. "rwmutex"
  int threads = 2;                    // >= 1
  int writers = -1;                   // -1: per-op draw; else in [0, threads]
  double read_share = 0.0;            // in [0, 1]
  int64_t critical_ns = 50;           // busy work while holding the lock, >= 0
  int64_t outside_ns = 50;            // busy work between operations, >= 0
  int64_t duration_ns = 200'000'000;  // run time when ops == 0, > 0
  int64_t ops = 0;               // > 0: total ops, split evenly over threads
  int64_t keys = 0;              // key space of map-shaped primitives; 0 = n/a
  uint64_t seed = 1;             // PRNG seed (op mix, keys)
  int latency_sample = 8;        // time 1 in N acquisitions; 0 = no latency
  bool capture_profile = false;  // record mutex + block profiles of the run
};

// Checks the ranges documented on Workload's fields; InvalidArgument names
// the first field out of range. Does not check that the primitive exists.
absl::Status validate(const Workload& w);

// What one thread did.
struct ThreadResult {
  int64_t ops = 0;
  int64_t reads = 0;       // shared acquisitions
  int64_t writes = 0;      // exclusive acquisitions
  int64_t elapsed_ns = 0;  // from the common start to this thread's last op
};

// The outcome of one run.
//
// Invariants (tests/bench/lab/engine_test.cc and the Python property tests
// check them): total_ops == sum of per_thread[i].ops == reads + writes;
// latency percentiles are non-decreasing; exclusion_ok is true for every
// correct lock (the protected counter, incremented non-atomically by every
// exclusive op, equals `writes`).
struct Result {
  Workload workload;
  std::string display_name;  // e.g. "contend::RWMutex"
  int64_t elapsed_ns = 0;    // common start to the last thread's last op
  int64_t total_ops = 0;
  int64_t reads = 0;
  int64_t writes = 0;
  double ops_per_sec = 0;
  double ns_per_op = 0;  // elapsed_ns / total_ops: wall time per op
  std::vector<ThreadResult> per_thread;
  // min/max over threads of ops/elapsed, in (0, 1]; 1 = perfectly fair. With
  // dedicated roles, readers and writers are compared with their own role.
  double fairness = 0;
  LatencySummary latency;        // acquisition latency, all sampled ops
  LatencySummary read_latency;   // shared acquisitions only
  LatencySummary write_latency;  // exclusive acquisitions only
  bool exclusion_ok = true;
  bool cancelled = false;             // stopped early by RunControl::cancel
  double busy_iterations_per_ns = 0;  // busy-work calibration of the run
  // Gzipped pprof profile.proto bytes, when workload.capture_profile and the
  // profiler is linked; empty otherwise.
  std::string mutex_profile;
  std::string block_profile;
};

}  // namespace contend::lab

#endif  // CONTEND_BENCH_LAB_WORKLOAD_H_
