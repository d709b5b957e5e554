// Copyright 2026 The contend Authors.
//
// contend._native.profile.serve_debug: profile/debug_server.h's /debug/pprof
// endpoint from Python, bound when CONTEND_PYTHON_DEBUG_SERVER is 1 (the
// module then links profile/debug_server.cc and cpp-httplib). Bazel always
// sets it; setup.py sets it where pkg-config knows cpp-httplib and sets 0
// otherwise, where serve_debug is absent and contend.profile.serve_debug
// says so.

#include <pybind11/pybind11.h>

#include <memory>
#include <string>
#include <utility>

#include "python/contend/bindings.h"

#if CONTEND_PYTHON_DEBUG_SERVER
#include "profile/debug_server.h"
#endif

namespace contend::python {

void bind_debug_server(py::module_& p) {
#if CONTEND_PYTHON_DEBUG_SERVER
  namespace prof = ::contend::profile;
  py::class_<prof::DebugServer>(p, "DebugServer")
      .def("port", &prof::DebugServer::port)
      // Waits for in-flight requests (which never need the GIL).
      .def("stop",
           [](prof::DebugServer& s) { without_gil([&] { s.stop(); }); });
  p.def(
      "serve_debug",
      [](int port) {
        absl::StatusOr<prof::DebugServer> server = prof::serve_debug(port);
        if (!server.ok()) {
          PyErr_SetString(PyExc_OSError,
                          ("contend: serve_debug: " +
                           std::string(server.status().message()))
                              .c_str());
          throw py::error_already_set();
        }
        return std::make_unique<prof::DebugServer>(*std::move(server));
      },
      py::arg("port"));
#else
  (void)p;
#endif
}

}  // namespace contend::python
