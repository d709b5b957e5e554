"""Helpers for tests of contend's primitives: wait for a state, not for the
clock (the Python side of tests/testing/wait.h)."""

from __future__ import annotations

import threading
import time

# Long enough for a loaded 2-core machine; a failure names what it waited for.
STATE_TIMEOUT = 30.0


def start(fn, *args) -> threading.Thread:
    t = threading.Thread(target=fn, args=args, daemon=True)
    t.start()
    return t


def wait_until(predicate, what: str, timeout: float = STATE_TIMEOUT) -> None:
    """Polls ``predicate()`` until it is true; fails naming ``what`` after
    ``timeout`` seconds. The poll interval only sets how soon the state is
    seen, never whether the test passes."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting until {what}")
        time.sleep(0.001)


def wait_parked(primitive, n: int, timeout: float = STATE_TIMEOUT) -> None:
    """Waits until exactly ``n`` threads are parked on ``primitive`` (any
    contend type: its native ``_parked()`` counts the ParkingLot waiters on
    the object's keys)."""
    native = primitive._native
    last = [0]

    def parked() -> bool:
        last[0] = native._parked()
        return last[0] == n

    wait_until(parked, f"{n} thread(s) are parked on {type(primitive).__name__} "
               f"(last count: {last[0]})", timeout)


def examples(n: int) -> int:
    """``n`` Hypothesis examples under the ``ci`` profile, 10x under
    ``thorough`` (conftest.py)."""
    import os

    return n * 10 if os.environ.get("CONTEND_HYPOTHESIS_PROFILE") == "thorough" else n


class Worker:
    """A thread that runs submitted callables one at a time (model tests).

    ``submit`` hands it one command; ``poll`` returns the command's tag once
    it completed (re-raising what it raised), or None."""

    def __init__(self, index: int) -> None:
        import queue

        self.index = index
        self.commands: queue.Queue = queue.Queue()
        self.results: queue.Queue = queue.Queue()
        self.pending: str | None = None
        self.value: object = None
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while True:
            item = self.commands.get()
            if item is None:
                return
            tag, fn = item
            try:
                self.results.put((tag, fn(), None))
            except BaseException as e:  # reported to the machine
                self.results.put((tag, None, e))

    def submit(self, tag: str, fn) -> None:
        assert self.pending is None, f"worker {self.index} busy with {self.pending}"
        self.pending = tag
        self.commands.put((tag, fn))

    def poll(self, timeout: float) -> str | None:
        import queue

        try:
            tag, value, err = self.results.get(timeout=timeout)
        except queue.Empty:
            return None
        if err is not None:
            raise err
        self.pending = None
        self.value = value
        return tag

    def stop(self) -> None:
        self.commands.put(None)
        self.thread.join(timeout=STATE_TIMEOUT)
