// Copyright 2026 The contend Authors.
//
// contend::BufferPool: pooled byte buffers in power-of-two size classes with
// a cap on what is kept (the article's retention postmortem: a pool that
// kept 80 MB buffers held 3 GB of RSS that never came back).

#ifndef CONTEND_POOL_BUFFER_POOL_H_
#define CONTEND_POOL_BUFFER_POOL_H_

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <utility>

#include "absl/base/optimization.h"
#include "pool/pool.h"
#include "sync/internal/atomic.h"
#include "sync/internal/fatal.h"

namespace contend {

struct BufferPoolStats {
  int64_t gets = 0;
  int64_t hits = 0;    // served from a class pool
  int64_t misses = 0;  // allocated (including over max_pooled)
  int64_t puts = 0;
  int64_t rejected = 0;        // freed on put: over the cap, or class full
  int64_t retained_bytes = 0;  // capacity of the buffers kept now
  size_t cap = 0;              // the put cap in force (learned or max_pooled)
};

// A BufferPool lends byte buffers of at least a requested size and keeps the
// returned ones for reuse, unless they are too big to be worth keeping.
//
// Model: size classes 2^6 .. max_pooled (powers of two), each a Pool of
// buffers of exactly that capacity. get(n) takes a buffer of the smallest
// class >= n (or allocates one of exactly n bytes when n > max_pooled);
// destroying the Buffer puts it back into its class if its capacity <= the
// cap, else frees it.
//
// Contract:
//  - Requires: max_pooled is a power of two >= 64; every Buffer is
//    destroyed before the pool.
//  - Guarantees:
//    * get(n) returns capacity() >= n and size() == 0 (contents of a reused
//      buffer are whatever was there: zero it if you need zeros).
//    * The cap: a buffer is kept only if capacity() <= cap(), where cap() is
//      max_pooled (default 64 KiB, the article's maxPooled), or with
//      learn_cap the smallest class covering 95% of the recent gets
//      (valyala/bytebufferpool's calibration, recomputed every
//      kCalibrateEvery gets), never above max_pooled.
//    * retained bytes <= max_retained_bytes: the budget is split evenly over
//      the classes (each class keeps at most budget / classes / class size
//      buffers), so one class cannot take all of it.
//    * trim() trims every class (Pool<T>::trim: two-generation aging); the
//      owner calls it (e.g. from a timer), the pool starts no thread.
// Thread safety: every member may be called concurrently; a Buffer belongs
//   to one thread at a time.
// Memory ordering: as Pool<T>: a buffer's last writes before its return
//   happen-before the get() that hands it out again.
// Misuse: max_pooled not a power of two or < 64 (always checked:
//   "contend: BufferPool::BufferPool: max_pooled must be a power of two >=
//   64"); resize() beyond capacity() grows the buffer (not misuse); an empty
//   Buffer's data() is null.
// Cost: get/put = one Pool<T> get/put of the class plus, with learn_cap, one
//   relaxed fetch_add on a per-class counter. Benchmarks:
//   //bench/pool:buffer_pool_benchmark (bench/pool/RESULTS.md).
//
// Example:
//   contend::BufferPool pool;  // keeps buffers up to 64 KiB
//   contend::BufferPool::Buffer b = pool.get(50 * 1024);
//   b.append(pdf_bytes.data(), pdf_bytes.size());
//   send(b.data(), b.size());
//   // b returns to the pool here (an 80 MB one would be freed instead)
class BufferPool {
 public:
  static constexpr size_t kMinClass = 64;
  static constexpr uint64_t kCalibrateEvery = 42000;  // bytebufferpool's

  struct Options {
    size_t max_pooled = 64 * 1024;
    size_t max_retained_bytes = 64 << 20;
    bool learn_cap = false;
  };

  struct Storage {
    std::unique_ptr<std::byte[]> bytes;
    size_t capacity = 0;
    size_t size = 0;
  };

  class Buffer {
   public:
    Buffer() noexcept = default;
    Buffer(Buffer&&) noexcept = default;
    Buffer& operator=(Buffer&& o) noexcept {
      if (this != &o) {
        give_back();
        pool_ = std::exchange(o.pool_, nullptr);
        handle_ = std::move(o.handle_);
      }
      return *this;
    }
    ~Buffer() { give_back(); }

    std::byte* data() const noexcept {
      return handle_ ? handle_->bytes.get() : nullptr;
    }
    size_t size() const noexcept { return handle_ ? handle_->size : 0; }
    size_t capacity() const noexcept { return handle_ ? handle_->capacity : 0; }
    // Sets size() to n, growing the capacity (to a new buffer from the pool,
    // contents copied) if needed.
    void resize(size_t n);
    void append(const void* p, size_t n) {
      const size_t old = size();
      resize(old + n);
      std::memcpy(data() + old, p, n);
    }

   private:
    friend class BufferPool;
    void give_back() noexcept;
    BufferPool* pool_ = nullptr;
    Pool<Storage>::Handle handle_;
  };

  BufferPool() : BufferPool(Options()) {}
  explicit BufferPool(Options options);
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;

  // A buffer with capacity() >= min_size and size() == 0.
  [[nodiscard]] Buffer get(size_t min_size);

  // The put cap in force now (bytes).
  [[nodiscard]] size_t cap() const noexcept {
    // Relaxed: a hint read by put; calibration publishes nothing else.
    return cap_.load(std::memory_order_relaxed);
  }

  void trim();
  [[nodiscard]] BufferPoolStats stats() const;

 private:
  static constexpr int kMaxClasses = 40;
  static int class_of(size_t n) noexcept {
    if (n <= kMinClass) return 0;
    return static_cast<int>(std::bit_width(n - 1)) - 6;  // 2^(6 + c) >= n
  }
  void note_get(int c);
  void calibrate();

  const Options options_;
  int classes_ = 0;
  std::array<std::unique_ptr<Pool<Storage>>, kMaxClasses> pools_;
  internal::Atomic<size_t> cap_{0};
  internal::Atomic<uint64_t> calls_since_calibration_{0};
  internal::Atomic<bool> calibrating_{false};
  std::array<internal::Atomic<uint64_t>, kMaxClasses> class_calls_{};
};

}  // namespace contend

#endif  // CONTEND_POOL_BUFFER_POOL_H_
