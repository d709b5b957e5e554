#include "sync/internal/cache_padded.h"

#include <atomic>
#include <cstdint>

#include "gtest/gtest.h"

namespace contend::internal {
namespace {

TEST(CachePaddedTest, ArrayElementsLandOnDistinctLines) {
  CachePadded<std::atomic<int>> slots[4];
  for (int i = 0; i < 3; ++i) {
    auto a = reinterpret_cast<std::uintptr_t>(&slots[i].value);
    auto b = reinterpret_cast<std::uintptr_t>(&slots[i + 1].value);
    EXPECT_EQ(a % kCacheLineSize, 0u);
    EXPECT_GE(b - a, kCacheLineSize);
    EXPECT_NE(a / kCacheLineSize, b / kCacheLineSize);
  }
}

TEST(CachePaddedTest, LargeTypesRoundUpToWholeLines) {
  struct Big {
    char bytes[kCacheLineSize + 1];
  };
  EXPECT_EQ(sizeof(CachePadded<Big>), 2 * kCacheLineSize);
  EXPECT_EQ(alignof(CachePadded<Big>), kCacheLineSize);
}

TEST(CachePaddedTest, ForwardsConstructorArgumentsAndAccessors) {
  CachePadded<std::atomic<int>> p(41);
  p->fetch_add(1, std::memory_order_relaxed);
  EXPECT_EQ((*p).load(std::memory_order_relaxed), 42);
}

}  // namespace
}  // namespace contend::internal
