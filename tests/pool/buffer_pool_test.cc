// Copyright 2026 The contend Authors.

#include "pool/buffer_pool.h"

#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace contend {
namespace {

// The header's example, kept compiling.
TEST(BufferPoolTest, HeaderExample) {
  std::string pdf_bytes(50 * 1024, 'p');
  size_t sent = 0;
  auto send = [&](const std::byte*, size_t n) { sent = n; };
  contend::BufferPool pool;  // keeps buffers up to 64 KiB
  {
    contend::BufferPool::Buffer b = pool.get(50 * 1024);
    b.append(pdf_bytes.data(), pdf_bytes.size());
    send(b.data(), b.size());
  }
  EXPECT_EQ(sent, pdf_bytes.size());
  EXPECT_EQ(pool.stats().retained_bytes, 64 * 1024);
}

TEST(BufferPoolTest, PowerOfTwoClassesAndReuse) {
  BufferPool pool;
  const std::byte* first;
  {
    BufferPool::Buffer b = pool.get(1000);
    EXPECT_EQ(b.capacity(), 1024u);
    EXPECT_EQ(b.size(), 0u);
    first = b.data();
    b.resize(10);
  }
  BufferPool::Buffer b = pool.get(1024);
  EXPECT_EQ(b.data(), first);
  EXPECT_EQ(b.size(), 0u);
  EXPECT_EQ(pool.get(1).capacity(), 64u);
  EXPECT_EQ(pool.get(65).capacity(), 128u);
  EXPECT_EQ(pool.stats().hits, 1);
}

// The postmortem's fix: a buffer above max_pooled is freed on put.
TEST(BufferPoolTest, BigBuffersAreNotKept) {
  BufferPool pool;
  { BufferPool::Buffer b = pool.get(100 * 1024); }
  EXPECT_EQ(pool.stats().retained_bytes, 0);
  { BufferPool::Buffer b = pool.get(64 * 1024); }
  EXPECT_EQ(pool.stats().retained_bytes, 64 * 1024);
}

TEST(BufferPoolTest, GrowingKeepsContents) {
  BufferPool pool;
  BufferPool::Buffer b = pool.get(8);
  b.append("abcdefgh", 8);
  std::vector<char> big(5000, 'z');
  b.append(big.data(), big.size());
  EXPECT_EQ(b.size(), 5008u);
  EXPECT_GE(b.capacity(), 5008u);
  EXPECT_EQ(std::memcmp(b.data(), "abcdefgh", 8), 0);
  EXPECT_EQ(static_cast<char>(b.data()[5007]), 'z');
}

TEST(BufferPoolTest, MaxRetainedBytesIsABudget) {
  BufferPool::Options o;
  o.max_retained_bytes = 11 * 4096;  // 4 KiB per class (11 classes)
  BufferPool pool(o);
  {
    std::vector<BufferPool::Buffer> bs;
    for (int i = 0; i < 8; ++i) bs.push_back(pool.get(1024));
  }
  BufferPoolStats s = pool.stats();
  EXPECT_EQ(s.retained_bytes, 4096);
  EXPECT_EQ(s.rejected, 4);
}

// bytebufferpool's calibration: the cap becomes the class covering 95% of
// the recent gets.
TEST(BufferPoolTest, LearnedCapFollowsThe95thPercentile) {
  BufferPool::Options o;
  o.learn_cap = true;
  BufferPool pool(o);
  EXPECT_EQ(pool.cap(), 64u * 1024);
  for (uint64_t i = 0; i < BufferPool::kCalibrateEvery; ++i) {
    BufferPool::Buffer b = pool.get(i % 100 == 0 ? 32 * 1024 : 1000);
  }
  EXPECT_EQ(pool.cap(), 1024u);
  { BufferPool::Buffer b = pool.get(4096); }
  // The 4 KiB one was freed; the 1 KiB and 32 KiB ones kept from before.
  EXPECT_EQ(pool.stats().retained_bytes, 1024 + 32 * 1024);
}

TEST(BufferPoolDeathTest, BadMaxPooled) {
  BufferPool::Options o;
  o.max_pooled = 1000;
  EXPECT_DEATH(BufferPool{o},
               "contend: BufferPool::BufferPool: max_pooled must be a power "
               "of two >= 64");
}

}  // namespace
}  // namespace contend
