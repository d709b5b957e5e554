// Copyright 2026 The contend Authors.

#include "shard/internal/cpu_id.h"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>

#include "sync/internal/atomic.h"

namespace contend::internal {
namespace cpu_id_detail {
namespace {

// Relaxed: a ticket dispenser; only uniqueness matters.
constinit Atomic<uint32_t> g_next_thread_slot{0};

uint32_t compute_cpu_slot_count() noexcept {
  long configured = sysconf(_SC_NPROCESSORS_CONF);
  uint32_t n = configured > 0 ? static_cast<uint32_t>(configured) : 1;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    for (int cpu = CPU_SETSIZE - 1; cpu >= 0; --cpu) {
      if (CPU_ISSET(cpu, &set)) {
        n = std::max(n, static_cast<uint32_t>(cpu) + 1);
        break;
      }
    }
  }
  return std::max<uint32_t>(n, 1);
}

CpuIdSource choose() noexcept {
  if (cpu_id_source_available(CpuIdSource::kRseq)) return CpuIdSource::kRseq;
  if (cpu_id_source_available(CpuIdSource::kSchedGetcpu)) {
    return CpuIdSource::kSchedGetcpu;
  }
  return CpuIdSource::kThreadSlot;
}

}  // namespace

uint32_t assign_thread_slot() noexcept {
  const uint32_t s =
      g_next_thread_slot.fetch_add(1, std::memory_order_relaxed) &
      0x7fffffffu;  // never UINT32_MAX, the "unassigned" mark
  t_thread_slot = s;
  return s;
}

void set_next_thread_slot(uint32_t next) noexcept {
  // Relaxed: see g_next_thread_slot.
  g_next_thread_slot.store(next, std::memory_order_relaxed);
}

uint32_t sched_getcpu_or_slot() noexcept {
  const int cpu = sched_getcpu();
  if (ABSL_PREDICT_TRUE(cpu >= 0)) return static_cast<uint32_t>(cpu);
  return thread_slot();
}

uint32_t current_cpu_slow() noexcept {
  // Relaxed: see g_source.
  auto s = static_cast<CpuIdSource>(g_source.load(std::memory_order_relaxed));
  if (s == CpuIdSource::kUnknown) s = cpu_id_source();
  switch (s) {
    case CpuIdSource::kRseq:  // this thread's registration failed
    case CpuIdSource::kSchedGetcpu:
      return sched_getcpu_or_slot();
    case CpuIdSource::kThreadSlot:
    case CpuIdSource::kUnknown:
      break;
  }
  return thread_slot();
}

}  // namespace cpu_id_detail

const char* cpu_id_source_name(CpuIdSource s) noexcept {
  switch (s) {
    case CpuIdSource::kUnknown:
      return "unknown";
    case CpuIdSource::kRseq:
      return "rseq";
    case CpuIdSource::kSchedGetcpu:
      return "sched_getcpu";
    case CpuIdSource::kThreadSlot:
      return "thread_slot";
  }
  return "?";
}

bool cpu_id_source_available(CpuIdSource s) noexcept {
  switch (s) {
    case CpuIdSource::kRseq:
#if CONTEND_HAVE_GLIBC_RSEQ
      // __rseq_size is 0 when glibc did not register (tunable, seccomp);
      // the area must reach past cpu_id.
      return __rseq_size >= offsetof(struct rseq, cpu_id) + sizeof(uint32_t) &&
             cpu_id_detail::rseq_cpu_id() >= 0;
#else
      return false;
#endif
    case CpuIdSource::kSchedGetcpu:
      return sched_getcpu() >= 0;
    case CpuIdSource::kThreadSlot:
      return true;
    case CpuIdSource::kUnknown:
      return true;
  }
  return false;
}

CpuIdSource cpu_id_source() noexcept {
  // Relaxed: see g_source. Two first callers may both choose; they choose
  // the same.
  auto s = static_cast<CpuIdSource>(
      cpu_id_detail::g_source.load(std::memory_order_relaxed));
  if (s != CpuIdSource::kUnknown) return s;
  s = cpu_id_detail::choose();
  cpu_id_detail::g_source.store(static_cast<uint8_t>(s),
                                std::memory_order_relaxed);
  return s;
}

bool set_cpu_id_source_for_testing(CpuIdSource s) noexcept {
  if (!cpu_id_source_available(s)) return false;
  if (s == CpuIdSource::kUnknown) s = cpu_id_detail::choose();
  // Relaxed: see g_source.
  cpu_id_detail::g_source.store(static_cast<uint8_t>(s),
                                std::memory_order_relaxed);
  return true;
}

void set_next_thread_slot_for_testing(uint32_t next) noexcept {
  cpu_id_detail::set_next_thread_slot(next);
}

uint32_t cpu_slot_count() noexcept {
  static const uint32_t n = cpu_id_detail::compute_cpu_slot_count();
  return n;
}

}  // namespace contend::internal
