// Copyright 2026 The contend Authors.
//
// The profiler's hooks: the WaitObserver that the ParkingLot calls for every
// finished wait and every contended release, the sampling decisions (Go's
// semantics), the frame-pointer stack walk, the bounded stack-keyed records
// and the per-thread timeline ring buffers. Internal (contend::internal);
// users control all of it through profile/profile.h.
//
// Layering (ARCHITECTURE.md §1): depends only on sync/internal. The primitives
// do not call into this file at all: the ParkingLot reports to whatever
// observer is installed (sync/internal/wait_observer.h), and this file installs
// its observer only while a profile or the timeline is enabled. With everything
// off the cost is the ParkingLot's one acquire load of a null pointer in its
// slow paths.
//
// Event flow:
//   Mutex::unlock (contended) -> ParkingLot::unpark_*(is_release = true)
//     -> ReleaseEvent in the releaser's thread -> on_contended_release():
//        mutex profile, 1/n sampled, charged to the releaser's stack.
//   ParkingLot::park returns -> WaitEvent in the waiter's thread
//     -> on_wait_end(): block profile, Go's unbiased rate sampling,
//        charged to the waiter's stack; timeline slice.

#ifndef CONTEND_PROFILE_HOOKS_H_
#define CONTEND_PROFILE_HOOKS_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "sync/internal/wait_observer.h"

namespace contend::internal {

// Which profile a record belongs to.
enum class ProfileType : uint8_t {
  kMutex,  // charged to the releaser (bottleneck owner), from ReleaseEvent
  kBlock,  // charged to the waiter, from WaitEvent
};

// Deepest stack kept per record (innermost frames win when deeper).
inline constexpr int kMaxStackDepth = 64;

// Default cap on distinct (stack, kind, label) records per profile. A record
// costs ~100 bytes plus 8 per frame, so the default bounds each profile at
// roughly 4-10 MiB even with deep stacks. Events for a new stack beyond the
// cap go to the profile's overflow counters, which every export shows.
inline constexpr size_t kDefaultMaxStacks = 16384;

// ---------------------------------------------------------------------------
// Control. All functions are thread-safe and may run concurrently with the
// hooks and with each other.

// Mutex profile fraction: on a contended release, charge with probability 1/n
// and scale the kept event by n. 0 turns it off; n < 0 only reads. Returns
// the previous value. Installs/uninstalls the observer as needed.
int profiler_set_mutex_fraction(int n);

// Block profile rate in nanoseconds: a wait of d >= rate is always kept; a
// shorter one with probability d / rate, then counted as rate / d waits
// totalling rate ns (Go's unbiased rule). 0 turns it off; rate < 0 only
// reads. Returns the previous value.
int64_t profiler_set_block_rate(int64_t rate_ns);

// Clears both profiles' records and overflow counters and restarts their
// analysis windows (enabled time back to 0, epoch + 1). Concurrent hooks
// either land before (and are cleared) or after (and are kept); none is
// half-applied.
void profiler_reset();

// Sets the cap on distinct records per profile (takes effect for new
// stacks; existing records are kept). Returns the previous cap.
size_t profiler_set_max_stacks(size_t cap);

// ---------------------------------------------------------------------------
// The observer callbacks, exposed so tests can feed synthetic events (the
// sampling-math test) without real contention. They capture the CALLING
// thread's stack. Never throw: an event whose record or ring cannot be
// allocated is dropped and counted (ProfileSnapshot::alloc_failures,
// TimelineSnapshot::alloc_failures). A wait shorter than 1 ns (0, or
// negative from clock skew between the two reads) counts as 1 ns, so rate 1
// records every wait; a release charging < 1 ns likewise charges 1 ns.
void profiler_on_wait_end(const WaitEvent& event) noexcept;
void profiler_on_contended_release(const ReleaseEvent& event) noexcept;

// Adds an already-sampled, already-scaled event to a profile under the
// given stack (innermost first). Used by the callbacks and by the export
// benchmark to build large synthetic profiles.
void profiler_add_sample(ProfileType type, const uintptr_t* pcs, int depth,
                         WaitKind kind, const char* label, double count,
                         int64_t delay_ns);

// The block profile's sampling rule for one wait of `waited_ns` (< 1 counts
// as 1): false if it is not kept; else its scaled count and delay. Used by
// the hook and by caller_frames.cc for merged waits.
bool profiler_sample_wait(int64_t waited_ns, double* count,
                          int64_t* delay_ns) noexcept;
// profiler_sample_wait, then a record under the calling thread's stack.
void profiler_record_wait(const void* key, WaitKind kind,
                          int64_t waited_ns) noexcept;
// profiler_add_sample that drops (and counts) the event on std::bad_alloc.
void profiler_add_sample_noexcept(ProfileType type, const uintptr_t* pcs,
                                  int depth, WaitKind kind, const char* label,
                                  double count, int64_t delay_ns) noexcept;

// Frame-pointer walk of the calling thread's stack: writes up to max_depth
// raw return addresses, innermost first (the first is the return address
// into capture_stack's caller), and returns how many. Stops at a null,
// misaligned, non-increasing or out-of-stack frame pointer, so frames
// compiled without frame pointers end the walk early instead of faulting.
// Cost: ~2.5 ns per frame (46 ns for 18 frames, bench/profile/RESULTS.md)
// after a thread's first call, which reads the thread's stack bounds once
// (pthread_getattr_np).
int capture_stack(uintptr_t* pcs, int max_depth) noexcept;

// ---------------------------------------------------------------------------
// Snapshots (export side).

struct StackRecord {
  std::vector<uintptr_t> pcs;  // raw return addresses, innermost first
  WaitKind kind;
  const char* label;  // wait_label(key) at record time, or nullptr
  double count;       // scaled number of events
  int64_t delay_ns;   // scaled delay
};

struct ProfileSnapshot {
  ProfileType type;
  int64_t period;  // fraction (mutex) or rate in ns (block) at snapshot time
  std::vector<StackRecord> records;
  // Events that found the table full (cap reached), scaled like records.
  double overflow_count = 0;
  int64_t overflow_delay_ns = 0;
  size_t max_stacks = 0;
  // Sampled events lost because their record could not be allocated.
  uint64_t alloc_failures = 0;
  // Analysis window: how long the profile has been enabled since the last
  // reset (or process start), summed over every on/off toggle: the records
  // accumulate exactly over this time. 0 if never enabled.
  int64_t enabled_ns = 0;
  // profiler_reset() calls so far: two snapshots with the same epoch can be
  // subtracted (every record only grows within an epoch).
  uint64_t epoch = 0;
  int64_t now_ns = 0;  // CLOCK_MONOTONIC at the snapshot
};

// Copies one profile while the hooks keep running (each shard is copied
// under its lock, so every record is self-consistent; the window, epoch and
// records are read under the configuration lock, so they agree).
ProfileSnapshot profiler_snapshot(ProfileType type);

// ---------------------------------------------------------------------------
// Timeline: opt-in per-thread ring buffers of wait intervals and contended
// releases.

struct TimelineEntry {
  enum class Type : uint8_t { kWait, kRelease };
  Type type;
  WaitKind kind;
  ParkStatus status;   // kWait only
  uint32_t other_tid;  // kWait: waker (0 for timeout/cancel); kRelease: 0
  uint32_t waiters;    // kRelease: waiters queued at the charge
  const void* key;
  const char* label;  // wait_label(key) at record time, or nullptr
  int64_t start_ns;   // kWait: enqueue; kRelease: charge time
  int64_t end_ns;     // kWait: dequeue; kRelease: == start_ns
  int64_t delay_ns;   // kRelease: delay charged (unscaled)
};

struct TimelineThread {
  uint32_t tid;
  std::vector<TimelineEntry> entries;  // oldest first
};

struct TimelineSnapshot {
  bool running = false;
  uint64_t generation = 0;  // timeline_start() calls so far
  int64_t start_ns = 0;     // start_timeline time
  int64_t stop_ns = 0;      // stop_timeline time, or snapshot time if running
  std::vector<TimelineThread> threads;
  uint64_t overwritten = 0;      // oldest entries lost to full rings
  uint64_t dropped = 0;          // entries from threads beyond max_threads
  uint64_t alloc_failures = 0;   // entries lost: a ring could not be allocated
  size_t events_per_thread = 0;  // effective (clamped) options
  size_t max_threads = 0;
};

// Upper bounds of the timeline options; larger requests are clamped (a ring
// is allocated on its thread's first event, so the worst case is
// 56 B * kMaxTimelineEventsPerThread = 56 MiB per waiting thread, for at most
// kMaxTimelineThreads threads). 0 is raised to 1.
inline constexpr size_t kMaxTimelineEventsPerThread = size_t{1} << 20;
inline constexpr size_t kMaxTimelineThreads = 4096;

// Starts recording into fresh buffers (earlier timeline data is discarded,
// its ring memory freed): each thread gets a ring of events_per_thread
// entries on its first event; at most max_threads rings exist (a ring of an
// exited thread is reused when the cap is reached, its entries counted as
// overwritten). Both are clamped to [1, kMax...]. Returns the new
// generation.
uint64_t timeline_start(size_t events_per_thread, size_t max_threads);
// Like timeline_start(), but only if the timeline is not recording; returns
// the new generation, or 0 (and changes nothing) if it is recording.
uint64_t timeline_try_start(size_t events_per_thread, size_t max_threads);
// Stops recording; the data stays for timeline_snapshot() until the next
// timeline_start().
void timeline_stop();
// Stops recording only if `generation` is still the current one (nobody
// restarted the timeline since); returns whether it was.
bool timeline_stop_generation(uint64_t generation);
// Frees the rings' entries of `generation` if it is current and stopped
// (its data is gone afterwards); returns whether it did.
bool timeline_release(uint64_t generation);
TimelineSnapshot timeline_snapshot();

// ---------------------------------------------------------------------------
// fork(). pthread_atfork handlers, registered by the first setter or
// timeline_start call, take every lock of this file before fork() and
// release them after it in both processes, so no lock is left held by a
// thread that does not exist in the child. The child then starts with empty
// profiles (records, overflow and alloc-failure counts cleared, window
// restarted, epoch + 1; settings kept) and no timeline (stopped, rings
// freed, generation + 1). profile.cc covers its symbol cache the same way.
// Not covered: the label table in sync/internal (wait_label()), so a child
// of a process that forked while another thread was looking up a label can
// block in its first profiled wait; fixing that needs the label carried by
// the primitive, which is a change to sync/, not to the profiler.
void profiler_register_fork_handlers();

}  // namespace contend::internal

#endif  // CONTEND_PROFILE_HOOKS_H_
