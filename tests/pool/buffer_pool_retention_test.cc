// Copyright 2026 The contend Authors.
//
// The article's retention postmortem as a test: 8 threads serve "PDFs" of
// ~50 KB, a few of them huge. A Go-style pool of growable buffers (what the
// postmortem had: the pool keeps whatever capacity a buffer grew to) ends
// up holding the huge ones; BufferPool's cap frees them on put. RSS is read
// from /proc/self/statm. Sizes are scaled down for CI (8 MB instead of
// 80 MB; CONTEND_RETENTION_BIG_MB overrides) -- the ratio is the point.

#include <malloc.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "pool/buffer_pool.h"
#include "pool/pool.h"
#include "tests/testing/wait.h"

namespace contend {
namespace {

constexpr int kThreads = 8;
constexpr size_t kSmall = 50 * 1000;
constexpr int kRequests = 2000;  // per thread
constexpr int kBigEvery = 1000;  // 0.1%

size_t big_size() {
  const char* mb = std::getenv("CONTEND_RETENTION_BIG_MB");
  return static_cast<size_t>(mb != nullptr ? std::atoi(mb) : 8) << 20;
}

int64_t rss_bytes() {
  std::ifstream f("/proc/self/statm");
  int64_t size = 0, resident = 0;
  f >> size >> resident;
  return resident * static_cast<int64_t>(sysconf(_SC_PAGESIZE));
}

// One request: fill a buffer with the document (every page touched).
template <class Serve>
void run_load(Serve&& serve) {
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; ++t) {
    ts.emplace_back([&, t] {
      for (int i = 0; i < kRequests; ++i) {
        const bool big = (i + t * 97) % kBigEvery == kBigEvery - 1;
        serve(big ? big_size() : kSmall);
      }
    });
  }
  for (auto& t : ts) t.join();
}

TEST(BufferPoolRetention, CapKeepsRssNearTheWorkingSet) {
  if (testing::kSanitizerSlowdown > 1) {
    GTEST_SKIP() << "RSS is not meaningful under a sanitizer (ASan quarantine, "
                    "TSan shadow memory); runs in the plain and -c opt configs";
  }
  // Pin glibc's mmap threshold (it otherwise rises to the size of the last
  // freed mmapped chunk, after which freed 8 MB blocks stay in its arenas):
  // RSS then measures what each pool keeps, not glibc's caching.
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
  malloc_trim(0);
  const int64_t base = rss_bytes();
  int64_t unbounded_delta;
  {
    // Go's sync.Pool of bytes.Buffer: reset keeps the capacity.
    Pool<std::vector<char>>::Options o;
    o.reset = [](std::vector<char>& v) { v.clear(); };
    Pool<std::vector<char>> unbounded(std::move(o));
    run_load([&](size_t n) {
      auto b = unbounded.get();
      b->resize(n);
      std::memset(b->data(), 'x', n);
    });
    malloc_trim(0);
    unbounded_delta = rss_bytes() - base;
  }
  malloc_trim(0);
  const int64_t base2 = rss_bytes();
  int64_t capped_delta;
  {
    BufferPool pool;
    run_load([&](size_t n) {
      BufferPool::Buffer b = pool.get(kSmall);
      b.resize(n);  // a big one grows into an unpooled buffer
      std::memset(b.data(), 'x', n);
    });
    malloc_trim(0);
    capped_delta = rss_bytes() - base2;
  }
  const int64_t working_set = kThreads * int64_t{64 * 1024};
  std::printf(
      "retention: big %zu MB, unbounded pool +%.1f MB RSS, BufferPool +%.2f MB "
      "RSS (%.1f%% of unbounded), live working set %.2f MB\n",
      big_size() >> 20, static_cast<double>(unbounded_delta) / 1e6,
      static_cast<double>(capped_delta) / 1e6,
      100.0 * static_cast<double>(capped_delta) /
          static_cast<double>(unbounded_delta),
      static_cast<double>(working_set) / 1e6);
  EXPECT_GT(unbounded_delta, static_cast<int64_t>(big_size()));
  EXPECT_LE(capped_delta * 10, unbounded_delta);
  EXPECT_LE(capped_delta, 2 * working_set);
}

}  // namespace
}  // namespace contend
