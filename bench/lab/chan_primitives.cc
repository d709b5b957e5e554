// Copyright 2026 The contend Authors.
//
// Lab workloads for contend::Chan<T> (sync/chan.h) and the textbook queue it
// is compared with: a std::deque guarded by a contend::Mutex with two Conds.
//
// The lock-shaped Workload is reused without new fields:
//  - a write (exclusive op) produces: critical_ns of work makes an item, then
//    it is sent; a read (shared op) receives one item and works critical_ns
//    on it. With writers >= 0 (the producer/consumer experiment) threads
//    [0, writers) are producers and the rest consumers.
//  - `keys` is the capacity: 0 is unbuffered for chan (Go's meaning) and 1
//    for mutex_queue (a deque cannot hand off without a slot).
//  - The sampled latency is the send or receive wait.
// The harness stops only between ops, so no op blocks for long: with
// dedicated roles an op tries once, then waits in 1 ms slices and, before
// each slice, gives up (one last non-blocking try) once every thread of the
// other role has done its share of `ops`, the run was cancelled, or
// `duration_ns` has passed.
// With per-op draws (writers < 0) a thread can be both sides, so every op is
// a non-blocking try. An op that gives up still counts as an op: with uneven
// producer and consumer shares some ops deliver nothing.
// verify(): every item sent was received exactly once (received + left in
// the buffer at the end, compared as a multiset fingerprint: count, sum and
// sum of a mixing hash of the unique item values).

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include "bench/lab/harness.h"
#include "bench/lab/registry.h"
#include "bench/lab/workload.h"
#include "sync/chan.h"
#include "sync/cond.h"
#include "sync/internal/clock.h"
#include "sync/mutex.h"

namespace contend::lab {
namespace {

constexpr std::chrono::milliseconds kSlice{1};

// Chan<int64_t> with the queue verbs the workload uses.
class ChanQueue {
 public:
  explicit ChanQueue(size_t capacity) : ch_(capacity) {}
  bool try_send(int64_t v) { return ch_.try_send(v); }
  bool send_for(int64_t v) { return ch_.send_for(v, kSlice); }
  std::optional<int64_t> try_recv() { return ch_.try_recv(); }
  std::optional<int64_t> recv_for() { return ch_.recv_for(kSlice); }

 private:
  Chan<int64_t> ch_;
};

// The textbook bounded queue: a deque, a Mutex, "not empty" and "not full".
class MutexQueue {
 public:
  explicit MutexQueue(size_t capacity)
      : capacity_(std::max<size_t>(capacity, 1)) {}
  bool try_send(int64_t v) {
    MutexLock l(mu_);
    return push_locked(v);
  }
  bool send_for(int64_t v) {
    const auto deadline = std::chrono::steady_clock::now() + kSlice;
    MutexLock l(mu_);
    while (q_.size() >= capacity_) {
      if (not_full_.wait_until(mu_, deadline) == std::cv_status::timeout) break;
    }
    return push_locked(v);
  }
  std::optional<int64_t> try_recv() {
    MutexLock l(mu_);
    return pop_locked();
  }
  std::optional<int64_t> recv_for() {
    const auto deadline = std::chrono::steady_clock::now() + kSlice;
    MutexLock l(mu_);
    while (q_.empty()) {
      if (not_empty_.wait_until(mu_, deadline) == std::cv_status::timeout) {
        break;
      }
    }
    return pop_locked();
  }

 private:
  bool push_locked(int64_t v) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (q_.size() >= capacity_) return false;
    q_.push_back(v);
    not_empty_.signal();
    return true;
  }
  std::optional<int64_t> pop_locked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (q_.empty()) return std::nullopt;
    const int64_t v = q_.front();
    q_.pop_front();
    not_full_.signal();
    return v;
  }

  const size_t capacity_;
  Mutex mu_;
  Cond not_empty_;
  Cond not_full_;
  std::deque<int64_t> q_ ABSL_GUARDED_BY(mu_);
};

// A multiset fingerprint of item values.
struct Fingerprint {
  int64_t count = 0;
  uint64_t sum = 0;
  uint64_t hashed = 0;
  void add(int64_t v) {
    uint64_t z = static_cast<uint64_t>(v) * 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 31)) * 0xbf58476d1ce4e5b9ULL;
    ++count;
    sum += static_cast<uint64_t>(v);
    hashed += z ^ (z >> 29);
  }
  void merge(const Fingerprint& o) {
    count += o.count;
    sum += o.sum;
    hashed += o.hashed;
  }
  bool operator==(const Fingerprint&) const = default;
};

template <class Queue>
struct ChanWorkloadState {
  // Written only by its own thread; read by verify() after the joins.
  struct alignas(128) Slot {
    Fingerprint sent;
    Fingerprint received;
    int64_t next = 0;   // sequence number of this producer's next item
    int64_t done = 0;   // ops done (fixed shares only)
    int64_t quota = 0;  // this thread's share of ops (fixed shares only)
  };

  ChanWorkloadState(const Workload& w, const RunControl& ctl)
      : queue(static_cast<size_t>(std::clamp<int64_t>(w.keys, 0, 1 << 20))),
        roles(w.writers >= 0),
        fixed(w.ops > 0),
        duration_ns(w.duration_ns),
        cancel(ctl.cancel),
        slots(static_cast<size_t>(w.threads)) {
    const int n = w.threads;
    for (int i = 0; i < n; ++i) {
      slots[static_cast<size_t>(i)].quota =
          fixed ? w.ops / n + (i < w.ops % n ? 1 : 0) : 0;
    }
    // Relaxed: set before the threads start (thread creation orders it).
    live_producers.store(roles ? w.writers : n, std::memory_order_relaxed);
    live_consumers.store(roles ? n - w.writers : n, std::memory_order_relaxed);
  }

  // True once waiting longer cannot help: the other role has finished its
  // shares, the run was cancelled or its duration has passed.
  bool give_up(const std::atomic<int>& live_partners) const {
    // Acquire: pairs with the release decrement of a finished partner, so
    // everything it sent is visible to the last try.
    if (live_partners.load(std::memory_order_acquire) == 0) return true;
    // Acquire: pairs with the canceller's release store (RunControl).
    if (cancel != nullptr && cancel->load(std::memory_order_acquire)) {
      return true;
    }
    if (fixed) return false;
    // Relaxed: a timestamp, nothing is published through it.
    const int64_t first = first_op_ns.load(std::memory_order_relaxed);
    return internal::monotonic_now_ns() - first > duration_ns;
  }

  uint64_t op(OpContext& ctx, bool shared, uint64_t chain) {
    const int index = ctx.thread_index();
    Slot& me = slots[static_cast<size_t>(index)];
    if (!fixed) {
      int64_t expected = 0;
      // Relaxed: see give_up(); the first op's thread wins.
      if (first_op_ns.load(std::memory_order_relaxed) == 0) {
        first_op_ns.compare_exchange_strong(
            expected, internal::monotonic_now_ns(), std::memory_order_relaxed);
      }
    }
    if (shared) {
      ctx.start_acquire();
      std::optional<int64_t> got;
      if (!roles) {
        got = queue.try_recv();
      } else {
        // A try first, so a share left over when the producers are done
        // costs no 1 ms wait.
        got = queue.try_recv();
        while (!got) {
          if (give_up(live_producers)) {
            got = queue.try_recv();
            break;
          }
          got = queue.recv_for();
        }
      }
      ctx.acquired(true);
      if (got) {
        me.received.add(*got);
        chain = ctx.critical(chain ^ static_cast<uint64_t>(*got));
      }
    } else {
      const int64_t v = (int64_t{index} << 40) | me.next;
      chain = ctx.critical(chain ^ static_cast<uint64_t>(v));
      ctx.start_acquire();
      bool ok;
      if (!roles) {
        ok = queue.try_send(v);
      } else {
        ok = queue.try_send(v);
        while (!ok) {
          if (give_up(live_consumers)) {
            ok = queue.try_send(v);
            break;
          }
          ok = queue.send_for(v);
        }
      }
      ctx.acquired(false);
      if (ok) {
        me.sent.add(v);
        ++me.next;
      }
    }
    if (fixed && roles && ++me.done == me.quota) {
      // Release: pairs with the acquire load in give_up().
      (shared ? live_consumers : live_producers)
          .fetch_sub(1, std::memory_order_release);
    }
    return chain;
  }

  bool verify(const Result&) {
    Fingerprint sent, received;
    for (const Slot& s : slots) {
      sent.merge(s.sent);
      received.merge(s.received);
    }
    while (std::optional<int64_t> v = queue.try_recv()) received.add(*v);
    return sent == received;
  }

  Queue queue;
  const bool roles;
  const bool fixed;
  const int64_t duration_ns;
  const std::atomic<bool>* const cancel;
  std::vector<Slot> slots;
  alignas(128) std::atomic<int> live_producers{0};
  std::atomic<int> live_consumers{0};
  std::atomic<int64_t> first_op_ns{0};
};

template <class Queue>
Result run_queue(const Workload& w, const RunControl& ctl) {
  auto state = std::make_unique<ChanWorkloadState<Queue>>(w, ctl);
  return run_workload(w, ctl, *state);
}

CONTEND_LAB_REGISTER(chan, "chan", "contend::Chan<int64_t>",
                     "producer/consumer: writers send items, readers receive "
                     "them; keys = capacity (0 = unbuffered); verify: every "
                     "item received exactly once",
                     false, &run_queue<ChanQueue>);
CONTEND_LAB_REGISTER(mutex_queue, "mutex_queue",
                     "std::deque + contend::Mutex + 2 Cond",
                     "as chan, through the textbook bounded queue (not "
                     "empty / not full condition variables); keys = "
                     "capacity (0 = 1)",
                     false, &run_queue<MutexQueue>);

}  // namespace
}  // namespace contend::lab
