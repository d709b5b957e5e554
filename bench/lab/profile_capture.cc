// Copyright 2026 The contend Authors.
//
// Plugs the profiler (profile/profile.h) into the lab engine: with this
// target linked, Workload::capture_profile records the mutex and block
// profiles of a run (every event: fraction 1, rate 1 ns) and returns them as
// gzipped pprof bytes in the Result.

#include <sstream>
#include <string>

#include "bench/lab/engine.h"
#include "profile/profile.h"

namespace contend::lab {
namespace {

// Settings in force before begin(); restored by end(). Runs with
// capture_profile do not overlap (engine.h), so plain statics suffice.
int g_previous_fraction = 0;
int64_t g_previous_rate = 0;

void begin_capture() {
  profile::reset();
  g_previous_fraction = profile::set_mutex_profile_fraction(1);
  g_previous_rate = profile::set_block_profile_rate(1);
}

void end_capture(std::string* mutex_profile, std::string* block_profile) {
  // Write before restoring the settings: the files record the period.
  std::ostringstream m, b;
  profile::write_mutex_profile(m);
  profile::write_block_profile(b);
  *mutex_profile = std::move(m).str();
  *block_profile = std::move(b).str();
  profile::set_mutex_profile_fraction(g_previous_fraction);
  profile::set_block_profile_rate(g_previous_rate);
}

constexpr ProfileCapture kCapture = {&begin_capture, &end_capture};

[[maybe_unused]] const bool installed = [] {
  set_profile_capture(&kCapture);
  return true;
}();

}  // namespace
}  // namespace contend::lab
