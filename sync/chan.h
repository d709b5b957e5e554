// Copyright 2026 The contend Authors.
//
// contend::Chan<T>, Go's channel (buffered or unbuffered, with close and
// range), and contend::select over channel, stop, deadline and default
// cases, waiting on the ParkingLot.

#ifndef CONTEND_SYNC_CHAN_H_
#define CONTEND_SYNC_CHAN_H_

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <optional>
#include <stop_token>
#include <type_traits>
#include <utility>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "absl/base/thread_annotations.h"
#include "sync/internal/atomic.h"
#include "sync/internal/clock.h"
#include "sync/mutex.h"

namespace contend {

template <class T>
class Chan;

namespace internal {

class ChanSelect;

// One case of a blocked operation, linked into one channel's send or receive
// queue (Go's sudog). Lives on the blocked thread's stack, inside its Chan
// call or select case, and is touched by other threads only under that
// channel's lock.
struct ChanWaiter {
  ChanWaiter* prev = nullptr;
  ChanWaiter* next = nullptr;
  ChanSelect* sel = nullptr;
  // send: the caller's T, moved from by the matching receiver.
  // recv: the caller's std::optional<T>, filled by the matching sender.
  void* elem = nullptr;
  uint32_t case_index = 0;
  bool linked = false;  // in a queue (guarded by the channel's lock)
  bool closed = false;  // the claimer was close(); written before kDone
};

// A FIFO of ChanWaiters (intrusive, doubly linked). The owning channel's
// lock guards it.
class ChanQueue {
 public:
  bool empty() const noexcept { return head_ == nullptr; }
  ChanWaiter* front() const noexcept { return head_; }
  void push_back(ChanWaiter* w) noexcept;
  // Unlinks w if it is linked (a claimer may have unlinked it already).
  void remove(ChanWaiter* w) noexcept;

 private:
  ChanWaiter* head_ = nullptr;
  ChanWaiter* tail_ = nullptr;
};

// The one wait word of a blocked channel operation or select; every case of
// the operation points at it. The first thread to claim it -- a matching
// sender or receiver, close(), or the owner itself on deadline or stop --
// decides which single case takes effect. State table and invariants
// (INV-CS-*) in chan.cc.
class ChanSelect {
 public:
  // park_key: the ParkingLot key the owner parks on: its first channel
  // case's key, so the profiler reports the wait under that channel's label;
  // nullptr (a select with no channel case): the ChanSelect itself.
  explicit ChanSelect(const void* park_key) noexcept
      : park_key_(park_key == nullptr ? this : park_key) {}
  ChanSelect(const ChanSelect&) = delete;
  ChanSelect& operator=(const ChanSelect&) = delete;

  // wait() results other than a case index.
  static constexpr int kTimedOut = -1;
  static constexpr int kCancelled = -2;

  // Claimer, under the lock of the channel that holds the waiter: makes
  // case_index the one case that takes effect. False: another case (or the
  // owner's deadline/stop) won; the caller drops the stale waiter.
  [[nodiscard]] bool try_claim(uint32_t case_index) noexcept {
    // Relaxed: a first guess; the CAS re-validates.
    uint32_t s = state_.load(std::memory_order_relaxed);
    while ((s & kClaimed) == 0) {
      // Relaxed: the claim publishes nothing (the claimer's transfer is
      // published by kDone); INV-CS-1 needs only the CAS's atomicity.
      if (state_.compare_exchange_weak(
              s, s | kClaimed | ((case_index + 1) << kIndexShift),
              std::memory_order_relaxed, std::memory_order_relaxed)) {
        return true;
      }
    }
    return false;
  }

  // Claimer, after its transfer and with no channel lock held: lets the owner
  // return (INV-CS-2). Touches nothing of *this afterwards.
  void publish_done() noexcept;

  // Owner, after queueing its cases and dropping the channel locks: spins
  // briefly, then parks until a claimer publishes kDone, and returns the
  // winning case index. On deadline or stop it claims the word itself and
  // returns kTimedOut / kCancelled -- unless a claimer got there first; then
  // it waits for that claimer's kDone and returns its case, because that
  // case's effect has happened.
  int wait(int64_t deadline_ns, const std::stop_token* stop) noexcept;

  // Link of a ChanWakeList (set by the claimer under a channel lock).
  ChanSelect* wake_next = nullptr;

 private:
  friend class ChanSelectTestPeer;
  static constexpr uint32_t kSleeping = 1;
  static constexpr uint32_t kClaimed = 2;
  static constexpr uint32_t kDone = 4;
  static constexpr uint32_t kIndexShift = 3;

  static int winner(uint32_t s) noexcept {
    return static_cast<int>(s >> kIndexShift) - 1;
  }

  Atomic<uint32_t> state_{0};
  const void* const park_key_;
};

// The selects one locked channel operation claimed; published
// (publish_done) once every channel lock is dropped, so a woken owner never
// runs into a lock its waker still holds.
class ChanWakeList {
 public:
  ChanWakeList() = default;
  ChanWakeList(const ChanWakeList&) = delete;
  ChanWakeList& operator=(const ChanWakeList&) = delete;
  ~ChanWakeList() { publish(); }

  void add(ChanSelect* sel) noexcept {
    sel->wake_next = head_;
    head_ = sel;
  }
  void publish() noexcept {
    while (head_ != nullptr) {
      ChanSelect* next = head_->wake_next;  // before the owner may return
      head_->publish_done();
      head_ = next;
    }
  }

 private:
  ChanSelect* head_ = nullptr;
};

// One case of contend::select. Channel cases implement the hooks; stop,
// deadline and default cases only carry their kind and data.
class SelectCase {
 public:
  enum class Kind : uint8_t { kChan, kStop, kDeadline, kDefault };

  Kind kind() const noexcept { return kind_; }
  Mutex* mutex() const noexcept { return mu_; }
  const void* park_key() const noexcept { return key_; }
  const std::stop_token* stop() const noexcept { return &stop_; }
  int64_t deadline_ns() const noexcept { return deadline_ns_; }

  // Channel cases, under mutex(): completes the case now if it can; the
  // partners it claimed go to `wake`.
  virtual bool poll(ChanWakeList& wake) { return (void)wake, false; }
  // Channel cases, under mutex(): queues the case's waiter for `sel`.
  void enqueue(ChanSelect* sel, uint32_t index) noexcept {
    w_.sel = sel;
    w_.case_index = index;
    queue_->push_back(&w_);
  }
  // Channel cases, under mutex(): unlinks the waiter if still linked.
  void dequeue() noexcept { queue_->remove(&w_); }
  // The case won through a claimer (a send case dies if that was close()).
  virtual void claimed() {}
  // Runs the user's callback, with no lock held.
  virtual void fire() = 0;

 protected:
  explicit SelectCase(Kind kind) noexcept : kind_(kind) {}
  ~SelectCase() = default;

  // A channel case's channel: its lock, ParkingLot key, the queue its
  // waiter joins, and the waiter's element (see ChanWaiter::elem).
  void bind(Mutex* mu, const void* key, ChanQueue* queue, void* elem) noexcept {
    mu_ = mu;
    key_ = key;
    queue_ = queue;
    w_.elem = elem;
  }

  ChanWaiter w_;
  Mutex* mu_ = nullptr;
  const void* key_ = nullptr;
  ChanQueue* queue_ = nullptr;
  std::stop_token stop_;
  int64_t deadline_ns_ = kNoDeadline;

 private:
  const Kind kind_;
};

// The select algorithm over cases[0..n) (chan.cc); returns the index of the
// case that took effect, after running its callback.
size_t run_select(SelectCase* const* cases, size_t n);

// Misuse reports (chan.cc).
[[noreturn]] ABSL_ATTRIBUTE_COLD ABSL_ATTRIBUTE_NOINLINE void chan_fatal(
    const char* message) noexcept;

// Label registration for Chan's profiler key (chan.cc, so that this header
// does not pull in the observer).
void chan_set_label(const void* key, const char* label);
void chan_clear_label(const void* key);

template <class T, class F>
class SelectRecvCase;
template <class T, class F>
class SelectSendCase;
struct ChanBindingAccess;

// What a send did, for ChanBindingAccess (below).
enum class ChanSendStatus : uint8_t { kSent, kNotSent, kClosed };

}  // namespace internal

// A Chan<T> passes values of type T from senders to receivers in FIFO order:
// Go's `chan T`, with close, range and select (contend::select below).
//
// Model: a FIFO buffer of at most capacity() values, a `closed` flag, and
// FIFO queues of blocked senders and receivers.
//   state                     send                    recv
//   open, buffer not full     enqueues, returns       takes the oldest value
//   open, full (capacity 0:   blocks until a receiver takes a value (or its
//     always "full")            value directly)       ...
//   open, empty               (as above)              blocks until a value
//   closed, not empty         dies (Misuse)           takes the oldest value
//   closed, empty ("drained") dies (Misuse)           returns nullopt at once
// With capacity 0 (unbuffered) there is no buffer: a send and a receive meet
// (rendezvous) and the value passes directly; send() returns only after a
// receiver took the value.
//
// Contract:
//  - Requires: T is nothrow move constructible (values move under the
//    channel's lock). The Chan outlives every call on it, with one
//    exception: a thread may destroy it as soon as no other call is in
//    progress except a send whose value it received or a close() it saw
//    (recv returned nullopt) -- those touch nothing of the channel after
//    the hand-off. Destroying it with a blocked sender or receiver dies
//    (Misuse).
//  - Guarantees: every value sent is received exactly once, or is still in
//    the buffer; values leave in the order their sends took effect. recv()
//    returns nullopt only when the channel is closed and drained, and from
//    then on every receive does.
//  - Sending, and what happens to the value when a send fails: every send
//    takes its value by reference (`T&&`, or `const T&`, which sends a copy)
//    and moves from it only when the send succeeds. So a failed try_send,
//    send_for, send_until or send(v, stop) -- which return false -- leaves
//    the caller's object untouched: `if (!ch.try_send(std::move(v)))
//    keep(v);` is correct, because std::move is only a cast. (We chose this
//    over returning std::optional<T> on failure, which costs a move in and a
//    move back out and reads backwards at the call site -- "empty means
//    success" -- and over an out-parameter, which needs a second object;
//    moodycamel's try_enqueue(T&&) has the same rule.)
//  - recv_for, recv_until and recv(stop) return nullopt on timeout or stop
//    too; drained() then tells the two apart (it never goes back to false).
//  - Range-for receives until the channel is closed and drained:
//    `for (T& v : ch) use(v);`
// Thread safety: every member may run concurrently from any number of
// threads (multi-producer, multi-consumer).
// Memory ordering (Go's memory model, "Channel communication"):
//  - a send happens-before the completion of the receive that gets its value;
//  - a receive from an unbuffered channel happens-before the completion of
//    the send whose value it took;
//  - the k-th receive on a channel of capacity C > 0 happens-before the
//    completion of the (k+C)-th send (so a channel of capacity C is a
//    counting semaphore);
//  - close() happens-before a receive that returns nullopt because the
//    channel is closed.
//  A failed try_*, and a timed-out or cancelled call, gives no ordering.
// Misuse (always checked -- Go panics on all of them -- and terminating):
//  - send of any form on a closed channel, including a sender blocked when
//    close() runs: "contend: Chan::<method>: send on closed channel"
//    (method = send, try_send, send_for, send_until).
//  - close() of a closed channel: "contend: Chan::close: close of closed
//    channel".
//  - destroying a Chan with a blocked sender or receiver: "contend:
//    Chan::~Chan: destroyed with blocked senders or receivers".
// Cost: one contend::Mutex lock per operation (Go's hchan lock) plus, for a
// buffered channel, a heap array of `capacity` std::optional<T> allocated
// once by the constructor; nothing else allocates. A blocked operation
// queues a record on its own stack, spins on its own wait word for up to
// ~7 us (internal::Backoff: exponential pauses, then 4 sched_yield) and only
// then parks (WaitKind::kChan): a cross-CPU futex wake costs 16-26 us on
// the 2-vCPU reference VM, so a channel that parked at once would lose to
// Go's spinning scheduler by that much per hand-off. The partner that
// matches it transfers the value directly into the record and sets the
// word; it makes a futex call only if the waiter had already parked.
// Numbers beside Go's channels: bench/sync/RESULTS.md, "Chan"
// (//bench/sync:chan_benchmark).
//
// Example:
//   contend::Chan<std::string> jobs(16);
//   std::thread worker([&] {
//     for (std::string& job : jobs) run(job);  // until closed and drained
//   });
//   jobs.send("a");
//   jobs.send("b");
//   jobs.close();
//   worker.join();
template <class T>
class Chan {
  static_assert(std::is_nothrow_move_constructible_v<T>,
                "Chan<T> moves values under its lock: T's move constructor "
                "must be noexcept");
  static_assert(!std::is_reference_v<T> && !std::is_const_v<T>,
                "Chan<T> holds values: T must be a non-const object type");

 public:
  using value_type = T;

  // A channel with room for `capacity` values; 0: unbuffered (rendezvous).
  explicit Chan(size_t capacity = 0)
      : capacity_(capacity),
        buf_(capacity == 0 ? nullptr
                           : std::make_unique<std::optional<T>[]>(capacity)) {}

  // The same, with the profiler reporting its waits under `label` (static
  // storage duration; see profile/profile.h).
  Chan(size_t capacity, const char* label) : Chan(capacity) {
    internal::chan_set_label(&key_, label);
    labeled_ = true;
  }

  Chan(const Chan&) = delete;
  Chan& operator=(const Chan&) = delete;

  ~Chan() {
    bool waiters;
    {
      MutexLock lock(mu_);
      waiters = !recvq_.empty() || !sendq_.empty();
    }
    if (ABSL_PREDICT_FALSE(waiters)) {
      internal::chan_fatal(
          "contend: Chan::~Chan: destroyed with blocked senders or receivers");
    }
    if (labeled_) internal::chan_clear_label(&key_);
  }

  // Blocks until the value is in the buffer or, unbuffered, taken by a
  // receiver.
  void send(T&& value) {
    (void)send_impl(value, internal::kNoDeadline, nullptr, kSend);
  }
  void send(const T& value) {
    T copy(value);
    send(std::move(copy));
  }

  // Sends only if that needs no waiting (room in the buffer, or a receiver
  // already blocked). False: `value` is untouched.
  [[nodiscard]] bool try_send(T&& value) {
    return send_impl(value, kNonBlocking, nullptr, kTrySend);
  }
  [[nodiscard]] bool try_send(const T& value) {
    T copy(value);
    return try_send(std::move(copy));
  }

  // Blocks until sent (true) or the timeout passes (false, value untouched).
  template <class Rep, class Period>
  [[nodiscard]] bool send_for(T&& value,
                              std::chrono::duration<Rep, Period> timeout) {
    return send_impl(value, internal::deadline_after(timeout), nullptr,
                     kSendFor);
  }
  template <class Rep, class Period>
  [[nodiscard]] bool send_for(const T& value,
                              std::chrono::duration<Rep, Period> timeout) {
    T copy(value);
    return send_for(std::move(copy), timeout);
  }

  template <class Clock, class Duration>
  [[nodiscard]] bool send_until(
      T&& value, std::chrono::time_point<Clock, Duration> deadline) {
    return send_impl(value, internal::to_monotonic_deadline(deadline), nullptr,
                     kSendUntil);
  }
  template <class Clock, class Duration>
  [[nodiscard]] bool send_until(
      const T& value, std::chrono::time_point<Clock, Duration> deadline) {
    T copy(value);
    return send_until(std::move(copy), deadline);
  }

  // Blocks until sent (true) or stop is requested (false, value untouched;
  // also if stop was requested before the call).
  [[nodiscard]] bool send(T&& value, std::stop_token stop) {
    if (stop.stop_requested()) return false;
    return send_impl(value, internal::kNoDeadline, &stop, kSend);
  }
  [[nodiscard]] bool send(const T& value, std::stop_token stop) {
    T copy(value);
    return send(std::move(copy), std::move(stop));
  }

  // Blocks until a value arrives; nullopt once closed and drained.
  std::optional<T> recv() { return recv_impl(internal::kNoDeadline, nullptr); }

  // A value if one is available without waiting; nullopt otherwise (or
  // closed and drained).
  [[nodiscard]] std::optional<T> try_recv() {
    return recv_impl(kNonBlocking, nullptr);
  }

  // As recv(), but also nullopt when the timeout passes or stop is requested.
  template <class Rep, class Period>
  [[nodiscard]] std::optional<T> recv_for(
      std::chrono::duration<Rep, Period> timeout) {
    return recv_impl(internal::deadline_after(timeout), nullptr);
  }
  template <class Clock, class Duration>
  [[nodiscard]] std::optional<T> recv_until(
      std::chrono::time_point<Clock, Duration> deadline) {
    return recv_impl(internal::to_monotonic_deadline(deadline), nullptr);
  }
  [[nodiscard]] std::optional<T> recv(std::stop_token stop) {
    if (stop.stop_requested()) return std::nullopt;
    return recv_impl(internal::kNoDeadline, &stop);
  }

  // Closes the channel: no more sends; blocked receivers return nullopt once
  // the buffer is drained; blocked senders die (Misuse).
  void close() {
    internal::ChanWakeList wake;
    MutexLock lock(mu_);
    if (ABSL_PREDICT_FALSE(closed_)) {
      internal::chan_fatal("contend: Chan::close: close of closed channel");
    }
    closed_ = true;
    for (internal::ChanQueue* q : {&recvq_, &sendq_}) {
      while (internal::ChanWaiter* w = q->front()) {
        q->remove(w);
        if (!w->sel->try_claim(w->case_index)) continue;
        w->closed = true;
        wake.add(w->sel);
      }
    }
    // `wake` publishes after `lock` is released (destroyed in reverse order).
  }

  // Values in the buffer now (a snapshot; 0 for an unbuffered channel).
  size_t size() const {
    MutexLock lock(mu_);
    return count_;
  }
  size_t capacity() const noexcept { return capacity_; }
  // True once close() has run (a snapshot while it has not).
  bool closed() const {
    MutexLock lock(mu_);
    return closed_;
  }
  // True once the channel is closed and its buffer empty: every receive
  // returns nullopt from then on, so this never turns false again.
  bool drained() const {
    MutexLock lock(mu_);
    return closed_ && count_ == 0;
  }

  // Range-for: receives until closed and drained.
  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    using pointer = T*;
    using reference = T&;
    iterator() = default;
    T& operator*() { return *cur_; }
    T* operator->() { return &*cur_; }
    iterator& operator++() {
      cur_ = ch_->recv();
      return *this;
    }
    void operator++(int) { ++*this; }
    friend bool operator==(const iterator& it, std::default_sentinel_t) {
      return !it.cur_.has_value();
    }

   private:
    friend class Chan;
    explicit iterator(Chan* ch) : ch_(ch), cur_(ch->recv()) {}
    Chan* ch_ = nullptr;
    std::optional<T> cur_;
  };
  iterator begin() { return iterator(this); }
  std::default_sentinel_t end() { return {}; }

 private:
  template <class, class>
  friend class internal::SelectRecvCase;
  template <class, class>
  friend class internal::SelectSendCase;
  friend struct internal::ChanBindingAccess;

  // A deadline meaning "do not wait at all" (before any real time).
  static constexpr int64_t kNonBlocking = INT64_MIN;
  enum Method : uint8_t { kSend, kTrySend, kSendFor, kSendUntil };

  [[noreturn]] static void send_on_closed(Method m) noexcept {
    static constexpr const char* kMessages[] = {
        "contend: Chan::send: send on closed channel",
        "contend: Chan::try_send: send on closed channel",
        "contend: Chan::send_for: send on closed channel",
        "contend: Chan::send_until: send on closed channel",
    };
    internal::chan_fatal(kMessages[m]);
  }

  // Under mu_: completes a receive now if it can (a value, or closed and
  // drained: `out` stays empty). INV-CH-1 (chan.cc): a claimable sender is
  // queued only while the buffer is full.
  bool recv_locked(std::optional<T>& out, internal::ChanWakeList& wake)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    while (internal::ChanWaiter* s = sendq_.front()) {
      sendq_.remove(s);
      if (!s->sel->try_claim(s->case_index)) continue;  // stale: won elsewhere
      T& v = *static_cast<T*>(s->elem);
      if (capacity_ == 0) {
        out.emplace(std::move(v));
      } else {
        // Full buffer: take the oldest value; the sender's goes in at the
        // tail, which is the slot just freed.
        std::optional<T>& slot = buf_[head_];
        out.emplace(std::move(*slot));
        slot.emplace(std::move(v));
        head_ = head_ + 1 == capacity_ ? 0 : head_ + 1;
      }
      wake.add(s->sel);
      return true;
    }
    if (count_ > 0) {
      std::optional<T>& slot = buf_[head_];
      out.emplace(std::move(*slot));
      slot.reset();
      head_ = head_ + 1 == capacity_ ? 0 : head_ + 1;
      --count_;
      return true;
    }
    return closed_;
  }

  // Under mu_: completes a send now if it can (false: it must wait). The
  // caller checks closed_ first.
  bool send_locked(T& value, internal::ChanWakeList& wake)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    while (internal::ChanWaiter* r = recvq_.front()) {
      recvq_.remove(r);
      if (!r->sel->try_claim(r->case_index)) continue;  // stale: won elsewhere
      static_cast<std::optional<T>*>(r->elem)->emplace(std::move(value));
      wake.add(r->sel);
      return true;
    }
    if (count_ < capacity_) {
      size_t tail = head_ + count_;
      if (tail >= capacity_) tail -= capacity_;
      buf_[tail].emplace(std::move(value));
      ++count_;
      return true;
    }
    return false;
  }

  // A deadline already passed: fail without queueing (and without the
  // spin a queued waiter would do first).
  static bool expired(int64_t deadline_ns) noexcept {
    return deadline_ns != internal::kNoDeadline &&
           deadline_ns <= internal::monotonic_now_ns();
  }

  bool send_impl(T& value, int64_t deadline_ns, const std::stop_token* stop,
                 Method method) {
    const internal::ChanSendStatus r = send_status(value, deadline_ns, stop);
    if (ABSL_PREDICT_FALSE(r == internal::ChanSendStatus::kClosed)) {
      send_on_closed(method);
    }
    return r == internal::ChanSendStatus::kSent;
  }

  // The send itself; kClosed (value untouched) where Go panics: the channel
  // was closed at the call, or while the sender was blocked.
  internal::ChanSendStatus send_status(T& value, int64_t deadline_ns,
                                       const std::stop_token* stop) {
    using internal::ChanSendStatus;
    internal::ChanWakeList wake;
    mu_.lock();
    if (ABSL_PREDICT_FALSE(closed_)) {
      mu_.unlock();
      return ChanSendStatus::kClosed;
    }
    if (send_locked(value, wake)) {
      mu_.unlock();
      return ChanSendStatus::kSent;
    }
    if (deadline_ns == kNonBlocking || expired(deadline_ns)) {
      mu_.unlock();
      return ChanSendStatus::kNotSent;
    }
    internal::ChanSelect sel(&key_);
    internal::ChanWaiter w;
    w.sel = &sel;
    w.elem = &value;
    sendq_.push_back(&w);
    mu_.unlock();
    const int r = sel.wait(deadline_ns, stop);
    if (r < 0) {
      MutexLock lock(mu_);
      sendq_.remove(&w);
      return ChanSendStatus::kNotSent;
    }
    return w.closed ? ChanSendStatus::kClosed : ChanSendStatus::kSent;
  }

  std::optional<T> recv_impl(int64_t deadline_ns, const std::stop_token* stop) {
    std::optional<T> out;
    internal::ChanWakeList wake;
    mu_.lock();
    if (recv_locked(out, wake) || deadline_ns == kNonBlocking ||
        expired(deadline_ns)) {
      mu_.unlock();
      return out;
    }
    internal::ChanSelect sel(&key_);
    internal::ChanWaiter w;
    w.sel = &sel;
    w.elem = &out;
    recvq_.push_back(&w);
    mu_.unlock();
    if (sel.wait(deadline_ns, stop) < 0) {
      MutexLock lock(mu_);
      recvq_.remove(&w);
    }
    return out;  // filled by the sender, or empty (closed, timeout, stop)
  }

  mutable Mutex mu_;
  internal::ChanQueue recvq_ ABSL_GUARDED_BY(mu_);
  internal::ChanQueue sendq_ ABSL_GUARDED_BY(mu_);
  size_t head_ ABSL_GUARDED_BY(mu_) = 0;   // oldest value's slot
  size_t count_ ABSL_GUARDED_BY(mu_) = 0;  // values in buf_
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  bool labeled_ = false;
  // The ParkingLot key of this channel's waiters (and its profiler label).
  char key_ = 0;
  const size_t capacity_;
  const std::unique_ptr<std::optional<T>[]> buf_;
};

namespace internal {

template <class T, class F>
class SelectRecvCase final : public SelectCase {
 public:
  static constexpr Kind kKind = Kind::kChan;
  SelectRecvCase(Chan<T>& ch, F fn)
      : SelectCase(Kind::kChan), ch_(ch), fn_(std::move(fn)) {
    bind(&ch.mu_, &ch.key_, &ch.recvq_, &value_);
  }
  SelectRecvCase(const SelectRecvCase&) = delete;
  SelectRecvCase& operator=(const SelectRecvCase&) = delete;

  ABSL_NO_THREAD_SAFETY_ANALYSIS bool poll(ChanWakeList& wake) override {
    return ch_.recv_locked(value_, wake);
  }
  void fire() override { fn_(std::move(value_)); }

 private:
  Chan<T>& ch_;
  F fn_;
  std::optional<T> value_;
};

template <class T, class F>
class SelectSendCase final : public SelectCase {
 public:
  static constexpr Kind kKind = Kind::kChan;
  SelectSendCase(Chan<T>& ch, T& value, F fn)
      : SelectCase(Kind::kChan), ch_(ch), value_(value), fn_(std::move(fn)) {
    bind(&ch.mu_, &ch.key_, &ch.sendq_, &value_);
  }
  SelectSendCase(const SelectSendCase&) = delete;
  SelectSendCase& operator=(const SelectSendCase&) = delete;

  ABSL_NO_THREAD_SAFETY_ANALYSIS bool poll(ChanWakeList& wake) override {
    if (ABSL_PREDICT_FALSE(ch_.closed_)) return closed();
    return ch_.send_locked(value_, wake);
  }
  void claimed() override {
    if (ABSL_PREDICT_FALSE(w_.closed)) (void)closed();
  }
  void fire() override {
    if (closed_out_ == nullptr || !*closed_out_) fn_();
  }

 private:
  friend struct ChanBindingAccess;

  // Go's panic, or (ChanBindingAccess) a report: the case completes as
  // "closed" without sending and without running fn.
  bool closed() noexcept {
    if (closed_out_ == nullptr) {
      chan_fatal("contend: select: send on closed channel");
    }
    *closed_out_ = true;
    return true;
  }

  Chan<T>& ch_;
  T& value_;
  F fn_;
  bool* closed_out_ = nullptr;
};

// For language bindings (python/contend/chan_bindings.cc): Chan's
// operations with a raw deadline, where a send on a closed channel is
// reported (an exception for the caller to raise) instead of a process
// abort. C++ code uses Chan's own members, which keep Go's rule.
struct ChanBindingAccess {
  // As the Chan sends; deadline_ns as internal::deadline_after() returns
  // (internal::kNoDeadline: none), INT64_MIN: do not wait (try_send).
  template <class T>
  static ChanSendStatus send(Chan<T>& ch, T& value, int64_t deadline_ns,
                             const std::stop_token* stop) {
    return ch.send_status(value, deadline_ns, stop);
  }
  // As the Chan receives (nullopt: closed and drained, or the deadline or
  // stop came first; drained() tells which), with the deadline as above.
  template <class T>
  static std::optional<T> recv(Chan<T>& ch, int64_t deadline_ns,
                               const std::stop_token* stop) {
    return ch.recv_impl(deadline_ns, stop);
  }
  // A select send case that, on a closed channel, fires without sending or
  // calling fn and sets *closed (which must start false and outlive the
  // select).
  template <class T, class F>
  static void report_closed(SelectSendCase<T, F>& c, bool* closed) noexcept {
    c.closed_out_ = closed;
  }
};

template <class F>
class SelectStopCase final : public SelectCase {
 public:
  static constexpr Kind kKind = Kind::kStop;
  SelectStopCase(std::stop_token stop, F fn)
      : SelectCase(Kind::kStop), fn_(std::move(fn)) {
    stop_ = std::move(stop);
  }
  void fire() override { fn_(); }

 private:
  F fn_;
};

template <class F>
class SelectDeadlineCase final : public SelectCase {
 public:
  static constexpr Kind kKind = Kind::kDeadline;
  SelectDeadlineCase(int64_t deadline_ns, F fn)
      : SelectCase(Kind::kDeadline), fn_(std::move(fn)) {
    deadline_ns_ = deadline_ns;
  }
  void fire() override { fn_(); }

 private:
  F fn_;
};

template <class F>
class SelectDefaultCase final : public SelectCase {
 public:
  static constexpr Kind kKind = Kind::kDefault;
  explicit SelectDefaultCase(F fn)
      : SelectCase(Kind::kDefault), fn_(std::move(fn)) {}
  void fire() override { fn_(); }

 private:
  F fn_;
};

struct NoOp {
  void operator()() const noexcept {}
};

template <class C>
inline constexpr bool kIsSelectCase =
    std::is_base_of_v<SelectCase, std::remove_cvref_t<C>>;

}  // namespace internal

// select cases (arguments of contend::select):
//   recv(ch, fn)          fn(std::optional<T>) on a receive from ch; nullopt
//                         when ch is closed and drained (Go's `v, ok := <-ch`)
//   send(ch, value, fn)   fn() after `value` was sent on ch (moved from only
//                         if this case fires; fn may be omitted)
//   on_stop(token, fn)    fn() if stop is requested first
//   on_deadline(tp, fn)   fn() if time point tp passes first
//   on_timeout(d, fn)     fn() if duration d (from the select call) passes
//   on_default(fn)        fn() at once if no other case is ready (Go's
//                         `default:`); select never blocks then
// Each returns a case object to pass straight to select() in the same full
// expression (it refers to its channel and value; do not store it).
template <class T, class F>
internal::SelectRecvCase<T, F> recv(Chan<T>& ch, F fn) {
  return {ch, std::move(fn)};
}
template <class T, class F = internal::NoOp>
internal::SelectSendCase<T, F> send(Chan<T>& ch, std::type_identity_t<T>& value,
                                    F fn = {}) {
  return {ch, value, std::move(fn)};
}
template <class T, class F = internal::NoOp>
internal::SelectSendCase<T, F> send(Chan<T>& ch,
                                    std::type_identity_t<T>&& value,
                                    F fn = {}) {
  return {ch, value, std::move(fn)};
}
template <class F>
internal::SelectStopCase<F> on_stop(std::stop_token stop, F fn) {
  return {std::move(stop), std::move(fn)};
}
template <class Clock, class Duration, class F>
internal::SelectDeadlineCase<F> on_deadline(
    std::chrono::time_point<Clock, Duration> deadline, F fn) {
  return {internal::to_monotonic_deadline(deadline), std::move(fn)};
}
template <class Rep, class Period, class F>
internal::SelectDeadlineCase<F> on_timeout(
    std::chrono::duration<Rep, Period> timeout, F fn) {
  return {internal::deadline_after(timeout), std::move(fn)};
}
template <class F>
internal::SelectDefaultCase<F> on_default(F fn) {
  return internal::SelectDefaultCase<F>(std::move(fn));
}

// select waits until one of its cases can proceed, performs exactly that
// one case (its channel operation and then its callback) and returns the
// case's index in the argument list (Go's select statement).
//
// Contract:
//  - Requires: at most one on_default, one on_stop and one on_deadline /
//    on_timeout case (checked at compile time); any number of recv and send
//    cases, on channels of any element types, several on one channel
//    allowed.
//  - Guarantees: exactly one case takes effect: no other case's value is
//    sent or received. When several cases are ready at the call, each is
//    chosen with equal probability (Go's fairness: a random poll order, so
//    no case starves). Without on_default a select with no ready case
//    blocks until one is ready, parked once (on the ParkingLot, kind Chan,
//    under its first channel case's label) and woken by whichever case's
//    partner comes first, or by the stop/deadline case. The callback runs
//    after the operation, on the calling thread, with no lock held.
//  - A recv case on a closed, drained channel is ready and fires with
//    nullopt (so a closed channel never blocks a select); an on_stop whose
//    stop was requested, or an on_deadline whose time has passed, is ready.
// Thread safety: any number of selects and channel operations may run
// concurrently.
// Memory ordering: as for the Chan operation the winning case performed
// (Chan's contract); a stop case is ordered after request_stop() as
// std::stop_token is; a deadline or default case gives no ordering.
// Misuse: a send case on a closed channel (ready or woken by close) dies:
// "contend: select: send on closed channel" (always checked).
// Cost: locks every distinct channel of the select at once (address order,
// no deadlock with other selects), polls the cases in a random order, and if
// none is ready queues one record per channel case, spins and parks once
// (as a blocked Chan call); afterwards it re-locks each channel to unlink
// the records that lost. No allocation up to 16 cases.
//
// Example (kept compiling in tests/sync/chan_test.cc):
//   contend::Chan<int> numbers(8);
//   contend::Chan<std::string> names;
//   std::string out = "report";
//   contend::select(
//       contend::recv(numbers, [](std::optional<int> n) { use(n); }),
//       contend::send(names, out, [] { sent(); }),
//       contend::on_stop(token, [] { cancelled(); }),
//       contend::on_timeout(std::chrono::seconds(1), [] { timed_out(); }));
template <class... Cases>
size_t select(Cases&&... cases) {
  static_assert(sizeof...(Cases) > 0, "select needs at least one case");
  static_assert((internal::kIsSelectCase<Cases> && ...),
                "select's arguments are recv, send, on_stop, on_deadline, "
                "on_timeout and on_default cases");
  using K = internal::SelectCase::Kind;
  constexpr auto count = [](K k) {
    return ((std::remove_cvref_t<Cases>::kKind == k ? 1 : 0) + ...);
  };
  static_assert(count(K::kDefault) <= 1, "select: more than one on_default");
  static_assert(count(K::kStop) <= 1, "select: more than one on_stop");
  static_assert(count(K::kDeadline) <= 1,
                "select: more than one on_deadline/on_timeout");
  internal::SelectCase* all[] = {static_cast<internal::SelectCase*>(&cases)...};
  static_assert(sizeof(all) / sizeof(all[0]) == sizeof...(Cases));
  return internal::run_select(all, sizeof...(Cases));
}

}  // namespace contend

#endif  // CONTEND_SYNC_CHAN_H_
