// Copyright 2026 The contend Authors.
//
// ThreadSanitizer suppressions for every test that links //tests/testing,
// compiled in (TSan calls __tsan_default_suppressions() at startup) so no
// test needs a file path in TSAN_OPTIONS.
//
// Only false positives that come from uninstrumented system libraries belong
// here, each with the report that motivated it.

#if defined(CONTEND_TSAN)

// absl::Status shares a heap rep between copies through an atomic refcount.
// Debian's libabsl is not built with TSan, so the final decrement in
// Status::UnrefNonInlined (inside libabsl_status.so) is invisible and its
// `delete rep` is reported as racing the instrumented, inlined Status::Ref of
// another copy (seen in LazyRetryStress.ContendedRetriesThenOneSuccess:
// "operator delete ... Status::UnrefNonInlined ... LazyRetry::run_attempt" vs
// "Previous atomic write ... Status::Ref"). The decrement is acq_rel in
// Abseil's code; the report cannot be a real race in contend. The pattern
// names Status::Unref, a prefix of UnrefNonInlined: TSan's stacks show the
// instrumented inline caller and may not show the uninstrumented callee.
extern "C" const char* __tsan_default_suppressions() {
  return "race:absl::*Status::Unref\n";
}

#endif  // CONTEND_TSAN
