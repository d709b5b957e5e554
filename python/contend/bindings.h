// Copyright 2026 The contend Authors.
//
// The parts of contend._native, one bind_* function per area; module.cc
// calls them all.

#ifndef CONTEND_PYTHON_CONTEND_BINDINGS_H_
#define CONTEND_PYTHON_CONTEND_BINDINGS_H_

#include <pybind11/pybind11.h>

#include <cstddef>

#include "python/contend/blocking.h"
#include "python/contend/python_frames.h"
#include "sync/internal/parking_lot.h"

namespace contend::python {

void bind_chan(pybind11::module_& m);
void bind_lab(pybind11::module_& m);
void bind_sync(pybind11::module_& m);
void bind_profile(pybind11::module_& m);
// Called by bind_profile on the profile submodule.
void bind_debug_server(pybind11::module_& profile);
void bind_shard_counter(pybind11::module_& m);
void bind_resource_pool(pybind11::module_& m);
void bind_snapshot(pybind11::module_& m);

// Threads parked in the ParkingLot on any key inside `object` (test support:
// "wait until the primitive has N parked waiters" instead of sleeping; the
// same count as tests/testing/wait.h's parked_within).
template <class T>
size_t parked_within(const T& object) {
  const auto* base = reinterpret_cast<const char*>(&object);
  size_t parked = 0;
  for (size_t offset = 0; offset < sizeof(T); ++offset) {
    parked += internal::ParkingLot::waiter_count(base + offset);
  }
  return parked;
}
void bind_keyed_mutex(pybind11::module_& m);

}  // namespace contend::python

#endif  // CONTEND_PYTHON_CONTEND_BINDINGS_H_
