// Copyright 2026 The contend Authors.

#include "sync/internal/thread_id.h"

#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "absl/base/attributes.h"

namespace contend::internal::thread_id_detail {
namespace {

// In a fork() child the only thread is the one that called fork(); its cache
// still holds the parent's tid, so drop it.
void reset_in_child() noexcept { cached_tid = 0; }

}  // namespace

ABSL_ATTRIBUTE_COLD ABSL_ATTRIBUTE_NOINLINE uint32_t load_thread_id() noexcept {
  // Registered before any thread caches a tid: every cache fill passes here.
  [[maybe_unused]] static const bool registered =
      pthread_atfork(nullptr, nullptr, &reset_in_child) == 0;
  const uint32_t tid = static_cast<uint32_t>(syscall(SYS_gettid));
  cached_tid = tid;
  return tid;
}

}  // namespace contend::internal::thread_id_detail
