"""Model-based test: Hypothesis drives Mutex, RWMutex and Event from several
Python threads and checks every completion against a model.

Each worker is a real thread executing one command at a time. A rule sends a
command to a worker; the machine then collects whatever completed and checks:
  * mutual exclusion: a Mutex acquisition completes only while the model has
    no holder;
  * reader/writer exclusion: a write acquisition completes only with no
    holder at all, a read acquisition only with no writer;
  * writer preference, as contend::RWMutex states it: a writer that queued
    while the lock was read-locked (it "claimed" the lock), or that was
    granted the claim when the previous writer unlocked, is not overtaken by
    readers that arrive after the claim (readers parked during a write hold
    are legitimately released before the next writer);
  * no lost wakeups: whenever the model says some waiter can proceed, one does
    within a generous timeout (WAKE_TIMEOUT), and Event.set() releases every
    waiter.
"Must not complete" checks use a short window: on a slow machine they can
only miss a bug, never report a false one. "Must complete" checks use long
timeouts, so scheduling noise cannot fail them.
"""

from __future__ import annotations

import queue
import sys
import threading
from typing import Callable

from hypothesis import settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

import contend

N_WORKERS = 3
BLOCK_WINDOW = 0.03  # seconds to watch a request that must stay blocked
WAKE_TIMEOUT = 20.0  # seconds within which a releasable waiter must proceed


class Worker:
    """A thread that runs submitted callables one at a time."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.commands: queue.Queue = queue.Queue()
        self.results: queue.Queue = queue.Queue()
        self.pending: str | None = None
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while True:
            item = self.commands.get()
            if item is None:
                return
            tag, fn = item
            try:
                fn()
                self.results.put((tag, None))
            except BaseException as e:  # reported to the machine
                self.results.put((tag, e))

    def submit(self, tag: str, fn: Callable[[], object]) -> None:
        assert self.pending is None, f"worker {self.index} busy with {self.pending}"
        self.pending = tag
        self.commands.put((tag, fn))

    def poll(self, timeout: float) -> str | None:
        try:
            tag, err = self.results.get(timeout=timeout)
        except queue.Empty:
            return None
        if err is not None:
            raise err
        self.pending = None
        return tag

    def stop(self) -> None:
        self.commands.put(None)
        self.thread.join(timeout=WAKE_TIMEOUT)


workers_st = st.integers(min_value=0, max_value=N_WORKERS - 1)


class SyncModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.w = [Worker(i) for i in range(N_WORKERS)]
        self.mu = contend.Mutex()
        self.rw = contend.RWMutex()
        self.ev = contend.Event()
        # Model.
        self.mu_holder: int | None = None
        self.rw_writer: int | None = None
        self.rw_readers: set[int] = set()
        self.ev_set = False
        # Writer preference: writers holding a claim, and for each pending
        # reader the claimed writers it arrived behind.
        self.claimed: set[int] = set()
        self.reader_behind: dict[int, set[int]] = {}

    # ---------------------------------------------------------- plumbing

    def apply(self, i: int, tag: str) -> None:
        """Updates the model for a completion, checking the invariants."""
        if tag == "mu.acquire":
            assert self.mu_holder is None, (
                f"mutual exclusion: worker {i} acquired the Mutex held by "
                f"worker {self.mu_holder}")
            self.mu_holder = i
        elif tag == "rw.write":
            assert self.rw_writer is None and not self.rw_readers, (
                f"rw exclusion: writer {i} got in with writer={self.rw_writer} "
                f"readers={self.rw_readers}")
            self.rw_writer = i
            self.claimed.discard(i)
        elif tag == "rw.read":
            assert self.rw_writer is None, (
                f"rw exclusion: reader {i} got in with writer {self.rw_writer}")
            behind = self.reader_behind.pop(i, set())
            overtaken = behind & set(self.waiting("rw.write"))
            assert not overtaken, (
                f"writer preference: reader {i} overtook claimed writer(s) "
                f"{overtaken}")
            self.rw_readers.add(i)
        elif tag == "ev.wait":
            assert self.ev_set, f"worker {i} returned from Event.wait() before set()"
        elif tag in ("mu.release", "rw.unwrite", "rw.unread"):
            pass
        else:  # pragma: no cover
            raise AssertionError(tag)

    def collect(self, window: float) -> int:
        """Applies every completion that arrives within `window` seconds."""
        got = 0
        for i, wk in enumerate(self.w):
            if wk.pending is None:
                continue
            tag = wk.poll(window if got == 0 else 0.0)
            if tag is not None:
                self.apply(i, tag)
                got += 1
        return got

    def wait_for_one(self, candidates: list[int]) -> None:
        """At least one of `candidates` must complete (no lost wakeup)."""
        deadline = WAKE_TIMEOUT
        step = 0.01
        waited = 0.0
        while waited < deadline:
            for i in candidates:
                tag = self.w[i].poll(0.0)
                if tag is not None:
                    self.apply(i, tag)
                    return
            waited += step
            threading.Event().wait(step)
        raise AssertionError(
            f"lost wakeup: none of workers {candidates} proceeded within "
            f"{WAKE_TIMEOUT} s")

    def run_sync(self, i: int, tag: str, fn: Callable[[], object]) -> None:
        """A non-blocking command: it must complete."""
        self.w[i].submit(tag, fn)
        got = self.w[i].poll(WAKE_TIMEOUT)
        assert got == tag, f"worker {i}: {tag} did not complete"
        self.apply(i, tag)

    def waiting(self, tag: str) -> list[int]:
        return [i for i, wk in enumerate(self.w) if wk.pending == tag]

    def settle(self) -> None:
        """Drives every waiter the model can release until none can."""
        while True:
            self.collect(BLOCK_WINDOW)
            grantable: list[int] = []
            if self.mu_holder is None:
                grantable += self.waiting("mu.acquire")
            if self.rw_writer is None and not self.rw_readers:
                grantable += self.waiting("rw.write")
            if self.rw_writer is None and not (self.claimed & set(self.waiting("rw.write"))):
                grantable += self.waiting("rw.read")
            if self.ev_set:
                grantable += self.waiting("ev.wait")
            if not grantable:
                return
            self.wait_for_one(sorted(set(grantable)))

    # ---------------------------------------------------------- Mutex

    def holds_rw(self, i: int) -> bool:
        return self.rw_writer == i or i in self.rw_readers

    # Lock order Mutex before RWMutex (a worker holding the RWMutex never
    # waits for the Mutex), so the workers cannot deadlock each other.

    @rule(i=workers_st)
    def mutex_acquire(self, i: int) -> None:
        if self.w[i].pending is not None or self.mu_holder == i or self.holds_rw(i):
            return
        self.w[i].submit("mu.acquire", self.mu.acquire)
        self.settle()

    @rule(i=workers_st)
    def mutex_try_acquire(self, i: int) -> None:
        if self.w[i].pending is not None or self.mu_holder == i or self.holds_rw(i):
            return
        result: list[bool] = []
        self.w[i].submit("mu.try", lambda: result.append(self.mu.acquire(timeout=0)))
        assert self.w[i].poll(WAKE_TIMEOUT) == "mu.try"
        if result[0]:
            self.apply(i, "mu.acquire")
        else:
            # A failed try is legitimate only if somebody holds it or a
            # woken waiter may be taking it.
            assert self.mu_holder is not None or self.waiting("mu.acquire"), (
                "try_lock failed on a free Mutex")
        self.settle()

    @rule(i=workers_st)
    def mutex_release(self, i: int) -> None:
        if self.mu_holder != i or self.w[i].pending is not None:
            return
        self.mu_holder = None
        self.run_sync(i, "mu.release", self.mu.release)
        self.settle()

    # ---------------------------------------------------------- RWMutex

    @rule(i=workers_st)
    def rw_write(self, i: int) -> None:
        if (self.w[i].pending is not None or self.rw_writer == i
                or i in self.rw_readers):
            return
        if (self.rw_writer is None and self.rw_readers
                and not self.waiting("rw.write")):
            self.claimed.add(i)  # queues behind the readers, blocks new ones
        self.w[i].submit("rw.write", self.rw.acquire_write)
        self.settle()

    @rule(i=workers_st)
    def rw_read(self, i: int) -> None:
        if (self.w[i].pending is not None or self.rw_writer == i
                or i in self.rw_readers):
            return
        # Claimed writers must go first (writer preference).
        self.reader_behind[i] = self.claimed & set(self.waiting("rw.write"))
        self.w[i].submit("rw.read", self.rw.acquire_read)
        self.settle()

    @rule(i=workers_st)
    def rw_release(self, i: int) -> None:
        if self.w[i].pending is not None:
            return
        if self.rw_writer == i:
            self.rw_writer = None
            self.run_sync(i, "rw.unwrite", self.rw.release_write)
            # The unlock grants the claim to a parked writer in the same step;
            # with exactly one waiting we know which.
            writers = self.waiting("rw.write")
            if len(writers) == 1:
                self.claimed.add(writers[0])
        elif i in self.rw_readers:
            self.rw_readers.discard(i)
            self.run_sync(i, "rw.unread", self.rw.release_read)
        else:
            return
        self.settle()

    # ---------------------------------------------------------- Event

    @rule(i=workers_st)
    def event_wait(self, i: int) -> None:
        if self.w[i].pending is not None:
            return
        self.w[i].submit("ev.wait", self.ev.wait)
        self.settle()

    @rule()
    def event_set(self) -> None:
        self.ev.set()
        self.ev_set = True
        self.settle()
        assert not self.waiting("ev.wait"), "Event.set() left a waiter blocked"

    @rule()
    def event_renew(self) -> None:
        # Events are one-shot: start a fresh one once nobody waits.
        if self.ev_set and not self.waiting("ev.wait"):
            self.ev = contend.Event()
            self.ev_set = False

    # ---------------------------------------------------------- checks

    @invariant()
    def exclusion(self) -> None:
        self.claimed &= set(self.waiting("rw.write"))
        assert not (self.rw_writer is not None and self.rw_readers)
        assert self.mu.locked() == (self.mu_holder is not None) or self.waiting("mu.acquire")

    def teardown(self) -> None:
        # Release everything; every waiter must then get through (liveness).
        try:
            for _ in range(4 * N_WORKERS):
                if self.mu_holder is not None and self.w[self.mu_holder].pending is None:
                    h = self.mu_holder
                    self.mu_holder = None
                    self.run_sync(h, "mu.release", self.mu.release)
                if self.rw_writer is not None and self.w[self.rw_writer].pending is None:
                    h = self.rw_writer
                    self.rw_writer = None
                    self.run_sync(h, "rw.unwrite", self.rw.release_write)
                for r in list(self.rw_readers):
                    if self.w[r].pending is None:
                        self.rw_readers.discard(r)
                        self.run_sync(r, "rw.unread", self.rw.release_read)
                if not self.ev_set:
                    self.ev.set()
                    self.ev_set = True
                self.settle()
            assert all(wk.pending is None for wk in self.w), (
                "waiters still blocked after every lock was released: "
                + str([wk.pending for wk in self.w]))
        finally:
            for wk in self.w:
                if wk.pending is None:
                    wk.stop()


SyncModel.TestCase.settings = settings(
    max_examples=40, stateful_step_count=30, deadline=None)
TestSyncModel = SyncModel.TestCase


if __name__ == "__main__":
    from pytest_main import main

    sys.exit(main(__file__))
