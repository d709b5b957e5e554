// Copyright 2026 The contend Authors.
//
// contend._native: Mutex, RWMutex, DistributedRWMutex, Cond, Event,
// WaitGroup, Semaphore, Once.
//
// Bindings only, 1:1 with the C++ methods, with two additions that Python
// needs and C++ does not:
//  1. Every blocking call waits with the GIL released (blocking.h): off the
//     main thread as one native wait (the untimed C++ form for "forever"),
//     on the main thread interruptibly by Ctrl-C (slices or a helper thread).
//     Timeouts are Optional[float] seconds, None for forever.
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
#include "shard/distributed_rw_mutex.h"
#include "sync/cond.h"
#include "sync/event.h"
#include "sync/internal/parking_lot.h"
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
        seconds, [&] { mu->lock(); },
        [&](nanoseconds d) { return mu->try_lock_for(d); },
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
    if (!locked) misuse("Mutex.release: release unlocked lock");
    locked = false;
    mu->unlock();
  }
};

// ------------------------------------------- RWMutex, DistributedRWMutex
// One binding for both reader/writer locks (same API, same Python rules).
// They differ in where a blocked read lock may wait on the main thread:
//  - RWMutex's read hold belongs to no thread (only the debug tracking does),
//    so a long wait acquires on a helper thread, as for Mutex;
//  - DistributedRWMutex's biased read hold lives in the *acquiring thread's*
//    slot, and unlock_shared() looks in the calling thread's slot, so the
//    read lock must be taken on the calling thread: the main thread waits in
//    kWaitSlice slices of try_lock_shared_for (wait_interruptibly). Leaving
//    and re-joining the queue each slice costs a central reader its place
//    behind a writer, which readers (all admitted together) barely have.
template <class M>
struct RWLockTraits;
template <>
struct RWLockTraits<RWMutex> {
  static constexpr const char* kName = "RWMutex";
  static constexpr bool kSharedOnHelper = true;
};
template <>
struct RWLockTraits<DistributedRWMutex> {
  static constexpr const char* kName = "DistributedRWMutex";
  static constexpr bool kSharedOnHelper = false;
};

template <class M>
struct PyRWLock {
  static constexpr const char* kName = RWLockTraits<M>::kName;

  PyRWLock() = default;
  PyRWLock(const PyRWLock&) = delete;
  PyRWLock& operator=(const PyRWLock&) = delete;
  ~PyRWLock() {  // see ~PyMutex
    if constexpr (!RWLockTraits<M>::kSharedOnHelper) {
      // Another thread's read hold can only be released on that thread (its
      // slot): then leak the lock rather than release it wrongly (the
      // object's memory is never reused, so no debug tracking can confuse a
      // later lock with it).
      for (const auto& [tid, n] : readers) {
        if (tid != me()) {
          (void)mu.release();
          return;
        }
      }
    }
    if (writer.has_value()) mu->unlock();
    for (auto& [tid, n] : readers) {
      for (; n > 0; --n) mu->unlock_shared();
    }
  }
  std::unique_ptr<M> mu = std::make_unique<M>();
  // GIL-guarded: who holds the lock. C++ requires unlock()/unlock_shared()
  // on the thread that acquired (rw_mutex.h, Requires), so the bindings
  // enforce it with RuntimeError. A blocking read lock by a thread that
  // already holds one is the "RLock recursion" deadlock (*sync — Senior*:
  // it hangs as soon as a writer queues between the two); C++ catches it
  // only in debug builds and only when a writer is queued, so the bindings
  // refuse it always, like the upgrade (lock() while reading).
  //
  // On the main thread, waits longer than 1 ms for the write lock (and, for
  // RWMutex, the read lock) acquire on a helper thread (blocking.h) that
  // then exits; the lock word has no owner, and the debug-build read
  // tracking of the helper dies with it, so the caller's release is
  // well-formed. Other threads acquire on the calling thread.
  std::optional<std::thread::id> writer;
  std::map<std::thread::id, int64_t> readers;

  static std::thread::id me() { return std::this_thread::get_id(); }
  bool reading() const {
    auto it = readers.find(me());
    return it != readers.end() && it->second > 0;
  }
  void check_not_reading(const char* method) const {
    if (reading()) {
      misuse(std::string(kName) + "." + method +
             ": this thread already holds the read lock (RLock recursion / "
             "upgrade deadlock, the article *sync — Senior*)");
    }
  }
  bool acquire(std::optional<double> seconds) {
    return acquire_interruptibly(
        seconds, [&] { mu->lock(); },
        [&](nanoseconds d) { return mu->try_lock_for(d); },
        [&](std::stop_token st) { return mu->lock(st); },
        [&] { mu->unlock(); });
  }
  bool acquire_shared(std::optional<double> seconds) {
    if constexpr (RWLockTraits<M>::kSharedOnHelper) {
      return acquire_interruptibly(
          seconds, [&] { mu->lock_shared(); },
          [&](nanoseconds d) { return mu->try_lock_shared_for(d); },
          [&](std::stop_token st) { return mu->lock_shared(st); },
          [&] { mu->unlock_shared(); });
    } else {
      return wait_interruptibly(
          seconds, [&] { mu->lock_shared(); },
          [&](nanoseconds d) { return mu->try_lock_shared_for(d); });
    }
  }

  void lock() {
    check_not_reading("acquire_write");
    if (!mu->try_lock()) acquire(std::nullopt);
    writer = me();
  }
  bool try_lock() {
    if (!mu->try_lock()) return false;
    writer = me();
    return true;
  }
  bool try_lock_for(double seconds) {
    check_not_reading("acquire_write");
    if (!mu->try_lock() && !acquire(seconds)) return false;
    writer = me();
    return true;
  }
  void unlock() {
    if (!writer.has_value()) {
      misuse(std::string(kName) + ".release_write: not write-locked");
    }
    if (*writer != me()) {
      misuse(std::string(kName) +
             ".release_write: write-locked by another thread");
    }
    writer.reset();
    mu->unlock();
  }
  void lock_shared() {
    check_not_reading("acquire_read");
    if (!mu->try_lock_shared()) acquire_shared(std::nullopt);
    ++readers[me()];
  }
  bool try_lock_shared() {
    if (!mu->try_lock_shared()) return false;
    ++readers[me()];
    return true;
  }
  bool try_lock_shared_for(double seconds) {
    check_not_reading("acquire_read");
    if (!mu->try_lock_shared() && !acquire_shared(seconds)) return false;
    ++readers[me()];
    return true;
  }
  void unlock_shared() {
    auto it = readers.find(me());
    if (it == readers.end()) {
      misuse(std::string(kName) +
             (readers.empty() ? ".release_read: not read-locked"
                              : ".release_read: not read-locked by this "
                                "thread"));
    }
    if (--it->second == 0) readers.erase(it);
    mu->unlock_shared();
  }
  int64_t reader_count() const {
    int64_t n = 0;
    for (const auto& [tid, k] : readers) n += k;
    return n;
  }
};

template <class M>
void bind_rw_lock(py::module_& m, const char* name) {
  using py::arg;
  using P = PyRWLock<M>;
  py::class_<P>(m, name)
      .def(py::init<>())
      .def("lock", &P::lock, kProfiled)
      .def("try_lock", &P::try_lock)
      .def("try_lock_for", &P::try_lock_for, arg("seconds"), kProfiled)
      .def("unlock", &P::unlock, kProfiled)
      .def("lock_shared", &P::lock_shared, kProfiled)
      .def("try_lock_shared", &P::try_lock_shared)
      .def("try_lock_shared_for", &P::try_lock_shared_for, arg("seconds"),
           kProfiled)
      .def("unlock_shared", &P::unlock_shared, kProfiled)
      .def("write_locked", [](const P& p) { return p.writer.has_value(); })
      .def("readers", &P::reader_count)
      // Central waits only: a DistributedRWMutex writer draining a biased
      // reader parks on the reader's slot, outside the object.
      .def("_parked", [](const P& p) { return parked_within(*p.mu); });
}

// ---------------------------------------------------------------- Cond
struct PyCond {
  Cond cond;
  PyMutex* waiters_mutex = nullptr;  // GIL-guarded: the Mutex of the waiters
  int64_t waiters = 0;               // GIL-guarded

  // Cond::wait / Cond::wait_for: releases m, waits for a signal (at most
  // `seconds`; nullopt: no limit), re-acquires m. Returns false iff the
  // timeout expired. The mutex is re-locked only when the wait ends (woken
  // or timed out): off the main thread this is one Cond wait; on the main
  // thread the same wait runs on a helper thread (blocking.h) and a Ctrl-C
  // is delivered by broadcast() -- a spurious wakeup for the other waiters,
  // which Go's Cond (and threading.Condition) allow -- after which the
  // KeyboardInterrupt propagates with m held.
  bool wait(PyMutex& m, std::optional<double> seconds) {
    if (!m.locked) misuse("Cond.wait: cannot wait on un-acquired lock");
    if (waiters > 0 && waiters_mutex != &m) {
      misuse("Cond.wait: two different Mutexes used with one Cond");
    }
    waiters_mutex = &m;
    ++waiters;
    m.locked = false;
    const auto deadline = deadline_after(seconds);
    auto timed_or_forever = [&]() -> bool {
      if (!deadline.has_value()) {
        cond.wait(*m.mu);
        return true;
      }
      return cond.wait_for(*m.mu, time_left(deadline, nanoseconds::max())) ==
             std::cv_status::no_timeout;
    };
    bool signalled = false;
    try {
      if (!on_main_thread()) {
        signalled = without_gil(timed_or_forever);
      } else {
        signalled = run_on_helper<bool>(
            std::nullopt, timed_or_forever, [&] { cond.broadcast(); },
            [](bool) {});
      }
    } catch (abi::__forced_unwind&) {
      throw;  // the thread is ending at interpreter exit; touch nothing
    } catch (...) {
      m.locked = true;  // a KeyboardInterrupt: m is held again
      if (--waiters == 0) waiters_mutex = nullptr;
      throw;
    }
    m.locked = true;
    if (--waiters == 0) waiters_mutex = nullptr;
    return signalled;
  }
};

// ---------------------------------------------------------------- WaitGroup
struct PyWaitGroup {
  WaitGroup wg;
  int64_t counter = 0;  // GIL-guarded mirror of the C++ counter
  int64_t waiters = 0;  // GIL-guarded: threads inside wait()

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
  bool wait(std::optional<double> seconds) {
    ++waiters;
    bool ok;
    try {
      ok = wait_interruptibly(
          seconds, [&] { wg.wait(); },
          [&](nanoseconds d) { return wg.wait_for(d); });
    } catch (abi::__forced_unwind&) {
      throw;
    } catch (...) {
      --waiters;
      throw;
    }
    --waiters;
    return ok;
  }
};

// ---------------------------------------------------------------- Semaphore
// A weighted threading.BoundedSemaphore: releasing more than was acquired is
// a ValueError, as BoundedSemaphore's "Semaphore released too many times".
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
  bool acquire(int64_t n, std::optional<double> seconds) {
    check(n, "acquire");
    if (sem.try_acquire(n)) return true;
    return acquire_interruptibly(
        seconds, [&] { sem.acquire(n); },
        [&](nanoseconds d) { return sem.try_acquire_for(n, d); },
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
      throw py::value_error(
          "contend: Semaphore.release: Semaphore released too many times");
    }
    sem.release(n);
  }
};

// ---------------------------------------------------------------- Once
// Who runs f is decided under the GIL, so the native Once is only ever
// entered by the thread that runs f (it never waits in it): the others wait
// for that run on a contend::Event through wait_interruptibly, so a waiter
// on the main thread stays interruptible by Ctrl-C (issue 12) and a waiter
// elsewhere is one GIL-released native wait. f runs with the GIL held, in
// once.call, so the C++ Once's rule holds: an exception from f leaves it
// not-done (the waiters wake and the next one runs its own f). In the
// profiles, these waits are Event waits (kind "Event"), not Once waits.
struct PyOnce {
  Once once;
  // GIL-guarded:
  bool done = false;                      // f completed (mirror of once)
  std::optional<std::thread::id> runner;  // the thread running f
  std::shared_ptr<Event> finished;        // set when that run ends

  void call(py::object f) {
    const auto me = std::this_thread::get_id();
    for (;;) {
      if (done) return;
      if (runner == me) misuse("Once.call: recursive call from inside f");
      if (!runner.has_value()) break;
      // Another thread is running f: wait for that run to end (the
      // shared_ptr keeps its Event alive), then decide again.
      const std::shared_ptr<Event> run = finished;
      wait_interruptibly(
          std::nullopt, [&] { run->wait(); },
          [&](nanoseconds d) { return run->wait_for(d); });
    }
    runner = me;
    finished = std::make_shared<Event>();
    const std::shared_ptr<Event> run = finished;
    try {
      once.call([&] { f(); });
    } catch (...) {
      runner.reset();
      run->set();
      throw;
    }
    done = true;
    runner.reset();
    run->set();
  }
  size_t parked() const { return finished ? parked_within(*finished) : 0; }
};

}  // namespace

void bind_sync(py::module_& m) {
  using py::arg;

  main_thread_ident() = py::module_::import("threading")
                            .attr("main_thread")()
                            .attr("ident")
                            .cast<unsigned long>();

  py::class_<PyMutex>(m, "Mutex")
      .def(py::init<std::optional<std::string>>(), arg("label") = py::none())
      .def("lock", &PyMutex::lock, kProfiled)
      .def("try_lock", &PyMutex::try_lock)
      .def("try_lock_for", &PyMutex::try_lock_for, arg("seconds"), kProfiled)
      .def("unlock", &PyMutex::unlock, kProfiled)
      .def("locked", [](const PyMutex& p) { return p.locked; })
      .def("_parked", [](const PyMutex& p) { return parked_within(*p.mu); });

  bind_rw_lock<RWMutex>(m, "RWMutex");
  bind_rw_lock<DistributedRWMutex>(m, "DistributedRWMutex");

  py::class_<PyCond>(m, "Cond")
      .def(py::init<>())
      .def("wait", &PyCond::wait, arg("mutex"), arg("seconds"), kProfiled)
      .def("signal", [](PyCond& c) { c.cond.signal(); })
      .def("broadcast", [](PyCond& c) { c.cond.broadcast(); })
      .def("_parked", [](const PyCond& c) { return parked_within(c.cond); });

  py::class_<Event>(m, "Event")
      .def(py::init<>())
      .def("set", &Event::set)
      .def("is_set", &Event::is_set)
      .def(
          "wait",
          [](Event& e, std::optional<double> seconds) {
            return wait_interruptibly(
                seconds, [&] { e.wait(); },
                [&](nanoseconds d) { return e.wait_for(d); });
          },
          arg("seconds"), kProfiled)
      .def("_parked", [](const Event& e) { return parked_within(e); });

  py::class_<PyWaitGroup>(m, "WaitGroup")
      .def(py::init<>())
      .def("add", &PyWaitGroup::add, arg("delta"))
      .def("done", &PyWaitGroup::done)
      .def("wait", &PyWaitGroup::wait, arg("seconds"), kProfiled)
      .def("counter", [](const PyWaitGroup& w) { return w.counter; })
      .def("_parked", [](const PyWaitGroup& w) { return parked_within(w.wg); });

  py::class_<PySemaphore>(m, "Semaphore")
      .def(py::init<int64_t>(), arg("capacity"))
      .def("acquire", &PySemaphore::acquire, arg("n"), arg("seconds"),
           kProfiled)
      .def("try_acquire", &PySemaphore::try_acquire, arg("n") = 1)
      .def("release", &PySemaphore::release, arg("n") = 1)
      .def("capacity", [](const PySemaphore& s) { return s.sem.capacity(); })
      .def("available", [](const PySemaphore& s) { return s.sem.available(); })
      .def("_parked",
           [](const PySemaphore& s) { return parked_within(s.sem); });

  py::class_<PyOnce>(m, "Once")
      .def(py::init<>())
      .def("call", &PyOnce::call, arg("f"), kProfiled)
      .def("_parked", &PyOnce::parked);
}

}  // namespace contend::python
