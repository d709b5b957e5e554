// Copyright 2026 The contend Authors.
//
// The lab engine's entry points: run one workload on a registered primitive,
// optionally capturing the contention profile of the run.

#ifndef CONTEND_BENCH_LAB_ENGINE_H_
#define CONTEND_BENCH_LAB_ENGINE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/lab/registry.h"
#include "bench/lab/workload.h"

namespace contend::lab {

// Runs w on the primitive named w.primitive.
//
// Returns InvalidArgument for a workload outside its documented ranges,
// NotFound for an unknown primitive (the message lists the known ones),
// FailedPrecondition when w.capture_profile is set but no profiler is linked.
// Blocks the calling thread for the run (duration, or until the fixed ops are
// done, or until *ctl.cancel is set). Runs on w.threads new threads.
// Thread safety: concurrent runs are allowed but measure each other; runs
// with capture_profile must not overlap (the profiler is process-wide).
absl::StatusOr<Result> run(const Workload& w, const RunControl& ctl = {});

// Every registered primitive, sorted by name.
std::vector<Primitive> primitives();

// The seam through which //bench/lab:profile_capture plugs the profiler into
// the engine without the engine depending on profile/. begin() resets and
// enables the mutex and block profiles; end() disables them and writes both
// as gzipped pprof bytes.
struct ProfileCapture {
  void (*begin)();
  void (*end)(std::string* mutex_profile, std::string* block_profile);
};
// Installs the capture hooks (static storage; nullptr removes them).
void set_profile_capture(const ProfileCapture* capture);
bool profile_capture_available();

}  // namespace contend::lab

#endif  // CONTEND_BENCH_LAB_ENGINE_H_
