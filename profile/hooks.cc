// Copyright 2026 The contend Authors.

#include "profile/hooks.h"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "absl/base/thread_annotations.h"
#include "profile/caller_frames.h"
#include "sync/internal/cache_padded.h"
#include "sync/internal/clock.h"
#include "sync/internal/prng.h"
#include "sync/internal/thread_id.h"
#include "sync/internal/wait_observer.h"

namespace contend::internal {
namespace {

// std::mutex with Clang thread-safety annotations (libstdc++'s is not
// annotated). The profiler cannot use contend::Mutex: its slow path parks on
// the ParkingLot, which would report to this very observer and recurse.
class ABSL_LOCKABLE PlainLock {
 public:
  constexpr PlainLock() noexcept = default;
  PlainLock(const PlainLock&) = delete;
  PlainLock& operator=(const PlainLock&) = delete;
  void lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { mu_.lock(); }
  void unlock() ABSL_UNLOCK_FUNCTION() { mu_.unlock(); }

 private:
  std::mutex mu_;
};

class ABSL_SCOPED_LOCKABLE PlainGuard {
 public:
  explicit PlainGuard(PlainLock& lock) ABSL_EXCLUSIVE_LOCK_FUNCTION(lock)
      : lock_(lock) {
    lock_.lock();
  }
  ~PlainGuard() ABSL_UNLOCK_FUNCTION() { lock_.unlock(); }
  PlainGuard(const PlainGuard&) = delete;
  PlainGuard& operator=(const PlainGuard&) = delete;

 private:
  PlainLock& lock_;
};

// ---------------------------------------------------------------------------
// Configuration.

// The rates are read by every hook call with relaxed loads: a rate is a
// sampling hint, and a hook that sees the old value for a moment after a
// change samples one event by the old rule, which is harmless. The observer
// pointer (installed under g_config_lock) is what orders "profiling on"
// against the ParkingLot; its release/acquire pair lives in wait_observer.cc.
constinit std::atomic<int> g_mutex_fraction{0};
constinit std::atomic<int64_t> g_block_rate{0};
constinit std::atomic<bool> g_timeline_recording{false};
constinit std::atomic<size_t> g_max_stacks{kDefaultMaxStacks};

constinit PlainLock g_config_lock;

// A profile's analysis window: the time it has been enabled since the last
// reset, summed over on/off toggles, so that records (which keep
// accumulating only while it is on) and window always cover the same time.
struct Window {
  int64_t accumulated_ns = 0;    // closed enabled intervals since reset
  int64_t enabled_since_ns = 0;  // start of the open interval; 0 = off
  uint64_t epoch = 0;            // profiler_reset() calls
};
constinit Window g_window[2] ABSL_GUARDED_BY(g_config_lock);

// Records the on/off edge of profile `index` at the current time.
void window_toggle_locked(int index, bool was_on, bool now_on)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(g_config_lock) {
  Window& w = g_window[index];
  if (!was_on && now_on) {
    w.enabled_since_ns = monotonic_now_ns();
  } else if (was_on && !now_on) {
    w.accumulated_ns += monotonic_now_ns() - w.enabled_since_ns;
    w.enabled_since_ns = 0;
  }
}

int64_t window_enabled_ns_locked(int index, int64_t now)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(g_config_lock) {
  const Window& w = g_window[index];
  return w.accumulated_ns +
         (w.enabled_since_ns != 0 ? now - w.enabled_since_ns : 0);
}

constexpr WaitObserver kObserver{&profiler_on_wait_end,
                                 &profiler_on_contended_release};

// Installs the observer while anything is enabled and removes it (only if it
// is ours) when everything is off.
void update_observer_locked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(g_config_lock) {
  // Relaxed loads: the values were written under g_config_lock, which the
  // caller holds.
  const bool want = g_mutex_fraction.load(std::memory_order_relaxed) != 0 ||
                    g_block_rate.load(std::memory_order_relaxed) != 0 ||
                    g_timeline_recording.load(std::memory_order_relaxed);
  const WaitObserver* current = wait_observer();
  if (want && current != &kObserver) {
    set_wait_observer(&kObserver);
  } else if (!want && current == &kObserver) {
    set_wait_observer(nullptr);
  }
}

// ---------------------------------------------------------------------------
// Stack-keyed records.

struct Record {
  uint64_t hash;
  WaitKind kind;
  const char* label;
  std::vector<uintptr_t> pcs;
  double count;
  int64_t delay_ns;
};

uint64_t mix(uint64_t h, uint64_t v) noexcept {
  h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  h *= 0xff51afd7ed558ccdULL;
  return h ^ (h >> 33);
}

uint64_t hash_stack(const uintptr_t* pcs, int depth, WaitKind kind,
                    const char* label) noexcept {
  uint64_t h = mix(static_cast<uint64_t>(depth), static_cast<uint64_t>(kind));
  h = mix(h, reinterpret_cast<uintptr_t>(label));
  for (int i = 0; i < depth; ++i) h = mix(h, pcs[i]);
  return h;
}

int64_t saturating_add(int64_t a, int64_t b) noexcept {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) {
    return b > 0 ? std::numeric_limits<int64_t>::max()
                 : std::numeric_limits<int64_t>::min();
  }
  return r;
}

int64_t saturating_mul(int64_t a, int64_t b) noexcept {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) {
    return (a < 0) != (b < 0) ? std::numeric_limits<int64_t>::min()
                              : std::numeric_limits<int64_t>::max();
  }
  return r;
}

// A bounded hash table of records, sharded so that concurrent releasers on
// different stacks rarely meet on one lock. Memory: at most max_stacks
// records in total (g_max_stacks), counted in distinct_.
class StackTable {
 public:
  void add(uint64_t hash, const uintptr_t* pcs, int depth, WaitKind kind,
           const char* label, double count, int64_t delay_ns) {
    Shard& shard = *shards_[hash % kShards];
    {
      PlainGuard guard(shard.lock);
      auto [first, last] = shard.records.equal_range(hash);
      for (auto it = first; it != last; ++it) {
        Record& r = it->second;
        if (r.kind == kind && r.label == label &&
            r.pcs.size() == static_cast<size_t>(depth) &&
            std::equal(r.pcs.begin(), r.pcs.end(), pcs)) {
          r.count += count;
          r.delay_ns = saturating_add(r.delay_ns, delay_ns);
          return;
        }
      }
      // Relaxed: distinct_ is a counter that only bounds memory; the
      // records themselves are guarded by the shard locks, and clear()
      // subtracts under the same locks, so the count never drifts.
      const size_t cap = g_max_stacks.load(std::memory_order_relaxed);
      if (distinct_.fetch_add(1, std::memory_order_relaxed) < cap) {
        try {
          shard.records.emplace(
              hash, Record{hash, kind, label,
                           std::vector<uintptr_t>(pcs, pcs + depth), count,
                           delay_ns});
        } catch (...) {
          // Nothing was inserted: give the slot back; the hook counts it.
          distinct_.fetch_sub(1, std::memory_order_relaxed);
          throw;
        }
        return;
      }
      distinct_.fetch_sub(1, std::memory_order_relaxed);
    }
    PlainGuard guard(overflow_lock_);
    overflow_count_ += count;
    overflow_delay_ns_ = saturating_add(overflow_delay_ns_, delay_ns);
  }

  void snapshot(ProfileSnapshot* out) {
    for (auto& padded : shards_) {
      Shard& shard = *padded;
      PlainGuard guard(shard.lock);
      for (const auto& [hash, r] : shard.records) {
        out->records.push_back(
            StackRecord{r.pcs, r.kind, r.label, r.count, r.delay_ns});
      }
    }
    PlainGuard guard(overflow_lock_);
    out->overflow_count = overflow_count_;
    out->overflow_delay_ns = overflow_delay_ns_;
    // Relaxed: a statistic.
    out->alloc_failures = alloc_failures_.load(std::memory_order_relaxed);
  }

  // fork() handlers: every lock of the table, in the order add() and
  // snapshot() take them (a shard, then the overflow lock).
  void lock_all() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    for (auto& padded : shards_) padded->lock.lock();
    overflow_lock_.lock();
  }
  void unlock_all() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    overflow_lock_.unlock();
    for (auto& padded : shards_) padded->lock.unlock();
  }

  void count_alloc_failure() noexcept {
    alloc_failures_.fetch_add(1, std::memory_order_relaxed);  // Relaxed: stat.
  }

  void clear() {
    for (auto& padded : shards_) {
      Shard& shard = *padded;
      PlainGuard guard(shard.lock);
      // Relaxed: see add().
      distinct_.fetch_sub(shard.records.size(), std::memory_order_relaxed);
      shard.records.clear();
    }
    PlainGuard guard(overflow_lock_);
    overflow_count_ = 0;
    overflow_delay_ns_ = 0;
    alloc_failures_.store(0, std::memory_order_relaxed);  // Relaxed: stat.
  }

 private:
  static constexpr size_t kShards = 16;
  struct Shard {
    PlainLock lock;
    std::unordered_multimap<uint64_t, Record> records ABSL_GUARDED_BY(lock);
  };
  CachePadded<Shard> shards_[kShards];
  std::atomic<size_t> distinct_{0};
  std::atomic<uint64_t> alloc_failures_{0};
  PlainLock overflow_lock_;
  double overflow_count_ ABSL_GUARDED_BY(overflow_lock_) = 0;
  int64_t overflow_delay_ns_ ABSL_GUARDED_BY(overflow_lock_) = 0;
};

// Leaked on purpose: hooks may run on other threads during static
// destruction.
StackTable& table(ProfileType type) {
  static StackTable* const tables = new StackTable[2];
  return tables[static_cast<int>(type)];
}

// ---------------------------------------------------------------------------
// Stack walk.

struct StackBounds {
  uintptr_t lo;
  uintptr_t hi;  // 0 = not read yet
};
constinit thread_local StackBounds tls_stack_bounds{0, 0};

ABSL_ATTRIBUTE_NOINLINE ABSL_ATTRIBUTE_COLD void read_stack_bounds() noexcept {
  StackBounds b{1, 1};  // empty range if the query fails: walk nothing
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) == 0) {
    void* addr = nullptr;
    size_t size = 0;
    if (pthread_attr_getstack(&attr, &addr, &size) == 0) {
      b.lo = reinterpret_cast<uintptr_t>(addr);
      b.hi = b.lo + size;
    }
    pthread_attr_destroy(&attr);
  }
  tls_stack_bounds = b;
}

// ---------------------------------------------------------------------------
// Sampled event -> record.

// Never throws (the hooks run in the ParkingLot's noexcept paths): an
// exception -- std::bad_alloc from a new record -- drops the event and is
// counted. The try block is here, not in
// a wrapper, so that no extra frame is walked and hashed.
ABSL_ATTRIBUTE_NOINLINE void record_event(ProfileType type, const void* key,
                                          WaitKind kind, double count,
                                          int64_t delay_ns) noexcept {
  try {
    uintptr_t pcs[kMaxStackDepth];
    const int depth = capture_stack(pcs, kMaxStackDepth);
    profiler_add_sample(type, pcs, depth, kind, wait_label(key), count,
                        delay_ns);
  } catch (...) {
    table(type).count_alloc_failure();
  }
}

// ---------------------------------------------------------------------------
// Timeline.

// The per-entry cost quoted in profile.h (TimelineOptions).
static_assert(sizeof(TimelineEntry) <= 56);

struct Ring {
  PlainLock lock;
  uint64_t generation ABSL_GUARDED_BY(lock) = 0;
  uint32_t tid ABSL_GUARDED_BY(lock) = 0;   // 0 = unclaimed this generation
  bool live ABSL_GUARDED_BY(lock) = false;  // owner thread still running
  std::vector<TimelineEntry> slots ABSL_GUARDED_BY(lock);
  uint64_t written ABSL_GUARDED_BY(lock) = 0;  // entries ever written
};

struct TimelineState {
  PlainLock lock;
  // Rings are never freed (threads hold raw pointers to them); at most the
  // largest max_threads ever configured exist.
  std::vector<std::unique_ptr<Ring>> rings ABSL_GUARDED_BY(lock);
  // Clamped to [1, kMaxTimeline...] by timeline_start().
  size_t events_per_thread ABSL_GUARDED_BY(lock) = 0;
  size_t max_threads ABSL_GUARDED_BY(lock) = 0;
  int64_t start_ns ABSL_GUARDED_BY(lock) = 0;
  int64_t stop_ns ABSL_GUARDED_BY(lock) = 0;
  uint64_t overwritten ABSL_GUARDED_BY(lock) = 0;
  // Release in timeline_start() after every ring was reset; acquire in
  // timeline_record() before trusting a cached ring of that generation.
  std::atomic<uint64_t> generation{0};
  // Relaxed counters: statistics only.
  std::atomic<uint64_t> dropped{0};
  std::atomic<uint64_t> alloc_failures{0};
};

TimelineState& timeline_state() {
  static TimelineState* const state = new TimelineState();
  return *state;
}

// The calling thread's ring for the current generation. Trivially
// destructible (constinit), so a hook that runs during thread exit -- after
// other thread_locals were destroyed -- still finds valid memory here.
struct ThreadRingSlot {
  Ring* ring;
  uint64_t generation;
  bool denied;   // no ring was available in `generation`
  bool exiting;  // the thread is exiting: record nothing more
};
constinit thread_local ThreadRingSlot tls_ring{nullptr, 0, false, false};

// Marks the thread's ring not live when the thread exits, so that it can be
// reused once max_threads is reached (its entries then count as
// overwritten). Constructed (and its destructor registered) by the first
// claim_ring() of a thread.
struct RingReleaser {
  ~RingReleaser() {
    ThreadRingSlot& slot = tls_ring;
    slot.exiting = true;
    if (slot.ring == nullptr) return;
    PlainGuard guard(slot.ring->lock);
    if (slot.ring->generation == slot.generation &&
        slot.ring->tid == current_thread_id()) {
      slot.ring->live = false;
    }
  }
};
thread_local RingReleaser tls_ring_releaser;

ABSL_ATTRIBUTE_NOINLINE ABSL_ATTRIBUTE_COLD Ring* claim_ring(
    uint64_t generation) {
  TimelineState& st = timeline_state();
  const uint32_t tid = current_thread_id();
  // Odr-use: constructs this thread's releaser, registering its destructor.
  static_cast<void>(&tls_ring_releaser);
  PlainGuard guard(st.lock);
  // Acquire: pairs with the release in timeline_start(); re-read under the
  // lock so a concurrent restart is seen.
  if (st.generation.load(std::memory_order_acquire) != generation) {
    return nullptr;
  }
  Ring* chosen = nullptr;
  const size_t usable = std::min(st.rings.size(), st.max_threads);
  // Allocations below may throw std::bad_alloc: each happens before the
  // ring is claimed, so a failure leaves every ring as it was (the hook
  // drops the event and counts it; the next event tries again).
  for (size_t i = 0; i < usable && chosen == nullptr; ++i) {
    Ring* r = st.rings[i].get();
    PlainGuard ring_guard(r->lock);
    if (r->generation == generation && r->tid == 0) {
      // timeline_start() freed the entries of earlier generations.
      if (r->slots.size() != st.events_per_thread) {
        r->slots.assign(st.events_per_thread, TimelineEntry{});
      }
      r->tid = tid;
      r->live = true;
      chosen = r;
    }
  }
  if (chosen == nullptr && st.rings.size() < st.max_threads) {
    auto fresh = std::make_unique<Ring>();
    {
      PlainGuard ring_guard(fresh->lock);
      fresh->slots.resize(st.events_per_thread);
      fresh->generation = generation;
      fresh->tid = tid;
      fresh->live = true;
    }
    st.rings.reserve(st.rings.size() + 1);  // the push_back cannot throw now
    chosen = fresh.get();
    st.rings.push_back(std::move(fresh));
  }
  for (size_t i = 0; i < usable && chosen == nullptr; ++i) {
    Ring* r = st.rings[i].get();
    PlainGuard ring_guard(r->lock);
    if (r->generation == generation && !r->live) {
      st.overwritten += std::min<uint64_t>(r->written, r->slots.size());
      r->tid = tid;
      r->live = true;
      r->written = 0;
      chosen = r;
    }
  }
  return chosen;
}

void timeline_record(const TimelineEntry& entry) {
  TimelineState& st = timeline_state();
  // Acquire: pairs with the release in timeline_start().
  const uint64_t generation = st.generation.load(std::memory_order_acquire);
  ThreadRingSlot& slot = tls_ring;
  if (ABSL_PREDICT_FALSE(slot.exiting)) return;
  if (slot.generation != generation || slot.ring == nullptr) {
    if (slot.generation == generation && slot.denied) {
      // Relaxed: a statistic.
      st.dropped.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    slot.ring = claim_ring(generation);
    slot.generation = generation;
    slot.denied = slot.ring == nullptr;
    if (slot.denied) {
      st.dropped.fetch_add(1, std::memory_order_relaxed);  // Relaxed: stat.
      return;
    }
  }
  Ring* ring = slot.ring;
  PlainGuard guard(ring->lock);
  if (ring->generation != generation || ring->slots.empty()) {
    // timeline_start() ran after the acquire load above; the next event
    // re-claims a ring of the new generation.
    slot.ring = nullptr;
    return;
  }
  ring->slots[ring->written % ring->slots.size()] = entry;
  ++ring->written;
}

// The hooks run inside the ParkingLot's noexcept paths: nothing may escape.
// Every exception (std::bad_alloc from a record or a ring; nothing else is
// thrown below) drops the event and is counted.

// `entry.label` is filled in here (wait_label() takes no lock and never
// allocates).
void timeline_record_noexcept(TimelineEntry entry) noexcept {
  try {
    entry.label = wait_label(entry.key);
    timeline_record(entry);
  } catch (...) {
    // Relaxed: a statistic.
    timeline_state().alloc_failures.fetch_add(1, std::memory_order_relaxed);
  }
}

}  // namespace

// ---------------------------------------------------------------------------
// Control.

int profiler_set_mutex_fraction(int n) {
  profiler_register_fork_handlers();
  PlainGuard guard(g_config_lock);
  // Relaxed: written only under g_config_lock (held).
  const int previous = g_mutex_fraction.load(std::memory_order_relaxed);
  if (n < 0) return previous;
  window_toggle_locked(0, previous != 0, n != 0);
  g_mutex_fraction.store(n, std::memory_order_relaxed);
  update_observer_locked();
  return previous;
}

int64_t profiler_set_block_rate(int64_t rate_ns) {
  profiler_register_fork_handlers();
  PlainGuard guard(g_config_lock);
  // Relaxed: written only under g_config_lock (held).
  const int64_t previous = g_block_rate.load(std::memory_order_relaxed);
  if (rate_ns < 0) return previous;
  window_toggle_locked(1, previous != 0, rate_ns != 0);
  g_block_rate.store(rate_ns, std::memory_order_relaxed);
  update_observer_locked();
  return previous;
}

void profiler_reset() {
  PlainGuard guard(g_config_lock);
  table(ProfileType::kMutex).clear();
  table(ProfileType::kBlock).clear();
  const int64_t now = monotonic_now_ns();
  for (Window& w : g_window) {
    w.accumulated_ns = 0;
    if (w.enabled_since_ns != 0) w.enabled_since_ns = now;
    ++w.epoch;
  }
}

size_t profiler_set_max_stacks(size_t cap) {
  // Relaxed: a bound read by add(); no data is published with it.
  return g_max_stacks.exchange(cap, std::memory_order_relaxed);
}

// ---------------------------------------------------------------------------
// Hooks.

bool profiler_sample_wait(int64_t waited_ns, double* count,
                          int64_t* delay_ns) noexcept {
  const int64_t rate = g_block_rate.load(std::memory_order_relaxed);
  if (rate <= 0) return false;
  // A wait shorter than the clock's resolution still happened: 1 ns, so
  // that rate 1 records every wait.
  const int64_t waited = std::max<int64_t>(waited_ns, 1);
  if (waited >= rate) {
    *count = 1.0;
    *delay_ns = waited;
    return true;
  }
  // Kept with probability waited / rate, then stands for rate / waited
  // waits totalling rate ns: both expectations equal the truth (one wait,
  // `waited` ns).
  if (static_cast<int64_t>(thread_random_below(static_cast<uint64_t>(rate))) <
      waited) {
    *count = static_cast<double>(rate) / static_cast<double>(waited);
    *delay_ns = rate;
    return true;
  }
  return false;
}

void profiler_record_wait(const void* key, WaitKind kind,
                          int64_t waited_ns) noexcept {
  double count = 0;
  int64_t delay_ns = 0;
  if (profiler_sample_wait(waited_ns, &count, &delay_ns)) {
    record_event(ProfileType::kBlock, key, kind, count, delay_ns);
  }
}

void profiler_on_wait_end(const WaitEvent& event) noexcept {
  // Clock skew between the two reads cannot make a wait end before it began.
  const int64_t end_ns = std::max(event.end_ns, event.start_ns);
  // Relaxed: see g_mutex_fraction.
  if (g_timeline_recording.load(std::memory_order_relaxed)) {
    timeline_record_noexcept(TimelineEntry{
        TimelineEntry::Type::kWait, event.kind, event.status, event.waker_tid,
        0, event.key, nullptr, event.start_ns, end_ns, 0});
  }
  const int64_t rate = g_block_rate.load(std::memory_order_relaxed);
  if (ABSL_PREDICT_TRUE(rate <= 0)) return;
  // Inside an embedding's call (caller_frames.h): the call's waits are
  // merged and sampled when it returns, with its frames.
  if (EventDeferral* deferral = EventDeferral::current()) {
    deferral->add_wait(event, end_ns);
    return;
  }
  profiler_record_wait(event.key, event.kind, end_ns - event.start_ns);
}

void profiler_on_contended_release(const ReleaseEvent& event) noexcept {
  // A contended release kept someone waiting: at least 1 ns.
  const int64_t delay_ns = std::max<int64_t>(event.delay_ns, 1);
  // Relaxed: see g_mutex_fraction.
  if (g_timeline_recording.load(std::memory_order_relaxed)) {
    timeline_record_noexcept(
        TimelineEntry{TimelineEntry::Type::kRelease, event.kind,
                      ParkStatus::kUnparked, 0, event.waiters, event.key,
                      nullptr, event.now_ns, event.now_ns, delay_ns});
  }
  const int n = g_mutex_fraction.load(std::memory_order_relaxed);
  if (ABSL_PREDICT_TRUE(n <= 0)) return;
  if (n > 1 && thread_random_below(static_cast<uint64_t>(n)) != 0) return;
  // Kept with probability 1/n and scaled by n: unbiased totals.
  if (EventDeferral* deferral = EventDeferral::current()) {
    deferral->add_release(event.key, event.kind, static_cast<double>(n),
                          saturating_mul(delay_ns, n));
    return;
  }
  record_event(ProfileType::kMutex, event.key, event.kind,
               static_cast<double>(n), saturating_mul(delay_ns, n));
}

void profiler_add_sample_noexcept(ProfileType type, const uintptr_t* pcs,
                                  int depth, WaitKind kind, const char* label,
                                  double count, int64_t delay_ns) noexcept {
  try {
    profiler_add_sample(type, pcs, depth, kind, label, count, delay_ns);
  } catch (...) {
    table(type).count_alloc_failure();
  }
}

void profiler_add_sample(ProfileType type, const uintptr_t* pcs, int depth,
                         WaitKind kind, const char* label, double count,
                         int64_t delay_ns) {
  depth = std::clamp(depth, 0, kMaxStackDepth);
  table(type).add(hash_stack(pcs, depth, kind, label), pcs, depth, kind, label,
                  count, delay_ns);
}

ABSL_ATTRIBUTE_NOINLINE ABSL_ATTRIBUTE_NO_SANITIZE_ADDRESS int capture_stack(
    uintptr_t* pcs, int max_depth) noexcept {
  if (ABSL_PREDICT_FALSE(tls_stack_bounds.hi == 0)) read_stack_bounds();
  const uintptr_t lo = tls_stack_bounds.lo;
  const uintptr_t hi = tls_stack_bounds.hi;
  // Frame record layout with frame pointers (x86-64 and AArch64 alike):
  // fp[0] = caller's frame pointer, fp[1] = return address.
  uintptr_t fp = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
  int n = 0;
  while (n < max_depth) {
    if (fp < lo || fp + 2 * sizeof(uintptr_t) > hi ||
        (fp & (sizeof(uintptr_t) - 1)) != 0) {
      break;
    }
    const uintptr_t* frame = reinterpret_cast<const uintptr_t*>(fp);
    const uintptr_t next = frame[0];
    const uintptr_t ret = frame[1];
    if (ret == 0) break;
    pcs[n++] = ret;
    // Stacks grow down: a caller's frame is at a higher address. Anything
    // else is a frame without a frame pointer (rbp used as a scratch
    // register) or the end of the chain.
    if (next <= fp) break;
    fp = next;
  }
  return n;
}

// ---------------------------------------------------------------------------
// Snapshots.

ProfileSnapshot profiler_snapshot(ProfileType type) {
  ProfileSnapshot out;
  out.type = type;
  // Held throughout: reset() and the setters take it too, so the records,
  // the epoch and the enabled time describe the same window.
  PlainGuard guard(g_config_lock);
  // Relaxed: configuration values reported as-is (see g_mutex_fraction).
  out.period = type == ProfileType::kMutex
                   ? g_mutex_fraction.load(std::memory_order_relaxed)
                   : g_block_rate.load(std::memory_order_relaxed);
  out.max_stacks = g_max_stacks.load(std::memory_order_relaxed);
  table(type).snapshot(&out);
  out.now_ns = monotonic_now_ns();
  const int index = static_cast<int>(type);
  out.enabled_ns = window_enabled_ns_locked(index, out.now_ns);
  out.epoch = g_window[index].epoch;
  return out;
}

namespace {

// Empties every ring and frees its entries (a ring's next claim, in a hook,
// allocates them again; a failure there is dropped and counted), moving it
// to `generation`; clears the counters. The caller publishes `generation`.
void free_rings_locked(TimelineState& st, uint64_t generation)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(st.lock) {
  for (auto& r : st.rings) {
    PlainGuard ring_guard(r->lock);
    r->generation = generation;
    r->tid = 0;
    r->live = false;
    r->written = 0;
    std::vector<TimelineEntry>().swap(r->slots);
  }
  st.overwritten = 0;
  // Relaxed: statistics.
  st.dropped.store(0, std::memory_order_relaxed);
  st.alloc_failures.store(0, std::memory_order_relaxed);
}

uint64_t timeline_start_locked(size_t events_per_thread, size_t max_threads)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(g_config_lock) {
  TimelineState& st = timeline_state();
  uint64_t generation;
  {
    PlainGuard guard(st.lock);
    // Relaxed: written only under st.lock (held); published below.
    generation = st.generation.load(std::memory_order_relaxed) + 1;
    st.events_per_thread =
        std::clamp<size_t>(events_per_thread, 1, kMaxTimelineEventsPerThread);
    st.max_threads = std::clamp<size_t>(max_threads, 1, kMaxTimelineThreads);
    free_rings_locked(st, generation);
    st.start_ns = monotonic_now_ns();
    st.stop_ns = 0;
    // Release: pairs with the acquires in timeline_record() and
    // claim_ring(): a thread that sees this generation sees reset rings.
    st.generation.store(generation, std::memory_order_release);
  }
  // Relaxed: see g_mutex_fraction; the observer install below publishes.
  g_timeline_recording.store(true, std::memory_order_relaxed);
  update_observer_locked();
  return generation;
}

void timeline_stop_locked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(g_config_lock) {
  // Relaxed: see g_mutex_fraction.
  if (!g_timeline_recording.load(std::memory_order_relaxed)) return;
  g_timeline_recording.store(false, std::memory_order_relaxed);
  update_observer_locked();
  TimelineState& st = timeline_state();
  PlainGuard guard(st.lock);
  st.stop_ns = monotonic_now_ns();
}

// Relaxed: the generation is written only under st.lock, which is taken
// under g_config_lock (held by the callers).
uint64_t timeline_generation_locked()
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(g_config_lock) {
  return timeline_state().generation.load(std::memory_order_relaxed);
}

}  // namespace

uint64_t timeline_start(size_t events_per_thread, size_t max_threads) {
  profiler_register_fork_handlers();
  PlainGuard config_guard(g_config_lock);
  return timeline_start_locked(events_per_thread, max_threads);
}

uint64_t timeline_try_start(size_t events_per_thread, size_t max_threads) {
  profiler_register_fork_handlers();
  PlainGuard config_guard(g_config_lock);
  // Relaxed: see g_mutex_fraction.
  if (g_timeline_recording.load(std::memory_order_relaxed)) return 0;
  return timeline_start_locked(events_per_thread, max_threads);
}

void timeline_stop() {
  PlainGuard config_guard(g_config_lock);
  timeline_stop_locked();
}

bool timeline_stop_generation(uint64_t generation) {
  PlainGuard config_guard(g_config_lock);
  if (timeline_generation_locked() != generation) return false;
  timeline_stop_locked();
  return true;
}

bool timeline_release(uint64_t generation) {
  PlainGuard config_guard(g_config_lock);
  // Relaxed: see g_mutex_fraction.
  if (g_timeline_recording.load(std::memory_order_relaxed) ||
      timeline_generation_locked() != generation) {
    return false;
  }
  TimelineState& st = timeline_state();
  PlainGuard guard(st.lock);
  free_rings_locked(st, generation);
  return true;
}

TimelineSnapshot timeline_snapshot() {
  TimelineSnapshot out;
  TimelineState& st = timeline_state();
  PlainGuard guard(st.lock);
  // Relaxed: see g_mutex_fraction; st.lock orders the rest.
  out.running = g_timeline_recording.load(std::memory_order_relaxed);
  out.start_ns = st.start_ns;
  out.stop_ns =
      out.running || st.stop_ns == 0 ? monotonic_now_ns() : st.stop_ns;
  // Relaxed: written under st.lock (held).
  const uint64_t generation = st.generation.load(std::memory_order_relaxed);
  out.generation = generation;
  out.events_per_thread = st.events_per_thread;
  out.max_threads = st.max_threads;
  out.overwritten = st.overwritten;
  for (auto& r : st.rings) {
    PlainGuard ring_guard(r->lock);
    if (r->generation != generation || r->tid == 0 || r->written == 0) {
      continue;
    }
    TimelineThread t;
    t.tid = r->tid;
    const uint64_t cap = r->slots.size();
    const uint64_t kept = std::min<uint64_t>(r->written, cap);
    out.overwritten += r->written - kept;
    t.entries.reserve(kept);
    for (uint64_t i = r->written - kept; i < r->written; ++i) {
      t.entries.push_back(r->slots[i % cap]);
    }
    out.threads.push_back(std::move(t));
  }
  // Relaxed: statistics.
  out.dropped = st.dropped.load(std::memory_order_relaxed);
  out.alloc_failures = st.alloc_failures.load(std::memory_order_relaxed);
  return out;
}

// ---------------------------------------------------------------------------
// fork().
//
// Lock order (every path takes a prefix of it, never in reverse):
//   g_config_lock -> TimelineState::lock -> Ring::lock (in ring order)
//   -> StackTable shard locks (in shard order) -> StackTable overflow lock.
// timeline_record() takes only its ring's lock and add() a shard's lock
// then (after dropping it) the overflow lock, so taking all of them in this
// order before fork() cannot deadlock with any of them.

namespace {

void fork_prepare() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  g_config_lock.lock();
  TimelineState& st = timeline_state();
  st.lock.lock();
  for (auto& r : st.rings) r->lock.lock();
  table(ProfileType::kMutex).lock_all();
  table(ProfileType::kBlock).lock_all();
}

void fork_unlock_all() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  table(ProfileType::kBlock).unlock_all();
  table(ProfileType::kMutex).unlock_all();
  TimelineState& st = timeline_state();
  for (auto it = st.rings.rbegin(); it != st.rings.rend(); ++it) {
    (*it)->lock.unlock();
  }
  st.lock.unlock();
  g_config_lock.unlock();
}

void fork_parent() { fork_unlock_all(); }

// The child has one thread: the locks were taken by it (as the forking
// thread) in fork_prepare(), so it may release them and then use the
// ordinary paths.
void fork_child() {
  fork_unlock_all();
  profiler_reset();
  PlainGuard config_guard(g_config_lock);
  timeline_stop_locked();
  TimelineState& st = timeline_state();
  PlainGuard guard(st.lock);
  // Relaxed: written only under st.lock (held); the child has no other
  // thread to publish to.
  const uint64_t generation = st.generation.load(std::memory_order_relaxed) + 1;
  free_rings_locked(st, generation);
  st.start_ns = 0;
  st.stop_ns = 0;
  // Release: pairs with the acquires in timeline_record() and claim_ring().
  st.generation.store(generation, std::memory_order_release);
}

}  // namespace

void profiler_register_fork_handlers() {
  // Thread-safe one-time registration (function-local static).
  [[maybe_unused]] static const bool registered =
      pthread_atfork(&fork_prepare, &fork_parent, &fork_child) == 0;
}

}  // namespace contend::internal
