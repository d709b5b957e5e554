// Copyright 2026 The contend Authors.
//
// "An uncontended reader writes only its own cache line": counted. This test
// links the _dsched twins (every internal::Atomic operation calls the hook
// table's switch_point with its address, sync/internal/dsched_hooks.h) and
// installs a hook that records which cache lines each read lock+unlock
// touches with an atomic operation. With the bias on, a DistributedRWMutex
// read touches exactly two lines: its own slot (CAS, load, exchange: the only
// writes) and the bias word (two loads, never written on the read path --
// see distributed_rw_mutex.h). So shared-line writes per read = 0. The
// RWMutex peer touches its one shared state word with two RMWs per read.
// bench/shard/RESULTS.md cites this in place of a many-core read-scaling run.

#include <sched.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <new>
#include <thread>

#include "gtest/gtest.h"
#include "shard/distributed_rw_mutex.h"
#include "sync/internal/cache_padded.h"
#include "sync/internal/dsched_hooks.h"
#include "sync/rw_mutex.h"

namespace contend {
namespace {

namespace dh = internal::dsched;

thread_local std::map<uintptr_t, int>* t_touches = nullptr;

void record(const void* addr) {
  if (t_touches != nullptr) {
    ++(*t_touches)[reinterpret_cast<uintptr_t>(addr) /
                   internal::kCacheLineSize];
  }
}
void no_spin() {}
int no_futex_wait(const std::atomic<uint32_t>*, uint32_t, int64_t) {
  ADD_FAILURE() << "a read lock parked";
  return 0;
}
int no_futex_wake(const std::atomic<uint32_t>*, int) { return 0; }
int64_t real_now() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

constexpr dh::Hooks kHooks = {&record, &no_spin, &no_futex_wait, &no_futex_wake,
                              &real_now};

class LinesTest : public ::testing::Test {
 protected:
  void SetUp() override { dh::install_hooks(&kHooks); }
  void TearDown() override { dh::install_hooks(nullptr); }
};

// Lines touched by one lock_shared()+unlock_shared() on `mu`.
template <class M>
std::map<uintptr_t, int> lines_of_one_read(M& mu) {
  std::map<uintptr_t, int> touches;
  t_touches = &touches;
  mu.lock_shared();
  mu.unlock_shared();
  t_touches = nullptr;
  return touches;
}

uintptr_t line_of(const void* p) {
  return reinterpret_cast<uintptr_t>(p) / internal::kCacheLineSize;
}

// The mutex is 8-byte aligned, not line-aligned, so where it lands decides
// whether the bias word shares a line with the object's first byte. Place it
// at every 8-byte offset of a line, including those where it straddles two
// lines, and count the lines the object spans as "the object".
TEST_F(LinesTest, BiasedReadWritesNoSharedLine) {
  static_assert(alignof(DistributedRWMutex) <= 8);
  alignas(internal::kCacheLineSize) unsigned char
      storage[2 * internal::kCacheLineSize + sizeof(DistributedRWMutex)];
  for (size_t offset = 0; offset < internal::kCacheLineSize; offset += 8) {
    SCOPED_TRACE(::testing::Message() << "offset in line " << offset);
    auto* mu = new (storage + offset) DistributedRWMutex;
    (void)lines_of_one_read(*mu);  // first use assigns this thread's ordinal
    const auto touches = lines_of_one_read(*mu);
    const uintptr_t first_line = line_of(mu);
    const uintptr_t last_line =
        line_of(reinterpret_cast<const unsigned char*>(mu) + sizeof(*mu) - 1);
    mu->~DistributedRWMutex();
    ASSERT_EQ(touches.size(), 2u) << "lines touched by one read";
    int object_ops = 0;
    int slot_ops = 0;
    for (const auto& [line, ops] : touches) {
      if (line >= first_line && line <= last_line) {
        object_ops += ops;
      } else {
        slot_ops += ops;
      }
    }
    // The object's lines: only the two bias-word loads (the inner RWMutex's
    // state word is not touched at all).
    EXPECT_EQ(object_ops, 2);
    // The thread's own slot: CAS, then load + exchange in unlock_shared().
    EXPECT_EQ(slot_ops, 3);
  }
}

TEST_F(LinesTest, TwoThreadsReadOnDifferentLines) {
  DistributedRWMutex mu;
  std::map<uintptr_t, int> a;
  std::map<uintptr_t, int> b;
  std::thread ta([&] {
    (void)lines_of_one_read(mu);
    a = lines_of_one_read(mu);
  });
  ta.join();
  std::thread tb([&] {
    (void)lines_of_one_read(mu);
    b = lines_of_one_read(mu);
  });
  tb.join();
  // Consecutive ordinals map to different slots; the only line both touch
  // is the object's (read-only on this path, above).
  int shared = 0;
  for (const auto& [line, ops] : a) shared += b.count(line) != 0 ? 1 : 0;
  EXPECT_EQ(shared, 1);
}

TEST_F(LinesTest, RWMutexReadWritesItsSharedWordTwice) {
  RWMutex mu;
  const auto touches = lines_of_one_read(mu);
  ASSERT_EQ(touches.size(), 1u);
  EXPECT_EQ(touches.begin()->first, line_of(&mu));
  EXPECT_EQ(touches.begin()->second, 2);  // fetch_add + fetch_sub
}

}  // namespace
}  // namespace contend
