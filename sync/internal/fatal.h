// Copyright 2026 The contend Authors.
//
// internal::fatal: the one misuse reporter. Misuse that corrupts state and is
// cheap to detect terminates the process with a message of the form
// "contend: <Type>::<method>: <what>" (ARCHITECTURE.md §5); every such
// message has a death test.

#ifndef CONTEND_SYNC_INTERNAL_FATAL_H_
#define CONTEND_SYNC_INTERNAL_FATAL_H_

#include "absl/base/attributes.h"

namespace contend::internal {

// Writes `message` and a newline to stderr (one write, unbuffered), then
// aborts. Never returns, never allocates, safe in any thread and in a
// noexcept context.
[[noreturn]] ABSL_ATTRIBUTE_COLD ABSL_ATTRIBUTE_NOINLINE void fatal(
    const char* message) noexcept;

// The same with a printf-style message (truncated to 511 bytes), for
// messages that carry a value: fatal_format("contend: %s::%s: %s", ...).
[[noreturn]] ABSL_ATTRIBUTE_COLD ABSL_ATTRIBUTE_NOINLINE void fatal_format(
    const char* format, ...) noexcept ABSL_PRINTF_ATTRIBUTE(1, 2);

}  // namespace contend::internal

#endif  // CONTEND_SYNC_INTERNAL_FATAL_H_
