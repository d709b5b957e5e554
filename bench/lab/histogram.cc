// Copyright 2026 The contend Authors.

#include "bench/lab/histogram.h"

#include <algorithm>
#include <cmath>

namespace contend::lab {

void LatencyHistogram::merge(const LatencyHistogram& other) noexcept {
  for (int i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  max_ = std::max(max_, other.max_);
  min_ = std::min(min_, other.min_);
}

double LatencyHistogram::mean() const noexcept {
  return count_ == 0 ? 0.0
                     : static_cast<double>(sum_) / static_cast<double>(count_);
}

int64_t LatencyHistogram::percentile(double q) const noexcept {
  if (count_ == 0) return 0;
  if (!(q > 0)) q = 0;  // also maps NaN to 0
  if (q > 1) q = 1;
  // Rank of the wanted value, 1-based: ceil(q * count), at least 1.
  uint64_t rank =
      static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_)));
  rank = std::clamp<uint64_t>(rank, 1, count_);
  uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      const uint64_t v = std::clamp(bucket_upper(i), min_, max_);
      return static_cast<int64_t>(v);
    }
  }
  return static_cast<int64_t>(max_);  // unreachable: seen reaches count_
}

LatencySummary LatencyHistogram::summary() const noexcept {
  LatencySummary s;
  s.count = count_;
  s.mean_ns = mean();
  s.min_ns = min();
  s.p50_ns = percentile(0.50);
  s.p90_ns = percentile(0.90);
  s.p99_ns = percentile(0.99);
  s.p999_ns = percentile(0.999);
  s.max_ns = max();
  return s;
}

}  // namespace contend::lab
