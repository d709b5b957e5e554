// Copyright 2026 The contend Authors.
//
// contend::Pool<T>: a cache of reusable objects (Go's sync.Pool) with an
// explicit retention policy instead of a garbage collector.

#ifndef CONTEND_POOL_POOL_H_
#define CONTEND_POOL_POOL_H_

#include <sched.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "absl/base/thread_annotations.h"
#include "sync/cond.h"
#include "sync/internal/atomic.h"
#include "sync/internal/cache_padded.h"
#include "sync/internal/fatal.h"
#include "sync/mutex.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define CONTEND_POOL_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define CONTEND_POOL_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#include <sanitizer/asan_interface.h>
#define CONTEND_POOL_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define CONTEND_POOL_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#endif
#endif
#if !defined(CONTEND_POOL_POISON)
#define CONTEND_POOL_POISON(p, n) ((void)(p), (void)(n))
#define CONTEND_POOL_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace contend {

struct PoolStats {
  int64_t gets = 0;      // get() calls
  int64_t hits = 0;      // gets served from the pool
  int64_t misses = 0;    // gets that called the factory
  int64_t puts = 0;      // objects offered back (handle destruction, put())
  int64_t rejected = 0;  // puts destroyed: accept() said no, or max_retained
  int64_t trimmed = 0;   // objects freed by trim()
  int64_t retained = 0;  // objects in the pool now
};

// A Pool<T> hands out objects made by a factory and takes them back for
// reuse, so that a hot path allocates (and constructs) less.
//
// Model: a set of retained objects in two generations, primary and victim.
// get() takes any retained object (primary first, then victim) or makes a
// new one; returning a handle puts the object into primary. trim() frees the
// victim generation and demotes primary to victim, so an object unused for
// two trims is freed (Go's sync.Pool survives one GC in its victim cache the
// same way). Without trims the pool keeps at most max_retained objects.
//
// Contract:
//  - Requires: Options::factory returns a non-null object (default:
//    std::make_unique<T>() when T is default-constructible). reset and
//    accept must not call into this pool. Every Handle is destroyed before
//    the pool.
//  - Guarantees:
//    * Never handed out unreset: every object get() returns, retained or
//      new, has had Options::reset applied since it was last used (the
//      article's rule: user A's data must not leak into user B's request).
//    * accept(obj) == false on put destroys the object (e.g. a buffer whose
//      capacity outgrew what is worth keeping); so does a put that would
//      exceed max_retained.
//    * Retention: retained <= max_retained at all times; trim() frees every
//      object not used since the previous trim(). With trim_interval > 0 a
//      background thread trims that often (an age-based trim with no clock
//      read on get/put).
//    * The pool may drop any retained object (like Go's: a Pool is a cache,
//      not a free list with identity).
// Thread safety: every member may be called concurrently. A Handle belongs to
//   one thread at a time.
// Memory ordering: everything a thread did to an object before returning it
//   happens-before the reset() and return of the get() that hands it out
//   again (the private slot's exchange is acq_rel; the shared stacks are
//   under a Mutex).
// Misuse:
//  - Putting an object that is already in the pool (a double put): checked in
//    debug builds (NDEBUG undefined), terminating with
//    "contend: Pool::put: object already in the pool (double put)";
//    undefined otherwise (two later gets would share it).
//  - Using an object after putting it back: under ASan the object's bytes
//    are poisoned while it is retained, so the access is reported.
//  - put(nullptr): always checked: "contend: Pool::put: null object".
//  - Using an empty Handle: "contend: Pool::Handle::get: empty handle".
// Cost: one shard per CPU (at most 64), each a cache line with a private
//   slot plus a Mutex-protected stack for each generation. get()/put() on the
//   private slot: sched_getcpu() (vDSO), one atomic exchange (get) or CAS
//   (put), and one relaxed increment of a counter in the same shard's line:
//   no write to a line another CPU's fast path writes (statistics are
//   per-shard and summed by stats(); the pool-wide count of stacked objects
//   is touched only under a shard Mutex). Otherwise one uncontended Mutex
//   lock of the CPU's shard (others' shards are tried before calling the
//   factory). Private slots count toward max_retained: with fewer
//   max_retained than shards only the first max_retained shards use theirs.
//   Never reads the clock. Benchmarks: //bench/pool:pool_benchmark
//   (bench/pool/RESULTS.md, W6).
//
// Example:
//   contend::Pool<std::string>::Options o;
//   o.reset = [](std::string& s) { s.clear(); };
//   o.accept = [](const std::string& s) { return s.capacity() <= 4096; };
//   contend::Pool<std::string> pool(std::move(o));
//   {
//     auto buf = pool.get();  // empty, maybe with capacity from before
//     buf->append("hello");
//   }  // back in the pool
template <class T>
class Pool {
 public:
  struct Options {
    std::function<std::unique_ptr<T>()> factory;  // default: make_unique<T>()
    std::function<void(T&)> reset;                // runs on every get
    std::function<bool(const T&)> accept;         // runs on every put
    int64_t max_retained = 1024;
    std::chrono::nanoseconds trim_interval{0};  // 0: no background trim
  };

  // An object on loan; back to the pool on destruction. Move-only.
  class Handle {
   public:
    Handle() noexcept = default;
    Handle(Handle&& o) noexcept
        : pool_(std::exchange(o.pool_, nullptr)),
          obj_(std::exchange(o.obj_, nullptr)) {}
    Handle& operator=(Handle&& o) noexcept {
      if (this != &o) {
        reset_to_pool();
        pool_ = std::exchange(o.pool_, nullptr);
        obj_ = std::exchange(o.obj_, nullptr);
      }
      return *this;
    }
    ~Handle() { reset_to_pool(); }

    explicit operator bool() const noexcept { return obj_ != nullptr; }
    T& get() const noexcept {
      if (ABSL_PREDICT_FALSE(obj_ == nullptr)) {
        internal::fatal("contend: Pool::Handle::get: empty handle");
      }
      return *obj_;
    }
    T& operator*() const noexcept { return get(); }
    T* operator->() const noexcept { return &get(); }

    // Keeps the object: the caller owns it; the pool forgets it.
    std::unique_ptr<T> release() noexcept {
      pool_ = nullptr;
      return std::unique_ptr<T>(std::exchange(obj_, nullptr));
    }
    // Destroys the object now instead of returning it.
    void discard() noexcept {
      pool_ = nullptr;
      delete std::exchange(obj_, nullptr);
    }

   private:
    friend class Pool;
    Handle(Pool* pool, T* obj) noexcept : pool_(pool), obj_(obj) {}
    void reset_to_pool() noexcept {
      if (obj_ != nullptr) {
        std::exchange(pool_, nullptr)->put_raw(std::exchange(obj_, nullptr));
      }
    }
    Pool* pool_ = nullptr;
    T* obj_ = nullptr;
  };

  Pool() : Pool(Options()) {}
  explicit Pool(Options options);
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;
  ~Pool();

  // A reset object from the pool, or a new one from the factory.
  [[nodiscard]] Handle get() {
    Shard& s = my_shard();
    // Acq_rel: the acquire pairs with the release CAS in put_raw() (the
    // putter's writes to the object are visible before reset() runs); the
    // release half is for the nullptr left behind (nothing to publish).
    T* p = s.private_slot.exchange(nullptr, std::memory_order_acq_rel);
    if (ABSL_PREDICT_TRUE(p != nullptr)) {
      // Relaxed: statistics only (gets = hits + misses, summed in stats()).
      s.hits.fetch_add(1, std::memory_order_relaxed);
      on_taken(p);
    } else {
      p = get_slow(s);  // counts the hit or the miss itself
      if (p != nullptr) {
        on_taken(p);
      } else {
        p = make();
      }
    }
    if (options_.reset) options_.reset(*p);
    return Handle(this, p);
  }

  // Offers an object to the pool (as if a Handle owning it were destroyed).
  void put(std::unique_ptr<T> obj) {
    if (ABSL_PREDICT_FALSE(obj == nullptr)) {
      internal::fatal("contend: Pool::put: null object");
    }
    put_raw(obj.release());
  }

  // Frees the victim generation and makes primary the new victim.
  void trim();

  [[nodiscard]] PoolStats stats() const;

 private:
  // INV-POOL-SHARD: an object is in at most one place: one shard's private
  // slot, primary stack or victim stack (debug builds check it on put).
  struct Shard {
    internal::Atomic<T*> private_slot{nullptr};
    bool slot_enabled = false;  // set before the pool is shared (slots_)
    Mutex mu;
    std::vector<T*> primary ABSL_GUARDED_BY(mu);
    std::vector<T*> victim ABSL_GUARDED_BY(mu);
    // Statistics, written by the CPU's own threads (gets = hits + misses).
    internal::Atomic<int64_t> hits{0}, misses{0}, puts{0}, rejected{0},
        trimmed{0};
  };

  Shard& my_shard() noexcept {
    const int cpu = sched_getcpu();
    return shards_[static_cast<size_t>(cpu < 0 ? 0 : cpu) & shard_mask_].value;
  }
  T* make() {
    if (options_.factory) {
      std::unique_ptr<T> p = options_.factory();
      if (ABSL_PREDICT_FALSE(p == nullptr)) {
        internal::fatal("contend: Pool::get: factory returned null");
      }
      return p.release();
    }
    if constexpr (std::is_default_constructible_v<T>) {
      return new T();
    } else {
      internal::fatal("contend: Pool::get: no factory");
    }
  }
  ABSL_ATTRIBUTE_NOINLINE T* get_slow(Shard& mine);
  T* pop_stacked(Shard& s);
  bool try_fill_slot(Shard& s, T* p);
  int64_t occupied_slots() const;
  static bool has_slot(const Shard& s) noexcept { return s.slot_enabled; }
  void put_raw(T* p);
  ABSL_ATTRIBUTE_NOINLINE void put_slow(Shard& s, T* p);
  static T* pop(std::vector<T*>& v) {
    if (v.empty()) return nullptr;
    T* p = v.back();
    v.pop_back();
    return p;
  }
  void on_taken(T* p);
  void on_retained(T* p);
  static void free_retained(T* p) {
    CONTEND_POOL_UNPOISON(p, sizeof(T));
    delete p;
  }
  void trimmer();

  const Options options_;
  size_t shard_mask_ = 0;
  std::unique_ptr<internal::CachePadded<Shard>[]> shards_;
  // INV-POOL-BOUND: stacked objects + occupied private slots <=
  // max_retained (soft: concurrent puts to different shards may overshoot by
  // one object per putting thread). Shards [0, slots_) use their private
  // slot. The fast path fills an empty slot without counting the occupied
  // slots only while stacked_ <= stack_room_ = max_retained - slots_ (then
  // even every slot full stays within the bound); otherwise put_slow()
  // counts them.
  size_t slots_ = 0;
  int64_t stack_room_ = 0;
  // Objects in the stacks, all shards and generations. Written only under
  // some shard's Mutex (the slow paths), never on the private-slot path.
  internal::Atomic<int64_t> stacked_{0};

#if !defined(NDEBUG)
  // Debug double-put detection: every retained object's address.
  Mutex debug_mu_;
  std::vector<T*> debug_retained_ ABSL_GUARDED_BY(debug_mu_);
#endif

  Mutex trim_mu_;
  Cond trim_cv_;
  bool stopping_ ABSL_GUARDED_BY(trim_mu_) = false;
  std::thread trim_thread_;
};

// Implementation details only below here.

template <class T>
Pool<T>::Pool(Options options) : options_(std::move(options)) {
  if (options_.max_retained < 0) {
    internal::fatal("contend: Pool::Pool: negative max_retained");
  }
  unsigned n = std::thread::hardware_concurrency();
  size_t shards = 1;
  while (shards < n && shards < 64) shards <<= 1;
  shard_mask_ = shards - 1;
  shards_.reset(new internal::CachePadded<Shard>[shards]);
  slots_ = static_cast<size_t>(
      std::min<int64_t>(static_cast<int64_t>(shards), options_.max_retained));
  stack_room_ = options_.max_retained - static_cast<int64_t>(slots_);
  for (size_t i = 0; i < slots_; ++i) shards_[i].value.slot_enabled = true;
  if (options_.trim_interval.count() > 0) {
    trim_thread_ = std::thread([this] { trimmer(); });
  }
}

template <class T>
Pool<T>::~Pool() {
  if (trim_thread_.joinable()) {
    {
      MutexLock l(trim_mu_);
      stopping_ = true;
    }
    trim_cv_.broadcast();
    trim_thread_.join();
  }
  for (size_t i = 0; i <= shard_mask_; ++i) {
    Shard& s = shards_[i].value;
    // Relaxed: no other thread uses the pool during destruction.
    if (T* p = s.private_slot.exchange(nullptr, std::memory_order_relaxed)) {
      free_retained(p);
    }
    MutexLock l(s.mu);
    for (T* p : s.primary) free_retained(p);
    for (T* p : s.victim) free_retained(p);
  }
}

template <class T>
void Pool<T>::trimmer() {
  MutexLock l(trim_mu_);
  while (!stopping_) {
    (void)trim_cv_.wait_for(trim_mu_, options_.trim_interval);
    if (stopping_) break;
    trim_mu_.unlock();
    trim();
    trim_mu_.lock();
  }
}

template <class T>
void Pool<T>::on_taken(T* p) {
  CONTEND_POOL_UNPOISON(p, sizeof(T));
#if !defined(NDEBUG)
  MutexLock l(debug_mu_);
  for (size_t i = 0; i < debug_retained_.size(); ++i) {
    if (debug_retained_[i] == p) {
      debug_retained_[i] = debug_retained_.back();
      debug_retained_.pop_back();
      break;
    }
  }
#else
  (void)p;
#endif
}

template <class T>
void Pool<T>::on_retained(T* p) {
#if !defined(NDEBUG)
  {
    MutexLock l(debug_mu_);
    for (T* q : debug_retained_) {
      if (q == p) {
        internal::fatal(
            "contend: Pool::put: object already in the pool (double put)");
      }
    }
    debug_retained_.push_back(p);
  }
#endif
  CONTEND_POOL_POISON(p, sizeof(T));
}

template <class T>
T* Pool<T>::pop_stacked(Shard& s) {
  MutexLock l(s.mu);
  T* p = pop(s.primary);
  if (p == nullptr) p = pop(s.victim);
  // Relaxed: a count; the object itself is handed over under s.mu.
  if (p != nullptr) stacked_.fetch_sub(1, std::memory_order_relaxed);
  return p;
}

template <class T>
T* Pool<T>::get_slow(Shard& mine) {
  T* p = pop_stacked(mine);
  for (size_t i = 0; p == nullptr && i <= shard_mask_; ++i) {
    Shard& s = shards_[i].value;
    if (&s == &mine) continue;
    // Relaxed: a hint (an empty slot is skipped without writing its line);
    // the exchange below is what takes the object. Acq_rel: as in get().
    if (s.private_slot.load(std::memory_order_relaxed) != nullptr) {
      p = s.private_slot.exchange(nullptr, std::memory_order_acq_rel);
    }
    // Relaxed: a hint; with nothing stacked anywhere skip the locks.
    if (p == nullptr && stacked_.load(std::memory_order_relaxed) > 0) {
      p = pop_stacked(s);
    }
  }
  // Relaxed: statistics.
  (p != nullptr ? mine.hits : mine.misses)
      .fetch_add(1, std::memory_order_relaxed);
  return p;
}

template <class T>
void Pool<T>::put_raw(T* p) {
  Shard& s = my_shard();
  s.puts.fetch_add(1, std::memory_order_relaxed);  // relaxed: statistics
  if (options_.accept && !options_.accept(*p)) {
    s.rejected.fetch_add(1, std::memory_order_relaxed);  // relaxed: statistics
    delete p;
    return;
  }
  on_retained(p);
  // Relaxed loads: hints (stacked_ is written only on slow paths, so this
  // read shares its line; a full slot goes to put_slow() without a failing
  // CAS). The CAS decides.
  if (has_slot(s) && stacked_.load(std::memory_order_relaxed) <= stack_room_ &&
      s.private_slot.load(std::memory_order_relaxed) == nullptr &&
      try_fill_slot(s, p)) {
    return;
  }
  put_slow(s, p);
}

template <class T>
bool Pool<T>::try_fill_slot(Shard& s, T* p) {
  T* expected = nullptr;
  // Release: pairs with the acquire exchange in get()/get_slow()/trim().
  return s.private_slot.compare_exchange_strong(
      expected, p, std::memory_order_release, std::memory_order_relaxed);
}

template <class T>
int64_t Pool<T>::occupied_slots() const {
  int64_t n = 0;
  for (size_t i = 0; i < slots_; ++i) {
    // Relaxed: a count for the soft bound (INV-POOL-BOUND).
    if (shards_[i].value.private_slot.load(std::memory_order_relaxed)) ++n;
  }
  return n;
}

template <class T>
void Pool<T>::put_slow(Shard& s, T* p) {
  {
    MutexLock l(s.mu);
    // Relaxed: stacked_ is a count; INV-POOL-BOUND is soft (concurrent puts
    // hold different shards' locks).
    if (stacked_.load(std::memory_order_relaxed) + occupied_slots() <
        options_.max_retained) {
      if (has_slot(s) && try_fill_slot(s, p)) return;
      stacked_.fetch_add(1, std::memory_order_relaxed);
      s.primary.push_back(p);
      return;
    }
  }
  s.rejected.fetch_add(1, std::memory_order_relaxed);  // relaxed: statistics
  on_taken(p);
  delete p;
}

template <class T>
void Pool<T>::trim() {
  std::vector<T*> doomed;
  for (size_t i = 0; i <= shard_mask_; ++i) {
    Shard& s = shards_[i].value;
    {
      MutexLock l(s.mu);
      doomed.insert(doomed.end(), s.victim.begin(), s.victim.end());
      s.victim.clear();
      s.victim.swap(s.primary);
      // Relaxed: stacked_ is a count (as in put_slow()).
      stacked_.fetch_sub(static_cast<int64_t>(doomed.size()),
                         std::memory_order_relaxed);
      // Acq_rel: as in get() (we take the object like a getter). It joins
      // the victim generation (the count moves from slots to stacks).
      if (T* p = s.private_slot.exchange(nullptr, std::memory_order_acq_rel)) {
        stacked_.fetch_add(1, std::memory_order_relaxed);  // relaxed: a count
        s.victim.push_back(p);
      }
    }
    const auto n = static_cast<int64_t>(doomed.size());
    if (n > 0) {
      s.trimmed.fetch_add(n, std::memory_order_relaxed);  // relaxed: statistics
      for (T* p : doomed) {
        on_taken(p);
        delete p;
      }
      doomed.clear();
    }
  }
}

template <class T>
PoolStats Pool<T>::stats() const {
  PoolStats st;
  for (size_t i = 0; i <= shard_mask_; ++i) {
    const Shard& s = shards_[i].value;
    // Relaxed: statistics; a snapshot may mix moments.
    st.hits += s.hits.load(std::memory_order_relaxed);
    st.misses += s.misses.load(std::memory_order_relaxed);
    st.puts += s.puts.load(std::memory_order_relaxed);
    st.rejected += s.rejected.load(std::memory_order_relaxed);
    st.trimmed += s.trimmed.load(std::memory_order_relaxed);
    if (s.private_slot.load(std::memory_order_relaxed) != nullptr) {
      ++st.retained;
    }
  }
  st.gets = st.hits + st.misses;
  st.retained += stacked_.load(std::memory_order_relaxed);  // relaxed: stats
  return st;
}

}  // namespace contend

#endif  // CONTEND_POOL_POOL_H_
