// Copyright 2026 The contend Authors.
//
// A WaitObserver for tests that counts the waits that ended, by WaitKind and
// ParkStatus, and the contended releases, by WaitKind.
//
//   testing::WaitCounter waits;           // installed until it goes away
//   ... block on a Once ...
//   EXPECT_EQ(waits.ended(internal::WaitKind::kOnce), 1);

#ifndef CONTEND_TESTS_TESTING_WAIT_COUNTER_H_
#define CONTEND_TESTS_TESTING_WAIT_COUNTER_H_

#include <cstdint>

#include "sync/internal/wait_observer.h"

namespace contend::testing {

// Installs itself as the process's WaitObserver for its lifetime and puts the
// previous one back when destroyed. At most one exists at a time (checked).
// Optionally counts only waits on one key (`only_key`).
class WaitCounter {
 public:
  explicit WaitCounter(const void* only_key = nullptr);
  ~WaitCounter();
  WaitCounter(const WaitCounter&) = delete;
  WaitCounter& operator=(const WaitCounter&) = delete;

  // Waits of `kind` that ended with `status`.
  [[nodiscard]] int ended(internal::WaitKind kind,
                          internal::ParkStatus status) const;
  // Waits of `kind` that ended, whatever the status.
  [[nodiscard]] int ended(internal::WaitKind kind) const;
  // Contended releases reported for waiters of `kind`.
  [[nodiscard]] int releases(internal::WaitKind kind) const;
  // The delay charged by the last contended release of `kind` (ns).
  [[nodiscard]] int64_t last_release_delay_ns(internal::WaitKind kind) const;
  // The key of the last contended release of `kind`.
  [[nodiscard]] const void* last_release_key(internal::WaitKind kind) const;

 private:
  const internal::WaitObserver* previous_;
};

}  // namespace contend::testing

#endif  // CONTEND_TESTS_TESTING_WAIT_COUNTER_H_
