// Copyright 2026 The contend Authors.
//
// ParkingLot implementation.
//
// Structure
// ---------
// A fixed table of kBucketCount buckets, each on its own cache line(s). A
// bucket is a word lock plus an intrusive doubly-linked list of Waiter records
// for every key that hashes to it, in enqueue order; the queue of one key is
// the subsequence of its bucket's list with that key, so FIFO per key is list
// order. Waiter records live on the parked threads' stacks.
//
// Table size (why a fixed 1024 buckets and not a growing table)
// ---------------------------------------------------------------
// A bucket's cost is the length of the list its operations walk: the waiters
// of *other* keys that share it. With W threads parked on distinct keys and
// B buckets, a waiter shares its bucket with (W-1)/B others on average, so
// 1024 buckets keep walks O(1) up to about a thousand parked threads, far
// beyond the thread counts contend targets (a growing table, as in Rust's
// parking_lot, buys nothing below that and costs a global rehash protocol).
// Measured: ParkingLotTest.BucketSpread hashes 4096 keys laid out as
// contend's primitives are in practice (adjacent 8-byte words in an array,
// 64-byte-strided struct fields, and heap allocations) and checks that the
// fullest bucket holds <= 3x the mean. Observed: max load 6 for a mean of
// 4 in all three layouts (Fibonacci hashing spreads an arithmetic
// progression of addresses evenly, and heap addresses like random keys). The
// table is 128 KiB of zero-initialized BSS; only the pages of buckets in use
// are ever touched.
//
// Waiter life cycle (INV-ONCE)
// ----------------------------
// A waiter is dequeued exactly once, under its bucket's lock, by exactly one
// of: an unparker (status kUnparked, then Parker::unpark), the stop callback
// (kCancelled, then Parker::unpark) or the waiter itself after its deadline
// (kTimedOut, no unpark). `queued` records which: whoever finds it true under
// the lock dequeues and clears it.
//
// INV-PERMIT: the ParkingLot owns a thread-local Parker that nothing else
// uses, so every permit it ever holds comes from the unpark that follows a
// dequeue by someone else. Hence Parker::park() returning true means "I was
// dequeued", and a waiter that finds itself already dequeued after a timeout
// knows exactly one unpark is on its way and waits for it (park() with no
// deadline) before returning -- so no permit is ever left over for the next
// park(), and no unparker touches the Parker after its thread has left
// park() (the Parker is thread-local: it dies with the thread).
//
// Record lifetime: an unparker copies the Parker* (and, for unpark_all, the
// next link) out of the record before calling Parker::unpark(), which touches
// only the Parker after its releasing store (see parker.h); the waiter cannot
// return before that unpark, so records are never read after they die.
//
// Requeue: moving a waiter rewrites its key under both buckets' locks; a
// waiter that must find its own bucket (timeout, cancel) locks the bucket of
// the key it reads and re-checks the key under that lock (lock_waiter_bucket).

#include "sync/internal/parking_lot.h"

#include <atomic>
#include <optional>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "sync/internal/atomic.h"
#include "sync/internal/backoff.h"
#include "sync/internal/cache_padded.h"
#include "sync/internal/fatal.h"
#include "sync/internal/futex.h"
#include "sync/internal/parker.h"
#include "sync/internal/thread_id.h"

namespace contend::internal {
namespace {

// The bucket lock: a three-state futex lock (Drepper, "Futexes Are Tricky",
// mutex #2) with a short spin first. It cannot be a contend::Mutex, which is
// built on this file. Held only for a list walk plus a primitive's short
// callback, so a waiter usually gets it while spinning.
//
//   value  meaning
//   0      unlocked
//   1      locked, no thread sleeping on the word
//   2      locked, threads may sleep on the word (unlock must futex_wake)
class WordLock {
 public:
  constexpr WordLock() noexcept = default;

  void lock() noexcept {
    uint32_t expected = 0;
    // Acquire: pairs with the release exchange in unlock().
    if (ABSL_PREDICT_TRUE(state_.compare_exchange_strong(
            expected, 1, std::memory_order_acquire,
            std::memory_order_relaxed))) {
      return;
    }
    lock_slow();
  }

  void unlock() noexcept {
    // Release: pairs with the acquire CAS/exchange in lock()/lock_slow().
    if (ABSL_PREDICT_FALSE(state_.exchange(0, std::memory_order_release) ==
                           2)) {
      // The word is static (the table never dies), so waking after the store
      // is safe.
      futex_wake(&state_, 1);
    }
  }

 private:
  // Spin bound: a bucket is held for ~100 ns (a list walk and a callback);
  // 16 pauses of ~30 ns (backoff.h) cover a few hold times before sleeping.
  static constexpr int kSpins = 16;

  ABSL_ATTRIBUTE_NOINLINE void lock_slow() noexcept {
    for (int i = 0; i < kSpins; ++i) {
      cpu_relax();
      // Relaxed: a hint only; the CAS below re-validates with acquire.
      uint32_t s = state_.load(std::memory_order_relaxed);
      if (s == 0 &&
          state_.compare_exchange_weak(s, 1, std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
        return;  // Acquire: pairs with the release exchange in unlock().
      }
    }
    // Acquire: pairs with the release exchange in unlock(). Setting 2 even
    // when we take the lock is conservative: the next unlock makes one
    // spurious futex_wake at worst.
    while (state_.exchange(2, std::memory_order_acquire) != 0) {
      futex_wait(&state_, 2, kNoDeadline);
    }
  }

  Atomic<uint32_t> state_{0};
};

struct Waiter {
  // The key the waiter is queued on. Written only while holding the lock of
  // the bucket that holds the waiter (and of the target bucket, on requeue);
  // atomic because lock_waiter_bucket() reads it before taking any lock.
  Atomic<const void*> key{nullptr};
  Waiter* prev = nullptr;  // bucket list; guarded by the bucket lock
  Waiter* next = nullptr;  // bucket list; reused as the wake-list link
  Parker* parker = nullptr;
  uintptr_t park_token = kDefaultParkToken;
  uintptr_t unpark_token = kDefaultUnparkToken;  // set by the dequeuer
  int64_t start_ns = 0;         // park() enqueue time (WaitEvent.start_ns)
  int64_t key_enqueue_ns = 0;   // waited_ns counts from here: enqueue on
                                // the key, or ParkOptions::wait_start_ns
  int64_t charged_from_ns = 0;  // release-delay accounting (ReleaseEvent)
  int64_t dequeue_ns = 0;       // set by the dequeuer
  uint32_t waker_tid = 0;       // set by an unparker
  ParkStatus status = ParkStatus::kUnparked;  // set by the dequeuer
  WaitKind kind = WaitKind::kOther;
  bool queued = false;    // INV-ONCE; guarded by the bucket lock
  bool requeued = false;  // moved off its park() key by unpark_requeue
};

struct Bucket {
  WordLock lock;
  Waiter* head = nullptr;  // guarded by lock
  Waiter* tail = nullptr;  // guarded by lock
};

using parking_lot_detail::bucket_index;
using parking_lot_detail::kBucketCount;

CachePadded<Bucket> g_table[kBucketCount];

// The ParkingLot's own per-thread Parker (INV-PERMIT): not
// this_thread_parker(), so that no other user of that one can leave a stray
// permit that would make park() return while still queued. Constant
// initialized and trivially destructible: no TLS guard.
constinit thread_local Parker tls_parker;

Bucket& bucket_for(const void* key) noexcept {
  return *g_table[bucket_index(key)];
}

// Relaxed loads of Waiter::key below: the bucket lock we hold orders them
// after every write that could matter (writes happen under that lock).
const void* key_of(const Waiter* w) noexcept {
  return w->key.load(std::memory_order_relaxed);
}

void append(Bucket& b, Waiter* w) noexcept {
  w->next = nullptr;
  w->prev = b.tail;
  if (b.tail != nullptr) {
    b.tail->next = w;
  } else {
    b.head = w;
  }
  b.tail = w;
}

void remove(Bucket& b, Waiter* w) noexcept {
  if (w->prev != nullptr) {
    w->prev->next = w->next;
  } else {
    b.head = w->next;
  }
  if (w->next != nullptr) {
    w->next->prev = w->prev;
  } else {
    b.tail = w->prev;
  }
  w->prev = nullptr;
  w->next = nullptr;
}

Waiter* first_on_key(Waiter* from, const void* key) noexcept {
  for (Waiter* w = from; w != nullptr; w = w->next) {
    if (key_of(w) == key) return w;
  }
  return nullptr;
}

// Inserts w ahead of the first waiter on `key` (at the tail if there is
// none): the head of key's queue.
void prepend_on_key(Bucket& b, Waiter* w, const void* key) noexcept {
  Waiter* const first = first_on_key(b.head, key);
  if (first == nullptr) {
    append(b, w);
    return;
  }
  w->next = first;
  w->prev = first->prev;
  if (first->prev != nullptr) {
    first->prev->next = w;
  } else {
    b.head = w;
  }
  first->prev = w;
}

// Debug builds: set while this thread runs a callback inside the ParkingLot
// (validate, before_sleep, timed_out, an unpark callback, an observer
// callback); park() refuses to run then (see Misuse in parking_lot.h).
#ifndef NDEBUG
constinit thread_local int tls_callback_depth = 0;
#endif

class InCallback {
 public:
#ifndef NDEBUG
  InCallback() noexcept { ++tls_callback_depth; }
  ~InCallback() { --tls_callback_depth; }
#else
  // User-provided, so that a scope guard of this type is not an "unused
  // variable" in NDEBUG builds, where it does nothing.
  InCallback() noexcept {}  // NOLINT(modernize-use-equals-default)
#endif
  InCallback(const InCallback&) = delete;
  InCallback& operator=(const InCallback&) = delete;
};

// Locks and returns the bucket that currently holds `w` (its key may change
// under requeue until we hold the right lock).
Bucket& lock_waiter_bucket(Waiter& w) noexcept {
  for (;;) {
    Bucket& b = bucket_for(w.key.load(std::memory_order_relaxed));
    b.lock.lock();
    // Relaxed: read under b's lock, which every writer of w.key that moves it
    // into or out of b holds (see the Requeue note above).
    if (&bucket_for(w.key.load(std::memory_order_relaxed)) == &b) return b;
    b.lock.unlock();
  }
}

// Locks the buckets of two keys in a global order (table index) so that two
// concurrent requeues cannot deadlock. Returns whether they are the same.
bool lock_pair(Bucket& a, Bucket& b) noexcept {
  if (&a == &b) {
    a.lock.lock();
    return true;
  }
  if (&a < &b) {
    a.lock.lock();
    b.lock.lock();
  } else {
    b.lock.lock();
    a.lock.lock();
  }
  return false;
}

void unlock_pair(Bucket& a, Bucket& b, bool same) noexcept {
  a.lock.unlock();
  if (!same) b.lock.unlock();
}

// Release-delay accounting (ReleaseEvent): charges every waiter on `key` for
// the time since it was last charged (or enqueued), and restarts its clock.
// Runs under the bucket lock, only when an observer wants the event.
void charge_waiters(Bucket& b, const void* key, int64_t now,
                    ReleaseEvent& ev) noexcept {
  bool have_kind = false;
  ev.kind = WaitKind::kMutex;  // requeue targets are Mutex keys (Cond)
  for (Waiter* w = b.head; w != nullptr; w = w->next) {
    if (key_of(w) != key) continue;
    if (now > w->charged_from_ns) {
      ev.delay_ns += now - w->charged_from_ns;
      w->charged_from_ns = now;
    }
    ++ev.waiters;
    if (!have_kind && !w->requeued) {
      ev.kind = w->kind;
      have_kind = true;
    }
  }
}

// Marks `w` (already removed from its bucket) as unparked by this thread.
void mark_unparked(Waiter* w, uintptr_t token, int64_t now,
                   uint32_t tid) noexcept {
  w->queued = false;
  w->status = ParkStatus::kUnparked;
  w->unpark_token = token;
  w->dequeue_ns = now;
  w->waker_tid = tid;
}

// Wakes a chain of dequeued waiters linked through `next`. Each record may die
// as soon as its Parker is unparked, so next and parker are read first.
void wake_chain(Waiter* w) noexcept {
  while (w != nullptr) {
    Waiter* const next = w->next;
    Parker* const parker = w->parker;
    parker->unpark();
    w = next;
  }
}

// The std::stop_callback functor: dequeues the waiter if it is still queued
// and wakes it. Runs in the thread that requests stop (or in the waiter's
// thread, if stop was already requested when the callback was registered).
struct CancelWaiter {
  Waiter* w;
  absl::FunctionRef<void(bool)>* timed_out;

  void operator()() const noexcept {
    Bucket& b = lock_waiter_bucket(*w);
    if (!w->queued) {  // INV-ONCE: someone else dequeued it first
      b.lock.unlock();
      return;
    }
    const void* key = key_of(w);
    remove(b, w);
    w->queued = false;
    w->status = ParkStatus::kCancelled;
    w->dequeue_ns = monotonic_now_ns();
    if (!w->requeued) {
      InCallback in;
      (*timed_out)(first_on_key(b.head, key) == nullptr);
    }
    Parker* const parker = w->parker;
    b.lock.unlock();
    parker->unpark();  // INV-PERMIT: the waiter waits for exactly this
  }
};

void report_wait_end(const Waiter& w, const void* park_key) noexcept {
  const WaitObserver* obs = wait_observer();
  if (ABSL_PREDICT_TRUE(obs == nullptr) || obs->on_wait_end == nullptr) return;
  WaitEvent ev;
  ev.key = park_key;
  ev.kind = w.kind;
  ev.status = w.status;
  ev.start_ns = w.start_ns;
  ev.end_ns = w.dequeue_ns;
  ev.waiter_tid = current_thread_id();
  ev.waker_tid = w.status == ParkStatus::kUnparked ? w.waker_tid : 0;
  InCallback in;
  obs->on_wait_end(ev);
}

// Loads the observer for a release-charging unpark: null unless one with
// on_contended_release is installed. One acquire load (in wait_observer()).
const WaitObserver* release_observer(bool is_release) noexcept {
  if (!is_release) return nullptr;
  const WaitObserver* obs = wait_observer();
  if (ABSL_PREDICT_TRUE(obs == nullptr) ||
      obs->on_contended_release == nullptr) {
    return nullptr;
  }
  return obs;
}

ReleaseEvent make_release_event(const void* key, int64_t now) noexcept {
  ReleaseEvent ev;
  ev.key = key;
  ev.kind = WaitKind::kMutex;
  ev.now_ns = now;
  ev.delay_ns = 0;
  ev.waiters = 0;
  ev.releaser_tid = current_thread_id();
  return ev;
}

}  // namespace

ParkResult ParkingLot::park(const void* key, absl::FunctionRef<bool()> validate,
                            absl::FunctionRef<void()> before_sleep,
                            absl::FunctionRef<void(bool was_last)> timed_out,
                            const ParkOptions& options) {
#ifndef NDEBUG
  if (ABSL_PREDICT_FALSE(tls_callback_depth != 0)) {
    fatal("contend: ParkingLot::park: called from a ParkingLot callback");
  }
#endif
  if (options.stop != nullptr && options.stop->stop_requested()) {
    return {ParkStatus::kCancelled, kDefaultUnparkToken};
  }
  Waiter w;
  w.key.store(key, std::memory_order_relaxed);  // not yet shared
  w.parker = &tls_parker;
  w.park_token = options.park_token;
  w.kind = options.kind;
  // Read before taking the lock to keep the hold short; the few ns between
  // this read and the enqueue are noise for every consumer of the value.
  const int64_t now = monotonic_now_ns();
  w.start_ns = now;
  w.key_enqueue_ns = options.wait_start_ns != 0 && options.wait_start_ns < now
                         ? options.wait_start_ns
                         : now;
  w.charged_from_ns = now;

  Bucket& b = bucket_for(key);
  b.lock.lock();
  bool valid;
  {
    InCallback in;
    valid = validate();
  }
  if (!valid) {
    b.lock.unlock();
    return {ParkStatus::kInvalid, kDefaultUnparkToken};
  }
  if (options.front) {
    prepend_on_key(b, &w, key);
  } else {
    append(b, &w);
  }
  w.queued = true;
  b.lock.unlock();

  {
    InCallback in;
    before_sleep();
  }

  {
    // Registered after the enqueue so the callback always finds the record;
    // if stop is already requested the constructor runs it right here.
    std::optional<std::stop_callback<CancelWaiter>> on_stop;
    if (options.stop != nullptr && options.stop->stop_possible()) {
      on_stop.emplace(*options.stop, CancelWaiter{&w, &timed_out});
    }
    for (;;) {
      if (tls_parker.park(options.deadline_ns)) break;  // INV-PERMIT: dequeued
      // Deadline passed: dequeue ourselves unless someone beat us to it.
      Bucket& ob = lock_waiter_bucket(w);
      if (w.queued) {
        const void* cur = key_of(&w);
        remove(ob, &w);
        w.queued = false;
        w.status = ParkStatus::kTimedOut;
        w.dequeue_ns = monotonic_now_ns();
        if (!w.requeued) {
          InCallback in;
          timed_out(first_on_key(ob.head, cur) == nullptr);
        }
        ob.lock.unlock();
        break;
      }
      ob.lock.unlock();
      // INV-PERMIT: an unpark is on its way; consume it before leaving.
      tls_parker.park(kNoDeadline);
      break;
    }
    // ~stop_callback: if the callback is running in another thread, waits
    // for it to return (it has already unparked us, or found us dequeued).
  }

  report_wait_end(w, key);
  // w.requeued was last written under the bucket locks before our dequeue,
  // which the dequeuer's unpark (or our own timeout path) orders before us.
  return {
      w.status,
      w.status == ParkStatus::kUnparked ? w.unpark_token : kDefaultUnparkToken,
      w.requeued};
}

ParkResult ParkingLot::park(const void* key, absl::FunctionRef<bool()> validate,
                            const ParkOptions& options) {
  return park(
      key, validate, [] {}, [](bool) {}, options);
}

UnparkResult ParkingLot::unpark_one(
    const void* key, absl::FunctionRef<uintptr_t(const UnparkResult&)> callback,
    bool is_release) {
  const WaitObserver* obs = release_observer(is_release);
  const int64_t now = monotonic_now_ns();
  const uint32_t tid = current_thread_id();
  ReleaseEvent ev;
  if (obs != nullptr) ev = make_release_event(key, now);

  UnparkResult r;
  Bucket& b = bucket_for(key);
  b.lock.lock();
  Waiter* const w = first_on_key(b.head, key);
  if (w != nullptr) {
    if (obs != nullptr) charge_waiters(b, key, now, ev);
    Waiter* const after = w->next;
    remove(b, w);
    r.unparked = 1;
    r.have_more = first_on_key(after, key) != nullptr;  // w was the first
    r.waited_ns = now - w->key_enqueue_ns;
  }
  uintptr_t token;
  {
    InCallback in;
    token = callback(r);
  }
  Parker* parker = nullptr;
  if (w != nullptr) {
    mark_unparked(w, token, now, tid);
    parker = w->parker;
  }
  b.lock.unlock();
  if (parker != nullptr) {
    parker->unpark();
    if (obs != nullptr) {
      InCallback in;
      obs->on_contended_release(ev);
    }
  }
  return r;
}

size_t ParkingLot::unpark_all(const void* key, uintptr_t token,
                              bool is_release) {
  const WaitObserver* obs = release_observer(is_release);
  const int64_t now = monotonic_now_ns();
  const uint32_t tid = current_thread_id();
  ReleaseEvent ev;
  if (obs != nullptr) ev = make_release_event(key, now);

  size_t n = 0;
  Waiter* chain = nullptr;
  Waiter* chain_tail = nullptr;
  Bucket& b = bucket_for(key);
  b.lock.lock();
  if (obs != nullptr) charge_waiters(b, key, now, ev);
  for (Waiter* w = b.head; w != nullptr;) {
    Waiter* const next = w->next;
    if (key_of(w) == key) {
      remove(b, w);
      mark_unparked(w, token, now, tid);
      if (chain_tail != nullptr) {
        chain_tail->next = w;
      } else {
        chain = w;
      }
      chain_tail = w;
      ++n;
    }
    w = next;
  }
  b.lock.unlock();
  wake_chain(chain);
  if (obs != nullptr && n != 0) {
    InCallback in;
    obs->on_contended_release(ev);
  }
  return n;
}

UnparkResult ParkingLot::unpark_filter(
    const void* key, absl::FunctionRef<FilterOp(uintptr_t park_token)> filter,
    absl::FunctionRef<uintptr_t(const UnparkResult&)> callback,
    bool is_release) {
  const WaitObserver* obs = release_observer(is_release);
  const int64_t now = monotonic_now_ns();
  const uint32_t tid = current_thread_id();
  ReleaseEvent ev;
  if (obs != nullptr) ev = make_release_event(key, now);

  UnparkResult r;
  Waiter* chain = nullptr;
  Waiter* chain_tail = nullptr;
  Bucket& b = bucket_for(key);
  b.lock.lock();
  bool charged = false;
  for (Waiter* w = b.head; w != nullptr;) {
    Waiter* const next = w->next;
    if (key_of(w) == key) {
      const FilterOp op = filter(w->park_token);
      if (op == FilterOp::kStop) break;
      if (op == FilterOp::kUnpark) {
        if (obs != nullptr && !charged) {
          charge_waiters(b, key, now, ev);
          charged = true;
        }
        if (r.unparked == 0) r.waited_ns = now - w->key_enqueue_ns;
        remove(b, w);
        if (chain_tail != nullptr) {
          chain_tail->next = w;
        } else {
          chain = w;
        }
        chain_tail = w;
        ++r.unparked;
      }
    }
    w = next;
  }
  r.have_more = first_on_key(b.head, key) != nullptr;
  uintptr_t token;
  {
    InCallback in;
    token = callback(r);
  }
  for (Waiter* w = chain; w != nullptr; w = w->next) {
    mark_unparked(w, token, now, tid);
  }
  b.lock.unlock();
  wake_chain(chain);
  if (charged) {
    InCallback in;
    obs->on_contended_release(ev);
  }
  return r;
}

UnparkResult ParkingLot::unpark_requeue(
    const void* from, const void* to, absl::FunctionRef<RequeueOp()> validate,
    absl::FunctionRef<uintptr_t(RequeueOp, const UnparkResult&)> callback) {
  const int64_t now = monotonic_now_ns();
  const uint32_t tid = current_thread_id();
  UnparkResult r;
  Bucket& bf = bucket_for(from);
  Bucket& bt = bucket_for(to);
  const bool same = lock_pair(bf, bt);
  RequeueOp op;
  {
    InCallback in;
    op = validate();
  }
  if (op == RequeueOp::kAbort) {
    unlock_pair(bf, bt, same);
    return r;
  }
  const bool wake_one =
      op == RequeueOp::kUnparkOne || op == RequeueOp::kUnparkOneRequeueRest;
  const bool move_rest =
      op == RequeueOp::kUnparkOneRequeueRest || op == RequeueOp::kRequeueAll;
  const bool move_one = op == RequeueOp::kRequeueOne;
  Waiter* woken = nullptr;
  Waiter* moved = nullptr;  // chain of waiters to append to `to`, FIFO
  Waiter* moved_tail = nullptr;
  for (Waiter* w = bf.head; w != nullptr;) {
    Waiter* const next = w->next;
    if (key_of(w) == from) {
      if (wake_one && woken == nullptr) {
        remove(bf, w);
        woken = w;
        r.unparked = 1;
        r.waited_ns = now - w->key_enqueue_ns;
      } else if (move_rest || (move_one && r.requeued == 0)) {
        remove(bf, w);
        if (moved_tail != nullptr) {
          moved_tail->next = w;
          w->prev = moved_tail;
        } else {
          moved = w;
        }
        moved_tail = w;
        ++r.requeued;
      } else {
        break;  // kUnparkOne / kRequeueOne: done after the first
      }
    }
    w = next;
  }
  for (Waiter* w = moved; w != nullptr;) {
    Waiter* const next = w->next;
    // Written under both locks: bf (where it was) and bt (where it goes).
    w->key.store(to, std::memory_order_relaxed);
    w->requeued = true;
    // Time spent on `from` is not the `to` owner's doing: restart the clocks.
    w->key_enqueue_ns = now;
    if (w->charged_from_ns < now) w->charged_from_ns = now;
    append(bt, w);
    w = next;
  }
  r.have_more = first_on_key(bf.head, from) != nullptr;
  uintptr_t token;
  {
    InCallback in;
    token = callback(op, r);
  }
  Parker* parker = nullptr;
  if (woken != nullptr) {
    mark_unparked(woken, token, now, tid);
    parker = woken->parker;
  }
  unlock_pair(bf, bt, same);
  if (parker != nullptr) parker->unpark();
  return r;
}

size_t ParkingLot::waiter_count(const void* key) {
  Bucket& b = bucket_for(key);
  b.lock.lock();
  size_t n = 0;
  for (Waiter* w = b.head; w != nullptr; w = w->next) {
    if (key_of(w) == key) ++n;
  }
  b.lock.unlock();
  return n;
}

}  // namespace contend::internal
