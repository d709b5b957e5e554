// Copyright 2026 The contend Authors.
//
// contend._native: pybind11 bindings only, 1:1 with the C++ API. The typed,
// documented Python API is the pure-Python package around it
// (python/contend/*.py); users never import _native directly.

#include <pybind11/pybind11.h>

#include "python/contend/bindings.h"

PYBIND11_MODULE(_native, m) {
  m.doc() = "contend native bindings (use the `contend` package instead)";
  contend::python::bind_sync(m);
  contend::python::bind_profile(m);
  contend::python::bind_lab(m);
  contend::python::bind_shard_counter(m);
  contend::python::bind_resource_pool(m);
  contend::python::bind_chan(m);
  contend::python::bind_snapshot(m);
  contend::python::bind_keyed_mutex(m);
}
