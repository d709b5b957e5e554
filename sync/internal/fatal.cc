// Copyright 2026 The contend Authors.

#include "sync/internal/fatal.h"

#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace contend::internal {

void fatal(const char* message) noexcept {
  // One write(2) of message + '\n', so that concurrent reports do not
  // interleave and nothing depends on stdio's state (the caller may have
  // corrupted it, or hold its lock).
  char buf[512];
  size_t n = std::strlen(message);
  if (n > sizeof(buf) - 1) n = sizeof(buf) - 1;
  std::memcpy(buf, message, n);
  buf[n++] = '\n';
  ssize_t ignored = ::write(STDERR_FILENO, buf, n);
  (void)ignored;
  std::abort();
}

void fatal_format(const char* format, ...) noexcept {
  char buf[512];
  va_list ap;
  va_start(ap, format);
  std::vsnprintf(buf, sizeof(buf), format, ap);
  va_end(ap);
  fatal(buf);
}

}  // namespace contend::internal
