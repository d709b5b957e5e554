// Copyright 2026 The contend Authors.
//
// Lab workloads for the peers contend is measured against: std::mutex,
// std::shared_mutex and absl::Mutex.

#include <mutex>
#include <shared_mutex>

#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
#endif

#include "absl/synchronization/mutex.h"
#include "bench/lab/lock_workload.h"
#include "bench/lab/registry.h"

namespace contend::lab {
namespace {

// Debian's libabsl_synchronization.so is not built with -fsanitize=thread,
// so under TSan the wrapper below tells TSan what absl::Mutex does (the
// annotations absl's own TSan build would make); otherwise every workload on
// absl::Mutex would be reported as a race on the protected data.
#if defined(__SANITIZE_THREAD__)
[[maybe_unused]] constexpr unsigned kTsanRead = __tsan_mutex_read_lock;
#define CONTEND_LAB_TSAN(call) call
#else
[[maybe_unused]] constexpr unsigned kTsanRead = 0;
#define CONTEND_LAB_TSAN(call) (void)0
#endif

// absl::Mutex spelled as a SharedLockable.
class AbslMutexLockable {
 public:
  AbslMutexLockable() { CONTEND_LAB_TSAN(__tsan_mutex_create(&mu_, 0)); }
  ~AbslMutexLockable() { CONTEND_LAB_TSAN(__tsan_mutex_destroy(&mu_, 0)); }
  void lock() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    CONTEND_LAB_TSAN(__tsan_mutex_pre_lock(&mu_, 0));
    mu_.Lock();
    CONTEND_LAB_TSAN(__tsan_mutex_post_lock(&mu_, 0, 0));
  }
  void unlock() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    CONTEND_LAB_TSAN(__tsan_mutex_pre_unlock(&mu_, 0));
    mu_.Unlock();
    CONTEND_LAB_TSAN(__tsan_mutex_post_unlock(&mu_, 0));
  }
  void lock_shared() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    CONTEND_LAB_TSAN(__tsan_mutex_pre_lock(&mu_, kTsanRead));
    mu_.ReaderLock();
    CONTEND_LAB_TSAN(__tsan_mutex_post_lock(&mu_, kTsanRead, 0));
  }
  void unlock_shared() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    CONTEND_LAB_TSAN(__tsan_mutex_pre_unlock(&mu_, kTsanRead));
    mu_.ReaderUnlock();
    CONTEND_LAB_TSAN(__tsan_mutex_post_unlock(&mu_, kTsanRead));
  }

 private:
  absl::Mutex mu_;
};

Result run_absl_mutex(const Workload& w, const RunControl& ctl) {
  // Debian builds Abseil without NDEBUG, which leaves deadlock detection on
  // and makes absl::Mutex ~3.5x slower than the release build users run.
  static const bool once = [] {
    absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
    return true;
  }();
  (void)once;
  return run_lock_workload<AbslMutexLockable>(w, ctl);
}

CONTEND_LAB_REGISTER(std_mutex, "std_mutex", "std::mutex",
                     "libstdc++ std::mutex (a pthread mutex: futex, no "
                     "spinning)",
                     false, &run_lock_workload<std::mutex>);
CONTEND_LAB_REGISTER(std_shared_mutex, "std_shared_mutex", "std::shared_mutex",
                     "libstdc++ std::shared_mutex (pthread_rwlock)", true,
                     &run_lock_workload<std::shared_mutex>);
CONTEND_LAB_REGISTER(absl_mutex, "absl_mutex", "absl::Mutex",
                     "Abseil's Mutex (Debian 20220623; deadlock detection "
                     "off)",
                     true, &run_absl_mutex);

}  // namespace
}  // namespace contend::lab
