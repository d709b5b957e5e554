// Copyright 2026 The contend Authors.
//
// A deterministic fake resource factory for ResourcePool tests: it counts
// creations and destructions, returns injected failures, and can hold
// creations at a gate until the test opens it (latency without sleeps).

#ifndef CONTEND_TESTS_POOL_FAKE_RESOURCE_H_
#define CONTEND_TESTS_POOL_FAKE_RESOURCE_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace contend::testing {

struct FakeState {
  std::mutex mu;
  std::condition_variable cv;
  bool gated = false;             // creations wait while true
  int at_gate = 0;                // creations waiting at the gate
  std::deque<absl::Status> fail;  // next creations return these
  bool fail_always = false;
  std::atomic<int> created{0};  // successful creations
  std::atomic<int> attempts{0};
  std::atomic<int> alive{0};  // FakeConn objects alive
  std::atomic<int> next_id{1};
};

// One fake connection. Move-only; counts itself alive while it owns an id.
class FakeConn {
 public:
  FakeConn(std::shared_ptr<FakeState> st, int id)
      : st_(std::move(st)), id_(id) {
    st_->alive.fetch_add(1, std::memory_order_relaxed);
  }
  FakeConn(FakeConn&& o) noexcept
      : st_(std::move(o.st_)),
        id_(std::exchange(o.id_, 0)),
        healthy_(o.healthy_) {}
  FakeConn& operator=(FakeConn&&) = delete;
  ~FakeConn() {
    if (st_ != nullptr && id_ != 0)
      st_->alive.fetch_sub(1, std::memory_order_relaxed);
  }
  int id() const { return id_; }
  bool healthy() const { return healthy_; }
  void set_healthy(bool h) { healthy_ = h; }

 private:
  std::shared_ptr<FakeState> st_;
  int id_;
  bool healthy_ = true;
};

class FakeFactory {
 public:
  FakeFactory() : st_(std::make_shared<FakeState>()) {}
  const std::shared_ptr<FakeState>& state() const { return st_; }

  // The create function for ResourcePool<FakeConn>::Options.
  auto create_fn() {
    return [st = st_](std::chrono::steady_clock::time_point)
               -> absl::StatusOr<FakeConn> {
      st->attempts.fetch_add(1, std::memory_order_relaxed);
      std::unique_lock<std::mutex> l(st->mu);
      ++st->at_gate;
      st->cv.notify_all();
      st->cv.wait(l, [&] { return !st->gated; });
      --st->at_gate;
      if (st->fail_always) return absl::UnavailableError("fake: backend down");
      if (!st->fail.empty()) {
        absl::Status s = std::move(st->fail.front());
        st->fail.pop_front();
        return s;
      }
      st->created.fetch_add(1, std::memory_order_relaxed);
      return FakeConn(st, st->next_id.fetch_add(1, std::memory_order_relaxed));
    };
  }

  void close_gate() {
    std::lock_guard<std::mutex> l(st_->mu);
    st_->gated = true;
  }
  void open_gate() {
    std::lock_guard<std::mutex> l(st_->mu);
    st_->gated = false;
    st_->cv.notify_all();
  }
  int at_gate() {
    std::lock_guard<std::mutex> l(st_->mu);
    return st_->at_gate;
  }
  void fail_next(absl::Status s) {
    std::lock_guard<std::mutex> l(st_->mu);
    st_->fail.push_back(std::move(s));
  }
  void set_fail_always(bool f) {
    std::lock_guard<std::mutex> l(st_->mu);
    st_->fail_always = f;
  }
  int created() const { return st_->created.load(std::memory_order_relaxed); }
  int alive() const { return st_->alive.load(std::memory_order_relaxed); }

 private:
  std::shared_ptr<FakeState> st_;
};

}  // namespace contend::testing

#endif  // CONTEND_TESTS_POOL_FAKE_RESOURCE_H_
