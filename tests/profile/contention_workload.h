// Copyright 2026 The contend Authors.
//
// Test support: a reproducible contention pattern on one contend::Mutex.
// A holder thread repeatedly holds the lock for `hold` inside HoldLockLong()
// while waiter threads block in WaitForLock(). The function names are what
// the profile tests look for in symbolized stacks, so both are noinline and
// live outside namespace contend (whose frames the analysis skips).

#ifndef CONTEND_TESTS_PROFILE_CONTENTION_WORKLOAD_H_
#define CONTEND_TESTS_PROFILE_CONTENTION_WORKLOAD_H_

#include <chrono>
#include <cstdint>
#include <vector>

#include "sync/mutex.h"

namespace profile_testing {

// The label the workload's Mutex carries.
inline constexpr const char* kWorkloadLabel = "profile_test.hold";

struct WorkloadResult {
  const void* key;                    // the Mutex's ParkingLot key
  uint32_t holder_tid;                // thread that ran HoldLockLong
  std::vector<uint32_t> waiter_tids;  // threads that ran WaitForLock
  int64_t wall_ns;
};

// Holds `mu` for `hold` (sleeping), then releases it.
void HoldLockLong(contend::Mutex& mu, std::chrono::microseconds hold);
// Acquires and immediately releases `mu`.
void WaitForLock(contend::Mutex& mu);

// Runs `rounds` holds of `hold` each, with `waiters` threads contending, on a
// labeled Mutex created for the run (and destroyed after it).
WorkloadResult RunContention(int rounds, std::chrono::microseconds hold,
                             int waiters);

}  // namespace profile_testing

#endif  // CONTEND_TESTS_PROFILE_CONTENTION_WORKLOAD_H_
