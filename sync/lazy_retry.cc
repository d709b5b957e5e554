// Copyright 2026 The contend Authors.
//
// LazyRetry's backoff schedule and its out-of-line misuse reports.

#include "sync/lazy_retry.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "sync/internal/fatal.h"

namespace contend {

std::chrono::nanoseconds LazyRetryOptions::backoff(uint32_t failures,
                                                   double u) const noexcept {
  // All arithmetic in double; the result goes back to int64_t only once it is
  // known to lie in [0, 2^63). nanoseconds::max() becomes 2^63 as a double,
  // one past the largest int64_t, so the cap itself needs the saturation.
  constexpr double kTwoTo63 = 9223372036854775808.0;
  const double cap = std::max(static_cast<double>(max_backoff.count()), 0.0);
  const double initial =
      std::max(static_cast<double>(initial_backoff.count()), 0.0);
  double d = initial;
  if (failures > 1 && initial > 0.0) {
    // Closed form, no loop over past failures. pow() overflows to +inf at
    // worst, which the cap below absorbs; initial == 0 is skipped so that
    // 0 * inf cannot make a NaN.
    d = initial * std::pow(multiplier, static_cast<double>(failures - 1));
  }
  if (!(d < cap)) d = cap;  // also maps a NaN (NaN multiplier) to the cap
  const double j = jitter > 0.0 ? std::min(jitter, 1.0) : 0.0;  // NaN -> 0
  d *= 1.0 - j * u;
  if (!(d > 0.0)) return std::chrono::nanoseconds(0);  // also a NaN u
  if (d >= kTwoTo63) return std::chrono::nanoseconds::max();
  return std::chrono::nanoseconds(static_cast<int64_t>(d));
}

}  // namespace contend

namespace contend::internal {

void lazy_retry_check_options(const LazyRetryOptions& options) {
  // NaN fails the comparison, so !(m >= 1) rejects it with values below 1.
  if (options.multiplier >= 1.0 && std::isfinite(options.multiplier)) return;
  internal::fatal_format(
      "contend: LazyRetry::LazyRetry: multiplier must be finite and >= 1 "
      "(got %g)",
      options.multiplier);
}

void lazy_retry_bad_value_access(const absl::Status& status) {
  const std::string text = status.ToString();
  internal::fatal_format(
      "contend: LazyRetry::Result::value: result is not OK (%s)", text.c_str());
}

}  // namespace contend::internal
