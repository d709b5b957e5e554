// Copyright 2026 The contend Authors.
//
// Caller frames: the seam through which an embedding interpreter (the Python
// module, python/contend) puts its own frames -- function, file:line --
// above the native stack of the events its calls cause, so that
// `go tool pprof -top` on a profile taken from Python names the Python
// function that held (mutex profile) or waited (block profile).
// Internal (contend::internal); profile/ knows nothing of Python: the
// embedding decides what a frame is and hands over strings.
//
// How it works. An embedding wraps each call that can wait or release in an
// EventDeferral (on the calling thread's stack). While one is current on a
// thread, that thread's finished waits and sampled contended releases are
// not recorded at once: they are kept in the deferral (with the native stack
// captured at the event, so the leaf is still contend::Mutex::unlock).
// Consecutive waits on the same key are merged into ONE wait (first enqueue
// to last dequeue), so an embedding that waits in slices or hands the wait
// to a helper thread still records one event per call; the block profile's
// sampling decision is taken on the merged wait. When the call is about to
// return, the embedding asks sample() whether anything was kept and, only
// then, collects its frames (with whatever lock its interpreter needs held)
// and calls record(). So with profiling off nothing is deferred (the
// observer is not even installed), and only sampled events pay for the
// interpreter's stack.
//
// Why defer instead of reading the interpreter's stack in the hook: the
// hooks run inside the ParkingLot's noexcept paths, typically while the
// embedding's thread does not hold its interpreter lock (Python's GIL is
// released for every wait). Taking the GIL there could deadlock or end the
// thread at interpreter exit, and reading the frames without it means
// relying on the interpreter's private structures. At the end of the call
// the embedding holds its lock anyway.
//
// Frames are interned: intern_caller_frame() maps (function, file, line) to
// a synthetic PC (outside any user-space address, so it can never collide
// with a return address) that the records store like any other PC and the
// exporters (profile.cc) resolve back to the strings.

#ifndef CONTEND_PROFILE_CALLER_FRAMES_H_
#define CONTEND_PROFILE_CALLER_FRAMES_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "profile/hooks.h"
#include "sync/internal/wait_observer.h"

namespace contend::internal {

// Most distinct caller frames interned per process (each ~100 bytes plus its
// strings); intern_caller_frame() returns 0 beyond it.
inline constexpr size_t kMaxCallerFrames = size_t{1} << 16;

// The synthetic PC of a caller frame; the same arguments always give the
// same PC. 0 when the table is full (the frame is then left out) or memory
// ran out. Thread-safe; takes a lock (called for sampled events only).
uintptr_t intern_caller_frame(std::string_view function, std::string_view file,
                              int line) noexcept;

// Whether `pc` is a synthetic PC from intern_caller_frame().
bool is_caller_frame(uintptr_t pc) noexcept;

// The strings of a synthetic PC; false if `pc` is not one.
bool caller_frame_info(uintptr_t pc, std::string* function, std::string* file,
                       int* line);

// Events of one embedding call, deferred until the embedding has its frames.
//
// Contract:
//  - Construction makes this deferral the calling thread's current one
//    (nesting: the previous one is restored by the destructor).
//  - Keeps up to kMaxPending events; a further event (of a call that waited
//    on more than kMaxPending different keys in a row) is recorded at once
//    with its native stack only.
//  - The destructor records whatever record() did not (native stacks only),
//    so an exception between the event and record() loses nothing.
// Thread safety: one thread at a time. The helper-thread path hands the
// deferral over with ForwardTo (below): while a helper records into it, the
// owning thread must not cause events into it (it is detached meanwhile).
class EventDeferral {
 public:
  static constexpr int kMaxPending = 4;

  EventDeferral() noexcept;
  ~EventDeferral();
  EventDeferral(const EventDeferral&) = delete;
  EventDeferral& operator=(const EventDeferral&) = delete;

  // The calling thread's current deferral, or nullptr.
  static EventDeferral* current() noexcept;

  // Takes the sampling decision for the deferred waits (Go's block-profile
  // rule, on each merged wait) and drops the unsampled ones. Returns
  // whether any event is left to record.
  bool sample() noexcept;

  // Records the deferred events, each with `frames` (synthetic PCs,
  // innermost first) above its native stack, then forgets them.
  void record(const uintptr_t* frames, int n) noexcept;

  // Makes `target` the calling thread's current deferral for this object's
  // lifetime (a helper thread that waits on behalf of `target`'s thread),
  // restoring the previous one after. A null target detaches the thread:
  // its events are recorded at once.
  class ForwardTo {
   public:
    explicit ForwardTo(EventDeferral* target) noexcept;
    ~ForwardTo();
    ForwardTo(const ForwardTo&) = delete;
    ForwardTo& operator=(const ForwardTo&) = delete;

   private:
    EventDeferral* previous_;
  };

  // Called by the hooks (hooks.cc) on the thread whose current deferral
  // this is. add_wait: every finished wait while the block profile is on
  // (sampled later); add_release: a contended release already sampled and
  // scaled.
  void add_wait(const WaitEvent& event, int64_t end_ns) noexcept;
  void add_release(const void* key, WaitKind kind, double count,
                   int64_t delay_ns) noexcept;

 private:
  struct Pending {
    ProfileType type;
    WaitKind kind;
    bool kept;  // kMutex: always; kBlock: after sample()
    const void* key;
    const char* label;
    int64_t start_ns;  // kBlock: first enqueue
    int64_t end_ns;    // kBlock: last dequeue
    double count;      // after sampling (kMutex: at once)
    int64_t delay_ns;
    int depth;
    uintptr_t pcs[kMaxStackDepth];
  };
  void record_one(const Pending& p, const uintptr_t* frames, int n) noexcept;

  EventDeferral* previous_;
  int size_ = 0;
  Pending pending_[kMaxPending];
};

}  // namespace contend::internal

#endif  // CONTEND_PROFILE_CALLER_FRAMES_H_
