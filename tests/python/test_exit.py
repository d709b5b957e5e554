"""Clean exit: a daemon thread blocked in any contend call never aborts the
interpreter at exit. CPython <= 3.13 ends a daemon thread that re-takes the GIL
during finalization with pthread_exit(); unwinding that through a noexcept
destructor (pybind11's gil_scoped_release) aborted with "terminate called
without an active exception" (exit 134). Each case runs in a subprocess whose
daemon thread is parked in the call when the main thread exits; some cases
are woken, or time out, while the interpreter finalizes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

PRELUDE = """
import threading, time
import contend
from sync_testing import wait_parked

def park(target, primitive, n=1):
    threading.Thread(target=target, daemon=True).start()
    wait_parked(primitive, n)

class AtTeardown:
    # Runs fn when module globals are cleared, i.e. while finalizing.
    def __init__(self, fn):
        self.fn = fn
    def __del__(self):
        self.fn()
"""

# name -> code that leaves one daemon thread parked in the call.
BLOCKED = {
    "Mutex.acquire": "mu = contend.Mutex(); mu.acquire(); park(mu.acquire, mu)",
    "Mutex.acquire(timeout)": "mu = contend.Mutex(); mu.acquire(); "
                              "park(lambda: mu.acquire(timeout=0.2), mu)",
    "Mutex.__enter__": "mu = contend.Mutex(); mu.acquire(); "
                       "park(lambda: mu.__enter__(), mu)",
    "RWMutex.acquire_read": "rw = contend.RWMutex(); rw.acquire_write(); "
                            "park(rw.acquire_read, rw)",
    "RWMutex.acquire_write": "rw = contend.RWMutex(); rw.acquire_write(); "
                             "park(lambda: rw.acquire_write(timeout=0.2), rw)",
    "RWMutex.read_lock": "rw = contend.RWMutex(); rw.acquire_write(); "
                         "park(lambda: rw.read_lock().__enter__(), rw)",
    "RWMutex.write_lock": "rw = contend.RWMutex(); rw.acquire_read(); "
                          "park(lambda: rw.write_lock().__enter__(), rw)",
    "DistributedRWMutex.acquire_read":
        "rw = contend.DistributedRWMutex(); rw.acquire_write(); "
        "park(rw.acquire_read, rw)",
    "DistributedRWMutex.acquire_write":
        "rw = contend.DistributedRWMutex(); rw.acquire_write(); "
        "park(lambda: rw.acquire_write(timeout=0.2), rw)",
    "DistributedRWMutex.read_lock":
        "rw = contend.DistributedRWMutex(); rw.acquire_write(); "
        "park(lambda: rw.read_lock().__enter__(), rw)",
    # (A writer draining a biased reader parks on the reader's slot, which
    # _parked() does not see: the blocked write_lock case waits on a writer.)
    "DistributedRWMutex.write_lock":
        "rw = contend.DistributedRWMutex(); rw.acquire_write(); "
        "park(lambda: rw.write_lock().__enter__(), rw)",
    "Cond.wait": """
cond = contend.Cond()
def w():
    with cond:
        cond.wait()
park(w, cond)""",
    "Cond.wait(timeout)": """
cond = contend.Cond()
def w():
    with cond:
        cond.wait(0.2)
park(w, cond)""",
    "Cond.wait_for": """
cond = contend.Cond()
def w():
    with cond:
        cond.wait_for(lambda: False)
park(w, cond)""",
    "Event.wait": "ev = contend.Event(); park(ev.wait, ev)",
    "Event.wait(timeout)": "ev = contend.Event(); park(lambda: ev.wait(0.2), ev)",
    "WaitGroup.wait": "wg = contend.WaitGroup(); wg.add(1); park(wg.wait, wg)",
    "WaitGroup.wait(timeout)": "wg = contend.WaitGroup(); wg.add(1); "
                               "park(lambda: wg.wait(0.2), wg)",
    "Semaphore.acquire": "sem = contend.Semaphore(1); sem.acquire(); "
                         "park(sem.acquire, sem)",
    "Semaphore.acquire(timeout)": "sem = contend.Semaphore(2); sem.acquire(n=2); "
                                  "park(lambda: sem.acquire(timeout=0.2, n=2), sem)",
    "Semaphore.__enter__": "sem = contend.Semaphore(1); sem.acquire(); "
                           "park(sem.__enter__, sem)",
    "ResourcePool.acquire": "pool = contend.ResourcePool(object, max_open=1); "
                            "lease = pool.acquire(timeout=5); "
                            "park(pool.acquire, pool)",
    "ResourcePool.acquire(timeout)": "pool = contend.ResourcePool(object, max_open=1); "
                                     "lease = pool.acquire(timeout=5); "
                                     "park(lambda: pool.acquire(timeout=0.2), pool)",
    "ResourcePool creating at exit": """
gate = threading.Event()
def slow():
    gate.wait()
    return object()
pool = contend.ResourcePool(slow, max_open=1)
park(pool.acquire, pool)
keep = AtTeardown(gate.set)""",
    "lab.run": """
import os
tasks = len(os.listdir("/proc/self/task"))
threading.Thread(target=lambda: contend.lab.run(primitive="mutex", threads=2,
                                                duration=600.0), daemon=True).start()
from sync_testing import wait_until
wait_until(lambda: len(os.listdir("/proc/self/task")) >= tasks + 3,
           "lab.run started its worker threads")""",
    "Chan.get": "ch = contend.Chan(); park(ch.get, ch)",
    "Chan.get(timeout)": "ch = contend.Chan(); park(lambda: ch.get(timeout=0.2), ch)",
    "Chan.put": "ch = contend.Chan(); park(lambda: ch.put(object()), ch)",
    "Chan.put(timeout)": "ch = contend.Chan(1); ch.put(0); "
                         "park(lambda: ch.put(1, timeout=0.2), ch)",
    "Chan.__iter__": "ch = contend.Chan(); park(lambda: list(ch), ch)",
    "select": "a, b = contend.Chan(), contend.Chan(); "
              "park(lambda: contend.select(contend.recv(a), contend.send(b, 1)), a)",
    "Once.call": """
once = contend.Once(); never = threading.Event()
threading.Thread(target=lambda: once.call(never.wait), daemon=True).start()
time.sleep(0)
park(lambda: once.call(lambda: None), once)""",
}

# Cases whose blocked call is woken while the interpreter finalizes: the
# thread must not return to Python then (it used to abort right there).
WOKEN_AT_EXIT = {
    "Mutex.acquire": "keep = AtTeardown(mu.release)",
    "Event.wait": "keep = AtTeardown(ev.set)",
    "WaitGroup.wait": "keep = AtTeardown(wg.done)",
    "Semaphore.acquire": "keep = AtTeardown(sem.release)",
    "Cond.wait": "keep = AtTeardown(cond.notify_all)",
    "RWMutex.acquire_read": "keep = AtTeardown(rw.release_write)",
    "ResourcePool.acquire": "keep = AtTeardown(lease.release)",
    "Chan.get": "keep = AtTeardown(ch.close)",
    "Chan.put": "keep = AtTeardown(ch.get_nowait)",
    "select": "keep = AtTeardown(a.close)",
    "DistributedRWMutex.acquire_read": "keep = AtTeardown(rw.release_write)",
}

CASES = {f"{k}": v for k, v in BLOCKED.items()}
CASES.update({f"{k} woken at exit": BLOCKED[k] + "\n" + v
              for k, v in WOKEN_AT_EXIT.items()})


@pytest.mark.parametrize("case", sorted(CASES))
def test_exit_with_a_daemon_thread_blocked(case, tmp_path):
    script = tmp_path / "child.py"
    script.write_text(textwrap.dedent(PRELUDE) + textwrap.dedent(CASES[case])
                      + "\nprint('exiting', flush=True)\n")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(sys.path)
    child = subprocess.run([sys.executable, str(script)], capture_output=True,
                           text=True, env=env, timeout=120)
    assert child.stdout.strip() == "exiting", child.stderr
    assert child.returncode == 0, f"exit {child.returncode}: {child.stderr}"
    assert "terminate" not in child.stderr, child.stderr


if __name__ == "__main__":
    from pytest_main import main

    sys.exit(main(__file__))
