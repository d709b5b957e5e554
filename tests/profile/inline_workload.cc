// Copyright 2026 The contend Authors.

#include "tests/profile/inline_workload.h"

#include "absl/base/attributes.h"

namespace profile_testing {

// Out of line, so that the call to it (and its return address) stays.
ABSL_ATTRIBUTE_NOINLINE uintptr_t ReturnAddress() {
  asm volatile("" ::: "memory");
  return reinterpret_cast<uintptr_t>(__builtin_return_address(0));
}

// The asm statements after each call keep the calls from becoming tail
// calls (a jump leaves no return address inside the inlined code).
ABSL_ATTRIBUTE_ALWAYS_INLINE inline uintptr_t InlinedLeaf() {
  const uintptr_t pc = ReturnAddress();
  asm volatile("" ::: "memory");
  return pc;
}

ABSL_ATTRIBUTE_ALWAYS_INLINE inline uintptr_t InlinedMiddle() {
  const uintptr_t pc = InlinedLeaf();
  asm volatile("" ::: "memory");
  return pc;
}

ABSL_ATTRIBUTE_NOINLINE uintptr_t OuterOfInlined() {
  const uintptr_t pc = InlinedMiddle();
  asm volatile("" ::: "memory");
  return pc;
}

}  // namespace profile_testing
