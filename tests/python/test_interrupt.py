"""Ctrl-C works on a thread blocked in a contend call: SIGINT to a child
process blocked in each blocking call must raise KeyboardInterrupt promptly,
and an interrupted acquisition must not leak the lock."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

# How long after SIGINT the child must have reported KeyboardInterrupt. The
# bindings check signals every 50 ms; the rest is margin for a loaded machine.
PROMPT = 5.0
# How long the child may take to start and block (imports on a loaded machine).
STARTUP = 60.0

PRELUDE = """
import sys, threading, time
import contend
def holder(acquire, release):
    # Holds a lock on another thread until the returned Event is set.
    got, let_go = threading.Event(), threading.Event()
    def run():
        acquire(); got.set(); let_go.wait(); release()
    threading.Thread(target=run, daemon=True).start()
    got.wait()
    return let_go
def ready_when(blocked):
    # Prints "ready" once blocked() says the main thread is blocked (the
    # parent sends SIGINT then): a state, not a sleep, orders the two.
    def watch():
        while not blocked():
            time.sleep(0.001)
        print("ready", flush=True)
    threading.Thread(target=watch, daemon=True).start()
def parked(primitive, n=1):
    return lambda: primitive._native._parked() == n
def in_call(name):
    # True while the main thread runs the function `name` of contend.lab.
    def check():
        f = sys._current_frames().get(threading.main_thread().ident)
        while f is not None:
            code = f.f_code
            if code.co_name == name and "contend/lab" in code.co_filename:
                return True
            f = f.f_back
        return False
    return check
"""

CASES = {
    "Event.wait": """
ev = contend.Event()
ready_when(parked(ev))
try:
    ev.wait()
except KeyboardInterrupt:
    print("interrupted", flush=True)
""",
    "Mutex.acquire": """
mu = contend.Mutex()
let_go = holder(mu.acquire, mu.release)
ready_when(parked(mu))
try:
    mu.acquire()
except KeyboardInterrupt:
    print("interrupted", flush=True)
let_go.set()
# The interrupted acquisition was given back: once the holder releases, the
# Mutex is free again.
assert mu.acquire(timeout=30), "interrupted acquisition leaked the Mutex"
mu.release()
print("clean", flush=True)
""",
    "RWMutex.write_lock": """
rw = contend.RWMutex()
let_go = holder(rw.acquire_read, rw.release_read)
ready_when(parked(rw))
try:
    with rw.write_lock():
        pass
except KeyboardInterrupt:
    print("interrupted", flush=True)
let_go.set()
assert rw.acquire_write(timeout=30), "interrupted acquisition leaked the RWMutex"
rw.release_write()
print("clean", flush=True)
""",
    "Semaphore.acquire": """
sem = contend.Semaphore(1)
let_go = holder(sem.acquire, sem.release)
ready_when(parked(sem))
try:
    sem.acquire()
except KeyboardInterrupt:
    print("interrupted", flush=True)
let_go.set()
assert sem.acquire(timeout=30) and sem.available == 0, "tokens leaked"
print("clean", flush=True)
""",
    "ResourcePool.acquire": """
pool = contend.ResourcePool(object, max_open=1)
lease = pool.acquire(timeout=30)
ready_when(parked(pool))
try:
    pool.acquire()
except KeyboardInterrupt:
    print("interrupted", flush=True)
s = pool.stats()
assert (s.in_use, s.waiters, s.canceled_acquires) == (1, 0, 1), s
lease.release()
# Nothing leaked: the one resource is idle again and can be acquired.
with pool.acquire(timeout=30):
    pass
pool.close()
print("clean", flush=True)
""",
    "WaitGroup.wait": """
wg = contend.WaitGroup()
wg.add(1)
ready_when(parked(wg))
try:
    wg.wait()
except KeyboardInterrupt:
    print("interrupted", flush=True)
""",
    "Cond.wait_for": """
cond = contend.Cond()
ready_when(parked(cond))
with cond:
    try:
        cond.wait_for(lambda: False)
    except KeyboardInterrupt:
        print("interrupted", flush=True)
    assert cond.mutex.locked(), "Cond.wait_for must return with the mutex held"
""",
    "Chan.get": """
import queue
ch = contend.Chan()
ready_when(parked(ch))
try:
    ch.get()
except KeyboardInterrupt:
    print("interrupted", flush=True)
# The interrupted get left no waiter behind: a put now finds no receiver.
try:
    ch.put_nowait(1)
except queue.Full:
    print("clean", flush=True)
""",
    "Chan.put": """
import queue
ch = contend.Chan()
ready_when(parked(ch))
try:
    ch.put("item")
except KeyboardInterrupt:
    print("interrupted", flush=True)
# The interrupted put sent nothing.
try:
    ch.get_nowait()
except queue.Empty:
    print("clean", flush=True)
""",
    "select": """
import queue
a, b = contend.Chan(), contend.Chan()
ready_when(parked(a))
try:
    contend.select(contend.recv(a), contend.send(b, "item"))
except KeyboardInterrupt:
    print("interrupted", flush=True)
try:
    b.get_nowait()
except queue.Empty:
    print("clean", flush=True)
""",
    # Once.call while another thread runs f: the wait for that run stays
    # interruptible (issue 12, Deliver 3), and changes nothing.
    "Once.call": """
once = contend.Once()
never, running = threading.Event(), threading.Event()
def slow():
    running.set(); never.wait()
threading.Thread(target=once.call, args=(slow,), daemon=True).start()
running.wait()
ready_when(parked(once))
try:
    once.call(lambda: print("second f ran", flush=True))
except KeyboardInterrupt:
    print("interrupted", flush=True)
print("clean", flush=True)
""",
    "lab.run": """
ready_when(in_call("run"))
try:
    contend.lab.run(primitive="mutex", threads=2, duration=600.0)
except KeyboardInterrupt:
    print("interrupted", flush=True)
""",
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_sigint_interrupts_blocked_call(case, tmp_path):
    script = tmp_path / "child.py"
    script.write_text(textwrap.dedent(PRELUDE) + textwrap.dedent(CASES[case]))
    child = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    lines: queue.Queue = queue.Queue()

    def pump() -> None:
        for raw in child.stdout:
            lines.put(raw.strip())
        lines.put(None)  # EOF

    threading.Thread(target=pump, daemon=True).start()

    def next_line(timeout: float, what: str) -> str | None:
        try:
            return lines.get(timeout=timeout)
        except queue.Empty:
            child.kill()
            pytest.fail(f"no {what} from the child within {timeout} s; "
                        f"stderr: {child.stderr.read()}")

    try:
        # "ready": the child's watcher saw the main thread blocked (parked
        # on the primitive, or inside lab.run).
        assert next_line(STARTUP, '"ready"') == "ready", child.stderr.read()
        sent = time.monotonic()
        child.send_signal(signal.SIGINT)
        line = next_line(PROMPT + 55, '"interrupted"')
        latency = time.monotonic() - sent
        assert line == "interrupted", f"got {line!r}; stderr: {child.stderr.read()}"
        assert latency < PROMPT, f"KeyboardInterrupt took {latency:.2f}s"
        rc = child.wait(timeout=60)
        rest = []
        while (item := next_line(60, "end of output")) is not None:
            rest.append(item)
        assert rc == 0, child.stderr.read()
        if "holder(" in CASES[case] or "clean" in CASES[case]:
            assert "clean" in rest and "second f ran" not in rest, rest
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


if __name__ == "__main__":
    from pytest_main import main

    sys.exit(main(__file__))
