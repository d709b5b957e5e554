// Copyright 2026 The contend Authors.
//
// current_cpu(): the CPU the calling thread runs on, in about a nanosecond,
// for per-CPU sharding (shard/sharded_counter.h); thread_slot(): a stable
// small number per thread, for structures that must find their slot again
// on release (shard/distributed_rw_mutex.h).
//
// Why here and not in sync/internal: only shard/ shards by CPU; sync/ has no
// user of it, and the layering (ARCHITECTURE.md section 1) lets shard/ reach
// down into sync/internal but not the other way, so a helper for shard/ alone
// belongs to shard/internal.
//
// Sources, in the order chosen once per process (cpu_id_source()):
//  1. kRseq: glibc >= 2.35 registers an rseq area for every thread it creates
//     and exports where it lives (__rseq_offset from the thread pointer,
//     __rseq_size; the kernel keeps its cpu_id field current at every
//     migration). Reading it is one load from the thread's own TLS line. We
//     never register an rseq area ourselves: a thread may have only one, and
//     a second registration fails or, worse, competes with glibc's (the
//     tcmalloc rseq breakage, google/tcmalloc#144). Unavailable when glibc is
//     older, when rseq is disabled (GLIBC_TUNABLES=glibc.pthread.rseq=0, or a
//     seccomp filter refused the syscall: __rseq_size == 0), or when this
//     thread's registration failed (cpu_id < 0).
//  2. kSchedGetcpu: sched_getcpu(), the vDSO getcpu (tens of ns when it
//     falls back to the real syscall; on glibc >= 2.35 it itself reads rseq
//     when that is registered).
//  3. kThreadSlot: no CPU number at all; each thread gets a round-robin
//     ordinal the first time it asks. Threads then collide on slots exactly
//     when there are more threads than slots, which costs sharing, never
//     correctness (every user must tolerate any index, see below).
//
// aarch64: the same three sources, unchanged. The rseq ABI is the same
// (struct rseq, __rseq_offset from the thread pointer, which
// __builtin_thread_pointer() reads from TPIDR_EL0 there instead of the %fs
// base); getcpu is a vDSO call on both. Under qemu-user (--config=aarch64,
// Debian's qemu 7.2) the rseq syscall (293 on aarch64) is not implemented, so
// glibc's registration fails, __rseq_size is 0 and the emulated run exercises
// kSchedGetcpu (qemu emulates getcpu), not kRseq.
//
// Contract: the value is a hint. The thread may migrate right after the read,
// so users must be correct for any index in [0, cpu_slot_count()): per-CPU
// slots are updated with atomic RMWs, never "owned" by a CPU.
//
// Cost (bench/shard/RESULTS.md, //bench/shard:cpu_id_benchmark): one relaxed
// load of the chosen source plus the source itself.

#ifndef CONTEND_SHARD_INTERNAL_CPU_ID_H_
#define CONTEND_SHARD_INTERNAL_CPU_ID_H_

#if !defined(__linux__)
#error "contend's platform layer supports Linux only (x86-64 and aarch64)"
#endif

#include <cstddef>
#include <cstdint>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "sync/internal/atomic.h"

#if defined(__GLIBC__) &&                                           \
    (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 35)) && \
    __has_include(<sys/rseq.h>)
#include <sys/rseq.h>
#define CONTEND_HAVE_GLIBC_RSEQ 1
#else
#define CONTEND_HAVE_GLIBC_RSEQ 0
#endif

namespace contend::internal {

enum class CpuIdSource : uint8_t {
  kUnknown = 0,  // not chosen yet (first call chooses)
  kRseq = 1,
  kSchedGetcpu = 2,
  kThreadSlot = 3,
};

// "rseq", "sched_getcpu", "thread_slot" ("unknown" before the first choice).
const char* cpu_id_source_name(CpuIdSource s) noexcept;

// The source current_cpu() uses; chooses it on the first call.
CpuIdSource cpu_id_source() noexcept;

// Whether `s` works on this machine for the calling thread.
bool cpu_id_source_available(CpuIdSource s) noexcept;

// Tests and benchmarks only: makes current_cpu() use `s` from now on (for
// every thread). Returns false, changing nothing, when `s` is unavailable.
// kUnknown re-runs the automatic choice.
bool set_cpu_id_source_for_testing(CpuIdSource s) noexcept;

// Number of possible CPUs: one more than the highest CPU number the kernel
// may ever report, from the larger of the configured CPU count
// (sysconf(_SC_NPROCESSORS_CONF), i.e. /sys/devices/system/cpu) and the
// highest CPU in this thread's sched_getaffinity mask. Not
// hardware_concurrency (which is the online count, or the affinity count).
// At least 1; computed once.
uint32_t cpu_slot_count() noexcept;

// A stable ordinal for the calling thread (0, 1, 2, ... in order of first
// call; never reused). Cost: one TLS load after the first call.
uint32_t thread_slot() noexcept;

// Tests only (the dsched explorer, for replayable runs): the next thread to
// ask gets ordinal `next`. Ordinals must stay unique among threads that use
// a slot-indexed structure at the same time; the caller guarantees it.
void set_next_thread_slot_for_testing(uint32_t next) noexcept;

// The CPU the calling thread runs on (or its thread_slot() under
// kThreadSlot). A hint: see the file comment. Not reduced modulo anything:
// with kThreadSlot it may exceed cpu_slot_count(), so callers mask it.
uint32_t current_cpu() noexcept;

namespace cpu_id_detail {

// Relaxed everywhere: the source is a plain configuration value; every
// source gives a valid hint, so a thread that reads an older choice is
// still correct.
inline constinit Atomic<uint8_t> g_source{0};
inline constinit thread_local uint32_t t_thread_slot = UINT32_MAX;

uint32_t assign_thread_slot() noexcept;
ABSL_ATTRIBUTE_NOINLINE uint32_t current_cpu_slow() noexcept;
uint32_t sched_getcpu_or_slot() noexcept;
void set_next_thread_slot(uint32_t next) noexcept;

#if CONTEND_HAVE_GLIBC_RSEQ
// The kernel writes cpu_id (on migration, between any two of our
// instructions); we only read it. A volatile load: this is memory shared with
// the kernel, not with another thread, so there is no atomic to pair with and
// nothing for the seam to schedule.
inline int32_t rseq_cpu_id() noexcept {
  const char* tp = static_cast<const char*>(__builtin_thread_pointer());
  const volatile int32_t* cpu = reinterpret_cast<const volatile int32_t*>(
      tp + __rseq_offset + offsetof(struct rseq, cpu_id));
  return *cpu;
}
#endif

}  // namespace cpu_id_detail

inline uint32_t thread_slot() noexcept {
  const uint32_t s = cpu_id_detail::t_thread_slot;
  if (ABSL_PREDICT_TRUE(s != UINT32_MAX)) return s;
  return cpu_id_detail::assign_thread_slot();
}

inline uint32_t current_cpu() noexcept {
#if CONTEND_HAVE_GLIBC_RSEQ
  // Relaxed: see g_source.
  if (ABSL_PREDICT_TRUE(
          cpu_id_detail::g_source.load(std::memory_order_relaxed) ==
          static_cast<uint8_t>(CpuIdSource::kRseq))) {
    const int32_t cpu = cpu_id_detail::rseq_cpu_id();
    // Negative: this thread's registration failed (RSEQ_CPU_ID_*).
    if (ABSL_PREDICT_TRUE(cpu >= 0)) return static_cast<uint32_t>(cpu);
  }
#endif
  return cpu_id_detail::current_cpu_slow();
}

}  // namespace contend::internal

#endif  // CONTEND_SHARD_INTERNAL_CPU_ID_H_
