// Copyright 2026 The contend Authors.
//
// Test support: a return address inside inlined code. InlinedLeaf() is
// forced inline into InlinedMiddle(), which is forced inline into
// OuterOfInlined() (built with -O2 -g, see BUILD.bazel), so the address that
// OuterOfInlined() returns lies in code of all three functions; a profile
// location for it lists InlinedLeaf, InlinedMiddle, OuterOfInlined.

#ifndef CONTEND_TESTS_PROFILE_INLINE_WORKLOAD_H_
#define CONTEND_TESTS_PROFILE_INLINE_WORKLOAD_H_

#include <cstdint>

namespace profile_testing {

// The return address of a call made from InlinedLeaf()'s code, as a stack
// capture would record it for that frame.
uintptr_t OuterOfInlined();

// The names the profile gives the three functions (absl's demangling).
inline constexpr const char* kInlinedLeafName =
    "profile_testing::InlinedLeaf()";
inline constexpr const char* kInlinedMiddleName =
    "profile_testing::InlinedMiddle()";
inline constexpr const char* kOuterOfInlinedName =
    "profile_testing::OuterOfInlined()";
inline constexpr const char* kInlineWorkloadFile =
    "tests/profile/inline_workload.cc";

}  // namespace profile_testing

#endif  // CONTEND_TESTS_PROFILE_INLINE_WORKLOAD_H_
