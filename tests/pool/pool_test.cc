// Copyright 2026 The contend Authors.

#include "pool/pool.h"

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "tests/testing/wait.h"

namespace contend {
namespace {

// The header's example, kept compiling.
TEST(PoolTest, HeaderExample) {
  contend::Pool<std::string>::Options o;
  o.reset = [](std::string& s) { s.clear(); };
  o.accept = [](const std::string& s) { return s.capacity() <= 4096; };
  contend::Pool<std::string> pool(std::move(o));
  {
    auto buf = pool.get();  // empty, maybe with capacity from before
    buf->append("hello");
  }  // back in the pool
  EXPECT_EQ(pool.stats().retained, 1);
}

struct Session {
  std::string user;
  std::vector<int> scratch;
};

Pool<Session>::Options session_options(int* resets) {
  Pool<Session>::Options o;
  o.reset = [resets](Session& s) {
    ++*resets;
    s.user.clear();
    s.scratch.clear();
  };
  return o;
}

// The article's leak: user A's data must never reach user B's request.
TEST(PoolTest, EveryGetIsReset) {
  int resets = 0;
  Pool<Session> pool(session_options(&resets));
  Session* first;
  {
    auto h = pool.get();
    first = &*h;
    h->user = "alice";
    h->scratch = {1, 2, 3};
  }
  auto h = pool.get();
  EXPECT_EQ(&*h, first);  // reused
  EXPECT_EQ(h->user, "");
  EXPECT_TRUE(h->scratch.empty());
  EXPECT_EQ(resets, 2);  // new objects are reset too
  PoolStats s = pool.stats();
  EXPECT_EQ(s.gets, 2);
  EXPECT_EQ(s.hits, 1);
  EXPECT_EQ(s.misses, 1);
  EXPECT_EQ(s.puts, 1);
  EXPECT_EQ(s.retained, 0);
}

TEST(PoolTest, AcceptRejectsOnPut) {
  Pool<std::string>::Options o;
  o.accept = [](const std::string& s) { return s.capacity() <= 64; };
  Pool<std::string> pool(std::move(o));
  { pool.get()->assign(1000, 'x'); }
  { auto h = pool.get(); }
  PoolStats s = pool.stats();
  EXPECT_EQ(s.rejected, 1);
  EXPECT_EQ(s.retained, 1);
  EXPECT_EQ(s.misses, 2);
}

TEST(PoolTest, MaxRetainedBoundsTheCount) {
  Pool<int>::Options o;
  o.max_retained = 2;
  Pool<int> pool(std::move(o));
  {
    auto a = pool.get();
    auto b = pool.get();
    auto c = pool.get();
  }
  PoolStats s = pool.stats();
  EXPECT_EQ(s.retained, 2);
  EXPECT_EQ(s.rejected, 1);
}

TEST(PoolTest, ReleaseKeepsDiscardDestroys) {
  Pool<int> pool;
  std::unique_ptr<int> mine = pool.get().release();
  ASSERT_NE(mine, nullptr);
  { pool.get().discard(); }
  EXPECT_EQ(pool.stats().retained, 0);
  pool.put(std::move(mine));
  EXPECT_EQ(pool.stats().retained, 1);
}

// Go's two-cycle survival: an object survives one trim in the victim
// generation and is freed by the second.
TEST(PoolTest, TrimAgesObjectsOverTwoCycles) {
  Pool<int> pool;
  { auto h = pool.get(); }
  pool.trim();
  EXPECT_EQ(pool.stats().retained, 1);
  { auto h = pool.get(); }  // from the victim generation
  EXPECT_EQ(pool.stats().hits, 1);
  pool.trim();
  pool.trim();
  PoolStats s = pool.stats();
  EXPECT_EQ(s.retained, 0);
  EXPECT_EQ(s.trimmed, 1);
}

TEST(PoolTest, BackgroundTrim) {
  Pool<int>::Options o;
  o.trim_interval = std::chrono::milliseconds(1);
  Pool<int> pool(std::move(o));
  { auto h = pool.get(); }
  ASSERT_TRUE(testing::wait_until([&] { return pool.stats().trimmed == 1; },
                                  "the background trim freed the object"));
  EXPECT_EQ(pool.stats().retained, 0);
}

TEST(PoolTest, ObjectsMoveBetweenThreads) {
  Pool<int> pool;
  std::unique_ptr<int> p;
  std::thread([&] { p = pool.get().release(); }).join();
  pool.put(std::move(p));
  std::thread([&] { EXPECT_TRUE(static_cast<bool>(pool.get())); }).join();
  EXPECT_EQ(pool.stats().hits, 1);
}

TEST(PoolDeathTest, Misuse) {
  Pool<int> pool;
  Pool<int>::Handle empty;
  EXPECT_DEATH((void)*empty, "contend: Pool::Handle::get: empty handle");
  EXPECT_DEATH(pool.put(nullptr), "contend: Pool::put: null object");
#if !defined(NDEBUG)
  EXPECT_DEATH(
      {
        int* raw = pool.get().release().release();
        pool.put(std::unique_ptr<int>(raw));
        pool.put(std::unique_ptr<int>(raw));
      },
      "contend: Pool::put: object already in the pool \\(double put\\)");
#endif
}

#if defined(__SANITIZE_ADDRESS__)
TEST(PoolDeathTest, UseAfterPutIsReportedByAsan) {
  Pool<Session> pool;
  EXPECT_DEATH(
      {
        auto h = pool.get();
        Session* s = &*h;
        h = Pool<Session>::Handle();  // back to the pool: poisoned
        s->scratch.push_back(1);
      },
      "use-after-poison");
}
#endif

}  // namespace
}  // namespace contend
