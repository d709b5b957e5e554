// Copyright 2026 The contend Authors.

#include "shard/sharded_counter.h"

#include <bit>
#include <cstdint>
#include <memory>

#include "shard/internal/cpu_id.h"

namespace contend {

static_assert(sizeof(ShardedCounter) == 16,
              "ShardedCounter is a slot pointer and a mask");
static_assert(sizeof(InFlight) == sizeof(void*));
static_assert(internal::Atomic<int64_t>::is_always_lock_free);

namespace {
uint32_t slot_count_for_cpus() {
  // Cap: 2^16 slots (8 MiB) would mean a machine far beyond CPU_SETSIZE.
  const uint32_t cpus = internal::cpu_slot_count();
  return std::bit_ceil(cpus < (1u << 16) ? cpus : (1u << 16));
}
}  // namespace

ShardedCounter::ShardedCounter()
    : slots_(std::make_unique<Slot[]>(slot_count_for_cpus())),
      mask_(slot_count_for_cpus() - 1) {}

}  // namespace contend
