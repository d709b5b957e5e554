#include "sync/internal/parker.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

#include "gtest/gtest.h"
#include "sync/internal/clock.h"

namespace contend::internal {
namespace {

constexpr int64_t kMs = 1'000'000;

#if defined(__SANITIZE_THREAD__) || defined(CONTEND_TSAN) || \
    defined(CONTEND_EMULATED)
constexpr int kHandoffs = 10'000;
#else
constexpr int kHandoffs = 100'000;
#endif

TEST(ParkerTest, UnparkBeforeParkIsNotLost) {
  Parker p;
  p.unpark();
  const int64_t start = monotonic_now_ns();
  EXPECT_TRUE(p.park(start + 10'000 * kMs));
  EXPECT_LT(monotonic_now_ns() - start, 1'000 * kMs);
}

TEST(ParkerTest, UnparkFromOtherThreadBeforeParkIsNotLost) {
  Parker& me = this_thread_parker();
  std::thread t([&] { me.unpark(); });
  t.join();  // the unpark has certainly happened before park()
  EXPECT_TRUE(me.park(monotonic_now_ns() + 10'000 * kMs));
}

TEST(ParkerTest, PermitIsBinary) {
  Parker p;
  p.unpark();
  p.unpark();
  EXPECT_TRUE(p.park(monotonic_now_ns() + 10'000 * kMs));
  const int64_t start = monotonic_now_ns();
  EXPECT_FALSE(p.park(start + 20 * kMs));
  EXPECT_GE(monotonic_now_ns() - start, 20 * kMs);
}

TEST(ParkerTest, ParkTimeoutRespectsBothBounds) {
  Parker p;
  const int64_t timeout = 50 * kMs;
  const int64_t start = monotonic_now_ns();
  EXPECT_FALSE(p.park(start + timeout));
  const int64_t elapsed = monotonic_now_ns() - start;
  EXPECT_GE(elapsed, timeout);
  EXPECT_LE(elapsed, timeout + 500 * kMs);
  // The timed-out park left no permit and no PARKED state behind.
  p.unpark();
  EXPECT_TRUE(p.park(monotonic_now_ns()));  // permit present: no wait needed
}

TEST(ParkerTest, PastDeadlineWithoutPermitReturnsFalseAtOnce) {
  Parker p;
  const int64_t start = monotonic_now_ns();
  EXPECT_FALSE(p.park(start - 1));
  EXPECT_FALSE(p.park(0));
  EXPECT_LT(monotonic_now_ns() - start, 100 * kMs);
}

TEST(ParkerTest, UnparkWakesABlockedPark) {
  Parker p;
  std::atomic<bool> returned{false};
  bool consumed = false;
  std::thread owner([&] {
    consumed = p.park(monotonic_now_ns() + 30'000 * kMs);
    // Release: pairs with the acquire load below (orders `consumed`).
    returned.store(true, std::memory_order_release);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  // Acquire: pairs with the release store in owner.
  EXPECT_FALSE(returned.load(std::memory_order_acquire));  // still parked
  p.unpark();
  owner.join();
  EXPECT_TRUE(consumed);
}

// Each side hands the turn to the other with unpark() and waits with park().
// `turn` is written with plain (relaxed) stores: the Parker's release/acquire
// must order them, and TSan checks that `data` is never raced.
TEST(ParkerTest, PingPongHandoffsComplete) {
  Parker ping;
  Parker pong;
  int64_t data = 0;  // plain, protected only by the Parker handoff
  std::thread other([&] {
    for (int i = 0; i < kHandoffs; ++i) {
      ASSERT_TRUE(pong.park());
      EXPECT_EQ(data, 2 * i + 1);
      ++data;
      ping.unpark();
    }
  });
  for (int i = 0; i < kHandoffs; ++i) {
    ++data;
    pong.unpark();
    ASSERT_TRUE(ping.park());
    ASSERT_EQ(data, 2 * i + 2);
  }
  other.join();
  EXPECT_EQ(data, 2 * kHandoffs);
}

// The Lifetime promise of unpark(): the parked thread may destroy its Parker
// as soon as park() returns, while the unparker may still be in futex_wake.
// Under TSan/ASan a read of the dead Parker would be reported.
TEST(ParkerTest, ParkerMayDieRightAfterParkReturns) {
#if defined(__SANITIZE_THREAD__) || defined(CONTEND_TSAN) || \
    defined(CONTEND_EMULATED)
  constexpr int kRounds = 2'000;
#else
  constexpr int kRounds = 20'000;
#endif
  std::atomic<Parker*> slot{nullptr};
  std::thread unparker([&] {
    for (int i = 0; i < kRounds; ++i) {
      Parker* p;
      // Acquire: pairs with the release store of the stack Parker's address.
      while ((p = slot.exchange(nullptr, std::memory_order_acquire)) ==
             nullptr) {
        std::this_thread::yield();
      }
      p->unpark();  // p may be dead the moment the exchange inside is done
    }
  });
  for (int i = 0; i < kRounds; ++i) {
    auto* p = new Parker;
    // Release: pairs with the acquire exchange in the unparker.
    slot.store(p, std::memory_order_release);
    ASSERT_TRUE(p->park());
    delete p;  // may race with futex_wake(&p->state_) -- which is fine
  }
  unparker.join();
}

TEST(ParkerTest, ThisThreadParkerIsPerThread) {
  Parker* mine = &this_thread_parker();
  EXPECT_EQ(mine, &this_thread_parker());
  Parker* theirs = nullptr;
  std::thread t([&] { theirs = &this_thread_parker(); });
  t.join();
  EXPECT_NE(mine, theirs);
}

TEST(ParkerDeathTest, ConcurrentParkIsFatal) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        Parker p;
        std::thread t([&] { p.park(); });
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        p.park();  // whichever of the two arrives second dies
        t.join();
      },
      "contend: Parker::park: called concurrently by two threads");
}

// The header's example, kept compiling.
TEST(ParkerTest, HeaderExample) {
  Parker& me = this_thread_parker();
  std::thread t([&] { me.unpark(); });
  me.park();  // returns true once t's unpark() ran (or had run)
  t.join();
}

}  // namespace
}  // namespace contend::internal
