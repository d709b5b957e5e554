// Copyright 2026 The contend Authors.

#include "sync/mutex.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <new>
#include <stop_token>
#include <thread>
#include <type_traits>
#include <vector>

#include "gtest/gtest.h"
#include "sync/internal/clock.h"
#include "sync/internal/parking_lot.h"
#include "sync/internal/thread_id.h"
#include "sync/internal/wait_observer.h"
#include "tests/testing/stress.h"
#include "tests/testing/wait.h"
#include "tests/testing/wait_counter.h"

namespace contend {
namespace {

using internal::monotonic_now_ns;
using std::chrono::milliseconds;

using testing::kScale;

constexpr int64_t kMs = 1'000'000;
// Upper margin for scheduler-dependent timings (2 noisy cores, 2 tests at a
// time, TSan).
constexpr int64_t kSlackNs = 500 * kMs;

// The header's example, kept compiling.
Mutex example_mu;
int example_counter ABSL_GUARDED_BY(example_mu) = 0;
void increment() {
  contend::MutexLock lock(example_mu);
  ++example_counter;
}

constinit Mutex g_constinit_mu;  // constexpr constructor

static_assert(sizeof(Mutex) <= 8);
static_assert(!std::is_copy_constructible_v<Mutex>);
static_assert(!std::is_move_constructible_v<Mutex>);
static_assert(!std::is_copy_assignable_v<Mutex>);
static_assert(!std::is_copy_constructible_v<MutexLock>);

// The ParkingLot key of a Mutex is its state word, the first member.
const void* key_of(const Mutex& mu) { return &mu; }

// Upper time bounds can be missed on a loaded machine through no fault of
// the Mutex: each such test retries its measurement this many times before
// failing (lower bounds are never retried).
constexpr int kAttempts = 3;

TEST(MutexTest, ExampleCompilesAndWorks) {
  increment();
  increment();
  MutexLock lock(example_mu);
  EXPECT_EQ(example_counter, 2);
}

TEST(MutexTest, LockUnlockTryLock) {
  Mutex mu;
  mu.lock();
  EXPECT_FALSE(mu.try_lock());
  std::thread([&] { EXPECT_FALSE(mu.try_lock()); }).join();
  mu.unlock();
  ASSERT_TRUE(mu.try_lock());
  mu.unlock();
  g_constinit_mu.lock();
  g_constinit_mu.unlock();
}

TEST(MutexTest, BlockedLockParksAndIsWokenByUnlock) {
  Mutex mu;
  mu.lock();
  std::atomic<bool> acquired{false};
  std::thread t([&] {
    mu.lock();
    acquired.store(true);
    mu.unlock();
  });
  ASSERT_TRUE(testing::wait_until_parked(key_of(mu), 1));  // spun, then parked
  EXPECT_FALSE(acquired.load());
  mu.unlock();
  t.join();
  EXPECT_TRUE(acquired.load());
  EXPECT_EQ(internal::ParkingLot::waiter_count(key_of(mu)), 0u);
  // Back to the uncontended state: the fast path works again.
  ASSERT_TRUE(mu.try_lock());
  mu.unlock();
}

TEST(MutexTest, TryLockForTimesOutWithinBounds) {
  Mutex mu;
  mu.lock();
  int64_t elapsed = 0;
  const bool in_bounds = testing::within_some_attempt(kAttempts, [&](int) {
    std::thread t([&] {
      const int64_t start = monotonic_now_ns();
      EXPECT_FALSE(mu.try_lock_for(milliseconds(50)));
      elapsed = monotonic_now_ns() - start;
    });
    t.join();
    EXPECT_GE(elapsed, 50 * kMs);  // never early, in any attempt
    return elapsed <= 50 * kMs + kSlackNs;
  });
  EXPECT_TRUE(in_bounds) << "try_lock_for(50 ms) took " << elapsed
                         << " ns in the last of " << kAttempts << " attempts";
  EXPECT_EQ(internal::ParkingLot::waiter_count(key_of(mu)), 0u);
  mu.unlock();
  // The timed-out waiter left no stale state behind.
  ASSERT_TRUE(mu.try_lock());
  mu.unlock();
}

TEST(MutexTest, TryLockUntilBothClocks) {
  Mutex mu;
  mu.lock();
  std::thread t([&] {
    int64_t start = monotonic_now_ns();
    EXPECT_FALSE(
        mu.try_lock_until(std::chrono::steady_clock::now() + milliseconds(30)));
    int64_t elapsed = monotonic_now_ns() - start;
    EXPECT_GE(elapsed, 30 * kMs);
    EXPECT_LE(elapsed, 30 * kMs + kSlackNs);
    start = monotonic_now_ns();
    EXPECT_FALSE(
        mu.try_lock_until(std::chrono::system_clock::now() + milliseconds(30)));
    elapsed = monotonic_now_ns() - start;
    EXPECT_GE(elapsed, 29 * kMs);  // system_clock has us granularity
    EXPECT_LE(elapsed, 30 * kMs + kSlackNs);
    // Already expired: fails without waiting long.
    start = monotonic_now_ns();
    EXPECT_FALSE(
        mu.try_lock_until(std::chrono::steady_clock::now() - milliseconds(1)));
    EXPECT_LE(monotonic_now_ns() - start, kSlackNs);
  });
  t.join();
  mu.unlock();
}

TEST(MutexTest, TryLockForSucceedsWhenReleasedInTime) {
  Mutex mu;
  mu.lock();
  std::thread t([&] {
    ASSERT_TRUE(mu.try_lock_for(std::chrono::seconds(30)));
    mu.unlock();
  });
  ASSERT_TRUE(testing::wait_until_parked(key_of(mu), 1));
  mu.unlock();
  t.join();
}

TEST(MutexTest, StopTokenCancelsParkedLockPromptly) {
  Mutex mu;
  mu.lock();
  std::stop_source source;
  int64_t returned_at = 0;
  bool got = true;
  std::thread t([&] {
    got = mu.lock(source.get_token());
    returned_at = monotonic_now_ns();
  });
  ASSERT_TRUE(testing::wait_until_parked(key_of(mu), 1));
  const int64_t requested_at = monotonic_now_ns();
  source.request_stop();
  t.join();
  EXPECT_FALSE(got);
  EXPECT_LE(returned_at - requested_at, kSlackNs);
  EXPECT_EQ(internal::ParkingLot::waiter_count(key_of(mu)), 0u);
  mu.unlock();
  ASSERT_TRUE(mu.try_lock());
  mu.unlock();
}

TEST(MutexTest, StopTokenLockAcquiresWhenFreeOrNotStopped) {
  Mutex mu;
  std::stop_source source;
  ASSERT_TRUE(mu.lock(source.get_token()));
  mu.unlock();
  source.request_stop();
  // Free: acquiring does not need to wait, so it succeeds even if stopped.
  ASSERT_TRUE(mu.lock(source.get_token()));
  // Held and already stopped: fails without blocking.
  std::thread([&] {
    const int64_t start = monotonic_now_ns();
    EXPECT_FALSE(mu.lock(source.get_token()));
    EXPECT_LE(monotonic_now_ns() - start, kSlackNs);
  }).join();
  mu.unlock();
  ASSERT_TRUE(mu.try_lock());
  mu.unlock();
}

TEST(MutexTest, WorksWithStdLockTypes) {
  Mutex a;
  Mutex b;
  {
    std::scoped_lock lock(a, b);
    EXPECT_FALSE(a.try_lock());
    EXPECT_FALSE(b.try_lock());
  }
  {
    std::unique_lock<Mutex> lock(a, std::defer_lock);
    ASSERT_TRUE(lock.try_lock_for(milliseconds(10)));
    lock.unlock();
    ASSERT_TRUE(lock.try_lock_until(std::chrono::steady_clock::now() +
                                    milliseconds(10)));
  }
  ASSERT_TRUE(a.try_lock());
  a.unlock();
  ASSERT_TRUE(b.try_lock());
  b.unlock();
}

TEST(MutexTest, WorksWithConditionVariableAny) {
  Mutex mu;
  std::condition_variable_any cv;
  int stage = 0;  // guarded by mu
  std::thread t([&] {
    std::unique_lock<Mutex> lock(mu);
    cv.wait(lock, [&] { return stage == 1; });
    stage = 2;
    cv.notify_all();
  });
  {
    std::unique_lock<Mutex> lock(mu);
    stage = 1;
    cv.notify_all();
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(30),
                            [&] { return stage == 2; }));
  }
  t.join();
}

TEST(MutexTest, LabelIsRegisteredAndCleared) {
  // Placement new so the storage (and the key address) outlives the Mutex.
  alignas(Mutex) unsigned char storage[sizeof(Mutex)];
  Mutex* mu = new (storage) Mutex("cache.shard");
  EXPECT_STREQ(internal::wait_label(storage), "cache.shard");
  mu->lock();
  mu->unlock();
  mu->~Mutex();
  EXPECT_EQ(internal::wait_label(storage), nullptr);
  Mutex unlabeled;
  EXPECT_EQ(internal::wait_label(key_of(unlabeled)), nullptr);
}

// A Mutex is not tied to a thread (Go semantics): another thread may unlock.
TEST(MutexTest, UnlockFromAnotherThread) {
  Mutex mu;
  mu.lock();
  std::thread([&] { mu.unlock(); }).join();
  ASSERT_TRUE(mu.try_lock());
  mu.unlock();
}

// Fairness: while one thread re-acquires in a tight loop, another thread's
// acquisitions still complete quickly, because after 1 ms of waiting the
// Mutex enters starvation mode and hands the lock over.
TEST(MutexTest, StarvationModeBoundsWaitOfAThreadThatKeepsLosing) {
  int64_t median = 0;
  int64_t max = 0;
  const bool in_bounds = testing::within_some_attempt(kAttempts, [&](int) {
    Mutex mu;
    std::atomic<bool> stop{false};
    std::atomic<int64_t> hog_iterations{0};
    std::thread hog([&] {
      while (!stop.load(std::memory_order_relaxed)) {
        mu.lock();
        // ~100 us inside: the victim's spin (a few us) after each wakeup
        // never overlaps the hog's ~50 ns gap between unlock and lock, so
        // without starvation mode the victim would lose every race.
        const int64_t until = monotonic_now_ns() + 100'000;
        while (monotonic_now_ns() < until) {
        }
        mu.unlock();
        hog_iterations.fetch_add(1, std::memory_order_relaxed);
      }
    });
    EXPECT_TRUE(testing::wait_until([&] { return hog_iterations.load() >= 10; },
                                    "the hog locked 10 times"));
    const int kSamples = 50 / kScale + 5;
    std::vector<int64_t> latency;
    for (int i = 0; i < kSamples; ++i) {
      const int64_t start = monotonic_now_ns();
      mu.lock();
      latency.push_back(monotonic_now_ns() - start);
      mu.unlock();
      std::this_thread::sleep_for(milliseconds(2));
    }
    stop.store(true);
    hog.join();
    std::sort(latency.begin(), latency.end());
    median = latency[latency.size() / 2];
    max = latency.back();
    std::printf("victim acquisition latency: median %.3f ms, max %.3f ms\n",
                static_cast<double>(median) / 1e6,
                static_cast<double>(max) / 1e6);
    // Starvation mode triggers at 1 ms; allow for wakeup and scheduling
    // noise.
    return median <= 20 * kMs && max <= kSlackNs;
  });
  EXPECT_TRUE(in_bounds) << "the losing thread waited median " << median
                         << " ns, max " << max << " ns in the last of "
                         << kAttempts << " attempts";
}

// INV-F: two threads that keep handing the lock back and forth while
// spinning (so every unlock finds an awake spinner and wakes nobody) must not
// starve a thread that parked: every 2048th skipped wakeup wakes it anyway,
// and once it has waited 1 ms it re-parks with starvation mode on. The
// spinners hold for ~1 us, so the victim usually exhausts its spin budget
// and parks; without INV-F only a preemption of a spinner breaks the chain.
// On the 2-vCPU reference VM preemption comes within milliseconds anyway
// (measured with the forced wake disabled: max 3.8 ms; enabled: 0.44 ms), so
// this test guards the bound end to end; EveryKthSkippedWakeupWakesTheQueueHead
// below isolates INV-F deterministically.
TEST(MutexTest, ParkedWaiterIsServedWhileSpinnersAlternate) {
  int failed = 0;
  int64_t median = 0;
  int64_t max = 0;
  const bool in_bounds = testing::within_some_attempt(kAttempts, [&](int) {
    Mutex mu;
    std::atomic<bool> stop{false};
    std::atomic<uint64_t> rounds{0};
    uint64_t shared = 0;  // guarded by mu
    auto spinner = [&] {
      while (!stop.load(std::memory_order_relaxed)) {
        mu.lock();
        const int64_t until = monotonic_now_ns() + 1000;
        while (monotonic_now_ns() < until) {
        }
        ++shared;
        mu.unlock();
        rounds.fetch_add(1, std::memory_order_relaxed);
      }
    };
    std::thread a(spinner);
    std::thread b(spinner);
    EXPECT_TRUE(testing::wait_until([&] { return rounds.load() >= 100; },
                                    "the spinners alternated 100 times"));
    const int kSamples = 20 / kScale + 3;
    std::vector<int64_t> latency;
    failed = 0;
    for (int i = 0; i < kSamples; ++i) {
      const int64_t start = monotonic_now_ns();
      // Bounded, so that a starving victim fails the test instead of
      // hanging.
      if (!mu.try_lock_for(std::chrono::nanoseconds(2 * kSlackNs))) {
        ++failed;
        continue;
      }
      latency.push_back(monotonic_now_ns() - start);
      ++shared;
      mu.unlock();
      std::this_thread::sleep_for(milliseconds(2));
    }
    stop.store(true);
    a.join();
    b.join();
    if (latency.empty()) return false;
    std::sort(latency.begin(), latency.end());
    median = latency[latency.size() / 2];
    max = latency.back();
    std::printf("victim vs spinners: median %.3f ms, max %.3f ms\n",
                static_cast<double>(median) / 1e6,
                static_cast<double>(max) / 1e6);
    return failed == 0 && median <= 20 * kMs && max <= kSlackNs;
  });
  EXPECT_TRUE(in_bounds) << "a parked waiter starved behind two spinners: "
                         << failed << " acquisitions timed out, median "
                         << median << " ns, max " << max
                         << " ns in the last of " << kAttempts << " attempts";
}

}  // namespace

// White-box access to the state word (friend of Mutex).
class MutexTestPeer {
 public:
  // Sets / clears kWoken as a spinning lock() would (INV-W in mutex.cc).
  // Relaxed: the bit carries no data (as in lock_slow).
  static void claim_woken(Mutex& mu) {
    mu.state_.fetch_or(Mutex::kWoken, std::memory_order_relaxed);
  }
  static void release_woken(Mutex& mu) {
    mu.state_.fetch_and(~Mutex::kWoken, std::memory_order_relaxed);
  }
  static constexpr int kForcedWakeInterval = Mutex::kForcedWakeInterval;
  // Wakes the queue head as a forced wake does (kTokenForced: it competes
  // for the lock without owning kWoken) while the Mutex stays held, so the
  // woken thread is sure to lose and park again.
  static size_t wake_head_forced(Mutex& mu) {
    return internal::ParkingLot::unpark_one(
               &mu.state_,
               [](const internal::UnparkResult&) -> uintptr_t {
                 return Mutex::kTokenForced;
               })
        .unparked;
  }
  static bool starving(const Mutex& mu) {
    // Relaxed: a test probe of a bit, polled until it is set.
    return (mu.state_.load(std::memory_order_relaxed) & Mutex::kStarving) != 0;
  }
};

namespace {

// INV-F, deterministically. A thread spinning in lock_slow() claims kWoken,
// and unlock() then wakes nobody; the test plays that spinner by setting the
// bit itself (MutexTestPeer), so that every unlock below is a skipped wakeup
// while the victim stays parked. The 2048th skipped wakeup must dequeue the
// victim anyway, inside that unlock(). Without INV-F it stays parked.
TEST(MutexTest, EveryKthSkippedWakeupWakesTheQueueHead) {
  constexpr int kInterval = MutexTestPeer::kForcedWakeInterval;
  Mutex mu;
  mu.lock();
  std::thread victim([&] {
    mu.lock();
    mu.unlock();
  });
  ASSERT_TRUE(testing::wait_until_parked(key_of(mu), 1));
  MutexTestPeer::claim_woken(mu);  // the simulated spinner
  for (int i = 1; i < kInterval; ++i) {
    mu.unlock();  // skipped wakeup number i: kWoken is claimed
    ASSERT_EQ(internal::ParkingLot::waiter_count(key_of(mu)), 1u) << i;
    // Free, with kWoken still claimed by "the spinner": we barge back in
    // (the parked victim does not compete).
    ASSERT_TRUE(mu.try_lock()) << i;
  }
  mu.unlock();  // skipped wakeup number kInterval: the forced one
  const bool dequeued = internal::ParkingLot::waiter_count(key_of(mu)) == 0;
  EXPECT_TRUE(dequeued) << "the victim is still parked";
  // The simulated spinner gives up its claim; the victim, woken without
  // kWoken (kTokenForced), takes the free lock.
  MutexTestPeer::release_woken(mu);
  if (!dequeued) {
    mu.lock();  // a normal wakeup, so that the failing test still ends
    mu.unlock();
  }
  victim.join();
  EXPECT_TRUE(mu.try_lock());
  mu.unlock();
}

// Starvation mode serves threads in the order they first parked (INV-Q in
// mutex.cc). Three victims park in order V0, V1, V2 and wait > 1 ms. V0 is
// then woken while the Mutex stays held, loses, and parks again -- which
// turns starvation on. It must park at the head of the queue (Go's LIFO
// requeue), not behind V1 and V2, and be judged by the time since its first
// park; then the handoffs go V0, V1, V2. (Before the fix: V1, V2, V0.)
TEST(MutexTest, StarvationModeServesThreadsInFirstParkOrder) {
  Mutex mu;
  std::vector<int> order;  // guarded by mu
  mu.lock();
  std::vector<std::thread> victims;
  for (int v = 0; v < 3; ++v) {
    victims.emplace_back([&, v] {
      mu.lock();
      order.push_back(v);
      mu.unlock();
    });
    ASSERT_TRUE(
        testing::wait_until_parked(key_of(mu), static_cast<size_t>(v) + 1));
  }
  // Wait for the state "every victim has waited > 1 ms", not for a clock.
  const int64_t parked_at = internal::monotonic_now_ns();
  while (internal::monotonic_now_ns() - parked_at < 2'000'000) {
    std::this_thread::yield();
  }
  ASSERT_EQ(MutexTestPeer::wake_head_forced(mu), 1u);
  // V0 spins on the held Mutex, then parks again and turns starvation on.
  ASSERT_TRUE(testing::wait_until(
      [&] {
        return MutexTestPeer::starving(mu) &&
               internal::ParkingLot::waiter_count(key_of(mu)) == 3;
      },
      "starvation mode on with V0 parked again (3 parked)"));
  ASSERT_TRUE(MutexTestPeer::starving(mu));
  ASSERT_EQ(internal::ParkingLot::waiter_count(key_of(mu)), 3u);
  mu.unlock();  // hands off to the queue head, and so on down the queue
  for (auto& t : victims) t.join();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2}));
  EXPECT_FALSE(MutexTestPeer::starving(mu));
  EXPECT_TRUE(mu.try_lock());
  mu.unlock();
}

// The WaitObserver sees Mutex waits with kind kMutex and a contended unlock
// charges the releaser for the time the waiter spent parked.
TEST(MutexTest, ContendedUnlockIsReportedToObserver) {
  Mutex mu;
  testing::WaitCounter waits(key_of(mu));
  mu.lock();
  std::thread t([&] {
    mu.lock();
    mu.unlock();
  });
  ASSERT_TRUE(testing::wait_until_parked(key_of(mu), 1));
  // Waiting for the clock on purpose: the delay charged is what is tested.
  std::this_thread::sleep_for(milliseconds(20));
  mu.unlock();
  t.join();
  EXPECT_GE(
      waits.ended(internal::WaitKind::kMutex, internal::ParkStatus::kUnparked),
      1);
  EXPECT_GE(waits.releases(internal::WaitKind::kMutex), 1);
  EXPECT_EQ(waits.last_release_key(internal::WaitKind::kMutex), key_of(mu));
  EXPECT_GE(waits.last_release_delay_ns(internal::WaitKind::kMutex), 20 * kMs);
}

using MutexDeathTest = ::testing::Test;

TEST(MutexDeathTest, UnlockOfUnlockedMutexDies) {
  EXPECT_DEATH(
      {
        Mutex mu;
        mu.unlock();
      },
      "contend: Mutex::unlock: unlock of unlocked Mutex");
  EXPECT_DEATH(
      {
        Mutex mu;
        mu.lock();
        mu.unlock();
        mu.unlock();
      },
      "contend: Mutex::unlock: unlock of unlocked Mutex");
}

TEST(MutexDeathTest, DestroyingLockedMutexDiesInDebug) {
#ifdef NDEBUG
  GTEST_SKIP() << "debug-only check";
#else
  EXPECT_DEATH(
      {
        auto* mu = new Mutex;
        mu->lock();
        delete mu;
      },
      "contend: Mutex::~Mutex: destroyed while locked");
#endif
}

}  // namespace
}  // namespace contend
