// Copyright 2026 The contend Authors.

#include "tests/profile/contention_workload.h"

#include <atomic>
#include <thread>

#include "absl/base/attributes.h"
#include "sync/internal/clock.h"
#include "sync/internal/thread_id.h"

namespace profile_testing {

ABSL_ATTRIBUTE_NOINLINE void HoldLockLong(contend::Mutex& mu,
                                          std::chrono::microseconds hold) {
  mu.lock();
  std::this_thread::sleep_for(hold);
  mu.unlock();
  // Keeps this frame on the stack during unlock() even if the compiler would
  // otherwise turn the call into a tail call.
  asm volatile("" ::: "memory");
}

ABSL_ATTRIBUTE_NOINLINE void WaitForLock(contend::Mutex& mu) {
  mu.lock();
  mu.unlock();
  asm volatile("" ::: "memory");
}

WorkloadResult RunContention(int rounds, std::chrono::microseconds hold,
                             int waiters) {
  contend::Mutex mu{kWorkloadLabel};
  WorkloadResult result;
  // The ParkingLot key of a Mutex is its state word, the Mutex's first (and
  // only) member.
  result.key = &mu;
  std::atomic<bool> done{false};
  std::atomic<int> ready{0};
  std::atomic<uint32_t> holder_tid{0};
  std::vector<std::atomic<uint32_t>> waiter_tids(static_cast<size_t>(waiters));
  const int64_t start = contend::internal::monotonic_now_ns();
  std::vector<std::thread> threads;
  threads.emplace_back([&] {
    // Relaxed: joined before it is read.
    holder_tid.store(contend::internal::current_thread_id(),
                     std::memory_order_relaxed);
    // Acquire: pairs with the waiters' release increments.
    while (ready.load(std::memory_order_acquire) < waiters) {
      std::this_thread::yield();
    }
    for (int i = 0; i < rounds; ++i) {
      HoldLockLong(mu, hold);
      // Lets the woken waiters take their turn before the next hold.
      std::this_thread::sleep_for(hold / 8);
    }
    // Release: pairs with the waiters' acquire loads.
    done.store(true, std::memory_order_release);
  });
  for (int w = 0; w < waiters; ++w) {
    threads.emplace_back([&, w] {
      // Relaxed: joined before it is read.
      waiter_tids[static_cast<size_t>(w)].store(
          contend::internal::current_thread_id(), std::memory_order_relaxed);
      // Release: pairs with the holder's acquire load.
      ready.fetch_add(1, std::memory_order_release);
      // Acquire: pairs with the holder's release store.
      while (!done.load(std::memory_order_acquire)) {
        WaitForLock(mu);
        std::this_thread::sleep_for(hold / 16);
      }
    });
  }
  for (auto& t : threads) t.join();
  result.wall_ns = contend::internal::monotonic_now_ns() - start;
  result.holder_tid = holder_tid.load(std::memory_order_relaxed);
  for (auto& tid : waiter_tids) {
    result.waiter_tids.push_back(tid.load(std::memory_order_relaxed));
  }
  return result;
}

}  // namespace profile_testing
