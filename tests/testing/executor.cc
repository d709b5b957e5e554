// Copyright 2026 The contend Authors.

#include "tests/testing/executor.h"

#include <mutex>
#include <utility>

namespace contend::testing {

OneThreadExecutor::OneThreadExecutor() : worker_([this] { run(); }) {}

OneThreadExecutor::~OneThreadExecutor() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  worker_.join();
}

void OneThreadExecutor::execute(absl::AnyInvocable<void() &&> task) {
  {
    std::lock_guard<std::mutex> l(mu_);
    queue_.push_back(std::move(task));
    ++submitted_;
  }
  cv_.notify_one();
}

int OneThreadExecutor::submitted() {
  std::lock_guard<std::mutex> l(mu_);
  return submitted_;
}

int OneThreadExecutor::finished() {
  std::lock_guard<std::mutex> l(mu_);
  return finished_;
}

void OneThreadExecutor::run() {
  for (;;) {
    absl::AnyInvocable<void() &&> task;
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait(l, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    std::move(task)();
    std::lock_guard<std::mutex> l(mu_);
    ++finished_;
  }
}

}  // namespace contend::testing
