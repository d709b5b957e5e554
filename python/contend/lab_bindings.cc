// Copyright 2026 The contend Authors.
//
// contend._native.lab: the lab engine (bench/lab/engine.h), 1:1. The typed
// layer is the package python/contend/lab/ (model.py, runner.py).

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <atomic>
#include <chrono>
#include <string>

#include "bench/lab/engine.h"
#include "bench/lab/harness.h"
#include "bench/lab/json.h"
#include "python/contend/bindings.h"

namespace contend::python {
namespace {

namespace lab = ::contend::lab;

// lab::run with the GIL released (blocking.h): off the main thread, on this
// thread, as one call; on the main thread, on a helper thread while this one
// waits in slices, where Ctrl-C cancels the run (RunControl::cancel; the
// harness stops within ~10 ms) and the KeyboardInterrupt propagates.
lab::Result run_interruptibly(const lab::Workload& w) {
  std::atomic<bool> cancel{false};
  lab::RunControl ctl;
  ctl.cancel = &cancel;
  auto run = [&] { return lab::run(w, ctl); };
  absl::StatusOr<lab::Result> r =
      on_main_thread()
          ? run_on_helper<absl::StatusOr<lab::Result>>(
                std::nullopt, run,
                // Release: pairs with the acquire loads in the harness
                // (RunControl).
                [&] { cancel.store(true, std::memory_order_release); },
                [](const absl::StatusOr<lab::Result>&) {})
          : without_gil(run);
  if (!r.ok()) {
    if (r.status().code() == absl::StatusCode::kInvalidArgument) {
      throw py::value_error(std::string(r.status().message()));
    }
    if (r.status().code() == absl::StatusCode::kNotFound) {
      throw py::key_error(std::string(r.status().message()));
    }
    throw std::runtime_error(std::string(r.status().message()));
  }
  return *std::move(r);
}

}  // namespace

void bind_lab(py::module_& m) {
  py::module_ lab_m = m.def_submodule("lab", "The contention lab engine.");

  py::class_<lab::Workload>(lab_m, "Workload")
      .def(py::init<>())
      .def_readwrite("primitive", &lab::Workload::primitive)
      .def_readwrite("threads", &lab::Workload::threads)
      .def_readwrite("writers", &lab::Workload::writers)
      .def_readwrite("read_share", &lab::Workload::read_share)
      .def_readwrite("critical_ns", &lab::Workload::critical_ns)
      .def_readwrite("outside_ns", &lab::Workload::outside_ns)
      .def_readwrite("duration_ns", &lab::Workload::duration_ns)
      .def_readwrite("ops", &lab::Workload::ops)
      .def_readwrite("keys", &lab::Workload::keys)
      .def_readwrite("seed", &lab::Workload::seed)
      .def_readwrite("latency_sample", &lab::Workload::latency_sample)
      .def_readwrite("capture_profile", &lab::Workload::capture_profile);

  py::class_<lab::LatencySummary>(lab_m, "LatencySummary")
      .def_readonly("count", &lab::LatencySummary::count)
      .def_readonly("mean_ns", &lab::LatencySummary::mean_ns)
      .def_readonly("min_ns", &lab::LatencySummary::min_ns)
      .def_readonly("p50_ns", &lab::LatencySummary::p50_ns)
      .def_readonly("p90_ns", &lab::LatencySummary::p90_ns)
      .def_readonly("p99_ns", &lab::LatencySummary::p99_ns)
      .def_readonly("p999_ns", &lab::LatencySummary::p999_ns)
      .def_readonly("max_ns", &lab::LatencySummary::max_ns);

  py::class_<lab::ThreadResult>(lab_m, "ThreadResult")
      .def_readonly("ops", &lab::ThreadResult::ops)
      .def_readonly("reads", &lab::ThreadResult::reads)
      .def_readonly("writes", &lab::ThreadResult::writes)
      .def_readonly("elapsed_ns", &lab::ThreadResult::elapsed_ns);

  py::class_<lab::Result>(lab_m, "Result")
      .def_readonly("workload", &lab::Result::workload)
      .def_readonly("display_name", &lab::Result::display_name)
      .def_readonly("elapsed_ns", &lab::Result::elapsed_ns)
      .def_readonly("total_ops", &lab::Result::total_ops)
      .def_readonly("reads", &lab::Result::reads)
      .def_readonly("writes", &lab::Result::writes)
      .def_readonly("ops_per_sec", &lab::Result::ops_per_sec)
      .def_readonly("ns_per_op", &lab::Result::ns_per_op)
      .def_readonly("per_thread", &lab::Result::per_thread)
      .def_readonly("fairness", &lab::Result::fairness)
      .def_readonly("latency", &lab::Result::latency)
      .def_readonly("read_latency", &lab::Result::read_latency)
      .def_readonly("write_latency", &lab::Result::write_latency)
      .def_readonly("exclusion_ok", &lab::Result::exclusion_ok)
      .def_readonly("cancelled", &lab::Result::cancelled)
      .def_readonly("busy_iterations_per_ns",
                    &lab::Result::busy_iterations_per_ns)
      .def_property_readonly(
          "mutex_profile",
          [](const lab::Result& r) { return py::bytes(r.mutex_profile); })
      .def_property_readonly(
          "block_profile",
          [](const lab::Result& r) { return py::bytes(r.block_profile); })
      .def("to_json", [](const lab::Result& r) { return lab::to_json(r); });

  py::class_<lab::Primitive>(lab_m, "Primitive")
      .def_readonly("name", &lab::Primitive::name)
      .def_readonly("display_name", &lab::Primitive::display_name)
      .def_readonly("description", &lab::Primitive::description)
      .def_readonly("has_shared_mode", &lab::Primitive::has_shared_mode);

  lab_m.def("run", &run_interruptibly, py::arg("workload"),
            "Runs one workload (blocks without the GIL; Ctrl-C cancels).");
  lab_m.def("primitives", &lab::primitives,
            "Every registered primitive, sorted by name.");
  lab_m.def("profile_capture_available", &lab::profile_capture_available);
  lab_m.def(
      "busy_calibration",
      [] {
        const double steps = ::contend::bench::busy_calibration().steps_per_ns;
        return py::make_tuple(steps, lab::harness_detail::timestamp_cost_ns());
      },
      "(busy-work chain steps per ns, ns per latency timestamp)");
}

}  // namespace contend::python
