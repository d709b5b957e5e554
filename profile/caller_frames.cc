// Copyright 2026 The contend Authors.

#include "profile/caller_frames.h"

#include <pthread.h>

#include <algorithm>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>

#include "sync/internal/wait_observer.h"

namespace contend::internal {
namespace {

// Synthetic PCs live in the top half of the address space, which is the
// kernel's on x86-64 and AArch64 Linux: no user-space return address is
// ever there. The low bits are the frame's index in the table.
constexpr uintptr_t kCallerFrameTag = uintptr_t{0xfffe} << 48;
constexpr uintptr_t kCallerFrameTagMask = uintptr_t{0xffff} << 48;

struct CallerFrame {
  std::string function;
  std::string file;
  int line;
};

// The intern table. A std::mutex, not contend::Mutex (the profiler must
// never park on the ParkingLot it observes). Frames are never removed, so a
// PC stays resolvable for every later export; a std::deque keeps elements
// in place as it grows.
struct FrameTable {
  std::mutex mu;
  std::unordered_map<std::string, uintptr_t> ids;  // guarded by mu
  std::deque<CallerFrame> frames;                  // guarded by mu
};

void frame_table_lock();
void frame_table_unlock();

FrameTable& frame_table() {
  static FrameTable* const table = [] {
    auto* t = new FrameTable();
    // fork(): never leave the table locked in the child by a thread that
    // does not exist there.
    pthread_atfork(&frame_table_lock, &frame_table_unlock, &frame_table_unlock);
    return t;
  }();
  return *table;
}

void frame_table_lock() { frame_table().mu.lock(); }
void frame_table_unlock() { frame_table().mu.unlock(); }

// The calling thread's current deferral (EventDeferral, ForwardTo).
constinit thread_local EventDeferral* tls_deferral = nullptr;

}  // namespace

uintptr_t intern_caller_frame(std::string_view function, std::string_view file,
                              int line) noexcept {
  try {
    std::string key;
    key.reserve(function.size() + file.size() + 16);
    key.append(function).push_back('\0');
    key.append(file).push_back('\0');
    key.append(std::to_string(line));
    FrameTable& t = frame_table();
    std::lock_guard<std::mutex> guard(t.mu);
    auto it = t.ids.find(key);
    if (it != t.ids.end()) return it->second;
    if (t.frames.size() >= kMaxCallerFrames) return 0;
    t.frames.push_back(
        CallerFrame{std::string(function), std::string(file), line});
    const uintptr_t pc = kCallerFrameTag | (t.frames.size() - 1);
    t.ids.emplace(std::move(key), pc);
    return pc;
  } catch (...) {
    return 0;  // std::bad_alloc: leave the frame out
  }
}

bool is_caller_frame(uintptr_t pc) noexcept {
  return (pc & kCallerFrameTagMask) == kCallerFrameTag;
}

bool caller_frame_info(uintptr_t pc, std::string* function, std::string* file,
                       int* line) {
  if (!is_caller_frame(pc)) return false;
  FrameTable& t = frame_table();
  std::lock_guard<std::mutex> guard(t.mu);
  const size_t index = pc & ~kCallerFrameTagMask;
  if (index >= t.frames.size()) return false;
  const CallerFrame& f = t.frames[index];
  *function = f.function;
  *file = f.file;
  *line = f.line;
  return true;
}

EventDeferral::EventDeferral() noexcept : previous_(tls_deferral) {
  tls_deferral = this;
}

EventDeferral::~EventDeferral() {
  tls_deferral = previous_;
  // Whatever record() did not get: native stacks only. Waits still unsampled
  // take their sampling decision now.
  if (size_ > 0 && sample()) record(nullptr, 0);
}

EventDeferral* EventDeferral::current() noexcept { return tls_deferral; }

EventDeferral::ForwardTo::ForwardTo(EventDeferral* target) noexcept
    : previous_(tls_deferral) {
  tls_deferral = target;
}

EventDeferral::ForwardTo::~ForwardTo() { tls_deferral = previous_; }

void EventDeferral::add_wait(const WaitEvent& event, int64_t end_ns) noexcept {
  // The same key as the previous deferred wait: one wait of the caller,
  // split by the embedding (slices, or a first try and then a helper
  // thread). It ends at this event's end, with the first one's stack.
  if (size_ > 0) {
    Pending& last = pending_[size_ - 1];
    if (last.type == ProfileType::kBlock && !last.kept &&
        last.key == event.key) {
      last.end_ns = std::max(last.end_ns, end_ns);
      return;
    }
  }
  if (size_ == kMaxPending) {
    profiler_record_wait(event.key, event.kind, end_ns - event.start_ns);
    return;
  }
  Pending& p = pending_[size_++];
  p.type = ProfileType::kBlock;
  p.kind = event.kind;
  p.kept = false;
  p.key = event.key;
  p.label = wait_label(event.key);
  p.start_ns = event.start_ns;
  p.end_ns = end_ns;
  p.count = 0;
  p.delay_ns = 0;
  p.depth = capture_stack(p.pcs, kMaxStackDepth);
}

void EventDeferral::add_release(const void* key, WaitKind kind, double count,
                                int64_t delay_ns) noexcept {
  uintptr_t pcs[kMaxStackDepth];
  if (size_ == kMaxPending) {
    const int depth = capture_stack(pcs, kMaxStackDepth);
    profiler_add_sample_noexcept(ProfileType::kMutex, pcs, depth, kind,
                                 wait_label(key), count, delay_ns);
    return;
  }
  Pending& p = pending_[size_++];
  p.type = ProfileType::kMutex;
  p.kind = kind;
  p.kept = true;
  p.key = key;
  p.label = wait_label(key);
  p.start_ns = 0;
  p.end_ns = 0;
  p.count = count;
  p.delay_ns = delay_ns;
  p.depth = capture_stack(p.pcs, kMaxStackDepth);
}

bool EventDeferral::sample() noexcept {
  int kept = 0;
  for (int i = 0; i < size_; ++i) {
    Pending& p = pending_[i];
    if (p.type == ProfileType::kBlock && !p.kept) {
      p.kept =
          profiler_sample_wait(p.end_ns - p.start_ns, &p.count, &p.delay_ns);
    }
    if (p.kept) pending_[kept++] = p;
  }
  size_ = kept;
  return size_ > 0;
}

void EventDeferral::record(const uintptr_t* frames, int n) noexcept {
  for (int i = 0; i < size_; ++i) {
    if (pending_[i].kept) record_one(pending_[i], frames, n);
  }
  size_ = 0;
}

void EventDeferral::record_one(const Pending& p, const uintptr_t* frames,
                               int n) noexcept {
  uintptr_t pcs[kMaxStackDepth];
  // The caller's frames are kept whole (they name the user's code); the
  // native part gives way when the two do not fit.
  n = std::clamp(n, 0, kMaxStackDepth);
  const int native = std::min(p.depth, kMaxStackDepth - n);
  std::copy(p.pcs, p.pcs + native, pcs);
  if (n > 0) std::copy(frames, frames + n, pcs + native);
  profiler_add_sample_noexcept(p.type, pcs, native + n, p.kind, p.label,
                               p.count, p.delay_ns);
}

}  // namespace contend::internal
