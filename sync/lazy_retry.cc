// Copyright 2026 The contend Authors.
//
// LazyRetry's out-of-line misuse report.

#include "sync/lazy_retry.h"

#include <cstdio>
#include <cstdlib>
#include <string>

namespace contend::internal {

void lazy_retry_bad_value_access(const absl::Status& status) {
  const std::string text = status.ToString();
  std::fprintf(stderr,
               "contend: LazyRetry::Result::value: result is not OK (%s)\n",
               text.c_str());
  std::fflush(stderr);
  std::abort();
}

}  // namespace contend::internal
