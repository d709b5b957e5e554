// Copyright 2026 The contend Authors.
//
// contend._native: ShardedCounter and InFlight (shard/sharded_counter.h).
// Bindings only, 1:1 with the C++ methods. Nothing here blocks, so no call
// releases the GIL. An InFlight keeps its counter alive (keep_alive), so
// Python cannot destroy a counter a guard still points at.

#include <pybind11/pybind11.h>

#include <cstdint>

#include "python/contend/bindings.h"
#include "shard/sharded_counter.h"

namespace contend::python {

void bind_shard_counter(pybind11::module_& m) {
  namespace py = pybind11;
  py::class_<ShardedCounter>(m, "ShardedCounter")
      .def(py::init<>())
      .def("add", &ShardedCounter::add, py::arg("n"))
      .def("inc", &ShardedCounter::inc)
      .def("dec", &ShardedCounter::dec)
      .def("load", &ShardedCounter::load)
      .def("take", &ShardedCounter::take)
      .def("slot_count", &ShardedCounter::slot_count)
      .def("track", &ShardedCounter::track,
           py::keep_alive<0, 1>());  // the guard keeps the counter alive
  py::class_<InFlight>(m, "InFlight")
      .def(py::init<>())
      .def("reset", &InFlight::reset)
      .def("active", &InFlight::active);
}

}  // namespace contend::python
