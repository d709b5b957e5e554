// Copyright 2026 The contend Authors.
//
// Chan and select: the wait word every blocked channel operation parks on,
// and the select loop.
//
// How a blocked operation is woken (Go's runtime/chan.go and select.go, with
// the goroutine replaced by a ChanSelect on the blocked thread's stack):
// a blocked operation queues one ChanWaiter per case on that case's channel
// (under the channel's lock), drops the locks and waits on its ChanSelect.
// A partner -- a sender for a queued receiver, a receiver for a queued
// sender, or close() -- finds the waiter under the channel's lock, claims the
// ChanSelect (one CAS: the first claim wins, so exactly one case of a select
// takes effect), moves the value into or out of the waiter's record while
// still holding the lock, and after dropping the lock publishes kDone. A
// waiter whose ChanSelect another case already claimed is stale: the partner
// unlinks it and looks at the next. The owner, once it sees kDone, re-locks
// each of its other channels to unlink its remaining (stale) waiters.
//
// ChanSelect state word (32 bits):
//   bit 0      kSleeping  the owner is parked, or about to be: set only by
//                         validate() under the queue lock of park_key_
//   bit 1      kClaimed   a case won, or the owner gave up (deadline/stop)
//   bit 2      kDone      the claimer's transfer is complete
//   bits 31..3            winning case index + 1; 0 for the owner's own claim
//   transitions: 0 -(validate)-> S -(claim)-> S|C -(publish)-> S|C|D, or
//   0 -(claim)-> C -(publish)-> C|D; the owner's own claim goes to C (or
//   S|C) and is never published (nobody else touches the records then).
// INV-CS-1: kClaimed is set once, by a CAS from a word without it, so one
//   claim wins; a failed try_claim() leaves the word unchanged.
// INV-CS-2: only the winning claimer sets kDone, and that RMW is its last
//   access to the owner's memory: the owner may return and free its stack
//   (records, ChanSelect, the received value) as soon as it sees kDone.
//   When the owner may be asleep (kSleeping), kDone is set inside the
//   ParkingLot unpark callback, which runs before the owner can leave
//   park(); the ParkingLot never dereferences the key afterwards.
// INV-CS-3 (no lost wakeup): kSleeping is set by validate() in the same
//   queue-lock critical section that queues the owner, and validate()
//   declines to park once kDone is set. A claimer that reads a word without
//   kSleeping publishes with a CAS that fails if validate() set it
//   meanwhile; one that reads kSleeping unparks under the same queue lock,
//   so it finds the owner queued, or (if the owner timed out and has not
//   re-parked yet) sets kDone for the owner's next validate() to see.
// INV-CH-1 (chan.h): a claimable sender is queued only while the buffer is
//   full, and a claimable receiver only while it is empty: an operation
//   queues only after its locked attempt failed, and every later locked
//   operation serves the opposite queue before the buffer. So a receive
//   that finds a claimable sender on a buffered channel takes the head and
//   refills the tail from the sender (FIFO kept), and a send that finds a
//   claimable receiver hands the value over directly.
//
// Spinning: the owner snoozes (internal::Backoff: 127 pauses, then 4
// sched_yield; ~7 us measured on the reference VM) before it parks. A
// partner on the other CPU usually arrives within that window -- Go's
// channel ping-pong round trip is ~0.5 us there -- and then the hand-off is
// one CAS on the waiter's word and no futex call at all; a cross-CPU futex
// wake costs 16-26 us on this VM. The yields also let a partner preempted on
// our CPU run. Beyond the window the park costs at most ~2x the optimum
// (Backoff's competitive bound).

#include "sync/chan.h"

#include <algorithm>
#include <cstdio>
#include <memory>

#include "sync/internal/backoff.h"
#include "sync/internal/fatal.h"
#include "sync/internal/parking_lot.h"
#include "sync/internal/prng.h"
#include "sync/internal/wait_observer.h"

namespace contend::internal {

void ChanQueue::push_back(ChanWaiter* w) noexcept {
  w->prev = tail_;
  w->next = nullptr;
  if (tail_ != nullptr) {
    tail_->next = w;
  } else {
    head_ = w;
  }
  tail_ = w;
  w->linked = true;
}

void ChanQueue::remove(ChanWaiter* w) noexcept {
  if (!w->linked) return;
  if (w->prev != nullptr) {
    w->prev->next = w->next;
  } else {
    head_ = w->next;
  }
  if (w->next != nullptr) {
    w->next->prev = w->prev;
  } else {
    tail_ = w->prev;
  }
  w->prev = w->next = nullptr;
  w->linked = false;
}

void ChanSelect::publish_done() noexcept {
  // Relaxed: a first guess; the CAS re-validates.
  uint32_t s = state_.load(std::memory_order_relaxed);
  while ((s & kSleeping) == 0) {
    // Release: pairs with the acquire loads of kDone in wait(), publishing
    // the transfer into the owner's record. The last access (INV-CS-2).
    // Relaxed on failure: the loop re-reads (validate may have set
    // kSleeping, INV-CS-3).
    if (state_.compare_exchange_weak(s, s | kDone, std::memory_order_release,
                                     std::memory_order_relaxed)) {
      return;
    }
  }
  const auto token = reinterpret_cast<uintptr_t>(this);
  const void* key = park_key_;  // read before kDone frees *this
  bool found = false;
  ParkingLot::unpark_filter(
      key,
      [&](uintptr_t park_token) {
        if (found) return FilterOp::kStop;
        if (park_token != token) return FilterOp::kSkip;
        found = true;
        return FilterOp::kUnpark;
      },
      [this](const UnparkResult&) {
        // Under the queue lock, before the owner can leave park(): the last
        // access to *this (INV-CS-2). Release: pairs with the acquire loads
        // in wait().
        state_.fetch_or(kDone, std::memory_order_release);
        return kDefaultUnparkToken;
      });
}

int ChanSelect::wait(int64_t deadline_ns,
                     const std::stop_token* stop) noexcept {
#if defined(CONTEND_DSCHED)
  // Under the explorer a few polls keep both hand-off paths reachable (an
  // owner that sees kDone while spinning, and one that parked) without the
  // ~130 scheduling points per wait that the real spin phase would add to
  // every schedule.
  for (int i = 0; i < 3; ++i) {
    // Acquire: pairs with the release in publish_done().
    const uint32_t s = state_.load(std::memory_order_acquire);
    if ((s & kDone) != 0) return winner(s);
    cpu_relax();
  }
#else
  Backoff backoff;
  while (!backoff.is_completed()) {
    // Acquire: pairs with the release in publish_done().
    const uint32_t s = state_.load(std::memory_order_acquire);
    if ((s & kDone) != 0) return winner(s);
    backoff.snooze();
  }
#endif
  ParkOptions options;
  options.deadline_ns = deadline_ns;
  options.stop = stop;
  options.park_token = reinterpret_cast<uintptr_t>(this);
  options.kind = WaitKind::kChan;
  for (;;) {
    const ParkResult r = ParkingLot::park(
        park_key_,
        [this] {
          // Under the queue lock (INV-CS-3). Relaxed: the CAS re-validates,
          // and the data is read after the acquire load below.
          uint32_t s = state_.load(std::memory_order_relaxed);
          for (;;) {
            if ((s & kDone) != 0) return false;
            if ((s & kSleeping) != 0) return true;
            // Relaxed: the bit carries no data; the queue lock orders it
            // with publish_done()'s unpark.
            if (state_.compare_exchange_weak(s, s | kSleeping,
                                             std::memory_order_relaxed,
                                             std::memory_order_relaxed)) {
              return true;
            }
          }
        },
        options);
    // Acquire: pairs with the release in publish_done().
    uint32_t s = state_.load(std::memory_order_acquire);
    if ((s & kDone) != 0) return winner(s);
    if (r.status == ParkStatus::kTimedOut ||
        r.status == ParkStatus::kCancelled) {
      while ((s & kClaimed) == 0) {
        // Relaxed: our own claim publishes nothing; after it no partner
        // touches our records (INV-CS-1), and the caller unlinks them under
        // each channel's lock.
        if (state_.compare_exchange_weak(s, s | kClaimed,
                                         std::memory_order_relaxed,
                                         std::memory_order_relaxed)) {
          return r.status == ParkStatus::kTimedOut ? kTimedOut : kCancelled;
        }
      }
      // A partner claimed us first: its effect has happened; wait for its
      // kDone, which follows within its (short, non-blocking) transfer.
      options.deadline_ns = kNoDeadline;
      options.stop = nullptr;
    }
    // kUnparked without kDone cannot come from our claimer (it sets kDone
    // before the wake); loop and re-validate.
  }
}

namespace {

// Few enough cases to keep the select's bookkeeping on the stack.
constexpr size_t kInlineCases = 16;

template <class V>
class SmallArray {
 public:
  explicit SmallArray(size_t n)
      : heap_(n > kInlineCases ? std::make_unique<V[]>(n) : nullptr),
        data_(heap_ != nullptr ? heap_.get() : inline_) {}
  V& operator[](size_t i) { return data_[i]; }
  V* begin() { return data_; }

 private:
  V inline_[kInlineCases];
  std::unique_ptr<V[]> heap_;
  V* data_;
};

// Locks each distinct mutex once, in address order (a total order shared
// by every select, so two selects never deadlock; a plain Chan call holds
// one channel lock only).
class LockSet {
 public:
  LockSet(SelectCase* const* cases, size_t n) : mus_(n) {
    for (size_t i = 0; i < n; ++i) {
      if (Mutex* mu = cases[i]->mutex()) mus_[count_++] = mu;
    }
    std::sort(mus_.begin(), mus_.begin() + count_);
    count_ = static_cast<size_t>(
        std::unique(mus_.begin(), mus_.begin() + count_) - mus_.begin());
  }
  void lock() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    for (size_t i = 0; i < count_; ++i) mus_[i]->lock();
  }
  void unlock() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    for (size_t i = count_; i > 0; --i) mus_[i - 1]->unlock();
  }

 private:
  SmallArray<Mutex*> mus_;
  size_t count_ = 0;
};

}  // namespace

size_t run_select(SelectCase* const* cases,
                  size_t n) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  // Poll order: a uniformly random permutation (Fisher-Yates), so the first
  // ready case in it is uniform among the ready ones. The default case is
  // never polled: it runs only when nothing else is ready.
  SmallArray<uint32_t> order(n);
  size_t polled = 0;
  size_t default_case = n;
  const SelectCase* stop_case = nullptr;
  int64_t deadline_ns = kNoDeadline;
  size_t stop_index = n;
  size_t deadline_index = n;
  const void* park_key = nullptr;
  for (size_t i = 0; i < n; ++i) {
    switch (cases[i]->kind()) {
      case SelectCase::Kind::kDefault:
        default_case = i;
        continue;
      case SelectCase::Kind::kStop:
        stop_case = cases[i];
        stop_index = i;
        break;
      case SelectCase::Kind::kDeadline:
        deadline_ns = cases[i]->deadline_ns();
        deadline_index = i;
        break;
      case SelectCase::Kind::kChan:
        if (park_key == nullptr) park_key = cases[i]->park_key();
        break;
    }
    const size_t j = static_cast<size_t>(thread_random_below(polled + 1));
    order[polled] = order[j];
    order[j] = static_cast<uint32_t>(i);
    ++polled;
  }

  LockSet locks(cases, n);
  ChanWakeList wake;
  auto finish = [&](size_t winner) {
    locks.unlock();
    wake.publish();
    cases[winner]->fire();
    return winner;
  };
  locks.lock();
  for (size_t k = 0; k < polled; ++k) {
    const size_t i = order[k];
    SelectCase* c = cases[i];
    switch (c->kind()) {
      case SelectCase::Kind::kStop:
        if (c->stop()->stop_requested()) return finish(i);
        break;
      case SelectCase::Kind::kDeadline:
        if (c->deadline_ns() <= monotonic_now_ns()) return finish(i);
        break;
      case SelectCase::Kind::kChan:
        if (c->poll(wake)) return finish(i);
        break;
      case SelectCase::Kind::kDefault:
        break;
    }
  }
  if (default_case != n) return finish(default_case);

  ChanSelect sel(park_key);
  for (size_t i = 0; i < n; ++i) {
    if (cases[i]->kind() == SelectCase::Kind::kChan) {
      cases[i]->enqueue(&sel, static_cast<uint32_t>(i));
    }
  }
  locks.unlock();
  const int r =
      sel.wait(deadline_ns, stop_case != nullptr ? stop_case->stop() : nullptr);
  // Unlink the records that lost (the winner's partner unlinked its own).
  for (size_t i = 0; i < n; ++i) {
    SelectCase* c = cases[i];
    if (c->kind() != SelectCase::Kind::kChan || static_cast<int>(i) == r) {
      continue;
    }
    c->mutex()->lock();
    c->dequeue();
    c->mutex()->unlock();
  }
  size_t winner;
  if (r == ChanSelect::kTimedOut) {
    winner = deadline_index;
  } else if (r == ChanSelect::kCancelled) {
    winner = stop_index;
  } else {
    winner = static_cast<size_t>(r);
    cases[winner]->claimed();
  }
  cases[winner]->fire();
  return winner;
}

void chan_fatal(const char* message) noexcept { fatal(message); }

void chan_set_label(const void* key, const char* label) {
  set_wait_label(key, label);
}

void chan_clear_label(const void* key) { clear_wait_label(key); }

}  // namespace contend::internal
