// Copyright 2026 The contend Authors.
//
// How every blocking binding in contend._native waits: with the GIL released,
// in slices, checking for Python signals between slices so Ctrl-C raises
// KeyboardInterrupt in a thread blocked on a contend primitive.
//
// Two shapes:
//  - wait_interruptibly: for waits on a *state* (Event, WaitGroup): the
//    caller re-waits every slice. Leaving and re-entering the wait costs
//    nothing there.
//  - acquire_interruptibly: for *queued* acquisitions (Mutex, RWMutex,
//    Semaphore), where leaving the queue every slice would cost the waiter
//    its FIFO position, a queued writer its hold on new readers, and a large
//    Semaphore request its place at the head. After a 1 ms try on the calling
//    thread (the common short wait spawns nothing), the acquisition moves to a
//    helper thread that stays queued (using the primitive's std::stop_token
//    form) while the caller waits for it in slices; Ctrl-C or the deadline
//    requests the stop.

#ifndef CONTEND_PYTHON_CONTEND_BLOCKING_H_
#define CONTEND_PYTHON_CONTEND_BLOCKING_H_

#include <pybind11/pybind11.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <thread>

namespace contend::python {

namespace py = pybind11;

// Longest single wait without the GIL. 50 ms keeps Ctrl-C prompt (a human
// sees < 0.1 s) and costs a waiting thread 20 wake-ups per second.
inline constexpr std::chrono::milliseconds kWaitSlice{50};

// acquire_interruptibly's first phase on the calling thread. Short, so that
// a waiter leaves and re-joins the primitive's queue only once, early: after
// this, a helper thread holds its place (FIFO, writer preference, a large
// Semaphore request at the head) for as long as it waits.
inline constexpr std::chrono::milliseconds kFirstSlice{1};

// Timeouts above this are "forever" (avoids overflowing steady_clock).
inline constexpr double kMaxTimeoutSeconds = 1e9;

// Calls try_for(slice) with the GIL released until it returns true, or until
// `timeout_s` seconds have passed (nullopt: no limit; <= 0: exactly one
// try_for(0ns)). Between slices, with the GIL held, runs PyErr_CheckSignals()
// and throws py::error_already_set if a signal handler raised (Ctrl-C).
//
// try_for(std::chrono::nanoseconds) -> bool runs without the GIL: it must not
// touch Python objects. It is never called again after it returned true, so
// an acquisition it made is never lost to a signal.
// Requires: the GIL is held by the caller (arguments already converted).
template <class TryFor>
bool wait_interruptibly(std::optional<double> timeout_s, TryFor&& try_for) {
  using Clock = std::chrono::steady_clock;
  std::optional<Clock::time_point> deadline;
  if (timeout_s.has_value() && *timeout_s < kMaxTimeoutSeconds) {
    const double secs = std::max(0.0, *timeout_s);
    deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                  std::chrono::duration<double>(secs));
  }
  for (;;) {
    std::chrono::nanoseconds slice = kWaitSlice;
    if (deadline.has_value()) {
      slice = std::clamp<std::chrono::nanoseconds>(
          *deadline - Clock::now(), std::chrono::nanoseconds(0), slice);
    }
    bool done;
    {
      py::gil_scoped_release nogil;
      done = try_for(slice);
    }
    if (done) return true;
    if (deadline.has_value() && Clock::now() >= *deadline) return false;
    if (PyErr_CheckSignals() != 0) throw py::error_already_set();
  }
}

// Acquires a queued primitive interruptibly; returns false on timeout.
//
//  - try_for(std::chrono::nanoseconds) -> bool: a timed acquisition, run once
//    on the calling thread without the GIL for kFirstSlice (the common,
//    short wait costs no thread);
//  - acquire(std::stop_token) -> bool: the cancellable acquisition, run on a
//    helper thread for the rest of the wait; false iff cancelled;
//  - undo(): gives back an acquisition the helper made after the caller was
//    interrupted (runs on the calling thread, without the GIL).
// On timeout an acquisition that won the race with the deadline is kept
// (returns true), like the C++ timed forms. On a signal handler exception the
// acquisition is abandoned (undone if it happened) and the exception raised.
// The callables run without the GIL and must not touch Python objects; the
// helper is joined before returning, so they may capture by reference.
// Requires: the GIL is held by the caller.
template <class TryFor, class Acquire, class Undo>
bool acquire_interruptibly(std::optional<double> timeout_s, TryFor&& try_for,
                           Acquire&& acquire, Undo&& undo) {
  using Clock = std::chrono::steady_clock;
  std::optional<Clock::time_point> deadline;
  if (timeout_s.has_value() && *timeout_s < kMaxTimeoutSeconds) {
    deadline = Clock::now() +
               std::chrono::duration_cast<Clock::duration>(
                   std::chrono::duration<double>(std::max(0.0, *timeout_s)));
  }
  auto next_slice = [&] {
    std::chrono::nanoseconds slice = kWaitSlice;
    if (deadline.has_value()) {
      slice = std::clamp<std::chrono::nanoseconds>(
          *deadline - Clock::now(), std::chrono::nanoseconds(0), slice);
    }
    return slice;
  };

  bool ok;
  {
    py::gil_scoped_release nogil;
    ok = try_for(std::min<std::chrono::nanoseconds>(next_slice(), kFirstSlice));
  }
  if (ok) return true;
  if (deadline.has_value() && Clock::now() >= *deadline) return false;
  if (PyErr_CheckSignals() != 0) throw py::error_already_set();

  struct Shared {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;  // guarded by mu
    bool ok = false;    // guarded by mu
  };
  Shared sh;
  std::stop_source stop;
  std::thread helper;
  {
    py::gil_scoped_release nogil;
    helper = std::thread([&sh, &acquire, token = stop.get_token()] {
      const bool got = acquire(token);
      {
        std::lock_guard<std::mutex> l(sh.mu);
        sh.ok = got;
        sh.done = true;
      }
      sh.cv.notify_one();
    });
  }
  bool interrupted = false;
  bool stopped = false;
  for (;;) {
    bool done;
    {
      py::gil_scoped_release nogil;
      std::unique_lock<std::mutex> l(sh.mu);
      done = sh.cv.wait_for(l, stopped ? kWaitSlice : next_slice(),
                            [&] { return sh.done; });
    }
    if (done) break;
    if (stopped) continue;  // the stop is requested; the helper returns soon
    if (deadline.has_value() && Clock::now() >= *deadline) {
      stop.request_stop();
      stopped = true;
    } else if (PyErr_CheckSignals() != 0) {
      stop.request_stop();
      stopped = interrupted = true;
    }
  }
  {
    py::gil_scoped_release nogil;
    helper.join();
    if (interrupted && sh.ok) undo();
  }
  if (interrupted) throw py::error_already_set();
  return sh.ok;
}

}  // namespace contend::python

#endif  // CONTEND_PYTHON_CONTEND_BLOCKING_H_
