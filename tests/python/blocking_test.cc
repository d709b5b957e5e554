// Copyright 2026 The contend Authors.
//
// python/contend/blocking.h in C++, with an embedded CPython, so that its
// threads, helper threads and GIL hand-offs run under ThreadSanitizer (the
// Python tests, which reach the same code from Python, skip every sanitizer
// config: .bazelrc). The thread that runs main() initializes the interpreter
// and is therefore the one that runs Python's signal handlers; a Ctrl-C is
// simulated with PyErr_SetInterrupt(), which is what CPython's own SIGINT
// handler does.
//
// What is checked, on real contend primitives:
//  - off the main thread, one native wait per call: the untimed form once
//    for "forever", the timed form once for a timeout, and never a slice;
//  - the GIL is released for the whole wait (another thread runs Python
//    meanwhile);
//  - on the main thread, a Ctrl-C ends a state wait and a queued acquisition
//    with KeyboardInterrupt, and an acquisition the helper thread made after
//    the interrupt is given back exactly once (no leaked lock, no double
//    unlock), also when the release races the interrupt;
//  - a main-thread deadline cancels the helper's queued acquisition, and an
//    acquisition that won the race with the deadline is kept.

#include "python/contend/blocking.h"

#include <pybind11/embed.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <optional>
#include <stop_token>
#include <thread>

#include "gtest/gtest.h"
#include "sync/event.h"
#include "sync/mutex.h"
#include "tests/testing/wait.h"

namespace contend::python {
namespace {

namespace py = pybind11;
using std::chrono::nanoseconds;
using testing::parked_within;
using testing::wait_until;

// Counts the calls of each form a waiting helper may make.
struct Calls {
  std::atomic<int> forever{0};
  std::atomic<int> timed{0};
  std::atomic<int> cancellable{0};
  std::atomic<int> undo{0};
};

// Releases the GIL for the rest of the scope on the main thread, so that a
// test body can wait for other threads that take it. (A test helper, not a
// binding: bindings use without_gil().)
class NoGil {
 public:
  NoGil() : state_(PyEval_SaveThread()) {}
  ~NoGil() { PyEval_RestoreThread(state_); }
  NoGil(const NoGil&) = delete;
  NoGil& operator=(const NoGil&) = delete;

 private:
  PyThreadState* state_;
};

// Runs f on a new thread registered with Python, holding the GIL as a
// binding's caller would.
template <class F>
std::thread python_thread(F f) {
  return std::thread([f = std::move(f)]() mutable {
    const PyGILState_STATE gil = PyGILState_Ensure();
    f();
    PyGILState_Release(gil);
  });
}

bool is_keyboard_interrupt(py::error_already_set& e) {
  return e.matches(PyExc_KeyboardInterrupt);
}

// An Event waited on through wait_interruptibly, counting the forms used.
struct CountedEvent {
  Event ev;
  Calls calls;
  nanoseconds longest_timed{0};  // the longest timed wait asked for

  bool wait(std::optional<double> timeout_s) {
    return wait_interruptibly(
        timeout_s,
        [&] {
          calls.forever.fetch_add(1, std::memory_order_relaxed);
          ev.wait();
        },
        [&](nanoseconds d) {
          calls.timed.fetch_add(1, std::memory_order_relaxed);
          longest_timed = std::max(longest_timed, d);
          return ev.wait_for(d);
        });
  }
  size_t parked() const { return parked_within(&ev, sizeof ev); }
};

TEST(BlockingTest, WorkerThreadForeverIsOneUntimedWait) {
  CountedEvent e;
  bool result = false;
  std::thread worker = python_thread([&] { result = e.wait(std::nullopt); });
  {
    NoGil released;
    ASSERT_TRUE(wait_until([&] { return e.parked() == 1; },
                           "the worker parked on the Event"));
    // The worker waits without the GIL: this thread can run Python now.
    {
      const PyGILState_STATE gil = PyGILState_Ensure();
      EXPECT_EQ(py::eval("6 * 7").cast<int>(), 42);
      PyGILState_Release(gil);
    }
    e.ev.set();
    worker.join();
  }
  EXPECT_TRUE(result);
  EXPECT_EQ(e.calls.forever.load(), 1);
  EXPECT_EQ(e.calls.timed.load(), 0);
}

TEST(BlockingTest, WorkerThreadTimeoutIsOneTimedWait) {
  CountedEvent e;
  bool result = true;
  std::thread worker = python_thread([&] { result = e.wait(0.05); });
  {
    NoGil released;
    worker.join();
  }
  EXPECT_FALSE(result);
  EXPECT_EQ(e.calls.forever.load(), 0);
  EXPECT_EQ(e.calls.timed.load(), 1);  // one wait for the whole timeout
  EXPECT_GT(e.longest_timed, std::chrono::milliseconds(40));
  EXPECT_LE(e.longest_timed, std::chrono::milliseconds(50));
}

TEST(BlockingTest, WorkerThreadQueuedAcquireIsOneLock) {
  Mutex mu;
  mu.lock();
  Calls calls;
  bool result = false;
  std::thread worker = python_thread([&] {
    result = acquire_interruptibly(
        std::nullopt,
        [&] {
          calls.forever.fetch_add(1, std::memory_order_relaxed);
          mu.lock();
        },
        [&](nanoseconds d) {
          calls.timed.fetch_add(1, std::memory_order_relaxed);
          return mu.try_lock_for(d);
        },
        [&](std::stop_token st) {
          calls.cancellable.fetch_add(1, std::memory_order_relaxed);
          return mu.lock(st);
        },
        [&] { calls.undo.fetch_add(1, std::memory_order_relaxed); });
  });
  {
    NoGil released;
    ASSERT_TRUE(wait_until([&] { return parked_within(&mu, sizeof mu) == 1; },
                           "the worker queued on the Mutex"));
    mu.unlock();
    worker.join();
  }
  EXPECT_TRUE(result);
  EXPECT_EQ(calls.forever.load(), 1);
  EXPECT_EQ(calls.timed.load() + calls.cancellable.load() + calls.undo.load(),
            0);
  mu.unlock();  // the worker's acquisition
}

TEST(BlockingTest, MainThreadStateWaitEndsWithKeyboardInterrupt) {
  CountedEvent e;  // never set
  std::thread interrupter([&] {
    // No GIL needed: PyErr_SetInterrupt is async-signal-safe.
    if (wait_until([&] { return e.parked() == 1; },
                   "the main thread parked on the Event")) {
      PyErr_SetInterrupt();
    }
  });
  bool interrupted = false;
  try {
    e.wait(std::nullopt);
  } catch (py::error_already_set& err) {
    interrupted = is_keyboard_interrupt(err);
  }
  {
    NoGil released;
    interrupter.join();
  }
  EXPECT_TRUE(interrupted);
  EXPECT_EQ(e.calls.forever.load(), 0);  // the main thread only slices
  EXPECT_GE(e.calls.timed.load(), 1);
  EXPECT_LE(e.longest_timed, kWaitSlice);
}

// A Mutex held by another thread; the main thread queues for it (on the
// helper thread, after kFirstSlice) and is interrupted once the helper is
// queued. The holder releases the Mutex (so that the helper may win it
// before the stop lands) just before the interrupt, just after it, or only
// once the call has ended.
struct InterruptedAcquire {
  bool interrupted = false;  // KeyboardInterrupt raised by the call
  bool returned = false;     // the call returned (true) instead
  // The call returned first: was the interrupt still pending afterwards (for
  // Python's next check)? Cleared.
  bool interrupt_pending_after = false;
  int cancellable_true = 0;  // acquisitions the helper made
  int undo = 0;              // give-backs
};

enum class Release { kNo, kBeforeInterrupt, kAfterInterrupt };

InterruptedAcquire interrupt_queued_acquire(Mutex& mu, Release mode) {
  std::atomic<bool> holding{false};
  // Set by the helper thread before it queues: the main thread's own first
  // try (kFirstSlice) parks on the same Mutex, and the interrupt must land
  // while the helper, not that first try, is queued.
  std::atomic<bool> on_helper{false};
  std::atomic<bool> release{false};
  std::thread holder([&] {
    mu.lock();
    holding.store(true, std::memory_order_release);  // pairs: acquire below
    (void)wait_until([&] { return release.load(std::memory_order_acquire); },
                     "told to release");
    mu.unlock();
  });
  {
    NoGil released;
    EXPECT_TRUE(wait_until(
        [&] { return holding.load(std::memory_order_acquire); }, "held"));
  }
  std::atomic<int> got{0};
  std::atomic<int> undone{0};
  std::thread interrupter([&] {
    if (wait_until(
            [&] {
              return on_helper.load(std::memory_order_acquire) &&
                     parked_within(&mu, sizeof mu) == 1;
            },
            "the helper queued on the Mutex")) {
      if (mode == Release::kBeforeInterrupt) {
        release.store(true, std::memory_order_release);
      }
      PyErr_SetInterrupt();
      if (mode == Release::kAfterInterrupt) {
        release.store(true, std::memory_order_release);
      }
    }
  });
  InterruptedAcquire out;
  try {
    out.returned = acquire_interruptibly(
        std::nullopt, [&] { ADD_FAILURE() << "forever() on the main thread"; },
        [&](nanoseconds d) { return mu.try_lock_for(d); },
        [&](std::stop_token st) {
          on_helper.store(true, std::memory_order_release);  // pairs: above
          const bool ok = mu.lock(st);
          if (ok) got.fetch_add(1, std::memory_order_relaxed);
          return ok;
        },
        [&] {
          undone.fetch_add(1, std::memory_order_relaxed);
          mu.unlock();
        });
  } catch (py::error_already_set& e) {
    out.interrupted = is_keyboard_interrupt(e);
  }
  {
    NoGil released;
    interrupter.join();
    release.store(true, std::memory_order_release);
    if (out.returned) mu.unlock();  // the caller's acquisition
    holder.join();
  }
  if (out.returned && PyErr_CheckSignals() != 0) {
    out.interrupt_pending_after =
        PyErr_ExceptionMatches(PyExc_KeyboardInterrupt);
    PyErr_Clear();
  }
  out.cancellable_true = got.load();
  out.undo = undone.load();
  return out;
}

TEST(BlockingTest, MainThreadQueuedAcquireInterruptedLeavesTheLockFree) {
  Mutex mu;
  const InterruptedAcquire r = interrupt_queued_acquire(mu, Release::kNo);
  EXPECT_TRUE(r.interrupted);
  EXPECT_FALSE(r.returned);
  EXPECT_EQ(r.cancellable_true, 0);
  EXPECT_EQ(r.undo, 0);
  ASSERT_TRUE(mu.try_lock()) << "the interrupted acquisition leaked the Mutex";
  mu.unlock();
}

TEST(BlockingTest,
     MainThreadInterruptRacingTheReleaseLosesNeitherLockNorInterrupt) {
  // The holder releases as the interrupt lands. Three outcomes are legal:
  //  - the stop lands first: KeyboardInterrupt, nothing acquired;
  //  - the helper wins the Mutex, then the main thread sees the interrupt:
  //    KeyboardInterrupt, and the win is given back exactly once;
  //  - the main thread sees the helper's win before the interrupt: the call
  //    returns true (the caller holds the Mutex, as threading.Lock's acquire
  //    would) and the interrupt stays pending for Python's next check.
  // Never: a lost interrupt, a leaked or doubly released Mutex.
  int outcomes[3] = {0, 0, 0};
  for (int i = 0; i < 40 / testing::kSanitizerSlowdown + 4; ++i) {
    Mutex mu;
    const InterruptedAcquire r = interrupt_queued_acquire(
        mu, i % 2 == 0 ? Release::kBeforeInterrupt : Release::kAfterInterrupt);
    EXPECT_NE(r.interrupted, r.returned) << "round " << i;
    EXPECT_LE(r.cancellable_true, 1) << "round " << i;
    if (r.interrupted) {
      EXPECT_EQ(r.undo, r.cancellable_true) << "round " << i;
      ++outcomes[r.cancellable_true];
    } else {
      EXPECT_EQ(r.cancellable_true, 1) << "round " << i;
      EXPECT_EQ(r.undo, 0) << "round " << i;
      EXPECT_TRUE(r.interrupt_pending_after)
          << "round " << i << ": the interrupt was lost";
      ++outcomes[2];
    }
    ASSERT_TRUE(mu.try_lock()) << "round " << i << ": the Mutex leaked";
    mu.unlock();
  }
  // Which outcome happens is the scheduler's choice; each is checked above.
  std::printf("outcomes: cancelled %d, won then given back %d, returned %d\n",
              outcomes[0], outcomes[1], outcomes[2]);
}

TEST(BlockingTest, MainThreadInterruptAfterTheHelperWonGivesBackExactlyOnce) {
  // The helper's acquisition succeeds but is reported only after the main
  // thread has seen the interrupt (the helper returns once the stop is
  // requested): the window in which a real acquisition completes between the
  // main thread's last look and its cancel(). The call must raise
  // KeyboardInterrupt and give the Mutex back exactly once.
  for (int i = 0; i < 3; ++i) {
    Mutex mu;
    std::atomic<bool> won{false};
    std::atomic<int> undone{0};
    std::thread interrupter([&] {
      if (wait_until([&] { return won.load(std::memory_order_acquire); },
                     "the helper won the Mutex")) {
        PyErr_SetInterrupt();
      }
    });
    bool interrupted = false;
    bool returned = false;
    try {
      returned = acquire_interruptibly(
          std::nullopt,
          [&] { ADD_FAILURE() << "forever() on the main thread"; },
          [&](nanoseconds) { return false; },  // skip the first try
          [&](std::stop_token st) {
            const bool ok = mu.lock(st);               // free: wins at once
            won.store(ok, std::memory_order_release);  // pairs: above
            EXPECT_TRUE(wait_until([&] { return st.stop_requested(); },
                                   "the main thread requested the stop"));
            return ok;
          },
          [&] {
            undone.fetch_add(1, std::memory_order_relaxed);
            mu.unlock();
          });
    } catch (py::error_already_set& e) {
      interrupted = is_keyboard_interrupt(e);
    }
    {
      NoGil released;
      interrupter.join();
    }
    EXPECT_TRUE(interrupted) << "round " << i;
    EXPECT_FALSE(returned) << "round " << i;
    EXPECT_EQ(undone.load(), 1) << "round " << i;
    ASSERT_TRUE(mu.try_lock()) << "round " << i << ": the Mutex leaked";
    mu.unlock();
  }
}

TEST(BlockingTest, MainThreadDeadlineCancelsTheQueuedAcquisition) {
  Mutex mu;
  mu.lock();
  bool result = true;
  int cancellable = 0;
  result = acquire_interruptibly(
      0.05, [&] { ADD_FAILURE() << "forever() with a timeout"; },
      [&](nanoseconds d) { return mu.try_lock_for(d); },
      [&](std::stop_token st) {
        ++cancellable;
        return mu.lock(st);
      },
      [&] { ADD_FAILURE() << "undo() without an interrupt"; });
  EXPECT_FALSE(result);
  EXPECT_EQ(cancellable, 1);  // the helper queued once, then was cancelled
  // Nobody queued any more, and this thread still holds the lock.
  EXPECT_EQ(parked_within(&mu, sizeof mu), 0u);
  EXPECT_FALSE(mu.try_lock());
  mu.unlock();
  ASSERT_TRUE(mu.try_lock());
  mu.unlock();
}

TEST(BlockingTest, MainThreadAcquisitionThatBeatsTheDeadlineIsKept) {
  Mutex mu;
  mu.lock();
  std::atomic<bool> on_helper{false};  // as in interrupt_queued_acquire
  std::thread releaser([&] {
    if (wait_until(
            [&] {
              return on_helper.load(std::memory_order_acquire) &&
                     parked_within(&mu, sizeof mu) == 1;
            },
            "the helper queued on the Mutex")) {
      mu.unlock();
    }
  });
  const bool result = acquire_interruptibly(
      30.0, [&] { ADD_FAILURE() << "forever() with a timeout"; },
      [&](nanoseconds d) { return mu.try_lock_for(d); },
      [&](std::stop_token st) {
        on_helper.store(true, std::memory_order_release);  // pairs: above
        return mu.lock(st);
      },
      [&] { ADD_FAILURE() << "undo() without an interrupt"; });
  {
    NoGil released;
    releaser.join();
  }
  ASSERT_TRUE(result);
  EXPECT_FALSE(mu.try_lock()) << "the caller must hold the Mutex";
  mu.unlock();
}

}  // namespace
}  // namespace contend::python

// CPython does not free everything it allocates at Py_Finalize(), and
// pybind11 2.10's finalize_interpreter() allocates its local internals anew
// while tearing down: under --config=asan those blocks are theirs, not
// contend's.
extern "C" const char* __lsan_default_suppressions() {
  return "leak:libpython3.11\nleak:pybind11::detail::get_local_internals\n";
}

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  // This thread initializes CPython, so it is the one that runs Python's
  // signal handlers: the bindings' "main thread".
  pybind11::scoped_interpreter interpreter;
  contend::python::main_thread_ident() = PyThread_get_thread_ident();
  return RUN_ALL_TESTS();
}
