// Copyright 2026 The contend Authors.

#include "sync/once.h"

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "sync/internal/parking_lot.h"
#include "sync/internal/wait_observer.h"
#include "tests/testing/wait.h"
#include "tests/testing/wait_counter.h"

namespace contend {
namespace {

using internal::ParkingLot;

#if defined(CONTEND_TSAN) || defined(__SANITIZE_THREAD__) || \
    defined(CONTEND_EMULATED)
constexpr int kRounds = 5;
#else
constexpr int kRounds = 50;
#endif

// --- Header examples, compiled -------------------------------------------

struct Config {
  int port;
};
Config load_config() { return Config{8080}; }

constinit Once config_once;
Config* config = nullptr;
const Config& get_config() {
  config_once.call([] { config = new Config(load_config()); });
  return *config;
}

int install_count = 0;
void install_log_sink() { ++install_count; }

int parse_port(const char* s) { return s == nullptr ? 80 : std::stoi(s); }

TEST(OnceExample, ConfigOnce) {
  EXPECT_EQ(get_config().port, 8080);
  const Config* first = &get_config();
  EXPECT_EQ(&get_config(), first);
}

TEST(OnceExample, OnceFuncAndValue) {
  contend::OnceFunc init_logging([] { install_log_sink(); });
  init_logging();
  init_logging();
  EXPECT_EQ(install_count, 1);

  contend::OnceValue port([] { return parse_port(nullptr); });
  EXPECT_EQ(port(), 80);
}

// --- Once ----------------------------------------------------------------

static_assert(sizeof(Once) <= 4);

TEST(Once, RunsOnlyOnceSequentially) {
  Once once;
  int runs = 0;
  once.call([&] { ++runs; });
  once.call([&] { ++runs; });
  once.call([&] { runs += 100; });
  EXPECT_EQ(runs, 1);
}

TEST(Once, ForwardsArguments) {
  Once once;
  int out = 0;
  once.call([](int& o, int a, int b) { o = a + b; }, out, 2, 3);
  EXPECT_EQ(out, 5);
}

constinit Once global_once;  // constexpr constructor: constant-initialized
TEST(Once, ConstinitGlobal) {
  int runs = 0;
  global_once.call([&] { ++runs; });
  global_once.call([&] { ++runs; });
  EXPECT_EQ(runs, 1);
}

class OnceContention : public ::testing::TestWithParam<int> {};

// Exactly one f runs under N contending threads, and each caller sees f's
// plain (non-atomic) writes when call() returns -- TSan checks the edge.
TEST_P(OnceContention, ExactlyOnceWithHappensBefore) {
  const int threads = GetParam();
  for (int round = 0; round < kRounds; ++round) {
    Once once;
    int runs = 0;         // plain: only f writes it
    std::string payload;  // plain: written by f, read by every caller
    std::atomic<int> ready{0};
    std::atomic<bool> go{false};
    std::atomic<int> bad{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&] {
        ready.fetch_add(1, std::memory_order_relaxed);
        while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
        once.call([&] {
          ++runs;
          // Long enough that the others find it running and park.
          std::this_thread::sleep_for(std::chrono::microseconds(200));
          payload = "initialized";
        });
        if (payload != "initialized") bad.fetch_add(1);
      });
    }
    while (ready.load(std::memory_order_relaxed) != threads) {
      std::this_thread::yield();
    }
    go.store(true, std::memory_order_release);
    for (auto& th : pool) th.join();
    EXPECT_EQ(runs, 1);
    EXPECT_EQ(bad.load(), 0);
  }
}

INSTANTIATE_TEST_SUITE_P(Threads, OnceContention,
                         ::testing::Values(2, 4, 8, 16, 32, 64));

// Waiters block (in the ParkingLot, on the Once's word) until f returns, and
// every call() returns only after f finished.
TEST(Once, CallersWaitForTheRunningF) {
  Once once;
  std::atomic<bool> release_f{false};
  std::atomic<bool> f_running{false};
  std::atomic<bool> f_finished{false};
  std::atomic<int> returned_early{0};
  std::thread runner([&] {
    once.call([&] {
      f_running = true;
      while (!release_f.load(std::memory_order_acquire)) {
        std::this_thread::yield();
      }
      f_finished.store(true, std::memory_order_release);
    });
  });
  // The runner owns the run before the waiters arrive.
  ASSERT_TRUE(testing::wait_until([&] { return f_running.load(); },
                                  "the runner's f is running"));
  std::vector<std::thread> waiters;
  for (int i = 0; i < 3; ++i) {
    waiters.emplace_back([&] {
      once.call([] { ADD_FAILURE() << "second f ran"; });
      if (!f_finished.load(std::memory_order_acquire)) returned_early++;
    });
  }
  ASSERT_TRUE(
      testing::wait_until([&] { return ParkingLot::waiter_count(&once) == 3; },
                          "ParkingLot::waiter_count(&once) == 3"));
  release_f.store(true, std::memory_order_release);
  runner.join();
  for (auto& w : waiters) w.join();
  EXPECT_EQ(returned_early.load(), 0);
  EXPECT_EQ(ParkingLot::waiter_count(&once), 0u);
}

// std::call_once rule: a throwing f leaves the Once not done; the exception
// reaches its caller, and the next call runs its own f.
TEST(Once, ThrowingFIsRetriedByTheNextCaller) {
  Once once;
  int attempts = 0;
  EXPECT_THROW(once.call([&] {
    ++attempts;
    throw std::runtime_error("first");
  }),
               std::runtime_error);
  EXPECT_THROW(once.call([&] {
    ++attempts;
    throw std::runtime_error("second");
  }),
               std::runtime_error);
  once.call([&] { ++attempts; });
  once.call([&] { ++attempts; });
  EXPECT_EQ(attempts, 3);
}

// A waiter parked behind a throwing runner wakes up and runs its own f.
TEST(Once, WaiterTakesOverAfterRunnerThrows) {
  Once once;
  std::atomic<bool> release_f{false};
  std::atomic<bool> f_running{false};
  std::atomic<int> waiter_runs{0};
  std::thread runner([&] {
    EXPECT_THROW(once.call([&] {
      f_running = true;
      while (!release_f.load(std::memory_order_acquire)) {
        std::this_thread::yield();
      }
      throw std::runtime_error("runner failed");
    }),
                 std::runtime_error);
  });
  ASSERT_TRUE(testing::wait_until([&] { return f_running.load(); },
                                  "the runner's f is running"));
  std::thread waiter([&] { once.call([&] { waiter_runs++; }); });
  ASSERT_TRUE(
      testing::wait_until([&] { return ParkingLot::waiter_count(&once) == 1; },
                          "ParkingLot::waiter_count(&once) == 1"));
  release_f.store(true, std::memory_order_release);
  runner.join();
  waiter.join();
  EXPECT_EQ(waiter_runs.load(), 1);
  int later = 0;
  once.call([&] { ++later; });
  EXPECT_EQ(later, 0);
}

// Death tests here run in processes with threads: re-exec instead of fork.
class OnceDeathTest : public ::testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

TEST_F(OnceDeathTest, RecursiveCallTerminates) {
  EXPECT_DEATH(
      {
        Once once;
        once.call([&] { once.call([] {}); });
      },
      "contend: Once::call: recursive call from inside f");
}

// OnceFunc and OnceValue share Once's check (once.h, "Misuse: like Once").
TEST_F(OnceDeathTest, RecursiveOnceFuncTerminates) {
  EXPECT_DEATH(
      {
        std::function<void()> self;
        OnceFunc f([&] { self(); });
        self = [&] { f(); };
        f();
      },
      "contend: Once::call: recursive call from inside f");
}

TEST_F(OnceDeathTest, RecursiveOnceValueTerminates) {
  EXPECT_DEATH(
      {
        std::function<int()> self;
        OnceValue<int> v([&] { return self() + 1; });
        self = [&] { return v(); };
        (void)v();
      },
      "contend: Once::call: recursive call from inside f");
}

// The profiler sees Once waits as WaitKind::kOnce.
TEST(Once, WaitsAreReportedAsKindOnce) {
  Once once;
  testing::WaitCounter waits(&once);
  std::atomic<bool> release_f{false};
  std::atomic<bool> f_running{false};
  std::thread runner([&] {
    once.call([&] {
      f_running = true;
      while (!release_f.load(std::memory_order_acquire)) {
        std::this_thread::yield();
      }
    });
  });
  ASSERT_TRUE(testing::wait_until([&] { return f_running.load(); },
                                  "the runner's f is running"));
  std::thread waiter([&] { once.call([] {}); });
  ASSERT_TRUE(testing::wait_until_parked(&once, 1));
  release_f.store(true, std::memory_order_release);
  runner.join();
  waiter.join();
  EXPECT_EQ(
      waits.ended(internal::WaitKind::kOnce, internal::ParkStatus::kUnparked),
      1);
  EXPECT_EQ(waits.ended(internal::WaitKind::kOnce), 1);
}

// --- OnceFunc ------------------------------------------------------------

TEST(OnceFunc, RunsOnceAndReleasesTheFunction) {
  auto token = std::make_shared<int>(7);
  int runs = 0;
  OnceFunc f([&runs, token] { runs += *token; });
  EXPECT_EQ(token.use_count(), 2);
  f();
  EXPECT_EQ(token.use_count(), 1);  // captures destroyed after the run
  f();
  f();
  EXPECT_EQ(runs, 7);
}

constinit OnceFunc global_func([] {});
TEST(OnceFunc, ConstinitGlobal) { global_func(); }

// Go's rule: a throwing f counts as the run; every call rethrows the very
// same exception object.
TEST(OnceFunc, EveryCallRethrowsTheSameException) {
  int runs = 0;
  OnceFunc f([&] {
    ++runs;
    throw std::runtime_error("boom");
  });
  const std::exception* first = nullptr;
  for (int i = 0; i < 3; ++i) {
    try {
      f();
      ADD_FAILURE() << "no exception";
    } catch (const std::runtime_error& e) {
      EXPECT_STREQ(e.what(), "boom");
      if (first == nullptr) first = &e;
      EXPECT_EQ(&e, first);
    }
  }
  EXPECT_EQ(runs, 1);
}

TEST(OnceFunc, ConcurrentCallersAllRethrow) {
  std::atomic<int> runs{0};
  OnceFunc f([&] {
    runs++;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    throw std::logic_error("bad init");
  });
  std::atomic<int> caught{0};
  std::vector<std::thread> pool;
  for (int i = 0; i < 8; ++i) {
    pool.emplace_back([&] {
      try {
        f();
      } catch (const std::logic_error&) {
        caught++;
      }
    });
  }
  for (auto& t : pool) t.join();
  EXPECT_EQ(runs.load(), 1);
  EXPECT_EQ(caught.load(), 8);
}

// --- OnceValue -----------------------------------------------------------

TEST(OnceValue, ComputesOnceAndReturnsTheSameObject) {
  int runs = 0;
  OnceValue v([&] {
    ++runs;
    return std::string("hello");
  });
  static_assert(std::is_same_v<decltype(v()), const std::string&>);
  const std::string* p = &v();
  EXPECT_EQ(*p, "hello");
  EXPECT_EQ(&v(), p);
  EXPECT_EQ(runs, 1);
}

TEST(OnceValue, ExplicitTypeUsesStdFunction) {
  OnceValue<long> v([] { return 41; });  // int converts to long
  static_assert(
      std::is_same_v<decltype(v), OnceValue<long, std::function<long()>>>);
  EXPECT_EQ(v(), 41L);
}

constinit OnceValue global_value([] { return 42; });
TEST(OnceValue, ConstinitGlobal) { EXPECT_EQ(global_value(), 42); }

TEST(OnceValue, ExceptionIsCachedAndRethrown) {
  int runs = 0;
  OnceValue v([&]() -> int {
    ++runs;
    throw std::out_of_range("no value");
  });
  EXPECT_THROW(v(), std::out_of_range);
  EXPECT_THROW(v(), std::out_of_range);
  EXPECT_EQ(runs, 1);
}

TEST(OnceValue, ExactlyOnceUnderContention) {
  for (int round = 0; round < kRounds; ++round) {
    std::atomic<int> runs{0};
    OnceValue v([&] {
      runs++;
      std::this_thread::sleep_for(std::chrono::microseconds(100));
      return std::vector<int>{1, 2, 3};
    });
    std::atomic<int> bad{0};
    std::vector<std::thread> pool;
    for (int i = 0; i < 16; ++i) {
      pool.emplace_back([&] {
        if (v().size() != 3 || v()[2] != 3) bad++;
      });
    }
    for (auto& t : pool) t.join();
    EXPECT_EQ(runs.load(), 1);
    EXPECT_EQ(bad.load(), 0);
  }
}

}  // namespace
}  // namespace contend
