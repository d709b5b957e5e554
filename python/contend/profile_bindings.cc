// Copyright 2026 The contend Authors.
//
// contend._native.profile: the contention profiler (profile/profile.h), 1:1.
// Writers return bytes/str instead of taking a std::ostream.

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <sstream>
#include <string>

#include "profile/profile.h"
#include "python/contend/bindings.h"

namespace contend::python {

void bind_profile(py::module_& m) {
  namespace prof = ::contend::profile;
  using py::arg;
  py::module_ p = m.def_submodule("profile", "The contention profiler.");

  p.def("set_mutex_profile_fraction", &prof::set_mutex_profile_fraction,
        arg("n"));
  p.def("set_block_profile_rate", &prof::set_block_profile_rate,
        arg("rate_ns"));
  p.def(
      "write_mutex_profile",
      [](int debug) {
        std::ostringstream out;
        {
          py::gil_scoped_release nogil;  // symbolization may take a while
          prof::write_mutex_profile(out, debug);
        }
        return py::bytes(std::move(out).str());
      },
      arg("debug") = 0);
  p.def(
      "write_block_profile",
      [](int debug) {
        std::ostringstream out;
        {
          py::gil_scoped_release nogil;
          prof::write_block_profile(out, debug);
        }
        return py::bytes(std::move(out).str());
      },
      arg("debug") = 0);
  p.def("write_text_report", [] {
    std::ostringstream out;
    {
      py::gil_scoped_release nogil;
      prof::write_text_report(out);
    }
    return std::move(out).str();
  });
  p.def("reset", &prof::reset);
  p.def(
      "start_timeline",
      [](size_t events_per_thread, size_t max_threads) {
        prof::TimelineOptions o;
        o.events_per_thread = events_per_thread;
        o.max_threads = max_threads;
        prof::start_timeline(o);
      },
      arg("events_per_thread") = prof::TimelineOptions{}.events_per_thread,
      arg("max_threads") = prof::TimelineOptions{}.max_threads);
  p.def("stop_timeline", &prof::stop_timeline);
  p.def("write_timeline_json", [] {
    std::ostringstream out;
    {
      py::gil_scoped_release nogil;
      prof::write_timeline_json(out);
    }
    return std::move(out).str();
  });

  py::class_<prof::Site>(p, "Site")
      .def_readonly("function", &prof::Site::function)
      .def_readonly("label", &prof::Site::label)
      .def_readonly("stack", &prof::Site::stack)
      .def_readonly("contentions", &prof::Site::contentions)
      .def_readonly("delay_ns", &prof::Site::delay_ns)
      .def_readonly("delay_per_second_ns", &prof::Site::delay_per_second_ns)
      .def_readonly("serialized_fraction", &prof::Site::serialized_fraction)
      .def_readonly("amdahl_ceiling", &prof::Site::amdahl_ceiling);
  py::class_<prof::ProfileAnalysis>(p, "ProfileAnalysis")
      .def_readonly("enabled", &prof::ProfileAnalysis::enabled)
      .def_readonly("wall_seconds", &prof::ProfileAnalysis::wall_seconds)
      .def_readonly("contentions", &prof::ProfileAnalysis::contentions)
      .def_readonly("delay_ns", &prof::ProfileAnalysis::delay_ns)
      .def_readonly("delay_per_second_ns",
                    &prof::ProfileAnalysis::delay_per_second_ns)
      .def_readonly("serialized_fraction",
                    &prof::ProfileAnalysis::serialized_fraction)
      .def_readonly("amdahl_ceiling", &prof::ProfileAnalysis::amdahl_ceiling)
      .def_readonly("overflow_contentions",
                    &prof::ProfileAnalysis::overflow_contentions)
      .def_readonly("sites", &prof::ProfileAnalysis::sites);
  py::class_<prof::Analysis>(p, "Analysis")
      .def_readonly("mutex", &prof::Analysis::mutex)
      .def_readonly("block", &prof::Analysis::block);
  p.def(
      "analyze",
      [](size_t top) {
        prof::AnalyzeOptions o;
        o.top = top;
        py::gil_scoped_release nogil;
        return prof::analyze(o);
      },
      arg("top") = prof::AnalyzeOptions{}.top);
  bind_debug_server(p);
}

}  // namespace contend::python
