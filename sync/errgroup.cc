// Copyright 2026 The contend Authors.
//
// ErrGroup: slots, task completion, waiting, failure recording, and the
// default thread-per-task executor.

#include "sync/errgroup.h"

#include <cstdio>
#include <cstdlib>
#include <thread>

#include "sync/internal/fatal.h"
#include "sync/internal/parking_lot.h"

namespace contend {
namespace {

[[noreturn]] void errgroup_misuse(const char* method, const char* what) {
  internal::fatal_format("contend: ErrGroup::%s: %s", method, what);
}

class ThreadPerTaskExecutor final : public ErrGroup::Executor {
 public:
  void execute(absl::AnyInvocable<void() &&> task) override {
    std::thread([t = std::move(task)]() mutable { std::move(t)(); }).detach();
  }
};

// A failure kind is first claimed (kClaimed), then its field is written, then
// the final kind is published with a release store; readers act only on a
// final kind (acquire), so they never race the write.
constexpr uint32_t kClaimed = 3;

}  // namespace

ErrGroup::Executor& ErrGroup::thread_per_task() noexcept {
  static ThreadPerTaskExecutor executor;
  return executor;
}

ErrGroup::ErrGroup(Executor& executor) noexcept
    : executor_(&executor), stop_(std::nostopstate) {}

ErrGroup::ErrGroup(Executor& executor, const std::stop_token* parent)
    : cancel_on_failure_(true), executor_(&executor) {
  if (parent != nullptr) parent_link_.emplace(*parent, Cancel{&stop_});
}

ErrGroup::~ErrGroup() {
  // Relaxed: a hint; wait_idle() re-reads with acquire.
  if ((state_.load(std::memory_order_relaxed) & kRunningMask) != 0) {
    if (cancel_on_failure_) stop_.request_stop();
    wait_idle();
  }
}

void ErrGroup::set_limit(int64_t limit) {
  if (limit == 0) {
    errgroup_misuse("set_limit",
                    "limit 0 (every go() would block forever; use a negative "
                    "limit for no limit)");
  }
  // Relaxed: set_limit must not race go() (documented); this read only
  // detects running tasks started earlier by this or a synchronized thread.
  if ((state_.load(std::memory_order_relaxed) & kRunningMask) != 0) {
    errgroup_misuse("set_limit", "called while tasks are running");
  }
  // Relaxed: go() runs after us on this thread or after synchronization.
  limit_.store(limit, std::memory_order_relaxed);
}

bool ErrGroup::try_acquire_slot() noexcept {
  // Relaxed throughout: the slot count needs only RMW atomicity; the task's
  // hand-off to the executor orders go() before the task.
  uint64_t s = state_.load(std::memory_order_relaxed);
  for (;;) {
    const int64_t limit = limit_.load(std::memory_order_relaxed);
    const uint64_t running = s & kRunningMask;
    if (limit >= 0 && running >= static_cast<uint64_t>(limit)) return false;
    if (running == kRunningMask)
      errgroup_misuse("go", "too many running tasks");
    if (state_.compare_exchange_weak(s, s + 1, std::memory_order_relaxed,
                                     std::memory_order_relaxed)) {
      return true;
    }
  }
}

void ErrGroup::acquire_slot() {
  internal::ParkOptions options;
  options.kind = internal::WaitKind::kErrGroup;
  while (!try_acquire_slot()) {
    internal::ParkingLot::park(
        &limit_,
        [this] {
          // Under &limit_'s queue lock (INV-EG-2). Relaxed: the CAS
          // re-validates, and finish_task's unpark_one takes this lock after
          // its decrement.
          uint64_t s = state_.load(std::memory_order_relaxed);
          for (;;) {
            const int64_t limit = limit_.load(std::memory_order_relaxed);
            if (limit < 0 ||
                (s & kRunningMask) < static_cast<uint64_t>(limit)) {
              return false;  // a slot is free: retry
            }
            if ((s & kLimitBit) != 0) return true;
            if (state_.compare_exchange_weak(s, s | kLimitBit,
                                             std::memory_order_relaxed,
                                             std::memory_order_relaxed)) {
              return true;
            }
          }
        },
        options);
  }
}

void ErrGroup::launch(absl::AnyInvocable<void() &&> task) {
  try {
    executor_->execute(std::move(task));
  } catch (...) {
    finish_task();  // the task never ran; give its slot back
    throw;
  }
}

void ErrGroup::finish_task() noexcept {
  uint64_t s = state_.load(std::memory_order_relaxed);
  uint64_t next;
  do {
    next = s - 1;
    if ((next & kRunningMask) == 0) next &= ~kWaitBit;  // we wake them below
    // Release: pairs with the acquire loads in wait_idle(); publishes the
    // task's writes and its recorded failure (INV-EG-1).
  } while (!state_.compare_exchange_weak(s, next, std::memory_order_release,
                                         std::memory_order_relaxed));
  // INV-EG-3: from here on, *this may be gone unless a go() caller is parked.
  if ((s & kLimitBit) != 0) {
    internal::ParkingLot::unpark_one(
        &limit_, [this](const internal::UnparkResult& r) -> uintptr_t {
          // Only when we dequeued someone: that thread is inside go(), so
          // the group is alive (INV-EG-2). A stale bit left by an empty
          // queue is cleared by a later wake.
          if (r.unparked != 0 && !r.have_more) {
            // Relaxed RMW: publishes nothing; keeps INV-EG-1.
            state_.fetch_and(~kLimitBit, std::memory_order_relaxed);
          }
          return internal::kDefaultUnparkToken;
        });
  }
  if ((next & kRunningMask) == 0 && (s & kWaitBit) != 0) {
    internal::ParkingLot::unpark_all(&state_);  // by address only
  }
}

void ErrGroup::wait_idle() noexcept {
  // Acquire: pairs with the release CAS in finish_task().
  if ((state_.load(std::memory_order_acquire) & kRunningMask) == 0) return;
  internal::ParkOptions options;
  options.kind = internal::WaitKind::kErrGroup;
  for (;;) {
    internal::ParkingLot::park(
        &state_,
        [this] {
          // Under &state_'s queue lock; the finish that makes zero clears
          // kWaitBit in its CAS and then takes this lock in unpark_all.
          uint64_t s = state_.load(std::memory_order_relaxed);
          for (;;) {
            if ((s & kRunningMask) == 0) return false;
            if ((s & kWaitBit) != 0) return true;
            if (state_.compare_exchange_weak(s, s | kWaitBit,
                                             std::memory_order_relaxed,
                                             std::memory_order_relaxed)) {
              return true;
            }
          }
        },
        options);
    // Woken by the zero, or a new batch started meanwhile (then park again),
    // or spurious. Acquire: pairs with finish_task's release CAS.
    if ((state_.load(std::memory_order_acquire) & kRunningMask) == 0) return;
  }
}

absl::Status ErrGroup::wait() {
  wait_idle();
  if (cancel_on_failure_) stop_.request_stop();  // Go: Wait cancels the ctx
  // Acquire: pairs with the release store in record_*; the field is written
  // before it.
  switch (failure_.load(std::memory_order_acquire)) {
    case kException:
      std::rethrow_exception(exception_);
    case kStatus:
      return status_;
    default:
      return absl::OkStatus();
  }
}

bool ErrGroup::claim_failure() noexcept {
  uint32_t expected = kNone;
  // Relaxed: the claim only elects the writer; publication is the release
  // store in record_*.
  return failure_.compare_exchange_strong(
      expected, kClaimed, std::memory_order_relaxed, std::memory_order_relaxed);
}

void ErrGroup::record_status(absl::Status status) noexcept {
  if (!claim_failure()) return;
  status_ = std::move(status);
  // Release: pairs with the acquire load in wait().
  failure_.store(kStatus, std::memory_order_release);
  if (cancel_on_failure_) stop_.request_stop();
}

void ErrGroup::record_exception(std::exception_ptr e) noexcept {
  if (!claim_failure()) return;
  exception_ = std::move(e);
  // Release: pairs with the acquire load in wait().
  failure_.store(kException, std::memory_order_release);
  if (cancel_on_failure_) stop_.request_stop();
}

}  // namespace contend
