// Copyright 2026 The contend Authors.

#include "sync/internal/dsched_hooks.h"

namespace contend::internal::dsched {

std::atomic<const Hooks*> g_hooks{nullptr};

void install_hooks(const Hooks* h) noexcept {
  // Release: pairs with the acquire load in hooks().
  g_hooks.store(h, std::memory_order_release);
}

}  // namespace contend::internal::dsched
