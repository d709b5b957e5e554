// Copyright 2026 The contend Authors.
//
// Contention profiling for every contend primitive, with Go's semantics and
// the tools people already use: pprof files (`pprof`, `go tool pprof`,
// Perfetto, continuous profilers), a Go `debug=1`-style text report with an
// Amdahl analysis, and Chrome-trace timelines (Perfetto UI).
//
//   contend::profile::set_mutex_profile_fraction(1000);   // 0.1% of events
//   ... run ...
//   std::ofstream out("mutex.pb.gz", std::ios::binary);
//   contend::profile::write_mutex_profile(out);   // go tool pprof mutex.pb.gz
//
// Model. Every blocking primitive sleeps in the ParkingLot, which reports
// each finished wait (in the waiter's thread) and each contended release (in
// the releaser's thread, with the exact delay that all waiters accumulated
// since the previous charge, golang/go#61015) to the profiler. Two profiles
// accumulate from those events:
//  - mutex profile: charged to the RELEASING thread's stack, i.e. the
//    bottleneck owner, not the victim. Mutex and RWMutex unlocks.
//  - block profile: charged to the WAITING thread's stack. Every blocking wait
//    of every primitive (Mutex, RWMutex both modes, Cond, Event, Once,
//    WaitGroup, Semaphore, ErrGroup, Singleflight, ...), timed-out and
//    cancelled waits included.
// Each profile is a table keyed by (stack, primitive kind, label) holding a
// count of events and their total delay, both scaled so that sampled totals
// are unbiased estimates of the truth.
//
// Contract:
//  - Guarantees: totals are unbiased (see the setters for the sampling
//    rules). With fraction 1 the mutex-profile delay on a lock equals the
//    block-profile delay of its Mutex/RWMutex waiters, up to waits still in
//    progress at snapshot time and waits that ended by timeout/cancellation
//    (nobody released to them, so nobody is charged).
//  - Memory is bounded: at most 16384 distinct stacks per profile (each up to
//    64 frames); further new stacks go to an overflow counter that every
//    export shows (pprof: a sample under "[contend: stack table full]").
//    Timeline memory is bounded by TimelineOptions.
//  - fork(): pthread_atfork handlers keep the profiler's locks consistent;
//    the child starts with empty profiles (settings kept, window restarted)
//    and no timeline. Not covered: the label table of sync/internal, so a
//    child forked while another thread looked up a label can block in its
//    first profiled wait.
//  - Labels: a primitive may carry a static label (Mutex mu{"cache.shard"},
//    or internal::set_wait_label); it appears as the pprof label "lock" and
//    in the text and timeline. Every sample also carries the label "kind"
//    ("Mutex", "RWMutex.read", "Cond", ...).
//
// Thread safety: every function may be called from any thread at any time,
// concurrently with each other and with the profiled code; exports take a
// consistent snapshot per record while profiling keeps running.
//
// Memory ordering: settings are sampling hints read with relaxed loads; an
// event that races with a setter call is sampled under either the old or the
// new setting, and every thread sees the new one promptly. An event whose
// report completed before an export (or reset()) began is included in (or
// cleared by) it: records are updated under per-shard locks that exports
// and reset() also take, so a record's count and delay always move together.
//
// Misuse: none is fatal. Negative arguments to the setters only read the
// current value (as in Go).
//
// Cost (bench/profile/RESULTS.md, //bench/profile:profile_benchmark, AMD
// EPYC 2 vCPUs):
//  - Off (the default): no observer is installed; primitives' fast paths are
//    untouched and their slow paths pay one acquire load of a null pointer.
//  - On: uncontended lock/unlock unchanged (5.42 vs 5.44 ns: the fast path
//    never reaches the ParkingLot). Each contended release or finished wait
//    pays an indirect call, a relaxed load and one PRNG draw (4-8 ns); a
//    sampled event adds a frame-pointer walk (~2.5 ns per frame), a label
//    lookup and one lock of a 16-way sharded table (50-65 ns in all). A
//    ParkingLot park costs 131 ns off, 132 ns at fraction 1000, 188 ns with
//    every wait recorded. Contended W2 throughput at fraction 1000: +1.0%
//    ns/op at 2 threads.
//  - Export: symbolization once per unique PC, cached: names from
//    absl::Symbolize, file:line from the DWARF of the mapped files
//    (elfutils libdw, in process; one module scan per export that meets new
//    PCs); 10,000 distinct stacks export in ~25 ms warm, ~40 ms the first
//    time (names only; bench/profile/RESULTS.md).
//  - Stacks are raw return addresses from a frame-pointer walk: frames
//    compiled without frame pointers (e.g. Debian's system libraries) end the
//    walk early. contend's own targets build with -fno-omit-frame-pointer;
//    build callers with it too to see their frames past a library boundary.
//    File:line only for code compiled with -g whose DWARF was not stripped
//    (separate debug files and debuginfod are never consulted); GCC's and
//    clang's DWARF 5 alike (clang emits no .debug_aranges, which libdw
//    0.188 relies on: units are then found by their own ranges). A PC in
//    inlined code is one location with a line per function, the inlined
//    ones first (innermost first), as pprof's Location.line lists them; a
//    public method inlined into its caller becomes the leaf in place of
//    the out-of-line slow path.

#ifndef CONTEND_PROFILE_PROFILE_H_
#define CONTEND_PROFILE_PROFILE_H_

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

namespace contend::internal {
struct ProfileSnapshot;
}  // namespace contend::internal

namespace contend::profile {

// Sets the mutex profile fraction: on each contended release, with
// probability 1/n, the releasing thread's stack is charged with the delay
// that all waiters accumulated while it held the lock; kept events are
// scaled by n. n = 1 records every event; 0 turns the mutex profile off;
// n < 0 only reads. Returns the previous value. Go's
// runtime.SetMutexProfileFraction; 1000 (0.1%) is a production setting.
int set_mutex_profile_fraction(int n);

// Sets the block profile rate in nanoseconds: a wait of d >= rate ns is
// always recorded; a shorter one with probability d / rate, then counted as
// rate / d waits totalling rate ns (Go's unbiased rule: the rate is not a
// cut-off). 1 records every wait; 0 turns the block profile off; a negative
// rate only reads. Returns the previous value. Go's
// runtime.SetBlockProfileRate; 1'000'000 is a production setting.
int64_t set_block_profile_rate(int64_t rate_ns);

// Writes the mutex (resp. block) profile. debug = 0: a gzipped profile.proto
// in Go's layout (sample types contentions/count and delay/nanoseconds,
// period type contentions/count), pre-symbolized (demangled function names,
// and file:line where the DWARF has it), so pprof needs no binary: a
// mapping says has_functions / has_filenames / has_line_numbers only when
// true of every location in it, so pprof re-symbolizes the rest itself; each
// stack's leaf is the primitive's public method (contend::Mutex::unlock in
// the mutex profile, ::lock in the block profile), as Go's leaf is
// sync.(*Mutex).Unlock: ParkingLot frames and slow-path internals are
// dropped, and an inlined public method is named in place of the slow path
// that stands for it;
// duration_nanos is the time the profile has been enabled since the last
// reset(), summed over on/off toggles (the records cover exactly that
// time). debug >= 1: Go's legacy text form ("--- mutex:" /
// "--- contention:", one "<delay_ns> <count> @ <pcs>" line per stack,
// sorted by delay, then the frames with file:line where known; labels quoted
// as Go's strconv.Quote does). Each new PC is symbolized once (cached).
void write_mutex_profile(std::ostream& out, int debug = 0);
void write_block_profile(std::ostream& out, int debug = 0);

// A Snapshot is a copy of one profile's cumulative records at one instant,
// so that a later export can show only what happened after it (Go's delta
// profiles, /debug/pprof/mutex?seconds=N, in process):
//
//   auto since = contend::profile::Snapshot::mutex();
//   ... one minute later ...
//   contend::profile::write_mutex_profile(out, since);  // that minute only
//
// Contract:
//  - Guarantees: a delta export holds, per stack, the events recorded after
//    `since` was taken (count and delay subtracted; stacks with nothing new
//    omitted), the overflow bucket likewise, and duration_nanos = enabled
//    time between the two. If reset() ran in between, the delta is the whole
//    profile since that reset (records only grow between resets).
//  - Requires: a mutex Snapshot for write_mutex_profile, a block one for
//    write_block_profile (always checked; fatal, see Misuse).
// Thread safety: a Snapshot is an immutable value; copies share the data,
// and any thread may use one concurrently with profiling.
// Misuse: passing a Snapshot of the other profile terminates with
// "contend: write_mutex_profile: since is a block-profile Snapshot" (or the
// converse).
// Cost: taking one copies the records (~100 B + 8 B per frame each; ~2 MB
// for 10,000 stacks of 16 frames) under the profile's shard locks, as an
// export does, without symbolizing. Copying a Snapshot is a reference-count
// increment.
class Snapshot {
 public:
  // Copies are cheap and share the data; there is no move (a moved-from
  // Snapshot would be empty), so a "move" copies.
  Snapshot(const Snapshot&) = default;
  Snapshot& operator=(const Snapshot&) = default;
  ~Snapshot();

  static Snapshot mutex();
  static Snapshot block();
  // Time the snapshot was taken (CLOCK_MONOTONIC ns).
  int64_t time_ns() const noexcept;

 private:
  friend void write_mutex_profile(std::ostream&, const Snapshot&, int);
  friend void write_block_profile(std::ostream&, const Snapshot&, int);
  explicit Snapshot(std::shared_ptr<const internal::ProfileSnapshot> data);
  std::shared_ptr<const internal::ProfileSnapshot> data_;
};

// The profile minus `since`: only what was recorded after it (see Snapshot).
void write_mutex_profile(std::ostream& out, const Snapshot& since,
                         int debug = 0);
void write_block_profile(std::ostream& out, const Snapshot& since,
                         int debug = 0);

// The demangled name of the function that contains code address `address`
// in this process, as the exports name it; "" if unknown. Cached like the
// exports' symbolization. What /debug/pprof/symbol serves, for pprof to
// name locations in mappings without has_functions.
std::string symbolize(uintptr_t address);

// Writes both profiles in text form followed by the analysis of analyze().
void write_text_report(std::ostream& out);

// Clears both profiles (records and overflow counters) and restarts the
// analysis window. Settings and the timeline are unchanged.
void reset();

// Timeline: opt-in recording of every wait interval and contended release
// into bounded per-thread ring buffers, exported as Chrome Trace Event JSON
// (open in https://ui.perfetto.dev or chrome://tracing): one track per
// thread, an "X" slice per wait (name "wait <kind>" or the label; args: key,
// kind, label, status, waker tid), a zero-length "wake" slice on the waker's
// track with a flow arrow to the woken waiter's slice, and an instant event
// per contended release with the delay charged.
struct TimelineOptions {
  // Ring size; oldest entries overwritten. Clamped to [1, 1,048,576].
  size_t events_per_thread = 16384;
  // Rings; exited threads' rings reused beyond it. Clamped to [1, 4096].
  size_t max_threads = 256;
};
// Starts recording, discarding any earlier timeline (its memory is freed).
// Memory: about 56 bytes * events_per_thread per thread that waits, for at
// most max_threads threads, allocated on each thread's first event; if that
// allocation fails the event is dropped and counted ("alloc_failures" in the
// JSON's otherData), never thrown into the waiting thread.
void start_timeline(const TimelineOptions& options = {});
// Stops recording; the data stays until the next start_timeline().
void stop_timeline();
// Writes the recorded timeline (a snapshot if still recording). The JSON is
// valid UTF-8 whatever the thread names and labels hold: invalid bytes are
// written as U+FFFD. Durations are never negative (a wait whose clock reads
// went backwards is 0 long).
void write_timeline_json(std::ostream& out);

// Analysis (from *sync — Senior*): how much waiting each site causes per second
// of wall-clock time and what that implies for scalability. The serialized
// fraction f is estimated as cumulative wait per second / 1 s (the article's
// rule: 50 ms of waiting per second means ~5% of the work is serialized),
// clamped to [0, 1]; Amdahl's law then caps the speedup at 1/f (5% -> 20x)
// regardless of core count. It is an estimate: it assumes the waiting time
// is spent queued behind critical sections that cannot overlap.
struct Site {
  std::string function;  // first frame outside contend and std (the owner
                         // for the mutex profile, the waiter for block)
  std::string label;     // the lock's label, "" if none
  std::vector<std::string> stack;  // symbolized frames, innermost first
  int64_t contentions = 0;
  int64_t delay_ns = 0;
  double delay_per_second_ns = 0;  // ns waited per wall-clock second
  double serialized_fraction = 0;  // delay_per_second_ns / 1e9, <= 1
  double amdahl_ceiling = 0;       // 1 / serialized_fraction (inf if 0)
};

struct ProfileAnalysis {
  bool enabled = false;  // the profile is on
  // Window: time the profile was enabled since reset(), summed over on/off
  // toggles (the time its records cover).
  double wall_seconds = 0;
  int64_t contentions = 0;  // totals, overflow included
  int64_t delay_ns = 0;
  double delay_per_second_ns = 0;
  double serialized_fraction = 0;
  double amdahl_ceiling = 0;
  double overflow_contentions = 0;  // events that found the table full
  std::vector<Site> sites;          // by delay, descending
};

struct Analysis {
  ProfileAnalysis mutex;  // sites = top bottleneck owners (releasers)
  ProfileAnalysis block;  // sites = top blocked sites (waiters)
};

struct AnalyzeOptions {
  size_t top = 10;  // sites kept per profile
};

Analysis analyze(const AnalyzeOptions& options = {});

}  // namespace contend::profile

#endif  // CONTEND_PROFILE_PROFILE_H_
