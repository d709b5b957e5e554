// Copyright 2026 The contend Authors.
//
// Python frames in the contention profiles (issue 12): a binding that can
// wait or release declares `py::call_guard<ProfiledCall>()`, and every
// sampled mutex/block-profile event of that call gets the calling thread's
// Python stack (up to kMaxPythonFrames frames: qualname, file:line) above
// its native frames, so `go tool pprof -top` names the Python function that
// held or waited.
//
// Why this shape (profile/caller_frames.h has the mechanism):
//  - The profiler's hooks run in the ParkingLot's noexcept paths, while the
//    waiting thread has released the GIL (blocking.h). Reading Python frames
//    there would need the GIL (deadlock-prone inside a wait, and fatal at
//    interpreter exit: CPython ends a thread that re-takes the GIL during
//    finalization) or CPython's private frame structures. So the hooks only
//    defer the call's events into the guard's EventDeferral, and the guard's
//    destructor -- which pybind11 runs when the call returns, with the GIL
//    held -- walks the frames with the public C API.
//  - Cost: with profiling off no observer is installed and nothing is
//    deferred; the guard is two thread-local stores and a compare. With
//    profiling on, only a call whose events were SAMPLED walks its Python
//    frames (sample() decides first).
//  - One wait = one event: the main thread's sliced state waits and the
//    helper-thread acquisitions of blocking.h are one Python call, and the
//    deferral merges consecutive waits on one key into one (first enqueue to
//    last dequeue); run_on_helper forwards the helper's events to the
//    caller's deferral, so they carry the caller's Python stack.
//  - Frames of the contend package itself (the wrappers in _sync.py, ...)
//    are left out: the native leaf (contend::Mutex::unlock) already names
//    the operation, and the frame budget goes to the user's code.

#ifndef CONTEND_PYTHON_CONTEND_PYTHON_FRAMES_H_
#define CONTEND_PYTHON_CONTEND_PYTHON_FRAMES_H_

#include <Python.h>
#include <frameobject.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <cstring>
#include <string>

#include "profile/caller_frames.h"

namespace contend::python {

// Python frames kept per event (innermost first).
inline constexpr int kMaxPythonFrames = 8;

// The directory of the contend package ("/.../contend/"), whose frames are
// left out; "" until known. GIL-guarded.
inline std::string& contend_package_dir() {
  static std::string* dir = new std::string();
  return *dir;
}

// The directory of the file of the already-imported module contend._native;
// "" if it is not imported yet (its frames are then kept). Requires the GIL.
inline const std::string& find_contend_package_dir() {
  std::string& dir = contend_package_dir();
  if (!dir.empty()) return dir;
  PyObject* name = PyUnicode_FromString("contend._native");
  PyObject* module = name != nullptr ? PyImport_GetModule(name) : nullptr;
  Py_XDECREF(name);
  PyObject* file =
      module != nullptr ? PyObject_GetAttrString(module, "__file__") : nullptr;
  const char* path = file != nullptr ? PyUnicode_AsUTF8(file) : nullptr;
  if (path != nullptr) {
    dir = path;
    dir.erase(dir.rfind('/') + 1);
  }
  Py_XDECREF(file);
  Py_XDECREF(module);
  PyErr_Clear();
  return dir;
}

// A qualname as pprof shows it: pprof drops what is between '<' and '>'
// (C++ template arguments) from function names, which would turn
// "<module>" into "" and "f.<locals>.<lambda>" into "f..", so the angle
// brackets become square ones ("[module]", "f.[locals].[lambda]").
inline std::string pprof_safe(const char* qualname) {
  std::string name = qualname;
  for (char& c : name) {
    if (c == '<') c = '[';
    if (c == '>') c = ']';
  }
  return name;
}

// The calling thread's Python frames as synthetic PCs (innermost first,
// contend's own frames left out); returns how many (<= max). Requires the
// GIL. Leaves the thread's error indicator as it found it.
inline int python_frames(uintptr_t* out, int max) {
  PyObject *type = nullptr, *value = nullptr, *traceback = nullptr;
  PyErr_Fetch(&type, &value, &traceback);
  const std::string& skip = find_contend_package_dir();
  int n = 0;
  PyFrameObject* frame = PyEval_GetFrame();  // borrowed
  Py_XINCREF(frame);
  while (frame != nullptr && n < max) {
    PyCodeObject* code = PyFrame_GetCode(frame);  // new reference
    const char* file = PyUnicode_AsUTF8(code->co_filename);
    if (file == nullptr) file = "?";
    if (skip.empty() || std::strncmp(file, skip.c_str(), skip.size()) != 0) {
#if PY_VERSION_HEX >= 0x030B0000
      const char* function = PyUnicode_AsUTF8(code->co_qualname);
#else
      const char* function = PyUnicode_AsUTF8(code->co_name);
#endif
      const uintptr_t pc = internal::intern_caller_frame(
          pprof_safe(function != nullptr ? function : "?"), file,
          PyFrame_GetLineNumber(frame));
      if (pc != 0) out[n++] = pc;
    }
    Py_DECREF(code);
    PyFrameObject* back = PyFrame_GetBack(frame);  // new reference or null
    Py_DECREF(frame);
    frame = back;
  }
  Py_XDECREF(frame);
  PyErr_Clear();
  PyErr_Restore(type, value, traceback);
  return n;
}

// pybind11 call guard (constructed before the bound function runs, destroyed
// after it returned or threw, both with the GIL held): defers the call's
// profile events and records them with the caller's Python frames.
class ProfiledCall {
 public:
  ProfiledCall() = default;
  ProfiledCall(const ProfiledCall&) = delete;
  ProfiledCall& operator=(const ProfiledCall&) = delete;
  ~ProfiledCall() {
    if (!deferral_.sample()) return;
    // Not holding the GIL here means the thread is being ended by CPython
    // (pthread_exit while re-taking the GIL at exit): record native stacks
    // only (EventDeferral's destructor) and touch nothing of Python.
    if (PyGILState_Check() == 0) return;
    uintptr_t frames[kMaxPythonFrames];
    const int n = python_frames(frames, kMaxPythonFrames);
    deferral_.record(frames, n);
  }

 private:
  internal::EventDeferral deferral_;
};

// The guard as a def() extra, for every binding that can wait or release:
// `.def("lock", &PyMutex::lock, kProfiled)`. pybind11 constructs it after
// converting the arguments and destroys it before converting the result,
// both with the GIL held; the binding releases the GIL only inside
// (without_gil), so no other call_guard may release it around the call.
inline constexpr pybind11::call_guard<ProfiledCall> kProfiled{};

}  // namespace contend::python

#endif  // CONTEND_PYTHON_CONTEND_PYTHON_FRAMES_H_
