// Copyright 2026 The contend Authors.

#include "bench/lab/engine.h"

#include <atomic>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace contend::lab {
namespace {

// Release store in set_profile_capture; acquire load in run(): the hooks'
// struct is fully written before a run can see the pointer.
std::atomic<const ProfileCapture*> g_capture{nullptr};

}  // namespace

absl::Status validate(const Workload& w) {
  auto bad = [](const char* field, const std::string& why) {
    return absl::InvalidArgumentError(
        absl::StrCat("contend lab: Workload.", field, " ", why));
  };
  if (w.threads < 1 || w.threads > 1024) {
    return bad("threads", "must be in [1, 1024]");
  }
  if (w.writers < -1 || w.writers > w.threads) {
    return bad("writers", "must be -1 (per-op draw) or in [0, threads]");
  }
  if (!(w.read_share >= 0.0 && w.read_share <= 1.0)) {
    return bad("read_share", "must be in [0, 1]");
  }
  constexpr int64_t kMaxWorkNs = 1'000'000'000;
  if (w.critical_ns < 0 || w.critical_ns > kMaxWorkNs) {
    return bad("critical_ns", "must be in [0, 1e9]");
  }
  if (w.outside_ns < 0 || w.outside_ns > kMaxWorkNs) {
    return bad("outside_ns", "must be in [0, 1e9]");
  }
  if (w.ops < 0) return bad("ops", "must be >= 0");
  constexpr int64_t kMaxDurationNs = 3600LL * 1'000'000'000;
  if (w.ops == 0 && (w.duration_ns <= 0 || w.duration_ns > kMaxDurationNs)) {
    return bad("duration_ns", "must be in (0, 1 hour] when ops == 0");
  }
  if (w.keys < 0) return bad("keys", "must be >= 0");
  if (w.latency_sample < 0) return bad("latency_sample", "must be >= 0");
  return absl::OkStatus();
}

absl::StatusOr<Result> run(const Workload& w, const RunControl& ctl) {
  if (absl::Status s = validate(w); !s.ok()) return s;
  std::optional<Primitive> p = Registry::global().find(w.primitive);
  if (!p.has_value()) {
    std::vector<std::string> names;
    for (const Primitive& q : Registry::global().list())
      names.push_back(q.name);
    return absl::NotFoundError(
        absl::StrCat("contend lab: unknown primitive \"", w.primitive,
                     "\"; known: ", absl::StrJoin(names, ", ")));
  }
  const ProfileCapture* capture = nullptr;
  if (w.capture_profile) {
    capture = g_capture.load(std::memory_order_acquire);
    if (capture == nullptr) {
      return absl::FailedPreconditionError(
          "contend lab: capture_profile needs the profiler "
          "(link //bench/lab:profile_capture)");
    }
    capture->begin();
  }
  Result r = p->run(w, ctl);
  if (capture != nullptr) capture->end(&r.mutex_profile, &r.block_profile);
  r.workload = w;
  r.display_name = p->display_name;
  return r;
}

std::vector<Primitive> primitives() { return Registry::global().list(); }

void set_profile_capture(const ProfileCapture* capture) {
  g_capture.store(capture, std::memory_order_release);
}

bool profile_capture_available() {
  // Acquire: pairs with the release store in set_profile_capture.
  return g_capture.load(std::memory_order_acquire) != nullptr;
}

}  // namespace contend::lab
