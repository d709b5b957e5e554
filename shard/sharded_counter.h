// Copyright 2026 The contend Authors.
//
// contend::ShardedCounter: a counter with one cache line per CPU, so that
// increments from different CPUs never contend; and contend::InFlight, the
// guard that counts a scope in and out of one (the article's per-P sharding,
// *sync -- Senior* section 3, and its "atomic increment under panic"
// postmortem).

#ifndef CONTEND_SHARD_SHARDED_COUNTER_H_
#define CONTEND_SHARD_SHARDED_COUNTER_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

#include "shard/internal/cpu_id.h"
#include "sync/internal/atomic.h"
#include "sync/internal/cache_padded.h"

namespace contend {

class InFlight;

// A ShardedCounter is a 64-bit signed counter whose updates are cheap from
// any number of threads and whose reads are comparatively expensive.
//
// Model: the counter's value is the sum of every add() applied to it minus
// what take() removed. It is stored as one slot per possible CPU
// (internal::cpu_slot_count(), rounded up to a power of two); add() applies
// its delta to the slot of the CPU the thread runs on, load() sums the slots.
//
// Contract:
//  - Requires: the counter outlives every call on it and every InFlight
//    guard from track().
//  - Guarantees:
//    * No update is lost, whatever the threads' migrations: every add() is
//      one atomic read-modify-write of one slot (see "Why an RMW" below).
//    * load() counts every add() that happens-before the call and none that
//      starts after it returns. Adds concurrent with it may be counted or not,
//      each independently, so load() is NOT a snapshot: with concurrent
//      inc()/dec() pairs it can return a value the counter never had at any
//      instant (even a negative one for a counter of in-flight requests).
//      Once updates stop and their threads are joined (or otherwise
//      synchronized with the reader), load() is exact.
//    * take() returns the sum and leaves it at 0 such that every add() is
//      counted by exactly one take() or is still in the counter: no update
//      is counted twice or lost between consecutive take()s (a rate
//      counter's "events since the last scrape"). Like load(), not a
//      snapshot.
//    * Arithmetic wraps modulo 2^64 (no undefined overflow).
// Thread safety: every member may be called concurrently.
// Memory ordering: none. Updates and reads are relaxed; reading a value gives
//   no happens-before with the updates it counts. Use the counter for
//   statistics, never to publish data or to decide that other work is done.
// Misuse: none detectable; using a destroyed counter is undefined.
// Cost: sizeof(ShardedCounter) == 16 (a pointer to the slots and a mask),
//   plus slots x internal::kCacheLineSize bytes on the heap (128-byte lines on
//   x86-64 and aarch64: adjacent-line prefetch pairs 64-byte lines), allocated
//   once by the constructor: 2 x 128 = 256 bytes on a 2-CPU machine, 8 KiB
//   with 64 possible CPUs. add(): one read of the thread's CPU number (one
//   TLS load via glibc's rseq area, shard/internal/cpu_id.h) and one relaxed
//   fetch_add on a line that only this CPU normally writes, so it stays in
//   this core's cache: no cross-core transfer unless a thread migrated or two
//   threads share the CPU. load() and take(): one load (exchange) per slot,
//   each usually a cache miss -- O(slots). Hence the counter wins when
//   writes outnumber reads by a wide margin (the article says 100:1; the
//   crossover measured here is in bench/shard/RESULTS.md, "W5"). Never
//   blocks, never allocates after construction (the constructor may throw
//   std::bad_alloc).
//
// Example:
//   contend::ShardedCounter requests;
//   contend::ShardedCounter in_flight;
//   void handle() {
//     requests.inc();
//     auto g = in_flight.track();  // decremented however handle() exits
//     serve();
//   }
//   int64_t per_scrape() { return requests.take(); }
class ShardedCounter {
 public:
  ShardedCounter();
  ShardedCounter(const ShardedCounter&) = delete;
  ShardedCounter& operator=(const ShardedCounter&) = delete;

  // Adds n (negative to subtract).
  void add(int64_t n) noexcept;
  void inc() noexcept { add(1); }
  void dec() noexcept { add(-1); }

  // The sum over the slots; not a snapshot (see Contract).
  [[nodiscard]] int64_t load() const noexcept;

  // Returns the sum and resets it to zero (exchange(0) per slot).
  int64_t take() noexcept;

  // inc() now, dec() when the returned guard is destroyed or reset().
  [[nodiscard]] InFlight track() noexcept;

  // Number of slots (a power of two >= the number of possible CPUs).
  [[nodiscard]] size_t slot_count() const noexcept { return mask_ + 1; }

 private:
  using Slot = internal::CachePadded<internal::Atomic<int64_t>>;

  std::unique_ptr<Slot[]> slots_;
  uint32_t mask_;
};

// An InFlight guard holds one unit of a ShardedCounter: the counter was
// incremented when the guard was made (ShardedCounter::track()) and is
// decremented exactly once, when the guard is destroyed or reset() --
// including when the scope is left by an exception, which is the point: a
// hand-written inc()/dec() pair skipped by a throw leaves the counter high
// forever (the article's dashboards showing 1000 in-flight on an idle
// service).
//
// Contract: movable, not copyable; a moved-from or default-constructed guard
//   holds nothing. The counter must outlive the guard.
// Thread safety: a guard is a value; different guards may be used (and
//   destroyed) concurrently; one guard is not for concurrent use.
// Cost: sizeof(InFlight) == sizeof(void*); two add()s over its lifetime.
class [[nodiscard]] InFlight {
 public:
  // Holds nothing.
  constexpr InFlight() noexcept = default;
  InFlight(InFlight&& other) noexcept
      : counter_(std::exchange(other.counter_, nullptr)) {}
  InFlight& operator=(InFlight&& other) noexcept {
    if (this != &other) {
      reset();
      counter_ = std::exchange(other.counter_, nullptr);
    }
    return *this;
  }
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;
  ~InFlight() { reset(); }

  // Gives the unit back now (dec()); the guard then holds nothing.
  void reset() noexcept {
    if (counter_ != nullptr) std::exchange(counter_, nullptr)->dec();
  }
  // Whether the guard still holds its unit.
  [[nodiscard]] bool active() const noexcept { return counter_ != nullptr; }

 private:
  friend class ShardedCounter;
  explicit InFlight(ShardedCounter& c) noexcept : counter_(&c) { c.inc(); }

  ShardedCounter* counter_ = nullptr;
};

// Implementation details only below here.

inline void ShardedCounter::add(int64_t n) noexcept {
  // Why an RMW and not the owner-store a per-CPU slot seems to allow
  // (load, add, store by "the CPU that owns the slot"): the thread may be
  // preempted or migrated between reading its CPU number and the update, and
  // between a load and a store, so another thread can update the same slot
  // in between; a store would then overwrite that update. The fetch_add is
  // indivisible, so any slot is a correct target: a migration only makes this
  // add land on a line another core caches (one transfer), never loses it.
  // Restartable sequences could make owner-store safe, but that needs our own
  // rseq critical sections, which glibc's registration does not give us.
  //
  // Relaxed: a statistic; nothing is published through the counter
  // (Memory ordering above). Atomicity alone gives "no lost update".
  slots_[internal::current_cpu() & mask_]->fetch_add(n,
                                                     std::memory_order_relaxed);
}

inline int64_t ShardedCounter::load() const noexcept {
  // Unsigned: slots may be negative and the sum wraps (Contract).
  uint64_t sum = 0;
  for (uint32_t i = 0; i <= mask_; ++i) {
    // Relaxed: each slot is read once; coherence alone gives "every add that
    // happens-before this call is seen" (Contract), and no ordering between
    // slots is promised (not a snapshot).
    sum += static_cast<uint64_t>(slots_[i]->load(std::memory_order_relaxed));
  }
  return static_cast<int64_t>(sum);
}

inline int64_t ShardedCounter::take() noexcept {
  uint64_t sum = 0;
  for (uint32_t i = 0; i <= mask_; ++i) {
    // Relaxed: each add() is an RMW in the slot's modification order either
    // before this exchange (counted here) or after it (left for the next
    // take): exactly-once needs atomicity, not ordering.
    sum += static_cast<uint64_t>(
        slots_[i]->exchange(0, std::memory_order_relaxed));
  }
  return static_cast<int64_t>(sum);
}

inline InFlight ShardedCounter::track() noexcept { return InFlight(*this); }

}  // namespace contend

#endif  // CONTEND_SHARD_SHARDED_COUNTER_H_
