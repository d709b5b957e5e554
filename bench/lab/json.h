// Copyright 2026 The contend Authors.
//
// JSON encoding of lab results: one object per line for the CLI (the same
// field names as the Python dataclasses in python/contend/lab/model.py).

#ifndef CONTEND_BENCH_LAB_JSON_H_
#define CONTEND_BENCH_LAB_JSON_H_

#include <string>

#include "bench/lab/registry.h"
#include "bench/lab/workload.h"

namespace contend::lab {

// One JSON object, no newline. Profiles are not included (they are binary);
// `mutex_profile_bytes` / `block_profile_bytes` give their sizes.
std::string to_json(const Result& r);

// {"name": ..., "display_name": ..., "description": ..., "has_shared_mode":
// ...}
std::string to_json(const Primitive& p);

}  // namespace contend::lab

#endif  // CONTEND_BENCH_LAB_JSON_H_
