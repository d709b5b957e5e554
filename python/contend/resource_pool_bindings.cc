// Copyright 2026 The contend Authors.
//
// contend._native: ResourcePool of Python objects (pool/resource_pool.h).
// Bindings only; the typed API is python/contend/_pool.py.
//
// The pool's callbacks (the factory, health_check, the destroy hook and the
// references it holds) are Python, but the pool calls them from its own
// creator threads as well as from the threads that acquire and release. So:
//  - every callback takes the GIL itself (PyGILState_Ensure: re-entrant on a
//    thread that holds it, a temporary thread state on a creator thread) and
//    never lets a Python exception escape into the pool (the factory's
//    becomes an error Status, a raising health_check means "unhealthy", a
//    raising destroy hook is reported as unraisable);
//  - the pool never holds its lock while it runs a callback (its contract:
//    create, health_check and destructors run outside the lock), so a thread
//    that holds the GIL may take the pool's lock (release, stats) without a
//    lock-order inversion; calls that wait (acquire, close) release the GIL
//    through blocking.h, one native wait per call off the main thread;
//  - once the interpreter is finalizing, no callback touches Python (a
//    creation fails with "the interpreter is exiting", references are
//    leaked): a creator thread must not block on, or be ended by, a GIL that
//    is going away. The pool itself is then leaked too (its creator threads
//    are never joined; the process is exiting).

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <chrono>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "pool/resource_pool.h"
#include "python/contend/bindings.h"

namespace contend::python {
namespace {

namespace py = pybind11;

// Takes the GIL for its scope, from any thread; `ok()` is false (and nothing
// was taken) once the interpreter is finalizing.
class WithGil {
 public:
  WithGil() : ok_(!interpreter_finalizing()) {
    if (ok_) state_ = PyGILState_Ensure();
  }
  ~WithGil() {
    if (ok_) PyGILState_Release(state_);
  }
  WithGil(const WithGil&) = delete;
  WithGil& operator=(const WithGil&) = delete;
  bool ok() const { return ok_; }

 private:
  bool ok_;
  PyGILState_STATE state_{};
};

struct Callbacks;

// A strong reference to a pooled Python object. Destroying it (the pool does
// so on any thread, without the GIL) runs the destroy hook and drops the
// reference with the GIL taken.
class PyRef {
 public:
  PyRef(PyObject* obj, const Callbacks* cb) noexcept : obj_(obj), cb_(cb) {}
  PyRef(PyRef&& o) noexcept
      : obj_(std::exchange(o.obj_, nullptr)), cb_(o.cb_) {}
  PyRef& operator=(PyRef&& o) noexcept {
    if (this != &o) {
      drop();
      obj_ = std::exchange(o.obj_, nullptr);
      cb_ = o.cb_;
    }
    return *this;
  }
  ~PyRef() { drop(); }

  PyObject* get() const noexcept { return obj_; }
  PyObject* take() noexcept { return std::exchange(obj_, nullptr); }

 private:
  void drop() noexcept;
  PyObject* obj_;
  const Callbacks* cb_;
};

// The Python side of one pool. Touched only with the GIL held.
struct Callbacks {
  py::object factory;
  py::object health_check;  // None: no check
  py::object destroy;       // None: no hook
};

void PyRef::drop() noexcept {
  if (obj_ == nullptr) return;
  WithGil gil;
  if (!gil.ok()) return;  // finalizing: leak it
  PyObject* obj = std::exchange(obj_, nullptr);
  if (!cb_->destroy.is_none()) {
    PyObject* r = PyObject_CallOneArg(cb_->destroy.ptr(), obj);
    if (r == nullptr) {
      PyErr_WriteUnraisable(cb_->destroy.ptr());
    } else {
      Py_DECREF(r);
    }
  }
  Py_DECREF(obj);
}

using Pool = ResourcePool<PyRef>;

// Owned by the Python pool object and by every Python lease (so the pool
// outlives its leases). Deleted by StateDeleter.
struct State {
  Callbacks cb;
  std::optional<Pool> pool;
};

// Runs where the last Python owner goes away, i.e. with the GIL held.
struct StateDeleter {
  void operator()(State* s) const {
    if (interpreter_finalizing()) return;  // leak: see the file comment
    // close() waits for running creations (which take the GIL) and joins the
    // creator threads: without the GIL.
    without_gil([&] { s->pool.reset(); });
    delete s;  // the callables, with the GIL
  }
};

// A Python lease: the pool's Lease plus a reference to the pool's state.
struct PyLease {
  std::shared_ptr<State> state;
  Pool::Lease lease;

  Pool::Lease& checked(const char* method) {
    if (!lease) {
      throw py::value_error(std::string("contend: ResourcePool.Lease.") +
                            method + ": the lease was released");
    }
    return lease;
  }
};

std::string what_of(py::error_already_set& e) {
  // Called with the GIL held (inside WithGil).
  return e.what();
}

std::shared_ptr<State> make_state(py::object factory, py::object health_check,
                                  py::object destroy, bool check_on_release,
                                  int max_open, int max_idle, int min_idle,
                                  double max_lifetime, double max_idle_time,
                                  double create_timeout,
                                  int max_concurrent_creates,
                                  double create_retry_backoff,
                                  double housekeeping_interval) {
  auto secs = [](double s) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::duration<double>(s));
  };
  if (max_open < 1 || min_idle < 0 || max_concurrent_creates < 1 ||
      (max_idle >= 0 && (min_idle > max_idle || max_idle > max_open)) ||
      min_idle > max_open || max_lifetime < 0 || max_idle_time < 0 ||
      create_timeout < 0 || create_retry_backoff < 0 ||
      housekeeping_interval <= 0) {
    // The C++ constructor aborts on bad Options; Python gets an exception.
    throw py::value_error(
        "contend: ResourcePool: requires max_open >= 1, 0 <= min_idle <= "
        "max_idle <= max_open, max_concurrent_creates >= 1, durations >= 0 "
        "and housekeeping_interval > 0");
  }
  std::shared_ptr<State> st(new State, StateDeleter());
  st->cb.factory = std::move(factory);
  st->cb.health_check = std::move(health_check);
  st->cb.destroy = std::move(destroy);
  const Callbacks* cb = &st->cb;
  Pool::Options o;
  o.create = [cb](Pool::Clock::time_point) -> absl::StatusOr<PyRef> {
    WithGil gil;
    if (!gil.ok()) {
      return absl::UnavailableError("ResourcePool: the interpreter is exiting");
    }
    try {
      py::object obj = cb->factory();
      return PyRef(obj.release().ptr(), cb);
    } catch (py::error_already_set& e) {
      return absl::UnavailableError("the factory raised " + what_of(e));
    } catch (std::exception& e) {
      return absl::UnavailableError(std::string("the factory raised ") +
                                    e.what());
    }
  };
  if (!st->cb.health_check.is_none()) {
    o.health_check = [cb](PyRef& r) -> bool {
      WithGil gil;
      if (!gil.ok()) return false;
      PyObject* res = PyObject_CallOneArg(cb->health_check.ptr(), r.get());
      if (res == nullptr) {
        PyErr_WriteUnraisable(cb->health_check.ptr());
        return false;
      }
      const int truth = PyObject_IsTrue(res);
      Py_DECREF(res);
      if (truth < 0) {
        PyErr_WriteUnraisable(cb->health_check.ptr());
        return false;
      }
      return truth == 1;
    };
  }
  o.check_on_release = check_on_release;
  o.max_open = max_open;
  o.max_idle = max_idle;
  o.min_idle = min_idle;
  o.max_lifetime = secs(max_lifetime);
  o.max_idle_time = secs(max_idle_time);
  o.create_timeout = secs(create_timeout);
  o.max_concurrent_creates = max_concurrent_creates;
  o.create_retry_backoff = secs(create_retry_backoff);
  o.housekeeping_interval = secs(housekeeping_interval);
  o.label = "python ResourcePool";
  // The constructor may start a creator (min_idle), which takes the GIL.
  without_gil([&] { st->pool.emplace(std::move(o)); });
  return st;
}

// acquire's outcome: a lease, or (status name, message) for the Python layer
// to raise.
py::object acquire(const std::shared_ptr<State>& st,
                   std::optional<double> timeout_s) {
  Pool& pool = *st->pool;
  std::optional<absl::StatusOr<Pool::Lease>> got;
  const auto deadline = deadline_after(timeout_s);
  if (timeout_s.has_value() && *timeout_s <= 0) {
    got.emplace(without_gil(
        [&] { return pool.acquire_until(std::chrono::steady_clock::now()); }));
  } else if (!on_main_thread()) {
    // One native wait, the GIL released (blocking.h's rule).
    got.emplace(without_gil([&] {
      return deadline.has_value() ? pool.acquire_until(*deadline)
                                  : pool.acquire();
    }));
  } else {
    // The main thread: the wait runs on a helper (queued, FIFO place kept)
    // while this thread runs signal handlers every kWaitSlice; Ctrl-C stops
    // the helper's acquire (a grant that raced it is given back). The pool
    // enforces the deadline itself, so run_on_helper gets none.
    std::stop_source stop;
    (void)run_on_helper<bool>(
        std::nullopt,
        [&] {
          got.emplace(deadline.has_value()
                          ? pool.acquire_until(*deadline, stop.get_token())
                          : pool.acquire(stop.get_token()));
          return true;
        },
        [&] { stop.request_stop(); },
        [&](bool) {
          if (got->ok()) (*got)->release();
        });
  }
  if (got->ok()) {
    auto lease = std::make_unique<PyLease>();
    lease->state = st;
    lease->lease = std::move(**got);
    return py::cast(std::move(lease));
  }
  const absl::Status& s = got->status();
  return py::make_tuple(std::string(absl::StatusCodeToString(s.code())),
                        std::string(s.message()));
}

py::dict stats_of(const Pool& pool) {
  const ResourcePoolStats s = pool.stats();
  py::dict d;
  d["max_open"] = s.max_open;
  d["open"] = s.open;
  d["in_use"] = s.in_use;
  d["idle"] = s.idle;
  d["creating"] = s.creating;
  d["waiters"] = s.waiters;
  d["wait_count"] = s.wait_count;
  d["wait_duration"] = std::chrono::duration<double>(s.wait_duration).count();
  d["closed_max_idle"] = s.closed_max_idle;
  d["closed_max_idle_time"] = s.closed_max_idle_time;
  d["closed_max_lifetime"] = s.closed_max_lifetime;
  d["closed_broken"] = s.closed_broken;
  d["creates"] = s.creates;
  d["create_failures"] = s.create_failures;
  d["acquire_timeouts"] = s.acquire_timeouts;
  d["canceled_acquires"] = s.canceled_acquires;
  return d;
}

}  // namespace

void bind_resource_pool(py::module_& m) {
  py::class_<PyLease>(m, "ResourcePoolLease")
      .def("get",
           [](PyLease& l) {
             return py::reinterpret_borrow<py::object>(
                 l.checked("value")->get());
           })
      .def("active",
           [](const PyLease& l) { return static_cast<bool>(l.lease); })
      .def("mark_broken",
           [](PyLease& l) { l.checked("mark_broken").mark_broken(); })
      .def(
          "release", [](PyLease& l) { l.lease.release(); }, kProfiled)
      .def(
          "hijack",
          [](PyLease& l) {
            PyRef r = l.checked("hijack").hijack();
            return py::reinterpret_steal<py::object>(r.take());
          },
          kProfiled);
  py::class_<State, std::shared_ptr<State>>(m, "ResourcePool")
      .def(py::init(&make_state), py::arg("factory"), py::arg("health_check"),
           py::arg("destroy"), py::arg("check_on_release"), py::arg("max_open"),
           py::arg("max_idle"), py::arg("min_idle"), py::arg("max_lifetime"),
           py::arg("max_idle_time"), py::arg("create_timeout"),
           py::arg("max_concurrent_creates"), py::arg("create_retry_backoff"),
           py::arg("housekeeping_interval"))
      .def(
          "acquire",
          [](const std::shared_ptr<State>& st, std::optional<double> timeout) {
            return acquire(st, timeout);
          },
          py::arg("timeout") = py::none(), kProfiled)
      .def(
          "fill",
          [](State& st, int n) {
            const absl::Status s =
                without_gil([&] { return st.pool->fill(n); });
            if (!s.ok()) throw std::runtime_error(std::string(s.message()));
          },
          kProfiled)
      .def("stats", [](const State& st) { return stats_of(*st.pool); })
      .def(
          "close", [](State& st) { without_gil([&] { st.pool->close(); }); },
          kProfiled)
      .def("_parked", [](State& st) {
        return static_cast<int>(st.pool->stats().waiters);
      });
}

}  // namespace contend::python
