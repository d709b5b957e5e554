// Copyright 2026 The contend Authors.
//
// W7, the config pointer: T reader threads load the current config and read
// a field while one writer publishes a fresh config every ~1 ms. contend's
// Snapshot<T> against the cells C++ users reach for, one binary:
//
//   bazel run -c opt //bench/sync:snapshot_benchmark --
//       --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//   (one command line)
//
// Peers:
//   Bound                 bare atomic<Config*> load, configs never freed (the
//                         unsafe lower bound)
//   Snapshot              contend::Snapshot<Config>::load() (hazard pointer)
//   SnapshotReader        contend::Snapshot<Config>::Reader::load() (one
//                         Reader per reader thread: its own hazard slot)
//   AtomicSharedPtr       std::atomic<std::shared_ptr<const Config>>::load()
//   AtomicLoadSharedPtr   std::atomic_load(const std::shared_ptr*) (C++11 free
//                         functions, deprecated in C++20)
//   SharedMutexCopy       std::shared_mutex read lock + shared_ptr copy
//   Urcu                  liburcu urcu-memb: read_lock, rcu_dereference,
//                         read_unlock; the writer xchg's and waits in
//                         synchronize_rcu before freeing (its usual pattern)
//   Go's atomic.Pointer   the same loop in Go (bench/sync/go_snapshot);
//                         bench/sync/snapshot_vs_go runs both in one go
//
// Time = per reader op (each reader thread's loop). Counters:
//   writer_swaps_per_s    what the writer achieved (target rate 1000/s: a
//                         sleep of 1 ms between swaps); a cell whose writer
//                         is slowed by readers shows it here.

#include <urcu/urcu-memb.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <vector>

#include "benchmark/benchmark.h"
#include "sync/snapshot.h"

namespace contend::bench {
namespace {

struct Config {
  int64_t limit = 0;
  int64_t pad[7] = {};
};

// --- cells: load() returns something pointer-like, store(v) publishes ------

struct BoundCell {
  static constexpr const char* kName = "Bound";
  std::atomic<Config*> p{new Config{}};
  std::vector<Config*> leaked;  // writer thread only; freed at the end
  int64_t read() {
    // Acquire: pairs with the release store in store().
    return p.load(std::memory_order_acquire)->limit;
  }
  void store(int64_t v) {
    // Release: pairs with the acquire load in read().
    leaked.push_back(p.exchange(new Config{v, {}}, std::memory_order_acq_rel));
  }
  ~BoundCell() {
    for (Config* c : leaked) delete c;
    delete p.load(std::memory_order_relaxed);
  }
};

struct SnapshotCell {
  static constexpr const char* kName = "Snapshot";
  contend::Snapshot<Config> s{Config{}};
  int64_t read() { return s.load()->limit; }
  void store(int64_t v) { s.store(Config{v, {}}); }
};

// A Reader per reader thread (its own hazard slot for the whole run): the
// timed loop calls reader(), made once per thread, instead of read().
struct SnapshotReaderCell {
  static constexpr const char* kName = "SnapshotReader";
  contend::Snapshot<Config> s{Config{}};
  struct Reader {
    Snapshot<Config>::Reader r;
    int64_t read() { return r.load().limit; }
  };
  Reader reader() { return Reader{Snapshot<Config>::Reader(s)}; }
  void store(int64_t v) { s.store(Config{v, {}}); }
};

struct AtomicSharedPtrCell {
  static constexpr const char* kName = "AtomicSharedPtr";
  std::atomic<std::shared_ptr<const Config>> p{std::make_shared<Config>()};
  int64_t read() { return p.load(std::memory_order_acquire)->limit; }
  void store(int64_t v) {
    p.store(std::make_shared<Config>(Config{v, {}}), std::memory_order_release);
  }
};

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
struct AtomicLoadSharedPtrCell {
  static constexpr const char* kName = "AtomicLoadSharedPtr";
  std::shared_ptr<const Config> p = std::make_shared<Config>();
  int64_t read() { return std::atomic_load(&p)->limit; }
  void store(int64_t v) {
    std::atomic_store(&p, std::shared_ptr<const Config>(
                              std::make_shared<Config>(Config{v, {}})));
  }
};
#pragma GCC diagnostic pop

struct SharedMutexCopyCell {
  static constexpr const char* kName = "SharedMutexCopy";
  std::shared_mutex mu;
  std::shared_ptr<const Config> p = std::make_shared<Config>();
  int64_t read() {
    std::shared_ptr<const Config> copy;
    {
      std::shared_lock lock(mu);
      copy = p;
    }
    return copy->limit;
  }
  void store(int64_t v) {
    auto fresh = std::make_shared<Config>(Config{v, {}});
    std::unique_lock lock(mu);
    p = std::move(fresh);
  }
};

struct UrcuCell {
  static constexpr const char* kName = "Urcu";
  Config* p = new Config{};
  int64_t read() {
    urcu_memb_read_lock();
    const int64_t v = rcu_dereference(p)->limit;
    urcu_memb_read_unlock();
    return v;
  }
  void store(int64_t v) {
    auto* fresh = new Config{v, {}};
    Config* old = rcu_xchg_pointer(&p, fresh);
    urcu_memb_synchronize_rcu();
    delete old;
  }
  ~UrcuCell() { delete p; }
  // Readers register once per thread (liburcu's rule).
  static void thread_start() { urcu_memb_register_thread(); }
  static void thread_stop() { urcu_memb_unregister_thread(); }
};

template <class Cell>
void thread_start() {
  if constexpr (requires { Cell::thread_start(); }) Cell::thread_start();
}
template <class Cell>
void thread_stop() {
  if constexpr (requires { Cell::thread_stop(); }) Cell::thread_stop();
}

// One cell and its writer per benchmark run, shared by the reader threads.
template <class Cell>
struct Shared {
  Cell cell;
  std::atomic<bool> stop{false};
  std::atomic<int64_t> swaps{0};
  std::chrono::steady_clock::time_point start;
  std::thread writer;
};

template <class Cell>
Shared<Cell>* g_shared = nullptr;

template <class Cell>
void BM_W7(benchmark::State& state) {
  if (state.thread_index() == 0) {
    auto* s = new Shared<Cell>;
    s->start = std::chrono::steady_clock::now();
    s->writer = std::thread([s] {
      int64_t v = 0;
      while (!s->stop.load(std::memory_order_relaxed)) {
        s->cell.store(++v);
        s->swaps.fetch_add(1, std::memory_order_relaxed);
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    });
    g_shared<Cell> = s;
  }
  thread_start<Cell>();
  // Google Benchmark starts the timed loop of every thread together, after
  // thread 0's setup above.
  int64_t sum = 0;
  if constexpr (requires(Cell & c) { c.reader(); }) {
    // The hand-written form of `for (auto _ : state)`: state.end() is where
    // the threads meet, so thread 0's cell exists after it.
    auto it = state.begin();
    const auto end = state.end();
    auto reader = g_shared<Cell>->cell.reader();
    for (; it != end; ++it) {
      sum += reader.read();
    }
  } else {
    for (auto _ : state) {
      sum += g_shared<Cell>->cell.read();
    }
  }
  benchmark::DoNotOptimize(sum);
  thread_stop<Cell>();
  if (state.thread_index() == 0) {
    auto* s = g_shared<Cell>;
    s->stop.store(true);
    s->writer.join();
    const double secs = std::chrono::duration<double>(
                            std::chrono::steady_clock::now() - s->start)
                            .count();
    state.counters["writer_swaps_per_s"] =
        static_cast<double>(s->swaps.load()) / secs;
    delete s;
    g_shared<Cell> = nullptr;
  }
}

#define CONTEND_W7(Cell)                       \
  BENCHMARK_TEMPLATE(BM_W7, Cell)              \
      ->Name(std::string("W7/") + Cell::kName) \
      ->Threads(1)                             \
      ->Threads(2)                             \
      ->Threads(4)                             \
      ->UseRealTime()

CONTEND_W7(BoundCell);
CONTEND_W7(SnapshotCell);
CONTEND_W7(SnapshotReaderCell);
CONTEND_W7(AtomicSharedPtrCell);
CONTEND_W7(AtomicLoadSharedPtrCell);
CONTEND_W7(SharedMutexCopyCell);
CONTEND_W7(UrcuCell);

}  // namespace
}  // namespace contend::bench

BENCHMARK_MAIN();
