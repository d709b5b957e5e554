// Copyright 2026 The contend Authors.
//
// current_thread_id(): the kernel thread id (gettid) of the calling thread,
// cached so that profiling and debug paths can tag records cheaply.

#ifndef CONTEND_SYNC_INTERNAL_THREAD_ID_H_
#define CONTEND_SYNC_INTERNAL_THREAD_ID_H_

#if !defined(__linux__)
#error "contend's platform layer supports Linux only (x86-64 and aarch64)"
#endif

#include <cstdint>

#include "absl/base/optimization.h"

namespace contend::internal {

namespace thread_id_detail {
// 0 = not cached yet (the kernel never hands out tid 0 to a user thread).
inline constinit thread_local uint32_t cached_tid = 0;
// Reads gettid(), caches it, returns it. Out of line and cold.
uint32_t load_thread_id() noexcept;
}  // namespace thread_id_detail

// Returns gettid() of the calling thread, i.e. the value `ps -L`, /proc and
// perf show, equal to syscall(SYS_gettid).
//
// Guarantees: stable for the life of the thread; distinct among live threads
// of all processes (tids are recycled after a thread exits, so do not use it
// as a key that outlives its thread); correct in a fork() child (the cache is
// dropped in the child by a pthread_atfork handler).
// Cost: one TLS load and compare after the first call; the first call per
// thread makes one gettid syscall.
inline uint32_t current_thread_id() noexcept {
  const uint32_t tid = thread_id_detail::cached_tid;
  if (ABSL_PREDICT_TRUE(tid != 0)) return tid;
  return thread_id_detail::load_thread_id();
}

}  // namespace contend::internal

#endif  // CONTEND_SYNC_INTERNAL_THREAD_ID_H_
