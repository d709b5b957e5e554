// Copyright 2026 The contend Authors.

#include "sync/internal/wait_observer.h"

#include <atomic>
#include <mutex>
#include <unordered_map>

#include "sync/internal/atomic.h"

namespace contend::internal {
namespace {

// Release store in set_wait_observer(); acquire load in wait_observer().
Atomic<const WaitObserver*> g_observer{nullptr};

// Labels are set once per labeled primitive and read by the profiler when it
// renders a report; neither is hot, so a std::mutex-protected map is enough.
// (It cannot be a contend::Mutex: that is built on the ParkingLot, which sits
// above this file.) Leaked on purpose so that primitives destroyed during
// static destruction can still clear their labels.
struct LabelRegistry {
  std::mutex mu;
  std::unordered_map<const void*, const char*> labels;  // guarded by mu
};

LabelRegistry& label_registry() {
  static LabelRegistry* const registry = new LabelRegistry();
  return *registry;
}

}  // namespace

const char* wait_kind_name(WaitKind kind) noexcept {
  switch (kind) {
    case WaitKind::kMutex:
      return "Mutex";
    case WaitKind::kRWMutexReader:
      return "RWMutex.read";
    case WaitKind::kRWMutexWriter:
      return "RWMutex.write";
    case WaitKind::kCond:
      return "Cond";
    case WaitKind::kEvent:
      return "Event";
    case WaitKind::kOnce:
      return "Once";
    case WaitKind::kWaitGroup:
      return "WaitGroup";
    case WaitKind::kSemaphore:
      return "Semaphore";
    case WaitKind::kErrGroup:
      return "ErrGroup";
    case WaitKind::kSingleflight:
      return "Singleflight";
    case WaitKind::kChan:
      return "Chan";
    case WaitKind::kResourcePool:
      return "ResourcePool";
    case WaitKind::kOther:
      return "Other";
  }
  return "?";
}

void set_wait_observer(const WaitObserver* observer) noexcept {
  // Release: pairs with the acquire in wait_observer().
  g_observer.store(observer, std::memory_order_release);
}

const WaitObserver* wait_observer() noexcept {
  // Acquire: pairs with the release in set_wait_observer().
  return g_observer.load(std::memory_order_acquire);
}

void set_wait_label(const void* key, const char* label) {
  LabelRegistry& r = label_registry();
  std::lock_guard<std::mutex> lock(r.mu);
  if (label == nullptr) {
    r.labels.erase(key);
  } else {
    r.labels[key] = label;
  }
}

void clear_wait_label(const void* key) {
  LabelRegistry& r = label_registry();
  std::lock_guard<std::mutex> lock(r.mu);
  r.labels.erase(key);
}

const char* wait_label(const void* key) {
  LabelRegistry& r = label_registry();
  std::lock_guard<std::mutex> lock(r.mu);
  auto it = r.labels.find(key);
  return it == r.labels.end() ? nullptr : it->second;
}

}  // namespace contend::internal
