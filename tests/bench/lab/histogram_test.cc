// Copyright 2026 The contend Authors.

#include "bench/lab/histogram.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace contend::lab {
namespace {

using H = LatencyHistogram;

TEST(LatencyHistogramTest, BucketsTileTheRangeWithBoundedRelativeError) {
  // Every bucket's [lower, upper] maps back to itself, buckets are contiguous,
  // and a bucket is at most 1/32 of its lower bound wide.
  for (int i = 0; i < H::kBuckets; ++i) {
    const uint64_t lo = H::bucket_lower(i);
    const uint64_t hi = H::bucket_upper(i);
    ASSERT_LE(lo, hi) << i;
    ASSERT_EQ(H::bucket_index(lo), i) << i;
    ASSERT_EQ(H::bucket_index(hi), i) << i;
    if (i + 1 < H::kBuckets) {
      ASSERT_EQ(H::bucket_lower(i + 1), hi + 1) << i;
    }
    if (lo >= static_cast<uint64_t>(H::kSub)) {
      ASSERT_LE(static_cast<double>(hi - lo), static_cast<double>(lo) / H::kSub)
          << i;
    }
  }
  EXPECT_EQ(H::bucket_index(0), 0);
  EXPECT_EQ(H::bucket_index(UINT64_MAX), H::kBuckets - 1);
}

TEST(LatencyHistogramTest, SmallValuesAreExact) {
  H h;
  for (int v = 1; v <= 10; ++v) h.record(v);
  EXPECT_EQ(h.count(), 10u);
  EXPECT_EQ(h.min(), 1);
  EXPECT_EQ(h.max(), 10);
  EXPECT_EQ(h.percentile(0.5), 5);
  EXPECT_EQ(h.percentile(0.9), 9);
  EXPECT_EQ(h.percentile(1.0), 10);
  EXPECT_EQ(h.percentile(0.0), 1);
  EXPECT_DOUBLE_EQ(h.mean(), 5.5);
}

TEST(LatencyHistogramTest, PercentilesAreMonotoneAndWithinErrorOfTheTruth) {
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> dist(6.0, 2.0);  // ns, heavy tail
  std::vector<int64_t> values;
  H h;
  for (int i = 0; i < 100'000; ++i) {
    const auto v = static_cast<int64_t>(dist(rng));
    values.push_back(v);
    h.record(v);
  }
  std::sort(values.begin(), values.end());
  int64_t prev = 0;
  for (double q : {0.0, 0.1, 0.5, 0.9, 0.99, 0.999, 1.0}) {
    const int64_t got = h.percentile(q);
    EXPECT_GE(got, prev) << q;
    prev = got;
    const size_t rank = std::max<size_t>(
        1,
        static_cast<size_t>(std::ceil(q * static_cast<double>(values.size()))));
    const int64_t truth = values[rank - 1];
    EXPECT_GE(got, truth) << q;  // upper bound of the truth's bucket
    EXPECT_LE(static_cast<double>(got),
              static_cast<double>(truth) * (1.0 + 1.0 / H::kSub) + 1)
        << q;
  }
  const LatencySummary s = h.summary();
  EXPECT_LE(s.min_ns, s.p50_ns);
  EXPECT_LE(s.p50_ns, s.p90_ns);
  EXPECT_LE(s.p90_ns, s.p99_ns);
  EXPECT_LE(s.p99_ns, s.p999_ns);
  EXPECT_LE(s.p999_ns, s.max_ns);
  EXPECT_EQ(s.max_ns, values.back());
}

TEST(LatencyHistogramTest, MergeEqualsRecordingEverything) {
  H a, b, all;
  for (int i = 0; i < 1000; ++i) {
    (i % 3 ? a : b).record(i * 37);
    all.record(i * 37);
  }
  a.merge(b);
  for (double q : {0.01, 0.5, 0.99})
    EXPECT_EQ(a.percentile(q), all.percentile(q));
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.min(), all.min());
  EXPECT_EQ(a.max(), all.max());
  EXPECT_DOUBLE_EQ(a.mean(), all.mean());
}

TEST(LatencyHistogramTest, EmptyAndNegative) {
  H h;
  EXPECT_EQ(h.percentile(0.5), 0);
  EXPECT_EQ(h.summary().count, 0u);
  h.record(-5);  // a clock that went backwards counts as 0
  EXPECT_EQ(h.max(), 0);
  EXPECT_EQ(h.percentile(1.0), 0);
}

}  // namespace
}  // namespace contend::lab
