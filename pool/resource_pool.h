// Copyright 2026 The contend Authors.
//
// contend::ResourcePool<T>: a bounded, health-checked, cancellable pool of
// finite stateful resources (connections, file handles) -- Go's database/sql
// connection pool and jackc/puddle, with HikariCP's creation rules.

#ifndef CONTEND_POOL_RESOURCE_POOL_H_
#define CONTEND_POOL_RESOURCE_POOL_H_

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <stop_token>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "sync/cond.h"
#include "sync/internal/atomic.h"
#include "sync/internal/clock.h"
#include "sync/internal/fatal.h"
#include "sync/internal/parking_lot.h"
#include "sync/internal/prng.h"
#include "sync/internal/wait_observer.h"
#include "sync/mutex.h"

namespace contend {

// Counters and gauges of a ResourcePool (Go's sql.DBStats plus puddle's
// Stat). Gauges are a consistent snapshot taken under the pool's lock, so
// open == idle + in_use holds in every value returned by stats().
struct ResourcePoolStats {
  int64_t max_open = 0;    // Options::max_open
  int64_t open = 0;        // resources that exist: idle + in_use
  int64_t in_use = 0;      // leased (or granted to a waiter not yet running)
  int64_t idle = 0;        // ready in the pool
  int64_t creating = 0;    // creations running now (not counted in open)
  int64_t waiters = 0;     // acquirers queued now
  int64_t wait_count = 0;  // acquires that had to wait
  std::chrono::nanoseconds wait_duration{0};  // total time they waited
  int64_t closed_max_idle = 0;  // destroyed on release: idle >= max_idle
  int64_t closed_max_idle_time =
      0;                            // destroyed: idle longer than max_idle_time
  int64_t closed_max_lifetime = 0;  // destroyed: older than its lifetime
  int64_t closed_broken = 0;        // destroyed: mark_broken or health check
  int64_t creates = 0;              // successful creations
  int64_t create_failures = 0;      // creations that returned an error
  int64_t acquire_timeouts = 0;     // acquires that ended at their deadline
  int64_t canceled_acquires = 0;    // acquires that ended by stop_token
};

// A ResourcePool<T> lends out at most max_open resources of type T, made by a
// user factory, to threads that acquire() them and give them back by
// destroying the returned Lease.
//
// Model: the pool owns `open` resources, each either idle (in the pool) or
// in use (held by exactly one Lease, or granted to a queued acquirer that
// has not run yet), plus `creating` creations in flight; always
// open + creating <= max_open. Acquirers that find nothing idle join a FIFO
// queue. A resource's life:
//
//   state     | enters by                         | leaves to
//   ----------+-----------------------------------+--------------------------
//   creating  | demand (a waiter or min_idle gap) | idle / granted, or failure
//   idle      | creation, release, close of lease | in use, or destroyed
//             |                                   | (max_idle_time, lifetime)
//   in use    | acquire, grant to a waiter        | idle, granted, destroyed
//             |                                   | (broken, lifetime,
//             |                                   | max_idle, closed), hijack
//
// Contract:
//  - Requires: Options::create is set; 1 <= max_open; 0 <= min_idle <=
//    max_idle <= max_open (max_idle < 0 means max_open);
//    max_concurrent_creates >= 1. create and health_check must not throw and
//    must not call into this pool. Every Lease is destroyed (or released or
//    hijacked) before the pool is destroyed.
//  - Guarantees:
//    * Bound: open + creating never exceeds max_open.
//    * FIFO with bounded barging: a released (or newly created) resource goes
//      to the oldest queued acquirer. Until that acquirer runs, an arriving
//      acquire() may take the granted resource instead (so a resource never
//      sits unused while its grantee is being scheduled: puddle #46); each
//      queued acquirer is passed over at most kMaxBarges times, then keeps
//      its grant.
//    * Creation is off the caller's path: acquirers wait on the pool, never
//      inside the factory. Background creator threads (at most
//      max_concurrent_creates, started on first demand) create while there is
//      demand -- more queued acquirers than creations in flight, or fewer
//      than min_idle idle resources -- and stop creating when it disappears
//      (HikariCP's rule: a spike is served by the resources being returned,
//      not by a burst of new ones). A creation is never cancelled: an
//      acquirer that gives up leaves the creation running, and its result
//      goes to the next acquirer or to the idle set.
//    * A creation error is delivered to the oldest queued acquirer (its
//      acquire returns the factory's status), so callers see errors, not
//      hangs, while the backend is down; without queued acquirers the
//      creator retries after create_retry_backoff.
//    * Broken resources are never handed out again: a Lease marked broken,
//      a resource failing health_check (on acquire, and on release when
//      check_on_release), or past its lifetime is destroyed.
//    * max_lifetime: each resource expires at creation + max_lifetime minus
//      a random 0-2.5% (HikariCP's jitter against mass expiry); checked when
//      it is taken from the idle set, when it is released, and by the
//      creator threads' housekeeping. max_idle_time: idle resources beyond
//      min_idle that were idle that long are destroyed (on acquire and by
//      housekeeping). Housekeeping runs every housekeeping_interval in a
//      creator thread once one has started.
//    * acquire*() return a Lease, or: kDeadlineExceeded at the deadline
//      (a grant that wins the race with the deadline is kept),
//      kCancelled when `stop` was requested (a grant that raced the
//      cancellation goes to the next acquirer: "cancelled" holds nothing),
//      kFailedPrecondition after close(), or the factory's error.
//    * close() drains: queued and later acquires fail with
//      kFailedPrecondition, idle resources are destroyed, close() returns
//      once every lease came back (each destroyed on return) and every
//      running creation finished (its result destroyed). Idempotent. The
//      destructor calls close().
//    * Resources are destroyed (T's destructor) outside the pool's lock.
// Thread safety: every member of the pool may be called concurrently. A Lease
//   belongs to one thread at a time (it is not synchronized).
// Memory ordering: everything done with a resource before its Lease is
//   released happens-before the return of the acquire() that gets it next
//   (the pool's Mutex orders them). The factory's writes happen-before the
//   return of the acquire() that gets the new resource.
// Misuse (always checked, terminating with a message):
//  - bad Options: "contend: ResourcePool::ResourcePool: <what>".
//  - using an empty Lease (moved from, released, hijacked):
//    "contend: ResourcePool::Lease::get: empty lease" (also operator* and
//    operator->), "...::Lease::mark_broken: empty lease",
//    "...::Lease::hijack: empty lease".
//  - destroying the pool while leases are out:
//    "contend: ResourcePool::~ResourcePool: leases still out" (the Lease
//    would touch freed memory; a thread that must wait for them calls
//    close() first).
//  - calling into the pool from create/health_check: undefined (deadlock).
// Cost: acquire() with an idle resource: one Mutex lock/unlock, no
//   allocation, plus health_check if set; release(): one lock/unlock; each
//   reads the clock too when max_lifetime or max_idle_time is set. A grant to
//   a waiter adds one ParkingLot unpark. A waiting acquire parks on the
//   ParkingLot (WaitKind::kResourcePool, under Options::label for the
//   profiler). Each resource costs one heap slot. Benchmarks:
//   //bench/pool:resource_pool_benchmark (bench/pool/RESULTS.md).
//
// Example:
//   contend::ResourcePool<Conn>::Options o;
//   o.create = [](auto deadline) { return Conn::dial("db:5432", deadline); };
//   o.max_open = 4;
//   contend::ResourcePool<Conn> pool(std::move(o));
//   absl::StatusOr<contend::ResourcePool<Conn>::Lease> c =
//       pool.acquire_for(std::chrono::milliseconds(100));
//   if (!c.ok()) return c.status();
//   if (!(*c)->query("SELECT 1")) c->mark_broken();
template <class T>
class ResourcePool {
 public:
  using Clock = std::chrono::steady_clock;

  // How many times one queued acquirer may be passed over by arriving
  // acquirers (see the class comment) before its grant is kept for it.
  static constexpr int kMaxBarges = 2;

  struct Options {
    // Makes a resource; receives the creation deadline (now +
    // create_timeout), which it should honour (e.g. as a connect timeout).
    // Required.
    std::function<absl::StatusOr<T>(Clock::time_point deadline)> create;
    // Returns false for a resource that must not be used; run on acquire
    // (before an idle resource is handed out) and, with check_on_release,
    // on release. Optional.
    std::function<bool(T&)> health_check;
    bool check_on_release = false;
    int max_open = 8;
    int max_idle = -1;  // < 0: max_open
    int min_idle = 0;
    std::chrono::nanoseconds max_lifetime{0};   // 0: unlimited
    std::chrono::nanoseconds max_idle_time{0};  // 0: unlimited
    std::chrono::nanoseconds create_timeout{std::chrono::seconds(30)};
    int max_concurrent_creates = 1;
    // After a failed creation that no acquirer was waiting for (min_idle).
    std::chrono::nanoseconds create_retry_backoff{
        std::chrono::milliseconds(100)};
    std::chrono::nanoseconds housekeeping_interval{std::chrono::seconds(1)};
    // Profiler label of acquire waits (static storage duration), or null.
    const char* label = nullptr;
  };

 private:
  struct Slot {
    std::optional<T> value;
    int64_t expires_ns = internal::kNoDeadline;
    int64_t idle_since_ns = 0;
  };

 public:
  // A leased resource. Move-only; released to the pool on destruction.
  class Lease {
   public:
    Lease() noexcept = default;
    Lease(Lease&& o) noexcept
        : pool_(std::exchange(o.pool_, nullptr)),
          slot_(std::exchange(o.slot_, nullptr)),
          broken_(std::exchange(o.broken_, false)) {}
    Lease& operator=(Lease&& o) noexcept {
      if (this != &o) {
        release();
        pool_ = std::exchange(o.pool_, nullptr);
        slot_ = std::exchange(o.slot_, nullptr);
        broken_ = std::exchange(o.broken_, false);
      }
      return *this;
    }
    ~Lease() { release(); }

    explicit operator bool() const noexcept { return slot_ != nullptr; }
    T& get() const noexcept {
      if (ABSL_PREDICT_FALSE(slot_ == nullptr)) {
        internal::fatal("contend: ResourcePool::Lease::get: empty lease");
      }
      return *slot_->value;
    }
    T& operator*() const noexcept { return get(); }
    T* operator->() const noexcept { return &get(); }

    // Release will destroy the resource instead of returning it.
    void mark_broken() noexcept {
      if (ABSL_PREDICT_FALSE(slot_ == nullptr)) {
        internal::fatal(
            "contend: ResourcePool::Lease::mark_broken: empty lease");
      }
      broken_ = true;
    }

    // Takes the resource out of the pool: the pool forgets it (open drops
    // by one, so it may create a replacement) and the caller owns it.
    T hijack() {
      if (ABSL_PREDICT_FALSE(slot_ == nullptr)) {
        internal::fatal("contend: ResourcePool::Lease::hijack: empty lease");
      }
      Slot* s = std::exchange(slot_, nullptr);
      T value = std::move(*s->value);
      delete s;
      std::exchange(pool_, nullptr)->forget_one();
      return value;
    }

    // Returns the resource now (or destroys it if broken); the Lease becomes
    // empty. No-op on an empty Lease.
    void release() {
      if (slot_ != nullptr) {
        std::exchange(pool_, nullptr)
            ->give_back(std::exchange(slot_, nullptr),
                        std::exchange(broken_, false));
      }
    }

   private:
    friend class ResourcePool;
    Lease(ResourcePool* pool, Slot* slot) noexcept : pool_(pool), slot_(slot) {}
    ResourcePool* pool_ = nullptr;
    Slot* slot_ = nullptr;
    bool broken_ = false;
  };

  explicit ResourcePool(Options options);
  ResourcePool(const ResourcePool&) = delete;
  ResourcePool& operator=(const ResourcePool&) = delete;
  ~ResourcePool();

  // Waits for a resource until `stop` is requested.
  [[nodiscard]] absl::StatusOr<Lease> acquire(std::stop_token stop = {}) {
    return acquire_impl(internal::kNoDeadline, stop);
  }
  // Waits at most `timeout` (or until `stop`).
  template <class Rep, class Period>
  [[nodiscard]] absl::StatusOr<Lease> acquire_for(
      std::chrono::duration<Rep, Period> timeout, std::stop_token stop = {}) {
    return acquire_impl(internal::deadline_after(timeout), stop);
  }
  // Waits until `deadline` (or until `stop`). A deadline already passed
  // takes an idle resource if there is one and never waits.
  template <class C, class D>
  [[nodiscard]] absl::StatusOr<Lease> acquire_until(
      std::chrono::time_point<C, D> deadline, std::stop_token stop = {}) {
    return acquire_impl(internal::to_monotonic_deadline(deadline), stop);
  }

  // Creates resources in the calling thread (not the creators) until `n`
  // are open or max_open is reached, each added to the idle set (or given
  // to a waiter); returns the first creation error. For warming up at start.
  [[nodiscard]] absl::Status fill(int n);

  // Stops the pool and waits for it to drain (see the class comment).
  void close();

  [[nodiscard]] ResourcePoolStats stats() const;

 private:
  enum class WaitState : uint8_t { kWaiting, kGranted, kFailed, kClosed };

  // A queued acquirer; lives on its thread's stack for one acquire. Every
  // field but seq is guarded by mu_.
  struct Waiter {
    WaitState state = WaitState::kWaiting;
    Slot* slot = nullptr;
    absl::Status error;
    int barged = 0;
    int64_t start_ns = 0;
    // Bumped (under mu_) whenever state or slot changes while the waiter may
    // be parked; the park's validate() compares it without mu_.
    internal::Atomic<uint32_t> seq{0};
  };

  using WakeList = std::vector<Waiter*>;

  absl::StatusOr<Lease> acquire_impl(int64_t deadline_ns, std::stop_token stop);
  void give_back(Slot* slot, bool broken);
  void forget_one();
  void creator_loop();
  Slot* take_idle_locked(int64_t now, std::vector<Slot*>& doomed)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void reap_locked(int64_t now, std::vector<Slot*>& doomed)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void grant_locked(Slot* slot, int64_t now, WakeList& wake)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Accounts a finished creation (s null: it failed); returns the slot to
  // destroy when the pool closed meanwhile, else null.
  Slot* finish_create_locked(Slot* s, int64_t now, WakeList& wake)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void signal_locked(Waiter* w, WakeList& wake)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool want_create_locked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void maybe_create_locked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void remove_waiter_locked(Waiter* w) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void note_drained_locked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Slot* new_slot(T value, int64_t now);
  void wake(const WakeList& wake);
  static void destroy(const std::vector<Slot*>& doomed) {
    for (Slot* s : doomed) delete s;
  }

  const Options options_;
  const int max_idle_;
  const bool timed_;  // max_lifetime or max_idle_time set
  // The ParkingLot key every queued acquirer parks on (its address only).
  char park_key_ = 0;

  mutable Mutex mu_;
  Cond create_cv_;   // creators wait here for demand
  Cond drained_cv_;  // close() waits here for in_use_ == creating_ == 0
  // INV-IDLE: idle_ is non-empty only while waiters_ is empty (every slot
  // that becomes available goes to the oldest waiter first).
  std::deque<Slot*> idle_ ABSL_GUARDED_BY(mu_);  // back: most recently used
  std::deque<Waiter*> waiters_ ABSL_GUARDED_BY(mu_);  // front: oldest
  // Granted waiters that have not run yet (the barging candidates).
  std::deque<Waiter*> granted_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> creators_ ABSL_GUARDED_BY(mu_);
  int idle_creators_ ABSL_GUARDED_BY(mu_) = 0;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  ResourcePoolStats st_ ABSL_GUARDED_BY(mu_);
};

// Implementation details only below here.

template <class T>
ResourcePool<T>::ResourcePool(Options options)
    : options_(std::move(options)),
      max_idle_(options_.max_idle < 0 ? options_.max_open : options_.max_idle),
      timed_(options_.max_lifetime.count() > 0 ||
             options_.max_idle_time.count() > 0) {
  const char* bad = nullptr;
  if (!options_.create) {
    bad = "no create function";
  } else if (options_.max_open < 1) {
    bad = "max_open must be at least 1";
  } else if (options_.min_idle < 0 || options_.min_idle > max_idle_ ||
             max_idle_ > options_.max_open) {
    bad = "requires 0 <= min_idle <= max_idle <= max_open";
  } else if (options_.max_concurrent_creates < 1) {
    bad = "max_concurrent_creates must be at least 1";
  } else if (options_.max_lifetime.count() < 0 ||
             options_.max_idle_time.count() < 0 ||
             options_.create_timeout.count() < 0 ||
             options_.create_retry_backoff.count() < 0 ||
             options_.housekeeping_interval.count() <= 0) {
    bad = "negative duration (or housekeeping_interval not positive)";
  }
  if (bad != nullptr) {
    internal::fatal_format("contend: ResourcePool::ResourcePool: %s", bad);
  }
  if (options_.label != nullptr) {
    internal::set_wait_label(&park_key_, options_.label);
  }
  MutexLock l(mu_);
  st_.max_open = options_.max_open;
  maybe_create_locked();  // min_idle
}

template <class T>
ResourcePool<T>::~ResourcePool() {
  {
    MutexLock l(mu_);
    if (ABSL_PREDICT_FALSE(st_.in_use > 0)) {
      internal::fatal("contend: ResourcePool::~ResourcePool: leases still out");
    }
  }
  close();
  if (options_.label != nullptr) internal::clear_wait_label(&park_key_);
}

template <class T>
typename ResourcePool<T>::Slot* ResourcePool<T>::new_slot(T value,
                                                          int64_t now) {
  Slot* s = new Slot;
  s->value.emplace(std::move(value));
  s->idle_since_ns = now;
  const int64_t lifetime = options_.max_lifetime.count();
  if (lifetime > 0) {
    // HikariCP: up to 2.5% earlier, so resources created together do not all
    // expire together.
    const uint64_t span = static_cast<uint64_t>(lifetime / 40) + 1;
    const int64_t jitter =
        static_cast<int64_t>(internal::thread_random() % span);
    s->expires_ns = now > internal::kNoDeadline - lifetime
                        ? internal::kNoDeadline
                        : now + lifetime - jitter;
  }
  return s;
}

template <class T>
void ResourcePool<T>::wake(const WakeList& wake) {
  for (Waiter* w : wake) {
    const uintptr_t token = reinterpret_cast<uintptr_t>(w);
    bool found = false;
    // The waiter may already have returned (it saw the new seq without
    // parking); its address is only compared. A later waiter at the same
    // address that we wake by mistake re-checks its state and parks again.
    internal::ParkingLot::unpark_filter(
        &park_key_,
        [&](uintptr_t t) {
          if (found) return internal::FilterOp::kStop;
          if (t != token) return internal::FilterOp::kSkip;
          found = true;
          return internal::FilterOp::kUnpark;
        },
        [](const internal::UnparkResult&) {
          return internal::kDefaultUnparkToken;
        });
  }
}

template <class T>
void ResourcePool<T>::signal_locked(Waiter* w, WakeList& wake) {
  // Release: pairs with the acquire load in the waiter's validate(); the
  // waiter reads state and slot under mu_ after it wakes, so this only
  // guarantees that a waiter about to park sees the change.
  w->seq.fetch_add(1, std::memory_order_release);
  wake.push_back(w);
}

template <class T>
void ResourcePool<T>::grant_locked(Slot* slot, int64_t now, WakeList& wake) {
  if (!waiters_.empty()) {
    Waiter* w = waiters_.front();
    waiters_.pop_front();
    w->state = WaitState::kGranted;
    w->slot = slot;
    ++st_.in_use;
    granted_.push_back(w);
    signal_locked(w, wake);
    return;
  }
  slot->idle_since_ns = now;
  idle_.push_back(slot);
  ++st_.idle;
}

template <class T>
bool ResourcePool<T>::want_create_locked() const {
  if (closed_) return false;
  if (st_.open + st_.creating >= options_.max_open) return false;
  if (st_.creating >= options_.max_concurrent_creates) return false;
  const int64_t queued = static_cast<int64_t>(waiters_.size());
  return queued > st_.creating || st_.idle + st_.creating < options_.min_idle;
}

template <class T>
void ResourcePool<T>::maybe_create_locked() {
  if (!want_create_locked()) return;
  if (idle_creators_ > 0) {
    create_cv_.signal();
  } else if (static_cast<int>(creators_.size()) <
             options_.max_concurrent_creates) {
    creators_.emplace_back([this] { creator_loop(); });
  }
}

template <class T>
void ResourcePool<T>::note_drained_locked() {
  if (closed_ && st_.in_use == 0 && st_.creating == 0) {
    drained_cv_.broadcast();
  }
}

template <class T>
void ResourcePool<T>::reap_locked(int64_t now, std::vector<Slot*>& doomed) {
  const int64_t idle_time = options_.max_idle_time.count();
  bool any = false;
  if (options_.max_lifetime.count() > 0) {
    for (auto it = idle_.begin(); it != idle_.end();) {
      if ((*it)->expires_ns <= now) {
        doomed.push_back(*it);
        it = idle_.erase(it);
        --st_.idle;
        --st_.open;
        ++st_.closed_max_lifetime;
        any = true;
      } else {
        ++it;
      }
    }
  }
  if (idle_time > 0) {
    // The front is the longest idle.
    while (st_.idle > options_.min_idle &&
           now - idle_.front()->idle_since_ns >= idle_time) {
      doomed.push_back(idle_.front());
      idle_.pop_front();
      --st_.idle;
      --st_.open;
      ++st_.closed_max_idle_time;
      any = true;
    }
  }
  if (any) maybe_create_locked();
}

template <class T>
typename ResourcePool<T>::Slot* ResourcePool<T>::take_idle_locked(
    int64_t now, std::vector<Slot*>& doomed) {
  reap_locked(now, doomed);
  if (!idle_.empty()) {
    Slot* s = idle_.back();  // LIFO: the least recently idle ones expire
    idle_.pop_back();
    --st_.idle;
    ++st_.in_use;
    return s;
  }
  // Barging: take a grant whose waiter has not run yet (it stays counted in
  // in_use). The waiter goes back to the head of the queue.
  if (!granted_.empty() && granted_.front()->barged < kMaxBarges) {
    Waiter* w = granted_.front();
    granted_.pop_front();
    Slot* s = std::exchange(w->slot, nullptr);
    w->state = WaitState::kWaiting;
    ++w->barged;
    waiters_.push_front(w);
    // Relaxed is enough here: the waiter was already unparked by its grant
    // and re-reads its state under mu_; the bump only makes a validate()
    // that read the grant's seq fail.
    w->seq.fetch_add(1, std::memory_order_relaxed);
    return s;
  }
  return nullptr;
}

template <class T>
void ResourcePool<T>::remove_waiter_locked(Waiter* w) {
  auto it = std::find(waiters_.begin(), waiters_.end(), w);
  if (it != waiters_.end()) waiters_.erase(it);
}

template <class T>
absl::StatusOr<typename ResourcePool<T>::Lease> ResourcePool<T>::acquire_impl(
    int64_t deadline_ns, std::stop_token stop) {
  for (;;) {  // one round per resource obtained; a failed health check loops
    std::vector<Slot*> doomed;
    WakeList wakes;
    Slot* slot = nullptr;
    absl::Status error;
    Waiter w;
    mu_.lock();
    if (closed_) {
      mu_.unlock();
      return absl::FailedPreconditionError(
          "ResourcePool::acquire: the pool is closed");
    }
    if (stop.stop_requested()) {
      ++st_.canceled_acquires;
      mu_.unlock();
      return absl::CancelledError("ResourcePool::acquire: stop requested");
    }
    // The clock is read on the fast path only for lifetime/idle-time checks.
    int64_t now = timed_ ? internal::monotonic_now_ns() : 0;
    slot = take_idle_locked(now, doomed);
    if (slot == nullptr && !timed_) now = internal::monotonic_now_ns();
    if (slot == nullptr && deadline_ns <= now) {
      ++st_.acquire_timeouts;
      error = absl::DeadlineExceededError(
          "ResourcePool::acquire: deadline passed with no resource free");
    } else if (slot == nullptr) {
      w.start_ns = now;
      waiters_.push_back(&w);
      ++st_.wait_count;
      maybe_create_locked();
      internal::ParkOptions po;
      po.deadline_ns = deadline_ns;
      po.stop = &stop;
      po.kind = internal::WaitKind::kResourcePool;
      po.park_token = reinterpret_cast<uintptr_t>(&w);
      po.wait_start_ns = now;
      for (;;) {
        // Relaxed: read under mu_, which orders it after every bump.
        const uint32_t seq = w.seq.load(std::memory_order_relaxed);
        mu_.unlock();
        destroy(doomed);
        doomed.clear();
        const internal::ParkResult r = internal::ParkingLot::park(
            &park_key_,
            // Acquire: pairs with the release bump in signal_locked().
            [&] { return w.seq.load(std::memory_order_acquire) == seq; }, po);
        mu_.lock();
        now = internal::monotonic_now_ns();
        const bool cancelled = r.status == internal::ParkStatus::kCancelled;
        if (w.state == WaitState::kGranted) {
          granted_.erase(std::find(granted_.begin(), granted_.end(), &w));
          slot = std::exchange(w.slot, nullptr);
          if (cancelled) {
            // The grant raced the cancellation: pass it on, hold nothing.
            --st_.in_use;
            grant_locked(slot, now, wakes);
            slot = nullptr;
            ++st_.canceled_acquires;
            error =
                absl::CancelledError("ResourcePool::acquire: stop requested");
          }
          break;
        }
        if (w.state == WaitState::kFailed) {
          error = std::move(w.error);
          break;
        }
        if (w.state == WaitState::kClosed) {
          error = absl::FailedPreconditionError(
              "ResourcePool::acquire: the pool is closed");
          break;
        }
        // Still queued (a stolen grant, or a wake meant for an earlier
        // waiter at this address): give up only at the deadline or stop.
        if (cancelled || stop.stop_requested()) {
          remove_waiter_locked(&w);
          ++st_.canceled_acquires;
          error = absl::CancelledError("ResourcePool::acquire: stop requested");
          break;
        }
        if (r.status == internal::ParkStatus::kTimedOut || now >= deadline_ns) {
          remove_waiter_locked(&w);
          ++st_.acquire_timeouts;
          error = absl::DeadlineExceededError(
              "ResourcePool::acquire: deadline passed while waiting");
          break;
        }
      }
      st_.wait_duration += std::chrono::nanoseconds(now - w.start_ns);
    }
    mu_.unlock();
    destroy(doomed);
    wake(wakes);
    if (slot == nullptr) return error;
    if (options_.health_check && !options_.health_check(*slot->value)) {
      give_back(slot, /*broken=*/true);
      continue;
    }
    return Lease(this, slot);
  }
}

template <class T>
void ResourcePool<T>::give_back(Slot* slot, bool broken) {
  if (!broken && options_.check_on_release && options_.health_check &&
      !options_.health_check(*slot->value)) {
    broken = true;
  }
  // Without lifetimes or idle times nothing below needs the time (expires_ns
  // is kNoDeadline; idle_since_ns is read only for max_idle_time).
  const int64_t now = timed_ ? internal::monotonic_now_ns() : 0;
  WakeList wakes;
  bool doom = true;
  {
    MutexLock l(mu_);
    --st_.in_use;
    if (closed_) {
    } else if (broken) {
      ++st_.closed_broken;
    } else if (slot->expires_ns <= now) {
      ++st_.closed_max_lifetime;
    } else if (!waiters_.empty() || st_.idle < max_idle_) {
      doom = false;
      grant_locked(slot, now, wakes);
    } else {
      ++st_.closed_max_idle;
    }
    if (doom) {
      --st_.open;
      maybe_create_locked();
      note_drained_locked();
    }
  }
  if (doom) delete slot;
  wake(wakes);
}

template <class T>
typename ResourcePool<T>::Slot* ResourcePool<T>::finish_create_locked(
    Slot* s, int64_t now, WakeList& wake) {
  --st_.creating;
  if (s == nullptr) {
    ++st_.create_failures;
    return nullptr;
  }
  ++st_.creates;
  if (closed_) return s;  // finished after close(): destroyed, never handed out
  ++st_.open;
  grant_locked(s, now, wake);
  return nullptr;
}

template <class T>
void ResourcePool<T>::forget_one() {
  MutexLock l(mu_);
  --st_.in_use;
  --st_.open;
  maybe_create_locked();
  note_drained_locked();
}

template <class T>
absl::Status ResourcePool<T>::fill(int n) {
  for (;;) {
    {
      MutexLock l(mu_);
      if (closed_) {
        return absl::FailedPreconditionError(
            "ResourcePool::fill: the pool is closed");
      }
      if (st_.open + st_.creating >= std::min(n, options_.max_open)) {
        return absl::OkStatus();
      }
      ++st_.creating;
    }
    absl::StatusOr<T> r =
        options_.create(Clock::now() + options_.create_timeout);
    const int64_t now = internal::monotonic_now_ns();
    WakeList wakes;
    Slot* doomed;
    {
      MutexLock l(mu_);
      doomed = finish_create_locked(
          r.ok() ? new_slot(*std::move(r), now) : nullptr, now, wakes);
      note_drained_locked();
    }
    delete doomed;
    wake(wakes);
    if (!r.ok()) return r.status();
  }
}

template <class T>
void ResourcePool<T>::creator_loop() {
  mu_.lock();
  while (!closed_) {
    if (!want_create_locked()) {
      std::vector<Slot*> doomed;
      ++idle_creators_;
      if (options_.max_idle_time.count() > 0 ||
          options_.max_lifetime.count() > 0) {
        (void)create_cv_.wait_for(mu_, options_.housekeeping_interval);
        reap_locked(internal::monotonic_now_ns(), doomed);
      } else {
        create_cv_.wait(mu_);
      }
      --idle_creators_;
      if (!doomed.empty()) {
        mu_.unlock();
        destroy(doomed);
        mu_.lock();
      }
      continue;
    }
    ++st_.creating;
    maybe_create_locked();  // more demand: another creator
    mu_.unlock();
    absl::StatusOr<T> r =
        options_.create(Clock::now() + options_.create_timeout);
    const int64_t now = internal::monotonic_now_ns();
    Slot* s = r.ok() ? new_slot(*std::move(r), now) : nullptr;
    WakeList wakes;
    mu_.lock();
    Slot* doomed = finish_create_locked(s, now, wakes);
    if (s == nullptr) {
      if (!waiters_.empty()) {
        Waiter* w = waiters_.front();
        waiters_.pop_front();
        w->state = WaitState::kFailed;
        w->error = r.status();
        signal_locked(w, wakes);
      } else if (!closed_) {
        // Nobody to tell; retry the min_idle gap later, not in a loop.
        ++idle_creators_;
        (void)create_cv_.wait_for(mu_, options_.create_retry_backoff);
        --idle_creators_;
      }
    }
    note_drained_locked();
    mu_.unlock();
    delete doomed;
    wake(wakes);
    mu_.lock();
  }
  mu_.unlock();
}

template <class T>
void ResourcePool<T>::close() {
  std::vector<Slot*> doomed;
  WakeList wakes;
  std::vector<std::thread> creators;
  {
    MutexLock l(mu_);
    if (!closed_) {
      closed_ = true;
      for (Waiter* w : waiters_) {
        w->state = WaitState::kClosed;
        signal_locked(w, wakes);
      }
      waiters_.clear();
      for (Slot* s : idle_) doomed.push_back(s);
      st_.open -= st_.idle;
      st_.idle = 0;
      idle_.clear();
      create_cv_.broadcast();
    }
  }
  destroy(doomed);
  wake(wakes);
  {
    MutexLock l(mu_);
    drained_cv_.wait(mu_, [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return st_.in_use == 0 && st_.creating == 0;
    });
    creators.swap(creators_);
  }
  for (std::thread& t : creators) t.join();
}

template <class T>
ResourcePoolStats ResourcePool<T>::stats() const {
  MutexLock l(mu_);
  ResourcePoolStats s = st_;
  s.waiters = static_cast<int64_t>(waiters_.size());
  return s;
}

}  // namespace contend

#endif  // CONTEND_POOL_RESOURCE_POOL_H_
