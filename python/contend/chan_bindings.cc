// Copyright 2026 The contend Authors.
//
// contend._native: Chan (sync/chan.h) over Python objects, and select.
//
// Bindings only; the queue.Queue-shaped API, its exceptions and the select
// cases are python/contend/_chan.py. Each call returns a status code the
// Python layer turns into a value or an exception (kOk, kNotReady: timed out
// or would block, kClosed: see each method).
//
// Values: a Chan<py::object>. Every value enters the channel by move (the
// binding increfs it, with the GIL, into a local py::object it moves from),
// and moves of a py::object never touch the refcount, so the channel moves
// values without the GIL. Values that never left are released by ~Chan,
// which runs when Python drops the channel, with the GIL held. A failed send
// leaves the local untouched; it is released after the GIL is re-taken.
//
// Waiting (blocking.h's model): off the main thread a blocking call is one
// native wait without the GIL (the untimed form for "forever"). On the main
// thread it waits in kWaitSlice slices and runs the signal handlers between
// them, so Ctrl-C interrupts it. Not run_on_helper, as the lock-shaped types
// do: a receive a helper completed after Ctrl-C could not be undone (a value
// cannot go back to the head of the channel), while a slice that times out
// has done nothing; the price is that a main-thread waiter re-joins the
// channel's queue of waiters every slice.
//
// Misuse: C++ terminates on a send on a closed channel and on a second
// close (Go panics). Here both are kClosed, which Python raises as
// ChanClosed: sends through internal::ChanBindingAccess, which reports
// instead of dying, and close() checks closed() first -- with the GIL held,
// and only Python code can reach this channel, so nothing closes it between
// the check and the close.

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "python/contend/bindings.h"
#include "sync/chan.h"
#include "sync/internal/clock.h"

namespace contend::python {
namespace {

namespace py = pybind11;
using PyChan = Chan<py::object>;
using internal::ChanBindingAccess;
using internal::ChanSendStatus;

constexpr int kOk = 0;
constexpr int kNotReady = 1;  // timed out, or would block (non-blocking)
constexpr int kClosed = 2;    // send: closed; recv: closed and drained

constexpr int64_t kDontWait = INT64_MIN;  // Chan's "do not wait" deadline

int code(ChanSendStatus s) {
  switch (s) {
    case ChanSendStatus::kSent:
      return kOk;
    case ChanSendStatus::kNotSent:
      return kNotReady;
    case ChanSendStatus::kClosed:
      return kClosed;
  }
  return kClosed;
}

int64_t to_ns(std::chrono::steady_clock::time_point tp) {
  return internal::to_monotonic_deadline(tp);
}

// Runs attempt(deadline_ns) -> bool ("done") per blocking.h's model: block
// false: once with kDontWait; off the main thread: once, without the GIL,
// with the caller's deadline (kNoDeadline for none); on the main thread: in
// slices, signal handlers between them. False: the deadline passed.
template <class Attempt>
bool wait_for_chan(bool block, std::optional<double> timeout_s,
                   Attempt&& attempt) {
  if (!block) return attempt(kDontWait);
  const auto deadline = deadline_after(timeout_s);
  if (!on_main_thread()) {
    const int64_t ns =
        deadline.has_value() ? to_ns(*deadline) : internal::kNoDeadline;
    return without_gil([&] { return attempt(ns); });
  }
  for (;;) {
    const auto slice =
        std::chrono::steady_clock::now() + time_left(deadline, kWaitSlice);
    if (without_gil([&] { return attempt(to_ns(slice)); })) return true;
    if (deadline.has_value() && std::chrono::steady_clock::now() >= *deadline) {
      return false;
    }
    check_signals();
  }
}

int send(PyChan& ch, py::object item, bool block,
         std::optional<double> timeout_s) {
  py::object value = std::move(item);  // ours; moved from only if sent
  int result = kNotReady;
  wait_for_chan(block, timeout_s, [&](int64_t deadline_ns) {
    result = code(ChanBindingAccess::send(ch, value, deadline_ns, nullptr));
    return result != kNotReady;
  });
  return result;
}

py::tuple recv(PyChan& ch, bool block, std::optional<double> timeout_s) {
  std::optional<py::object> got;
  bool closed = false;
  wait_for_chan(block, timeout_s, [&](int64_t deadline_ns) {
    got = ChanBindingAccess::recv(ch, deadline_ns, nullptr);
    if (got.has_value()) return true;
    closed = ch.drained();
    return closed;
  });
  if (got.has_value()) return py::make_tuple(kOk, std::move(*got));
  return py::make_tuple(closed ? kClosed : kNotReady, py::none());
}

// The callbacks of the select cases: record which case fired (the value of
// a receive stays in its slot). They run without the GIL and only move.
struct RecvFired {
  std::optional<py::object>* slot;
  void operator()(std::optional<py::object> v) const { *slot = std::move(v); }
};
using RecvCase = internal::SelectRecvCase<py::object, RecvFired>;
using SendCase = internal::SelectSendCase<py::object, internal::NoOp>;
struct NoOpFn {
  void operator()() const noexcept {}
};

// select over `cases`: a list of (is_send, chan, item) tuples. Returns
// (index, code, value): index -1 if no case fired (not ready / timed out);
// for a receive, code kOk with the value or kClosed (closed and drained);
// for a send, kOk or kClosed (the channel was closed: nothing was sent).
py::tuple select(const py::list& cases, bool block,
                 std::optional<double> timeout_s) {
  const size_t n = cases.size();
  // Keep every channel (and the values) alive and in place for the call.
  std::vector<py::object> owners;
  std::vector<PyChan*> chans(n);
  std::vector<bool> is_send(n);
  std::vector<py::object> values(n);
  owners.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    py::tuple c = cases[i].cast<py::tuple>();
    is_send[i] = c[0].cast<bool>();
    owners.push_back(c[1]);
    chans[i] = c[1].cast<PyChan*>();
    if (is_send[i]) values[i] = c[2];
  }
  std::vector<std::optional<py::object>> slots(n);
  bool send_closed = false;
  size_t fired = n;
  bool done = wait_for_chan(block, timeout_s, [&](int64_t deadline_ns) {
    std::vector<std::unique_ptr<RecvCase>> recvs;
    std::vector<std::unique_ptr<SendCase>> sends;
    std::vector<internal::SelectCase*> all;
    all.reserve(n + 1);
    for (size_t i = 0; i < n; ++i) {
      if (is_send[i]) {
        sends.push_back(
            std::make_unique<SendCase>(*chans[i], values[i], internal::NoOp{}));
        ChanBindingAccess::report_closed(*sends.back(), &send_closed);
        all.push_back(sends.back().get());
      } else {
        recvs.push_back(
            std::make_unique<RecvCase>(*chans[i], RecvFired{&slots[i]}));
        all.push_back(recvs.back().get());
      }
    }
    std::optional<internal::SelectDefaultCase<NoOpFn>> dflt;
    std::optional<internal::SelectDeadlineCase<NoOpFn>> until;
    if (deadline_ns == kDontWait) {
      dflt.emplace(NoOpFn{});
      all.push_back(&*dflt);
    } else if (deadline_ns != internal::kNoDeadline) {
      until.emplace(deadline_ns, NoOpFn{});
      all.push_back(&*until);
    }
    const size_t r = internal::run_select(all.data(), all.size());
    if (r >= n) return false;  // the default or deadline case
    fired = r;
    return true;
  });
  if (!done) return py::make_tuple(-1, kNotReady, py::none());
  if (is_send[fired]) {
    return py::make_tuple(static_cast<int64_t>(fired),
                          send_closed ? kClosed : kOk, py::none());
  }
  std::optional<py::object>& got = slots[fired];
  if (!got.has_value()) {
    return py::make_tuple(static_cast<int64_t>(fired), kClosed, py::none());
  }
  return py::make_tuple(static_cast<int64_t>(fired), kOk, std::move(*got));
}

}  // namespace

void bind_chan(py::module_& m) {
  py::class_<PyChan>(m, "Chan")
      .def(py::init<size_t>(), py::arg("capacity"))
      .def("send", &send, py::arg("item"), py::arg("block"), py::arg("timeout"),
           kProfiled)
      .def("recv", &recv, py::arg("block"), py::arg("timeout"), kProfiled)
      .def(
          "close",
          [](PyChan& ch) {
            if (ch.closed()) return kClosed;
            ch.close();
            return kOk;
          },
          kProfiled)
      .def("size", &PyChan::size)
      .def("capacity", &PyChan::capacity)
      .def("closed", &PyChan::closed)
      .def("drained", &PyChan::drained)
      .def("_parked", [](const PyChan& ch) { return parked_within(ch); });
  m.def("chan_select", &select, py::arg("cases"), py::arg("block"),
        py::arg("timeout"), kProfiled);
}

}  // namespace contend::python
