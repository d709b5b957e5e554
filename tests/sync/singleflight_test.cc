// Copyright 2026 The contend Authors.

#include "sync/singleflight.h"

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <map>
#include <mutex>
#include <new>
#include <optional>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "sync/internal/wait_observer.h"
#include "tests/testing/wait.h"

// Allocation-failure injection for this test binary: while
// fail_allocation_of_at_least is non-zero, the first operator new on this
// thread of at least that many bytes resets it and throws std::bad_alloc.
// Every other allocation goes to malloc (the replacement delete frees it).
namespace {
thread_local std::size_t fail_allocation_of_at_least = 0;
}  // namespace

void* operator new(std::size_t n) {
  if (fail_allocation_of_at_least != 0 && n >= fail_allocation_of_at_least) {
    fail_allocation_of_at_least = 0;
    throw std::bad_alloc();
  }
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace contend {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// --- Header example, compiled --------------------------------------------

struct Page {
  std::string html;
};

class PageCache {
 public:
  std::optional<Page> find(const std::string& url) {
    std::lock_guard<std::mutex> l(mu_);
    auto it = pages_.find(url);
    if (it == pages_.end()) return std::nullopt;
    return it->second;
  }
  void put(const std::string& url, const Page& p) {
    std::lock_guard<std::mutex> l(mu_);
    pages_[url] = p;
  }

 private:
  std::mutex mu_;
  std::map<std::string, Page> pages_;
};

PageCache cache;
std::atomic<int> fetches{0};
// The test's stand-in for a slow fetch lasts until this many callers have
// joined the flight (bounded, so a bug fails instead of hanging).
std::atomic<int> slow_fetch_until_callers{1};
contend::Singleflight<std::string, Page> flights;
absl::StatusOr<Page> fetch_and_cache(const std::string& url) {
  fetches++;
  EXPECT_TRUE(testing::wait_until(
      [&] { return flights.callers(url) >= slow_fetch_until_callers.load(); },
      "every caller joined the flight"));
  Page p{"<html>" + url};
  cache.put(url, p);
  return p;
}

absl::StatusOr<Page> get_page(const std::string& url) {
  if (auto hit = cache.find(url)) return *hit;
  auto r = flights.call(url, [&] { return fetch_and_cache(url); });
  return r.value;  // one fetch per URL, however many callers missed
}

TEST(SingleflightExample, OneFetchPerUrl) {
  slow_fetch_until_callers = 8;  // all 8 miss the cache and join one flight
  std::vector<std::thread> pool;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i) {
    pool.emplace_back([&] {
      auto p = get_page("/index");
      if (p.ok() && p->html == "<html>/index") ok++;
    });
  }
  for (auto& t : pool) t.join();
  EXPECT_EQ(ok.load(), 8);
  // The fetch lasted until all 8 had joined: exactly one ran.
  EXPECT_EQ(fetches.load(), 1);
}

// --- Basics --------------------------------------------------------------

TEST(Singleflight, LoneCallRunsFnAndIsNotShared) {
  Singleflight<int, std::string> sf;
  int runs = 0;
  auto r = sf.call(1, [&] {
    ++runs;
    return std::string("one");
  });
  ASSERT_TRUE(r.value.ok());
  EXPECT_EQ(*r.value, "one");
  EXPECT_FALSE(r.shared);
  EXPECT_EQ(sf.callers(1), 0);
  // No caching: a later call runs fn again.
  auto again = sf.call(1, [&]() -> absl::StatusOr<std::string> {
    ++runs;
    return absl::NotFoundError("gone");
  });
  EXPECT_EQ(again.value.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(runs, 2);
}

class SingleflightContention : public ::testing::TestWithParam<int> {};

// N concurrent callers of one key: fn runs once, every caller gets its
// result, and `shared` is true for all -- the followers always, the leader
// because followers received its result.
TEST_P(SingleflightContention, RunsFnOnceForConcurrentCallers) {
  const int n = GetParam();
  Singleflight<std::string, int> sf;
  std::atomic<int> runs{0};
  std::atomic<int> leader_index{-1};
  std::vector<std::optional<Singleflight<std::string, int>::Result>> results(
      static_cast<size_t>(n));
  std::vector<std::thread> pool;
  for (int i = 0; i < n; ++i) {
    pool.emplace_back([&, i] {
      results[static_cast<size_t>(i)] = sf.call("key", [&, i] {
        runs++;
        leader_index = i;
        // Hold the flight open until every caller has joined it.
        EXPECT_TRUE(testing::wait_until([&] { return sf.callers("key") == n; },
                                        "sf.callers(\"key\") == n"));
        return 42;
      });
    });
  }
  for (auto& t : pool) t.join();
  EXPECT_EQ(runs.load(), 1);
  ASSERT_GE(leader_index.load(), 0);
  for (int i = 0; i < n; ++i) {
    const auto& r = results[static_cast<size_t>(i)];
    ASSERT_TRUE(r.has_value());
    ASSERT_TRUE(r->value.ok());
    EXPECT_EQ(*r->value, 42);
    EXPECT_TRUE(r->shared) << (i == leader_index.load() ? "leader"
                                                        : "follower");
  }
  EXPECT_EQ(sf.callers("key"), 0);
}

INSTANTIATE_TEST_SUITE_P(Callers, SingleflightContention,
                         ::testing::Values(2, 8, 32, 64));

TEST(Singleflight, ErrorStatusIsSharedToo) {
  Singleflight<int, int> sf;
  std::atomic<int> runs{0};
  std::atomic<int> got_error{0};
  std::vector<std::thread> pool;
  for (int i = 0; i < 4; ++i) {
    pool.emplace_back([&] {
      auto r = sf.call(7, [&]() -> absl::StatusOr<int> {
        runs++;
        EXPECT_TRUE(testing::wait_until([&] { return sf.callers(7) == 4; },
                                        "sf.callers(7) == 4"));
        return absl::ResourceExhaustedError("quota");
      });
      if (r.value.status().code() == absl::StatusCode::kResourceExhausted &&
          r.shared) {
        got_error++;
      }
    });
  }
  for (auto& t : pool) t.join();
  EXPECT_EQ(runs.load(), 1);
  EXPECT_EQ(got_error.load(), 4);
}

TEST(Singleflight, DifferentKeysFlyIndependently) {
  Singleflight<int, int> sf;
  std::atomic<bool> a_running{false}, b_running{false};
  std::thread a([&] {
    auto r = sf.call(1, [&] {
      a_running = true;
      EXPECT_TRUE(testing::wait_until([&] { return b_running.load(); },
                                      "b_running.load()"));
      return 1;
    });
    EXPECT_EQ(*r.value, 1);
  });
  std::thread b([&] {
    auto r = sf.call(2, [&] {
      b_running = true;
      EXPECT_TRUE(testing::wait_until([&] { return a_running.load(); },
                                      "a_running.load()"));
      return 2;
    });
    EXPECT_EQ(*r.value, 2);
  });
  a.join();
  b.join();
}

// An exception in fn reaches every caller of that flight: the same object.
TEST(Singleflight, ExceptionReachesEveryWaiter) {
  constexpr int kCallers = 6;
  Singleflight<int, int> sf;
  std::atomic<int> runs{0};
  std::atomic<int> caught{0};
  std::mutex mu;
  std::vector<const void*> objects;
  std::vector<std::thread> pool;
  for (int i = 0; i < kCallers; ++i) {
    pool.emplace_back([&] {
      try {
        (void)sf.call(3, [&]() -> int {
          runs++;
          EXPECT_TRUE(
              testing::wait_until([&] { return sf.callers(3) == kCallers; },
                                  "sf.callers(3) == kCallers"));
          throw std::runtime_error("backend exploded");
        });
      } catch (const std::runtime_error& e) {
        caught++;
        std::lock_guard<std::mutex> l(mu);
        objects.push_back(&e);
      }
    });
  }
  for (auto& t : pool) t.join();
  EXPECT_EQ(runs.load(), 1);
  EXPECT_EQ(caught.load(), kCallers);
  for (const void* p : objects) EXPECT_EQ(p, objects.front());
}

// A value large enough that the flight's allocation (make_shared<Flight>,
// which holds an optional<StatusOr<Big>>) is the only allocation of at least
// sizeof(Big) bytes in call(); the map's slots for int keys are far smaller.
using Big = std::array<char, 1 << 14>;

// If allocating the flight fails, call() throws bad_alloc without running fn
// and leaves no trace: the key is not poisoned by an empty map entry.
TEST(Singleflight, FlightAllocationFailureLeavesTheKeyUsable) {
  Singleflight<int, Big> sf;
  int runs = 0;
  auto fn = [&] {
    ++runs;
    Big b{};
    b[0] = 7;
    return b;
  };
  fail_allocation_of_at_least = sizeof(Big);
  EXPECT_THROW((void)sf.call(1, fn), std::bad_alloc);
  ASSERT_EQ(fail_allocation_of_at_least, 0u) << "no allocation was failed";
  EXPECT_EQ(runs, 0);
  EXPECT_EQ(sf.callers(1), 0);    // no flight left in the map
  const auto r = sf.call(1, fn);  // a fresh flight, led by this caller
  ASSERT_TRUE(r.value.ok());
  EXPECT_EQ((*r.value)[0], 7);
  EXPECT_FALSE(r.shared);
  EXPECT_EQ(runs, 1);
}

TEST(Singleflight, ForgetStartsANewFlight) {
  Singleflight<std::string, int> sf;
  std::atomic<bool> release_first{false};
  std::atomic<int> first_result{0};
  std::thread first([&] {
    auto r = sf.call("k", [&] {
      EXPECT_TRUE(testing::wait_until([&] { return release_first.load(); },
                                      "release_first.load()"));
      return 1;
    });
    first_result = *r.value;
  });
  ASSERT_TRUE(testing::wait_until([&] { return sf.callers("k") == 1; },
                                  "sf.callers(\"k\") == 1"));
  sf.forget("k");
  EXPECT_EQ(sf.callers("k"), 0);
  auto second = sf.call("k", [] { return 2; });  // new flight, runs at once
  EXPECT_EQ(*second.value, 2);
  EXPECT_FALSE(second.shared);
  release_first = true;
  first.join();
  EXPECT_EQ(first_result.load(), 1);  // the old flight kept its own result
}

// A follower with a stop_token leaves early; the flight goes on and the
// leader's result is not counted as shared with the leaver.
TEST(Singleflight, StopTokenLetsAFollowerLeaveEarly) {
  Singleflight<int, int> sf;
  std::atomic<bool> release{false};
  std::optional<Singleflight<int, int>::Result> leader_result;
  std::thread leader([&] {
    leader_result = sf.call(9, [&] {
      EXPECT_TRUE(testing::wait_until([&] { return release.load(); },
                                      "release.load()"));
      return 99;
    });
  });
  ASSERT_TRUE(testing::wait_until([&] { return sf.callers(9) == 1; },
                                  "sf.callers(9) == 1"));
  std::stop_source source;
  std::optional<Singleflight<int, int>::Result> follower_result;
  std::thread follower([&] {
    follower_result = sf.call(
        9, [] { return -1; }, source.get_token());
  });
  ASSERT_TRUE(testing::wait_until([&] { return sf.callers(9) == 2; },
                                  "sf.callers(9) == 2"));
  source.request_stop();
  follower.join();
  ASSERT_TRUE(follower_result.has_value());
  EXPECT_EQ(follower_result->value.status().code(),
            absl::StatusCode::kCancelled);
  EXPECT_FALSE(follower_result->shared);
  EXPECT_EQ(sf.callers(9), 1);
  release = true;
  leader.join();
  ASSERT_TRUE(leader_result.has_value());
  EXPECT_EQ(*leader_result->value, 99);
  EXPECT_FALSE(leader_result->shared);  // nobody else received it
}

std::atomic<int> sf_waits{0};
void count_sf_waits(const internal::WaitEvent& e) {
  if (e.kind == internal::WaitKind::kSingleflight) sf_waits.fetch_add(1);
}
const internal::WaitObserver kSfObserver{&count_sf_waits, nullptr};

TEST(Singleflight, WaitsAreReportedAsKindSingleflight) {
  internal::set_wait_observer(&kSfObserver);
  sf_waits = 0;
  Singleflight<int, int> sf;
  std::vector<std::thread> pool;
  for (int i = 0; i < 3; ++i) {
    pool.emplace_back([&] {
      (void)sf.call(1, [&] {
        EXPECT_TRUE(testing::wait_until([&] { return sf.callers(1) == 3; },
                                        "sf.callers(1) == 3"));
        std::this_thread::sleep_for(milliseconds(20));  // let followers park
        return 1;
      });
    });
  }
  for (auto& t : pool) t.join();
  internal::set_wait_observer(nullptr);
  // Two followers; one descheduled past the flight's end never parks.
  EXPECT_GE(sf_waits.load(), 1);
  EXPECT_LE(sf_waits.load(), 2);
}

}  // namespace
}  // namespace contend
