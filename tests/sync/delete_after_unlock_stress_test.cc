// Copyright 2026 The contend Authors.
//
// Delete-after-last-unlock stress (issue 10, fix 4): a thread that acquires a
// primitive, releases it and deletes it at once must not race the thread
// that released it before, which may still be inside its release call. POSIX
// promises this for mutexes (glibc bug 13690; the same for semaphores, glibc
// bug 12674). Run it under AddressSanitizer, which reports the releaser's
// late access as a heap-use-after-free:
//
//   bazel test --config=asan //tests/sync:delete_after_unlock_stress_test
//
// Each round: thread A creates the object on the heap and acquires it; B
// waits for it with a deadline (retrying until it succeeds), so it parks and
// A's release takes the slow path; A releases; B acquires, releases and
// deletes. The dangerous interleaving is narrow: the waiter must leave its
// park by itself (its deadline) in the few instructions between the
// releaser's releasing RMW and the releaser's queue-lock acquisition, so that
// the releaser finds the queue empty and B is already free to proceed. A
// therefore releases close to B's deadline, at an offset swept across B's
// timer latency, and B runs with minimal timer slack.
//
// Adding a primitive: an adapter struct like the ones below (or an
// ExclusiveCase<Lock, "Name"> for anything with lock/try_lock_until/unlock
// whose ParkingLot key is its own address) and one entry in Cases.

#include <sys/prctl.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "sync/internal/backoff.h"
#include "sync/internal/parking_lot.h"
#include "sync/mutex.h"
#include "sync/rw_mutex.h"
#include "sync/semaphore.h"
#include "tests/testing/stress.h"

// The cases hand locks between threads, which clang's thread-safety analysis
// cannot follow.
#if defined(__clang__)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wthread-safety-analysis"
#endif

namespace contend {
namespace {

using internal::ParkingLot;
using Clock = std::chrono::steady_clock;

// How long each case runs (testing::stress_duration: twice this under a
// sanitizer). A round takes about one B attempt plus the offset: 1,000 to
// 3,000 rounds per second under ASan on the shared 2-core dev VM. There,
// before issue 10's fix, in the runs made while tuning this test (6 s per
// case under ASan), ASan caught the Semaphore in 10 of 10 runs (within 0.4
// to 3.3 s) and the RWMutex reader-then-writer case in 6 of 10.
constexpr auto kCaseDuration = std::chrono::milliseconds(3000);
// B's deadline for its first attempt in a round: long enough to get past the
// spin phase and park on an idle machine. Each attempt that times out
// doubles it, up to kMaxAttempt, so that B still parks when the machine is
// busy (a writer's spin ends in sched_yield, which can take milliseconds).
constexpr auto kFirstAttempt = std::chrono::microseconds(200);
constexpr auto kMaxAttempt = std::chrono::microseconds(12'800);
// A releases at B's deadline plus B's typical lateness (how long after its
// deadline a timed-out attempt returns, a running average that B keeps)
// plus an offset swept over [-kSweepBeforeNs, kSweepAfterNs) in steps of
// kSweepStepNs from round to round: B dequeues itself a little before it
// returns, and its timer latency varies.
constexpr int64_t kSweepBeforeNs = 6'000;
constexpr int64_t kSweepAfterNs = 2'000;
constexpr int64_t kSweepStepNs = 100;
constexpr int64_t kMaxLateNs = 50'000;

// A name usable as a template argument (for ExclusiveCase's test name).
template <size_t N>
struct CaseLabel {
  constexpr CaseLabel(const char (&s)[N]) {  // NOLINT: implicit on purpose
    std::copy_n(s, N, text);
  }
  char text[N];
};

// An exclusive lock: A holds lock(), B waits in try_lock_until(); both
// release with unlock(). The lock's ParkingLot key is its address (its
// state word is the first member).
template <class Lock, CaseLabel kLabel>
struct ExclusiveCase {
  using Primitive = Lock;
  static std::string name() { return kLabel.text; }
  static Lock* make() { return new Lock; }
  static void hold(Lock& mu) { mu.lock(); }
  static void release_held(Lock& mu) { mu.unlock(); }
  static bool acquire_until(Lock& mu, Clock::time_point deadline) {
    return mu.try_lock_until(deadline);
  }
  static void release_acquired(Lock& mu) { mu.unlock(); }
  static const void* park_key(const Lock& mu) { return &mu; }
};

// A holds the write lock, B waits for a read lock (parks on the main key).
struct RWMutexWriterThenReader {
  using Primitive = RWMutex;
  static std::string name() { return "RWMutexWriterThenReader"; }
  static RWMutex* make() { return new RWMutex; }
  static void hold(RWMutex& mu) { mu.lock(); }
  static void release_held(RWMutex& mu) { mu.unlock(); }
  static bool acquire_until(RWMutex& mu, Clock::time_point deadline) {
    return mu.try_lock_shared_until(deadline);
  }
  static void release_acquired(RWMutex& mu) { mu.unlock_shared(); }
  static const void* park_key(const RWMutex& mu) { return &mu; }
};

// A holds a read lock, B is a writer that claims the lock and waits for A to
// leave (parks on the drain key, the state word's address + 1, see
// rw_mutex.h); A's unlock_shared() is the last reader's, which wakes it.
struct RWMutexReaderThenWriter {
  using Primitive = RWMutex;
  static std::string name() { return "RWMutexReaderThenWriter"; }
  static RWMutex* make() { return new RWMutex; }
  static void hold(RWMutex& mu) { mu.lock_shared(); }
  static void release_held(RWMutex& mu) { mu.unlock_shared(); }
  static bool acquire_until(RWMutex& mu, Clock::time_point deadline) {
    return mu.try_lock_until(deadline);
  }
  static void release_acquired(RWMutex& mu) { mu.unlock(); }
  static const void* park_key(const RWMutex& mu) {
    return reinterpret_cast<const char*>(&mu) + 1;
  }
};

// A binary semaphore: A holds its one token, B waits for it.
struct SemaphoreCase {
  using Primitive = Semaphore;
  static std::string name() { return "Semaphore"; }
  static Semaphore* make() { return new Semaphore(1); }
  static void hold(Semaphore& s) { s.acquire(1); }
  static void release_held(Semaphore& s) { s.release(1); }
  static bool acquire_until(Semaphore& s, Clock::time_point deadline) {
    return s.try_acquire_until(1, deadline);
  }
  static void release_acquired(Semaphore& s) { s.release(1); }
  static const void* park_key(const Semaphore& s) { return &s; }
};

using Cases = ::testing::Types<
    ExclusiveCase<Mutex, "Mutex">, ExclusiveCase<RWMutex, "RWMutexExclusive">,
    RWMutexWriterThenReader, RWMutexReaderThenWriter, SemaphoreCase>;

struct CaseName {
  template <class Case>
  static std::string GetName(int) {
    return Case::name();
  }
};

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             Clock::now().time_since_epoch())
      .count();
}

template <class Case>
class DeleteAfterUnlockStressTest : public ::testing::Test {};
TYPED_TEST_SUITE(DeleteAfterUnlockStressTest, Cases, CaseName);

TYPED_TEST(DeleteAfterUnlockStressTest, LastAcquirerDeletesRightAfterRelease) {
  using Case = TypeParam;
  using P = typename Case::Primitive;
  std::atomic<uint64_t> progress{0};
  testing::Watchdog dog(progress);

  // A -> B: this round's object. B -> A: the deadline of B's current
  // attempt, B's lateness estimate, and the last round whose object B
  // deleted.
  std::atomic<P*> handoff{nullptr};
  std::atomic<int64_t> b_deadline_ns{0};
  std::atomic<int64_t> b_late_ns{0};
  std::atomic<uint64_t> deleted_round{0};
  std::atomic<bool> stop{false};

  std::thread b([&] {
    // Timers fire when asked (default slack is 50 us), so that A's sweep
    // lines its release up with B's timeout.
    (void)prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
    int64_t late_ns = 0;
    for (uint64_t round = 1;; ++round) {
      P* p;
      // Acquire: pairs with A's release store, so *p is constructed and
      // held before B touches it.
      while ((p = handoff.exchange(nullptr, std::memory_order_acquire)) ==
             nullptr) {
        // Relaxed: only ends the loop; nothing is read under it.
        if (stop.load(std::memory_order_relaxed)) return;
        std::this_thread::yield();
      }
      for (auto attempt = kFirstAttempt;;
           attempt = std::min(2 * attempt, kMaxAttempt)) {
        const Clock::time_point deadline = Clock::now() + attempt;
        const int64_t deadline_ns =
            std::chrono::duration_cast<std::chrono::nanoseconds>(
                deadline.time_since_epoch())
                .count();
        // Relaxed (both stores): A uses them to aim its release; a stale
        // value only aims worse.
        b_deadline_ns.store(deadline_ns, std::memory_order_relaxed);
        if (Case::acquire_until(*p, deadline)) break;
        // A running average of the lateness, with the outliers of a busy
        // machine (a preempted B returns milliseconds late) clipped.
        late_ns += (std::min(now_ns() - deadline_ns, kMaxLateNs) - late_ns) / 8;
        b_late_ns.store(late_ns, std::memory_order_relaxed);
      }
      Case::release_acquired(*p);
      delete p;  // A may still be inside its release call: the test
      // Release: pairs with A's acquire load; A creates the next object.
      deleted_round.store(round, std::memory_order_release);
      // Relaxed: a progress counter for the watchdog.
      progress.fetch_add(1, std::memory_order_relaxed);
    }
  });

  const testing::StressDeadline run_until(
      testing::stress_duration(kCaseDuration));
  uint64_t rounds = 0;
  while (run_until.running()) {
    ++rounds;
    P* const p = Case::make();
    Case::hold(*p);
    // Release: pairs with B's acquire exchange.
    handoff.store(p, std::memory_order_release);
    // Bounded by the watchdog: B parks within a few attempts. Yields, so
    // that B gets the CPU it needs to get there.
    while (ParkingLot::waiter_count(Case::park_key(*p)) == 0) {
      std::this_thread::yield();
    }
    const int64_t offset = static_cast<int64_t>(rounds) * kSweepStepNs %
                               (kSweepBeforeNs + kSweepAfterNs) -
                           kSweepBeforeNs;
    // Relaxed: see the stores.
    const int64_t release_at = b_deadline_ns.load(std::memory_order_relaxed) +
                               b_late_ns.load(std::memory_order_relaxed) +
                               offset;
    while (now_ns() < release_at) internal::cpu_relax();
    Case::release_held(*p);
    // *p may be gone from here on; A never looks at it again.
    // Acquire: pairs with B's release store (B is done with this round).
    while (deleted_round.load(std::memory_order_acquire) != rounds) {
      std::this_thread::yield();
    }
  }
  // Relaxed: B polls it; the join orders the rest.
  stop.store(true, std::memory_order_relaxed);
  b.join();
  // Relaxed: B has been joined.
  std::printf(
      "%s: %llu rounds, B's timeouts returned ~%lld ns late\n",
      Case::name().c_str(), static_cast<unsigned long long>(rounds),
      static_cast<long long>(b_late_ns.load(std::memory_order_relaxed)));
}

}  // namespace
}  // namespace contend

#if defined(__clang__)
#pragma clang diagnostic pop
#endif
