// Copyright 2026 The contend Authors.

#include "pool/buffer_pool.h"

#include <algorithm>
#include <bit>
#include <memory>
#include <utility>

namespace contend {

BufferPool::BufferPool(Options options) : options_(options) {
  if (options_.max_pooled < kMinClass ||
      !std::has_single_bit(options_.max_pooled)) {
    internal::fatal(
        "contend: BufferPool::BufferPool: max_pooled must be a power of two "
        ">= 64");
  }
  const int pooled_classes = class_of(options_.max_pooled) + 1;
  classes_ = kMaxClasses;
  const size_t per_class =
      options_.max_retained_bytes / static_cast<size_t>(pooled_classes);
  for (int c = 0; c < classes_; ++c) {
    const size_t size = kMinClass << c;
    Pool<Storage>::Options o;
    o.factory = [size] {
      auto s = std::make_unique<Storage>();
      // Default-initialized: no page is touched until the caller writes.
      s->bytes.reset(new std::byte[size]);
      s->capacity = size;
      return s;
    };
    o.reset = [](Storage& s) { s.size = 0; };
    // Classes above max_pooled keep nothing: every put frees the buffer.
    o.max_retained =
        c < pooled_classes ? static_cast<int64_t>(per_class / size) : 0;
    pools_[static_cast<size_t>(c)] =
        std::make_unique<Pool<Storage>>(std::move(o));
  }
  // Relaxed: published to other threads by whatever hands them the pool.
  cap_.store(options_.max_pooled, std::memory_order_relaxed);
}

BufferPool::Buffer BufferPool::get(size_t min_size) {
  const int c = class_of(min_size);
  if (ABSL_PREDICT_FALSE(c >= classes_)) {
    internal::fatal("contend: BufferPool::get: size too large");
  }
  if (options_.learn_cap) note_get(c);
  Buffer b;
  b.pool_ = this;
  b.handle_ = pools_[static_cast<size_t>(c)]->get();
  return b;
}

void BufferPool::Buffer::give_back() noexcept {
  if (!handle_) return;
  if (handle_->capacity > pool_->cap()) {
    handle_.discard();  // the postmortem's rule: never keep a big one
  }
  handle_ = Pool<Storage>::Handle();
  pool_ = nullptr;
}

void BufferPool::Buffer::resize(size_t n) {
  if (n <= capacity()) {
    handle_->size = n;
    return;
  }
  BufferPool* pool = pool_;
  Buffer bigger = pool->get(n);
  if (size() > 0) std::memcpy(bigger.data(), data(), size());
  *this = std::move(bigger);
  handle_->size = n;
}

void BufferPool::note_get(int c) {
  // Relaxed: calibration counters; a lost or late count only shifts the
  // estimate.
  class_calls_[static_cast<size_t>(c)].fetch_add(1, std::memory_order_relaxed);
  if (calls_since_calibration_.fetch_add(1, std::memory_order_relaxed) + 1 <
      kCalibrateEvery) {
    return;
  }
  bool expected = false;
  // Acquire: pairs with the release store that ends calibrate(), so the next
  // calibrator starts after the previous one's resets.
  if (calibrating_.compare_exchange_strong(expected, true,
                                           std::memory_order_acquire,
                                           std::memory_order_relaxed)) {
    calibrate();
  }
}

void BufferPool::calibrate() {
  std::array<uint64_t, kMaxClasses> calls{};
  uint64_t total = 0;
  for (size_t c = 0; c < static_cast<size_t>(classes_); ++c) {
    // Relaxed: see note_get().
    calls[c] = class_calls_[c].exchange(0, std::memory_order_relaxed);
    total += calls[c];
  }
  calls_since_calibration_.store(0, std::memory_order_relaxed);  // as above
  uint64_t seen = 0;
  size_t cap = options_.max_pooled;
  for (size_t c = 0; c < static_cast<size_t>(classes_); ++c) {
    seen += calls[c];
    if (seen * 100 >= total * 95) {
      cap = std::min(options_.max_pooled, kMinClass << c);
      break;
    }
  }
  cap_.store(cap, std::memory_order_relaxed);  // relaxed: see cap()
  // Release: pairs with the acquire CAS in note_get().
  calibrating_.store(false, std::memory_order_release);
}

void BufferPool::trim() {
  for (int c = 0; c < classes_; ++c) pools_[static_cast<size_t>(c)]->trim();
}

BufferPoolStats BufferPool::stats() const {
  BufferPoolStats s;
  for (int c = 0; c < classes_; ++c) {
    const PoolStats p = pools_[static_cast<size_t>(c)]->stats();
    s.gets += p.gets;
    s.hits += p.hits;
    s.misses += p.misses;
    s.puts += p.puts;
    s.rejected += p.rejected;
    s.retained_bytes += p.retained * static_cast<int64_t>(kMinClass << c);
  }
  s.cap = cap();
  return s;
}

}  // namespace contend
