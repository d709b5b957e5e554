// Copyright 2026 The contend Authors.
//
// LatencyHistogram: a log-linear histogram of nanosecond latencies, cheap
// enough to record on every sampled lock acquisition of a lab run.

#ifndef CONTEND_BENCH_LAB_HISTOGRAM_H_
#define CONTEND_BENCH_LAB_HISTOGRAM_H_

#include <array>
#include <bit>
#include <cstdint>

namespace contend::lab {

// Percentiles of one latency distribution, in nanoseconds. All zero when
// count == 0.
struct LatencySummary {
  uint64_t count = 0;
  double mean_ns = 0;
  int64_t min_ns = 0;
  int64_t p50_ns = 0;
  int64_t p90_ns = 0;
  int64_t p99_ns = 0;
  int64_t p999_ns = 0;
  int64_t max_ns = 0;
};

// A LatencyHistogram counts non-negative int64 values (nanoseconds) in
// log-linear buckets: values below 2^kSubBits each have their own bucket;
// above, every power-of-two range [2^e, 2^(e+1)) is split into 2^kSubBits
// equal sub-buckets (HdrHistogram's layout with a fixed precision).
//
// Guarantees:
//  - Relative error of a reported percentile is below 2^-kSubBits (3.2%): the
//    value reported for a bucket is its upper bound, clamped to [min, max],
//    which are tracked exactly, as are count and sum.
//  - percentile(q) is non-decreasing in q, and min <= p50 <= ... <= max.
//  - Negative inputs (a clock that went backwards between two threads) are
//    recorded as 0.
// Thread safety: none; each thread records into its own histogram and the
// runner merges them after joining the threads.
// Cost: record() is a bit_width, two shifts and three adds, no branches on
// the bucket layout; the object is ~16 KB (kBuckets counters), so keep one
// per thread, not per operation.
class LatencyHistogram {
 public:
  static constexpr int kSubBits = 5;
  static constexpr int kSub = 1 << kSubBits;
  // Exponents kSubBits..63 each get kSub buckets; values < kSub get one each.
  static constexpr int kBuckets = (64 - kSubBits + 1) * kSub;

  constexpr LatencyHistogram() = default;

  void record(int64_t value_ns) noexcept {
    const uint64_t v = value_ns < 0 ? 0 : static_cast<uint64_t>(value_ns);
    ++counts_[bucket_index(v)];
    ++count_;
    sum_ += v;
    if (v > max_) max_ = v;
    if (v < min_) min_ = v;
  }

  // Adds every count of `other` to this histogram.
  void merge(const LatencyHistogram& other) noexcept;
  void clear() noexcept { *this = LatencyHistogram(); }

  uint64_t count() const noexcept { return count_; }
  int64_t max() const noexcept { return static_cast<int64_t>(max_); }
  int64_t min() const noexcept {
    return count_ == 0 ? 0 : static_cast<int64_t>(min_);
  }
  double mean() const noexcept;

  // The value at quantile q in [0, 1] (clamped): the upper bound of the
  // bucket holding the ceil(q * count)-th smallest value (at least the
  // first), clamped to [min, max]. 0 when empty.
  int64_t percentile(double q) const noexcept;

  LatencySummary summary() const noexcept;

  // Bucket layout, exposed for tests.
  static constexpr int bucket_index(uint64_t v) noexcept {
    if (v < static_cast<uint64_t>(kSub)) return static_cast<int>(v);
    const int e = static_cast<int>(std::bit_width(v)) - 1;  // >= kSubBits
    const int shift = e - kSubBits;
    const int mantissa = static_cast<int>(v >> shift);  // in [kSub, 2*kSub)
    return (shift + 1) * kSub + (mantissa - kSub);
  }
  static constexpr uint64_t bucket_lower(int index) noexcept {
    if (index < kSub) return static_cast<uint64_t>(index);
    const int shift = index / kSub - 1;
    const uint64_t mantissa = static_cast<uint64_t>(kSub + index % kSub);
    return mantissa << shift;
  }
  static constexpr uint64_t bucket_upper(int index) noexcept {
    if (index < kSub) return static_cast<uint64_t>(index);
    const int shift = index / kSub - 1;
    const uint64_t mantissa = static_cast<uint64_t>(kSub + index % kSub);
    // ((mantissa + 1) << shift) - 1 without overflow for the top bucket.
    return (mantissa << shift) + ((uint64_t{1} << shift) - 1);
  }

 private:
  std::array<uint64_t, kBuckets> counts_{};
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  uint64_t max_ = 0;
  uint64_t min_ = UINT64_MAX;
};

static_assert(LatencyHistogram::bucket_index(UINT64_MAX) ==
                  LatencyHistogram::kBuckets - 1,
              "the largest value must land in the last bucket");
static_assert(LatencyHistogram::bucket_upper(LatencyHistogram::kBuckets - 1) ==
              UINT64_MAX);

}  // namespace contend::lab

#endif  // CONTEND_BENCH_LAB_HISTOGRAM_H_
