// Copyright 2026 The contend Authors.
//
// contend._native: Mutex, RWMutex, Cond, Event, WaitGroup, Semaphore, Once.
//
// Bindings only, 1:1 with the C++ methods, with two additions that Python
// needs and C++ does not:
//  1. Every blocking call waits with the GIL released, in slices, and raises
//     KeyboardInterrupt (or whatever a signal handler raises) between slices
//     (blocking.h). Untimed C++ waits are bound as sliced timed waits.
//  2. C++ terminates the process on the always-checked misuses (unlock of an
//     unlocked Mutex, negative WaitGroup counter, ...). Killing the
//     interpreter is not an acceptable answer to a Python bug, so each box
//     below keeps a little GIL-protected bookkeeping (who holds what) and
//     raises RuntimeError/ValueError *before* calling into C++ when the call
//     would be such a misuse. The bookkeeping is exact because every Python
//     call reaches the primitive through these bindings with the GIL held;
//     it is updated after a blocking acquire has re-taken the GIL.

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stop_token>
#include <string>
#include <thread>

#include "python/contend/bindings.h"
#include "sync/cond.h"
#include "sync/event.h"
#include "sync/mutex.h"
#include "sync/once.h"
#include "sync/rw_mutex.h"
#include "sync/semaphore.h"
#include "sync/wait_group.h"

namespace contend::python {
namespace {

using std::chrono::nanoseconds;

// Labels must have static storage duration (Mutex(const char*)): keep one
// copy of each distinct label for the life of the process.
const char* intern_label(const std::string& label) {
  static std::mutex mu;
  static std::set<std::string>* labels = new std::set<std::string>();
  std::lock_guard<std::mutex> guard(mu);
  return labels->insert(label).first->c_str();
}

[[noreturn]] void misuse(const std::string& what) {
  throw std::runtime_error("contend: " + what);
}

// ---------------------------------------------------------------- Mutex
struct PyMutex {
  explicit PyMutex(std::optional<std::string> label)
      : mu(label.has_value() ? new Mutex(intern_label(*label)) : new Mutex()) {}
  PyMutex(const PyMutex&) = delete;
  PyMutex& operator=(const PyMutex&) = delete;
  // Python may drop a Mutex that is still locked (threading.Lock allows it);
  // C++ forbids destroying a locked Mutex, so release it first. No thread
  // can be blocked on it: a blocked lock() holds a reference to this object.
  ~PyMutex() {
    if (locked) mu->unlock();
  }
  std::unique_ptr<Mutex> mu;
  bool locked = false;  // GIL-guarded

  bool acquire(std::optional<double> seconds) {
    return acquire_interruptibly(
        seconds, [&](nanoseconds d) { return mu->try_lock_for(d); },
        [&](std::stop_token st) { return mu->lock(st); },
        [&] { mu->unlock(); });
  }
  void lock() {
    if (!mu->try_lock()) acquire(std::nullopt);
    locked = true;
  }
  bool try_lock() {
    if (!mu->try_lock()) return false;
    locked = true;
    return true;
  }
  bool try_lock_for(double seconds) {
    if (!mu->try_lock() && !acquire(seconds)) return false;
    locked = true;
    return true;
  }
  void unlock() {
    if (!locked) misuse("Mutex.unlock: the Mutex is not locked");
    locked = false;
    mu->unlock();
  }
};

// ---------------------------------------------------------------- RWMutex
struct PyRWMutex {
  PyRWMutex() = default;
  PyRWMutex(const PyRWMutex&) = delete;
  PyRWMutex& operator=(const PyRWMutex&) = delete;
  ~PyRWMutex() {  // see ~PyMutex
    if (writer.has_value()) mu.unlock();
    for (auto& [tid, n] : readers) {
      for (; n > 0; --n) mu.unlock_shared();
    }
  }
  RWMutex mu;
  // GIL-guarded: who holds the lock. C++ requires unlock()/unlock_shared()
  // on the thread that acquired (rw_mutex.h, Requires), so the bindings
  // enforce it with RuntimeError. A blocking read lock by a thread that
  // already holds one is the "RLock recursion" deadlock (*sync — Senior*:
  // it hangs as soon as a writer queues between the two); C++ catches it
  // only in debug builds and only when a writer is queued, so the bindings
  // refuse it always, like the upgrade (lock() while reading).
  //
  // Waits longer than 1 ms acquire on a helper thread (blocking.h) that then
  // exits; the lock word has no owner, and the debug-build read tracking of
  // the helper dies with it, so the caller's release is well-formed.
  std::optional<std::thread::id> writer;
  std::map<std::thread::id, int64_t> readers;

  static std::thread::id me() { return std::this_thread::get_id(); }
  bool reading() const {
    auto it = readers.find(me());
    return it != readers.end() && it->second > 0;
  }
  void check_not_reading(const char* method) const {
    if (reading()) {
      misuse(std::string("RWMutex.") + method +
             ": this thread already holds the read lock (RLock recursion / "
             "upgrade deadlock, seed section 4)");
    }
  }
  bool acquire(std::optional<double> seconds) {
    return acquire_interruptibly(
        seconds, [&](nanoseconds d) { return mu.try_lock_for(d); },
        [&](std::stop_token st) { return mu.lock(st); }, [&] { mu.unlock(); });
  }
  bool acquire_shared(std::optional<double> seconds) {
    return acquire_interruptibly(
        seconds, [&](nanoseconds d) { return mu.try_lock_shared_for(d); },
        [&](std::stop_token st) { return mu.lock_shared(st); },
        [&] { mu.unlock_shared(); });
  }

  void lock() {
    check_not_reading("lock");
    if (!mu.try_lock()) acquire(std::nullopt);
    writer = me();
  }
  bool try_lock() {
    if (!mu.try_lock()) return false;
    writer = me();
    return true;
  }
  bool try_lock_for(double seconds) {
    check_not_reading("try_lock_for");
    if (!mu.try_lock() && !acquire(seconds)) return false;
    writer = me();
    return true;
  }
  void unlock() {
    if (!writer.has_value()) misuse("RWMutex.unlock: not write-locked");
    if (*writer != me()) {
      misuse("RWMutex.unlock: write-locked by another thread");
    }
    writer.reset();
    mu.unlock();
  }
  void lock_shared() {
    check_not_reading("lock_shared");
    if (!mu.try_lock_shared()) acquire_shared(std::nullopt);
    ++readers[me()];
  }
  bool try_lock_shared() {
    if (!mu.try_lock_shared()) return false;
    ++readers[me()];
    return true;
  }
  bool try_lock_shared_for(double seconds) {
    check_not_reading("try_lock_shared_for");
    if (!mu.try_lock_shared() && !acquire_shared(seconds)) return false;
    ++readers[me()];
    return true;
  }
  void unlock_shared() {
    auto it = readers.find(me());
    if (it == readers.end()) {
      misuse(readers.empty()
                 ? "RWMutex.unlock_shared: not read-locked"
                 : "RWMutex.unlock_shared: not read-locked by this thread");
    }
    if (--it->second == 0) readers.erase(it);
    mu.unlock_shared();
  }
  int64_t reader_count() const {
    int64_t n = 0;
    for (const auto& [tid, k] : readers) n += k;
    return n;
  }
};

// ---------------------------------------------------------------- Cond
struct PyCond {
  Cond cond;
  PyMutex* waiters_mutex = nullptr;  // GIL-guarded: the Mutex of the waiters
  int64_t waiters = 0;               // GIL-guarded

  // One slice of Cond::wait_for: releases mu, waits for a signal for at most
  // min(seconds, 50 ms), re-acquires mu. Returns true if a signal released
  // it. Returning after a slice without a signal is a spurious wakeup for the
  // caller; it cannot loop here, because a signal sent while this thread was
  // re-acquiring mu would be lost. Raises KeyboardInterrupt (with mu held)
  // if a signal handler raised.
  bool wait_for(PyMutex& m, double seconds) {
    if (!m.locked) misuse("Cond.wait: Mutex not held by the caller");
    if (waiters > 0 && waiters_mutex != &m) {
      misuse("Cond.wait: two different Mutexes used with one Cond");
    }
    const auto slice = std::min<nanoseconds>(
        kWaitSlice,
        std::chrono::duration_cast<nanoseconds>(
            std::chrono::duration<double>(std::clamp(seconds, 0.0, 1.0))));
    waiters_mutex = &m;
    ++waiters;
    m.locked = false;
    bool signalled;
    {
      py::gil_scoped_release nogil;
      signalled = cond.wait_for(*m.mu, slice) == std::cv_status::no_timeout;
    }
    m.locked = true;
    if (--waiters == 0) waiters_mutex = nullptr;
    if (PyErr_CheckSignals() != 0) throw py::error_already_set();
    return signalled;
  }
};

// ---------------------------------------------------------------- WaitGroup
struct PyWaitGroup {
  WaitGroup wg;
  int64_t counter = 0;  // GIL-guarded mirror of the C++ counter
  int64_t waiters = 0;  // GIL-guarded: threads inside wait()/wait_for()

  void add(int32_t delta) {
    if (counter + delta < 0) misuse("WaitGroup.add: negative counter");
    if (counter + delta > INT32_MAX) misuse("WaitGroup.add: counter overflow");
    if (delta > 0 && counter == 0 && waiters > 0) {
      misuse("WaitGroup.add: reused before previous wait() has returned");
    }
    counter += delta;
    wg.add(delta);
  }
  void done() {
    if (counter == 0) misuse("WaitGroup.done: negative counter");
    --counter;
    wg.done();
  }
  bool wait_for(std::optional<double> seconds) {
    ++waiters;
    bool ok;
    try {
      ok = wait_interruptibly(seconds,
                              [&](nanoseconds d) { return wg.wait_for(d); });
    } catch (...) {
      --waiters;
      throw;
    }
    --waiters;
    return ok;
  }
};

// ---------------------------------------------------------------- Semaphore
struct PySemaphore {
  explicit PySemaphore(int64_t capacity) : sem(check_capacity(capacity)) {}
  static int64_t check_capacity(int64_t capacity) {
    if (capacity < 0 || capacity > Semaphore::kMaxCapacity) {
      throw py::value_error("contend: Semaphore: capacity out of range");
    }
    return capacity;
  }
  Semaphore sem;

  void check(int64_t n, const char* method) const {
    if (n < 0) {
      throw py::value_error(std::string("contend: Semaphore.") + method +
                            ": negative n");
    }
    if (n > sem.capacity()) {
      throw py::value_error(std::string("contend: Semaphore.") + method +
                            ": n exceeds capacity");
    }
  }
  bool acquire_for(int64_t n, std::optional<double> seconds) {
    check(n, "acquire");
    if (sem.try_acquire(n)) return true;
    return acquire_interruptibly(
        seconds, [&](nanoseconds d) { return sem.try_acquire_for(n, d); },
        [&](std::stop_token st) { return sem.acquire(n, st); },
        [&] { sem.release(n); });
  }
  bool try_acquire(int64_t n) {
    check(n, "try_acquire");
    return sem.try_acquire(n);
  }
  void release(int64_t n) {
    check(n, "release");
    // Sound pre-check: with the GIL held, only acquisitions (which lower
    // available()) can run concurrently, so a passing check stays true.
    if (sem.available() + n > sem.capacity()) {
      misuse("Semaphore.release: released more than held");
    }
    sem.release(n);
  }
};

// ---------------------------------------------------------------- Once
struct PyOnce {
  Once once;
  std::optional<std::thread::id> runner;  // GIL-guarded: thread running f

  void call(py::object f) {
    if (runner == std::this_thread::get_id()) {
      misuse("Once.call: recursive call from inside f");
    }
    // Waiters block without the GIL while another thread's f runs; f runs
    // with the GIL re-acquired. An exception from f propagates (the Once
    // stays not-done: the std::call_once rule of sync/once.h).
    py::gil_scoped_release nogil;
    once.call([&] {
      py::gil_scoped_acquire gil;
      runner = std::this_thread::get_id();
      try {
        f();
      } catch (...) {
        runner.reset();
        throw;
      }
      runner.reset();
    });
  }
};

}  // namespace

void bind_sync(py::module_& m) {
  using py::arg;

  py::class_<PyMutex>(m, "Mutex")
      .def(py::init<std::optional<std::string>>(), arg("label") = py::none())
      .def("lock", &PyMutex::lock)
      .def("try_lock", &PyMutex::try_lock)
      .def("try_lock_for", &PyMutex::try_lock_for, arg("seconds"))
      .def("unlock", &PyMutex::unlock)
      .def("locked", [](const PyMutex& p) { return p.locked; });

  py::class_<PyRWMutex>(m, "RWMutex")
      .def(py::init<>())
      .def("lock", &PyRWMutex::lock)
      .def("try_lock", &PyRWMutex::try_lock)
      .def("try_lock_for", &PyRWMutex::try_lock_for, arg("seconds"))
      .def("unlock", &PyRWMutex::unlock)
      .def("lock_shared", &PyRWMutex::lock_shared)
      .def("try_lock_shared", &PyRWMutex::try_lock_shared)
      .def("try_lock_shared_for", &PyRWMutex::try_lock_shared_for,
           arg("seconds"))
      .def("unlock_shared", &PyRWMutex::unlock_shared)
      .def("write_locked",
           [](const PyRWMutex& p) { return p.writer.has_value(); })
      .def("readers", &PyRWMutex::reader_count);

  py::class_<PyCond>(m, "Cond")
      .def(py::init<>())
      .def("wait_for", &PyCond::wait_for, arg("mutex"), arg("seconds"))
      .def("signal", [](PyCond& c) { c.cond.signal(); })
      .def("broadcast", [](PyCond& c) { c.cond.broadcast(); });

  py::class_<Event>(m, "Event")
      .def(py::init<>())
      .def("set", &Event::set)
      .def("is_set", &Event::is_set)
      .def("wait",
           [](Event& e) {
             wait_interruptibly(std::nullopt,
                                [&](nanoseconds d) { return e.wait_for(d); });
           })
      .def(
          "wait_for",
          [](Event& e, double seconds) {
            return wait_interruptibly(
                seconds, [&](nanoseconds d) { return e.wait_for(d); });
          },
          arg("seconds"));

  py::class_<PyWaitGroup>(m, "WaitGroup")
      .def(py::init<>())
      .def("add", &PyWaitGroup::add, arg("delta"))
      .def("done", &PyWaitGroup::done)
      .def("wait", [](PyWaitGroup& w) { w.wait_for(std::nullopt); })
      .def(
          "wait_for",
          [](PyWaitGroup& w, double seconds) { return w.wait_for(seconds); },
          arg("seconds"))
      .def("counter", [](const PyWaitGroup& w) { return w.counter; });

  py::class_<PySemaphore>(m, "Semaphore")
      .def(py::init<int64_t>(), arg("capacity"))
      .def(
          "acquire",
          [](PySemaphore& s, int64_t n) { s.acquire_for(n, std::nullopt); },
          arg("n") = 1)
      .def(
          "try_acquire_for",
          [](PySemaphore& s, int64_t n, double seconds) {
            return s.acquire_for(n, seconds);
          },
          arg("n"), arg("seconds"))
      .def("try_acquire", &PySemaphore::try_acquire, arg("n") = 1)
      .def("release", &PySemaphore::release, arg("n") = 1)
      .def("capacity", [](const PySemaphore& s) { return s.sem.capacity(); })
      .def("available", [](const PySemaphore& s) { return s.sem.available(); });

  py::class_<PyOnce>(m, "Once")
      .def(py::init<>())
      .def("call", &PyOnce::call, arg("f"));
}

}  // namespace contend::python
