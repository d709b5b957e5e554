// Copyright 2026 The contend Authors.
//
// contend._native.Snapshot: contend::Snapshot<PyRef> holding any Python
// object. Bindings only, 1:1 with the C++ methods (update takes a function
// old -> new, since Python values are replaced rather than mutated).
//
// Releasing Python objects. A replaced value is freed by a hazard-pointer
// scan (sync/internal/hazard_pointer.h), which can run on any thread that
// retires: a Python thread inside store() (GIL held, but in the middle of a
// scan, where a __del__ that calls back into a Snapshot would re-enter the
// scan), or a thread that adopted the retired list of an exited thread (no
// GIL at all, perhaps no Python thread state). So ~PyRef never touches
// Python: it pushes the PyObject* onto a process-wide pending list (a
// std::mutex and a vector; no Python API, safe without the GIL and after
// finalization). Every Snapshot method drains the list with the GIL held
// after its C++ call returns, outside any scan, and so does
// _drain_released(). At interpreter exit what is still pending is leaked,
// never decref'd without a live interpreter. Limits: a value that refers
// back to its Snapshot forms a cycle the garbage collector cannot see (the
// type has no tp_traverse).

#include <pybind11/pybind11.h>

#include <cstddef>
#include <mutex>
#include <utility>
#include <vector>

#include "python/contend/bindings.h"
#include "sync/snapshot.h"

namespace contend::python {
namespace {

namespace py = pybind11;

// PyObject* waiting for a Py_DECREF under the GIL. Never destroyed: ~PyRef
// may run during static destruction, after any static here would be gone.
struct Released {
  std::mutex mu;
  std::vector<PyObject*> objects;
};
Released& released() {
  static Released* r = new Released;
  return *r;
}

// One strong reference to a Python object, releasable without the GIL.
class PyRef {
 public:
  // Requires: the GIL (takes a new reference).
  explicit PyRef(py::handle h) : obj_(h.inc_ref().ptr()) {}
  // Copies run only in Snapshot::update, under the GIL (see bind_snapshot).
  PyRef(const PyRef& other) : obj_(other.obj_) { Py_XINCREF(obj_); }
  PyRef& operator=(const PyRef&) = delete;
  ~PyRef() { release(obj_); }
  PyObject* get() const { return obj_; }
  // Requires: the GIL. Now refers to h.
  void reset(py::handle h) {
    PyObject* old = std::exchange(obj_, h.inc_ref().ptr());
    release(old);
  }

 private:
  static void release(PyObject* o) {
    if (o == nullptr) return;
    Released& r = released();
    std::lock_guard<std::mutex> lock(r.mu);
    r.objects.push_back(o);
  }
  PyObject* obj_;
};

// Drops the pending references. Requires: the GIL, and not inside a hazard
// scan (a decref may run arbitrary Python code, including a Snapshot call).
std::size_t drain_released() {
  std::vector<PyObject*> batch;
  {
    Released& r = released();
    std::lock_guard<std::mutex> lock(r.mu);
    batch.swap(r.objects);
  }
  for (PyObject* o : batch) Py_DECREF(o);
  return batch.size();
}

using PySnapshot = Snapshot<PyRef>;

// Runs f, then drains; the drain also runs when f raises.
template <class F>
auto then_drain(F f) {
  struct Drain {
    ~Drain() { drain_released(); }
  } drain;
  return f();
}

}  // namespace

void bind_snapshot(py::module_& m) {
  // Nothing here blocks, so no call releases the GIL: every C++ call below
  // (and every PyRef copy or construction in it) runs with the GIL held.
  py::class_<PySnapshot>(m, "Snapshot")
      .def(py::init([](py::object v) { return new PySnapshot(PyRef(v)); }),
           py::arg("value"))
      .def("load",
           [](const PySnapshot& s) {
             auto g = s.load();
             return py::reinterpret_borrow<py::object>(g->get());
           })
      .def(
          "store",
          [](PySnapshot& s, py::object v) {
            then_drain([&] { s.store(PyRef(v)); });
          },
          py::arg("value"))
      .def(
          "compare_and_swap",
          [](PySnapshot& s, py::object expected, py::object desired) {
            return then_drain([&] {
              auto g = s.load();
              if (g->get() != expected.ptr()) return false;
              // g pins the current node: no ABA between the check and the CAS.
              return s.compare_and_swap(g.get(), PyRef(desired));
            });
          },
          py::arg("expected"), py::arg("desired"))
      .def(
          "update",
          [](PySnapshot& s, py::function f) {
            then_drain([&] {
              s.update([&](PyRef& r) {
                r.reset(f(py::reinterpret_borrow<py::object>(r.get())));
              });
            });
          },
          py::arg("f"));
  m.def("_drain_released", &drain_released,
        "Drops the references of replaced Snapshot values (returns how many).");
}

}  // namespace contend::python
