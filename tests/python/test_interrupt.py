"""Ctrl-C works on a thread blocked in a contend call: SIGINT to a child
process blocked in each blocking call must raise KeyboardInterrupt promptly,
and an interrupted acquisition must not leak the lock."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

# How long after SIGINT the child must have reported KeyboardInterrupt. The
# bindings check signals every 50 ms; the rest is margin for a loaded machine.
PROMPT = 5.0

PRELUDE = """
import sys, threading, time
import contend
def holder(acquire, release, seconds):
    # Holds a lock on another thread for `seconds`, then releases it.
    got = threading.Event()
    def run():
        acquire(); got.set(); time.sleep(seconds); release()
    threading.Thread(target=run, daemon=True).start()
    got.wait()
"""

CASES = {
    "Event.wait": """
ev = contend.Event()
print("ready", flush=True)
try:
    ev.wait()
except KeyboardInterrupt:
    print("interrupted", flush=True)
""",
    "Mutex.acquire": """
mu = contend.Mutex()
holder(mu.acquire, mu.release, 3.0)
print("ready", flush=True)
try:
    mu.acquire()
except KeyboardInterrupt:
    print("interrupted", flush=True)
# The interrupted acquisition was given back: once the holder releases, the
# Mutex is free again.
assert mu.acquire(timeout=30), "interrupted acquisition leaked the Mutex"
mu.release()
print("clean", flush=True)
""",
    "RWMutex.write_lock": """
rw = contend.RWMutex()
holder(rw.acquire_read, rw.release_read, 3.0)
print("ready", flush=True)
try:
    with rw.write_lock():
        pass
except KeyboardInterrupt:
    print("interrupted", flush=True)
assert rw.acquire_write(timeout=30), "interrupted acquisition leaked the RWMutex"
rw.release_write()
print("clean", flush=True)
""",
    "Semaphore.acquire": """
sem = contend.Semaphore(1)
holder(sem.acquire, sem.release, 3.0)
print("ready", flush=True)
try:
    sem.acquire()
except KeyboardInterrupt:
    print("interrupted", flush=True)
assert sem.acquire(timeout=30) and sem.available == 0, "tokens leaked"
print("clean", flush=True)
""",
    "WaitGroup.wait": """
wg = contend.WaitGroup()
wg.add(1)
print("ready", flush=True)
try:
    wg.wait()
except KeyboardInterrupt:
    print("interrupted", flush=True)
""",
    "Cond.wait_for": """
cond = contend.Cond()
print("ready", flush=True)
with cond:
    try:
        cond.wait_for(lambda: False)
    except KeyboardInterrupt:
        print("interrupted", flush=True)
    assert cond.mutex.locked(), "Cond.wait_for must return with the mutex held"
""",
    "lab.run": """
print("ready", flush=True)
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
    try:
        assert child.stdout.readline().strip() == "ready", child.stderr.read()
        time.sleep(0.3)  # let it block (and move to the helper thread)
        assert child.poll() is None, "child did not block"
        sent = time.monotonic()
        child.send_signal(signal.SIGINT)
        line = child.stdout.readline().strip()
        latency = time.monotonic() - sent
        assert line == "interrupted", f"got {line!r}; stderr: {child.stderr.read()}"
        assert latency < PROMPT, f"KeyboardInterrupt took {latency:.2f}s"
        rc = child.wait(timeout=60)
        rest = child.stdout.read()
        assert rc == 0, child.stderr.read()
        if "holder(" in CASES[case]:
            assert "clean" in rest
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


if __name__ == "__main__":
    from pytest_main import main

    sys.exit(main(__file__))
