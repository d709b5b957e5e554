// Copyright 2026 The contend Authors.
//
// The parts of contend._native, one bind_* function per area; module.cc
// calls them all.

#ifndef CONTEND_PYTHON_CONTEND_BINDINGS_H_
#define CONTEND_PYTHON_CONTEND_BINDINGS_H_

#include <pybind11/pybind11.h>

#include "python/contend/blocking.h"

namespace contend::python {

void bind_lab(pybind11::module_& m);
void bind_sync(pybind11::module_& m);
void bind_profile(pybind11::module_& m);
void bind_shard_counter(pybind11::module_& m);
void bind_resource_pool(pybind11::module_& m);

}  // namespace contend::python

#endif  // CONTEND_PYTHON_CONTEND_BINDINGS_H_
