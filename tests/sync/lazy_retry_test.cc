// Copyright 2026 The contend Authors.

#include "sync/lazy_retry.h"

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "sync/internal/parking_lot.h"
#include "tests/testing/wait.h"

namespace contend {
namespace {

using internal::ParkingLot;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

// The waiters park on the state word, the first member.
template <class T>
size_t parked(const LazyRetry<T>& lazy) {
  return ParkingLot::waiter_count(&lazy);
}

// --- Header example, compiled --------------------------------------------

struct Request {
  std::string body;
};
struct Client {
  static absl::StatusOr<Client> dial(const std::string& addr) {
    return Client{addr};
  }
  absl::Status send(const Request& r) const {
    return r.body.empty() ? absl::InvalidArgumentError("empty")
                          : absl::OkStatus();
  }
  std::string addr;
};

contend::LazyRetry<Client> client([] { return Client::dial("db:5432"); });
absl::Status handle(const Request& r) {
  auto c = client.get();
  if (!c.ok()) return c.status();  // cached failure until the backoff ends
  return c->send(r);
}

TEST(LazyRetryExample, Handle) {
  EXPECT_TRUE(handle(Request{"hi"}).ok());
  EXPECT_EQ(handle(Request{""}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client.get()->addr, "db:5432");
}

// --- Backoff schedule ----------------------------------------------------

TEST(LazyRetryOptions, ExponentialCappedWithJitterBelow) {
  LazyRetryOptions o;
  o.initial_backoff = milliseconds(100);
  o.max_backoff = milliseconds(1000);
  o.multiplier = 2.0;
  o.jitter = 0.5;
  EXPECT_EQ(o.backoff(1, 0.0), milliseconds(100));
  EXPECT_EQ(o.backoff(2, 0.0), milliseconds(200));
  EXPECT_EQ(o.backoff(4, 0.0), milliseconds(800));
  EXPECT_EQ(o.backoff(5, 0.0), milliseconds(1000));  // capped
  EXPECT_EQ(o.backoff(1000, 0.0), milliseconds(1000));
  EXPECT_EQ(o.backoff(1, 0.5), milliseconds(75));
  // u -> 1: the delay approaches (1 - jitter) * d from above.
  EXPECT_GT(o.backoff(5, 0.999999), milliseconds(499));
  EXPECT_LT(o.backoff(5, 0.999999), milliseconds(501));
  o.jitter = 0.0;
  EXPECT_EQ(o.backoff(3, 0.7), milliseconds(400));
}

// A max_backoff near nanoseconds::max() is a "retry never" cap: the delay
// saturates at it instead of overflowing the conversion back to integer
// nanoseconds (2^63 as a double does not fit in int64_t; UBSan under clang
// reports the cast, and x86-64 turns it into INT64_MIN).
TEST(LazyRetryOptions, HugeMaxBackoffSaturatesInsteadOfOverflowing) {
  using std::chrono::nanoseconds;
  LazyRetryOptions o;
  o.initial_backoff = nanoseconds::max();
  o.max_backoff = nanoseconds::max();
  o.jitter = 0.0;
  EXPECT_EQ(o.backoff(1, 0.0), nanoseconds::max());
  EXPECT_EQ(o.backoff(64, 0.0), nanoseconds::max());
  o.initial_backoff = milliseconds(1);
  EXPECT_EQ(o.backoff(1, 0.0), milliseconds(1));
  EXPECT_EQ(o.backoff(100, 0.0), nanoseconds::max());  // 2^99 ms: capped
  EXPECT_EQ(o.backoff(std::numeric_limits<uint32_t>::max(), 0.0),
            nanoseconds::max());
  o.jitter = 0.5;  // still within [(1 - jitter) * cap, cap]
  EXPECT_GE(o.backoff(100, 0.5), nanoseconds::max() / 4 * 3 - nanoseconds(1));
  EXPECT_LE(o.backoff(100, 0.5), nanoseconds::max());
}

// The schedule is computed in closed form: no loop over past failures, so a
// multiplier of 1 (the delay never reaches the cap) with 2^32 - 1 failures
// costs what one failure costs. Measured on a helper thread with a generous
// bound, so a regression fails instead of running into the test timeout.
TEST(LazyRetryOptions, BackoffCostDoesNotGrowWithTheFailureCount) {
  struct Shared {
    std::atomic<bool> done{false};
    std::chrono::nanoseconds last{0};
  };
  auto shared = std::make_shared<Shared>();
  std::thread([shared] {
    LazyRetryOptions o;
    o.initial_backoff = milliseconds(100);
    o.max_backoff = std::chrono::seconds(30);
    o.multiplier = 1.0;
    o.jitter = 0.0;
    for (uint32_t i = 0; i < 64; ++i) {
      shared->last = o.backoff(std::numeric_limits<uint32_t>::max() - i, 0.0);
    }
    shared->done.store(true, std::memory_order_release);
  }).detach();  // a regression leaves it running; the process ends it
  const auto give_up = steady_clock::now() + std::chrono::seconds(10);
  while (!shared->done.load(std::memory_order_acquire) &&
         steady_clock::now() < give_up) {
    std::this_thread::yield();
  }
  ASSERT_TRUE(shared->done.load(std::memory_order_acquire))
      << "64 backoff() calls took more than 10 s";
  EXPECT_EQ(shared->last, milliseconds(100));
}

// With the cap at nanoseconds::max() a failure is cached for good: the next
// get() returns it without calling init again.
TEST(LazyRetry, HugeMaxBackoffMeansTheFailureStaysCached) {
  LazyRetryOptions o;
  o.initial_backoff = std::chrono::nanoseconds::max();
  o.max_backoff = std::chrono::nanoseconds::max();
  o.jitter = 0.0;
  int calls = 0;
  LazyRetry<int> lazy(
      [&]() -> absl::StatusOr<int> {
        ++calls;
        return absl::UnavailableError("down");
      },
      o);
  EXPECT_EQ(lazy.get().status().code(), absl::StatusCode::kUnavailable);
  const auto again = lazy.get();
  EXPECT_EQ(again.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(again.generation(), 1u);
  EXPECT_EQ(calls, 1);
}

// --- Success -------------------------------------------------------------

#if defined(__x86_64__)
// The figure in the header.
static_assert(sizeof(LazyRetry<int>) == sizeof(std::optional<int>) + 120);
static_assert(sizeof(LazyRetry<std::string>) ==
              sizeof(std::optional<std::string>) + 120);
#endif

TEST(LazyRetry, SuccessIsCachedForever) {
  int calls = 0;
  LazyRetry<std::string> lazy([&]() -> absl::StatusOr<std::string> {
    ++calls;
    return std::string("value");
  });
  EXPECT_EQ(lazy.generation(), 0u);
  auto a = lazy.get();
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*a, "value");
  EXPECT_EQ(a.generation(), 1u);
  for (int i = 0; i < 10; ++i) {
    auto b = lazy.get();
    EXPECT_EQ(&b.value(), &a.value());
    EXPECT_EQ(b.generation(), 1u);
  }
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(lazy.generation(), 1u);
}

TEST(LazyRetry, InitIsDestroyedAfterSuccess) {
  auto token = std::make_shared<int>(3);
  LazyRetry<int> lazy([token]() -> absl::StatusOr<int> { return *token; });
  EXPECT_EQ(token.use_count(), 2);
  EXPECT_EQ(*lazy.get(), 3);
  EXPECT_EQ(token.use_count(), 1);
}

// --- Failure, backoff, retry ---------------------------------------------

TEST(LazyRetry, FailureIsReturnedWithoutRetryInsideTheWindow) {
  int calls = 0;
  LazyRetryOptions o;
  o.initial_backoff = std::chrono::seconds(60);  // the window outlasts the test
  LazyRetry<int> lazy(
      [&]() -> absl::StatusOr<int> {
        ++calls;
        return absl::UnavailableError("dial failed");
      },
      o);
  auto first = lazy.get();
  EXPECT_FALSE(first.ok());
  EXPECT_EQ(first.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(first.generation(), 1u);
  for (int i = 0; i < 5; ++i) {
    auto again = lazy.get();
    EXPECT_EQ(again.status().code(), absl::StatusCode::kUnavailable);
    EXPECT_EQ(again.generation(), 1u);  // the cached attempt, not a new one
  }
  EXPECT_EQ(calls, 1);
}

// The postmortem in *sync — Senior*: the dependency comes back, and the next
// call after the backoff sees it -- unlike a Once, which would cache the error
// forever.
TEST(LazyRetry, RetriesAfterTheBackoffAndThenCachesSuccess) {
  std::atomic<int> calls{0};
  LazyRetryOptions o;
  o.initial_backoff = milliseconds(20);
  o.max_backoff = std::chrono::seconds(60);
  o.multiplier = 50.0;  // second window: 1 s
  o.jitter = 0.0;
  LazyRetry<int> lazy(
      [&]() -> absl::StatusOr<int> {
        const int n = ++calls;
        if (n <= 2) return absl::UnavailableError("down " + std::to_string(n));
        return 42;
      },
      o);
  EXPECT_EQ(lazy.get().generation(), 1u);
  std::this_thread::sleep_for(milliseconds(40));  // > 20 ms window
  auto second = lazy.get();
  EXPECT_FALSE(second.ok());
  EXPECT_EQ(second.status().message(), "down 2");
  EXPECT_EQ(second.generation(), 2u);
  // The second window is 1 s: an immediate retry is refused.
  EXPECT_EQ(lazy.get().generation(), 2u);
  EXPECT_EQ(calls.load(), 2);
  std::this_thread::sleep_for(milliseconds(1100));
  auto third = lazy.get();
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(*third, 42);
  EXPECT_EQ(third.generation(), 3u);
  EXPECT_EQ(lazy.get().generation(), 3u);
  EXPECT_EQ(calls.load(), 3);
}

// --- Concurrency ---------------------------------------------------------

class LazyRetryContention : public ::testing::TestWithParam<int> {};

// Callers that arrive during an attempt wait for it instead of starting their
// own, and all get its value.
TEST_P(LazyRetryContention, ConcurrentCallersShareOneAttempt) {
  const int threads = GetParam();
  std::atomic<int> calls{0};
  std::atomic<bool> release{false};
  LazyRetry<std::vector<int>> lazy([&]() -> absl::StatusOr<std::vector<int>> {
    calls++;
    while (!release.load()) std::this_thread::yield();
    return std::vector<int>{1, 2, 3};
  });
  std::atomic<int> ok{0};
  std::vector<std::thread> pool;
  pool.reserve(static_cast<size_t>(threads));
  for (int i = 0; i < threads; ++i) {
    pool.emplace_back([&] {
      auto r = lazy.get();
      if (r.ok() && r->size() == 3 && r.generation() == 1) ok++;
    });
  }
  ASSERT_TRUE(testing::wait_until(
      [&] {
        return calls.load() == 1 &&
               parked(lazy) == static_cast<size_t>(threads - 1);
      },
      "calls.load() == 1 && parked(lazy) == static_cast<size_t>(threads - 1)"));
  release = true;
  for (auto& t : pool) t.join();
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(ok.load(), threads);
}

INSTANTIATE_TEST_SUITE_P(Threads, LazyRetryContention,
                         ::testing::Values(2, 8, 32));

// Even with no backoff at all, the callers that waited for a failing attempt
// get that attempt's failure; they do not start attempts of their own.
TEST(LazyRetry, WaitersGetTheFailureOfTheAttemptTheyWaitedFor) {
  std::atomic<int> calls{0};
  std::atomic<bool> release{false};
  LazyRetryOptions o;
  o.initial_backoff = std::chrono::nanoseconds(0);
  LazyRetry<int> lazy(
      [&]() -> absl::StatusOr<int> {
        calls++;
        while (!release.load()) std::this_thread::yield();
        return absl::DeadlineExceededError("slow backend");
      },
      o);
  std::atomic<int> saw_gen1_failure{0};
  std::vector<std::thread> pool;
  pool.reserve(6);
  for (int i = 0; i < 6; ++i) {
    pool.emplace_back([&] {
      auto r = lazy.get();
      if (!r.ok() && r.generation() == 1 &&
          r.status().code() == absl::StatusCode::kDeadlineExceeded) {
        saw_gen1_failure++;
      }
    });
  }
  ASSERT_TRUE(testing::wait_until(
      [&] { return calls.load() == 1 && parked(lazy) == 5; },
      "calls.load() == 1 && parked(lazy) == 5"));
  release = true;
  for (auto& t : pool) t.join();
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(saw_gen1_failure.load(), 6);
}

TEST(LazyRetry, ExceptionReachesTheAttemptsCallersAndIsCachedInTheWindow) {
  std::atomic<int> calls{0};
  std::atomic<bool> release{false};
  LazyRetryOptions o;
  o.initial_backoff = std::chrono::seconds(60);
  LazyRetry<int> lazy(
      [&]() -> absl::StatusOr<int> {
        calls++;
        while (!release.load()) std::this_thread::yield();
        throw std::runtime_error("init blew up");
      },
      o);
  std::atomic<int> caught{0};
  std::vector<std::thread> pool;
  pool.reserve(4);
  for (int i = 0; i < 4; ++i) {
    pool.emplace_back([&] {
      try {
        (void)lazy.get();
      } catch (const std::runtime_error& e) {
        if (std::string(e.what()) == "init blew up") caught++;
      }
    });
  }
  ASSERT_TRUE(testing::wait_until(
      [&] { return calls.load() == 1 && parked(lazy) == 3; },
      "calls.load() == 1 && parked(lazy) == 3"));
  release = true;
  for (auto& t : pool) t.join();
  EXPECT_EQ(caught.load(), 4);
  EXPECT_THROW((void)lazy.get(), std::runtime_error);  // inside the window
  EXPECT_EQ(calls.load(), 1);
}

TEST(LazyRetry, StopTokenLetsAWaiterLeaveWithoutCancellingTheAttempt) {
  std::atomic<bool> release{false};
  LazyRetry<int> lazy([&]() -> absl::StatusOr<int> {
    while (!release.load()) std::this_thread::yield();
    return 7;
  });
  std::thread runner([&] { EXPECT_EQ(*lazy.get(), 7); });
  ASSERT_TRUE(testing::wait_until([&] { return lazy.generation() == 1; },
                                  "lazy.generation() == 1"));
  std::stop_source source;
  std::atomic<int> code{-1};
  std::atomic<uint64_t> gen{0};
  std::thread waiter([&] {
    auto r = lazy.get(source.get_token());
    code = static_cast<int>(r.status().code());
    gen = r.generation();
  });
  ASSERT_TRUE(testing::wait_until([&] { return parked(lazy) == 1; },
                                  "parked(lazy) == 1"));
  source.request_stop();
  waiter.join();
  EXPECT_EQ(code.load(), static_cast<int>(absl::StatusCode::kCancelled));
  EXPECT_EQ(gen.load(), 1u);
  release = true;
  runner.join();
  EXPECT_EQ(*lazy.get(), 7);
}

// --- Misuse --------------------------------------------------------------

class LazyRetryDeathTest : public ::testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

TEST_F(LazyRetryDeathTest, ValueOfAFailedResult) {
  LazyRetry<int> lazy(
      []() -> absl::StatusOr<int> { return absl::NotFoundError("nope"); });
  auto r = lazy.get();
  EXPECT_DEATH((void)r.value(),
               "contend: LazyRetry::Result::value: result is not OK");
  EXPECT_DEATH((void)*r, "contend: LazyRetry::Result::value: result is not OK");
}

TEST_F(LazyRetryDeathTest, ArrowOfAFailedResult) {
  struct Endpoint {
    int port;
  };
  LazyRetry<Endpoint> lazy([]() -> absl::StatusOr<Endpoint> {
    return absl::UnavailableError("down");
  });
  auto r = lazy.get();
  EXPECT_DEATH((void)r->port,
               "contend: LazyRetry::Result::value: result is not OK");
}

// A multiplier below 1 shrinks the window and NaN or infinity makes the
// schedule meaningless: rejected when the LazyRetry is built.
TEST_F(LazyRetryDeathTest, MultiplierMustBeFiniteAndAtLeastOne) {
  const auto init = []() -> absl::StatusOr<int> { return 1; };
  for (const double bad : {0.5, 0.0, -2.0, std::nan(""),
                           std::numeric_limits<double>::infinity()}) {
    LazyRetryOptions o;
    o.multiplier = bad;
    EXPECT_DEATH(LazyRetry<int>(init, o),
                 "contend: LazyRetry::LazyRetry: multiplier must be finite "
                 "and >= 1")
        << "multiplier " << bad;
  }
  LazyRetryOptions one;
  one.multiplier = 1.0;  // allowed: a constant backoff
  LazyRetry<int> lazy(init, one);
  EXPECT_EQ(*lazy.get(), 1);
}

}  // namespace
}  // namespace contend
