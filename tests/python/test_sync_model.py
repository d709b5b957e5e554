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

import sys
import threading
from typing import Callable

from hypothesis import settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

import contend
from sync_testing import Worker, examples, wait_parked

N_WORKERS = 3
BLOCK_WINDOW = 0.03  # seconds to watch a request that must stay blocked
WAKE_TIMEOUT = 20.0  # seconds within which a releasable waiter must proceed


EXPIRE = 0.005  # a timed wait the model says must expire


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
        """Some waiter must complete (no lost wakeup): one of `candidates`,
        which the model says can proceed, or any other pending worker whose
        completion arrives meanwhile (a grant whose thread was scheduled
        after BLOCK_WINDOW); apply() checks whichever it is."""
        deadline = WAKE_TIMEOUT
        step = 0.01
        waited = 0.0
        while waited < deadline:
            for i in candidates + [j for j in range(N_WORKERS) if j not in candidates]:
                if self.w[i].pending is None:
                    continue
                tag = self.w[i].poll(0.0)
                if tag is not None:
                    self.apply(i, tag)
                    return
            waited += step
            threading.Event().wait(step)
        raise AssertionError(
            f"lost wakeup: none of workers {candidates} proceeded within "
            f"{WAKE_TIMEOUT} s (pending: {[wk.pending for wk in self.w]})")

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
            if self.rw_writer is None:
                # A reader parked during a write hold may be granted together
                # with the claim of the writer parked before it; only a claim
                # the reader arrived behind holds it back (apply()'s check).
                writers = set(self.waiting("rw.write"))
                grantable += [r for r in self.waiting("rw.read")
                              if not self.reader_behind.get(r, set()) & writers]
            if self.ev_set:
                grantable += self.waiting("ev.wait")
            if not grantable:
                return
            self.wait_for_one(sorted(set(grantable)))

    # ---------------------------------------------------------- Mutex

    def holds_rw(self, i: int) -> bool:
        return self.rw_writer == i or i in self.rw_readers

    def idle(self) -> list[int]:
        return [i for i, wk in enumerate(self.w) if wk.pending is None]

    # Lock order Mutex before RWMutex (a worker holding the RWMutex never
    # waits for the Mutex), so the workers cannot deadlock each other.
    def may_lock_mu(self) -> list[int]:
        return [i for i in self.idle() if self.mu_holder != i and not self.holds_rw(i)]

    @precondition(lambda self: self.may_lock_mu())
    @rule(data=st.data())
    def mutex_acquire(self, data) -> None:
        i = data.draw(st.sampled_from(self.may_lock_mu()))
        self.w[i].submit("mu.acquire", self.mu.acquire)
        self.settle()

    @precondition(lambda self: self.may_lock_mu())
    @rule(data=st.data())
    def mutex_try_acquire(self, data) -> None:
        i = data.draw(st.sampled_from(self.may_lock_mu()))
        result: list[bool] = []
        self.w[i].submit("mu.try", lambda: result.append(self.mu.acquire(False)))
        assert self.w[i].poll(WAKE_TIMEOUT) == "mu.try"
        if result[0]:
            self.apply(i, "mu.acquire")
        else:
            # A failed try is legitimate only if somebody holds it or a
            # woken waiter may be taking it.
            assert self.mu_holder is not None or self.waiting("mu.acquire"), (
                "try_lock failed on a free Mutex")
        self.settle()

    @precondition(lambda self: self.mu_holder is not None and self.may_lock_mu())
    @rule(data=st.data())
    def mutex_acquire_expires(self, data) -> None:
        # Held by an idle worker: nothing can release it during the wait.
        i = data.draw(st.sampled_from(self.may_lock_mu()))
        result: list[bool] = []
        self.w[i].submit("mu.timed",
                         lambda: result.append(self.mu.acquire(timeout=EXPIRE)))
        assert self.w[i].poll(WAKE_TIMEOUT) == "mu.timed"
        assert result == [False], f"acquire(timeout) of a held Mutex -> {result}"
        self.settle()

    @precondition(lambda self: self.mu_holder is not None
                  and self.w[self.mu_holder].pending is None)
    @rule()
    def mutex_release(self) -> None:
        i = self.mu_holder
        self.mu_holder = None
        self.run_sync(i, "mu.release", self.mu.release)
        self.settle()

    # ---------------------------------------------------------- RWMutex

    def may_lock_rw(self) -> list[int]:
        return [i for i in self.idle() if not self.holds_rw(i)]

    @precondition(lambda self: self.may_lock_rw())
    @rule(data=st.data())
    def rw_write(self, data) -> None:
        i = data.draw(st.sampled_from(self.may_lock_rw()))
        if (self.rw_writer is None and self.rw_readers
                and not self.waiting("rw.write")):
            self.claimed.add(i)  # queues behind the readers, blocks new ones
        self.w[i].submit("rw.write", self.rw.acquire_write)
        self.settle()

    @precondition(lambda self: self.may_lock_rw()
                  and (self.rw_writer is not None or self.rw_readers)
                  and not self.waiting("rw.write"))
    @rule(data=st.data())
    def rw_write_expires(self, data) -> None:
        # Held by idle workers only (nobody queued): the timed write must
        # give up, and leave no claim behind that blocks new readers.
        i = data.draw(st.sampled_from(self.may_lock_rw()))
        result: list[bool] = []
        self.w[i].submit("rw.timed", lambda: result.append(
            self.rw.acquire_write(timeout=EXPIRE)))
        assert self.w[i].poll(WAKE_TIMEOUT) == "rw.timed"
        assert result == [False], f"acquire_write(timeout) of a held RWMutex -> {result}"
        self.settle()

    @precondition(lambda self: self.may_lock_rw())
    @rule(data=st.data())
    def rw_read(self, data) -> None:
        i = data.draw(st.sampled_from(self.may_lock_rw()))
        # Claimed writers must go first (writer preference).
        self.reader_behind[i] = self.claimed & set(self.waiting("rw.write"))
        self.w[i].submit("rw.read", self.rw.acquire_read)
        self.settle()

    def may_unlock_rw(self) -> list[int]:
        return [i for i in self.idle() if self.holds_rw(i)]

    @precondition(lambda self: self.may_unlock_rw())
    @rule(data=st.data())
    def rw_release(self, data) -> None:
        i = data.draw(st.sampled_from(self.may_unlock_rw()))
        if self.rw_writer == i:
            self.rw_writer = None
            self.run_sync(i, "rw.unwrite", self.rw.release_write)
            # The unlock grants the claim to a parked writer in the same step;
            # with exactly one waiting we know which.
            writers = self.waiting("rw.write")
            if len(writers) == 1:
                self.claimed.add(writers[0])
        else:
            self.rw_readers.discard(i)
            self.run_sync(i, "rw.unread", self.rw.release_read)
        self.settle()

    # ---------------------------------------------------------- Event

    @precondition(lambda self: self.idle())
    @rule(data=st.data())
    def event_wait(self, data) -> None:
        i = data.draw(st.sampled_from(self.idle()))
        self.w[i].submit("ev.wait", self.ev.wait)
        self.settle()

    @precondition(lambda self: self.idle())
    @rule(data=st.data())
    def event_wait_timed(self, data) -> None:
        i = data.draw(st.sampled_from(self.idle()))
        result: list[bool] = []
        self.w[i].submit("ev.timed", lambda: result.append(self.ev.wait(EXPIRE)))
        assert self.w[i].poll(WAKE_TIMEOUT) == "ev.timed"
        assert result == [self.ev_set], f"Event.wait(timeout) -> {result}"
        self.settle()

    @rule()
    def event_set(self) -> None:
        self.ev.set()
        self.ev_set = True
        self.settle()
        assert not self.waiting("ev.wait"), "Event.set() left a waiter blocked"

    @precondition(lambda self: self.ev_set and not self.waiting("ev.wait"))
    @rule()
    def event_renew(self) -> None:
        # Events are one-shot: start a fresh one once nobody waits.
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


class _Pick:
    """Stands in for Hypothesis's `data` in a rule called directly: every
    draw picks worker `i`."""

    def __init__(self, i: int) -> None:
        self.i = i

    def draw(self, _strategy) -> int:
        return self.i


class _GatedRead:
    """The RWMutex, except that acquire_read() returns only once `gate` is
    set: its completion reaches the machine late, as when the reader's thread
    is not scheduled within BLOCK_WINDOW on a loaded machine."""

    def __init__(self, rw, gate: threading.Event) -> None:
        self._rw = rw
        self._gate = gate

    def acquire_read(self) -> bool:
        ok = self._rw.acquire_read()
        assert self._gate.wait(WAKE_TIMEOUT), "gate never opened"
        return ok

    def __getattr__(self, name: str):
        return getattr(self._rw, name)


def test_reader_granted_with_writer_claim_completes_late(monkeypatch) -> None:
    # Writer 0 holds the RWMutex; writer 2, then reader 1 park behind it.
    # Both have starved (> 1 ms) by the time writer 0 unlocks, so the unlock
    # grants: reader 1 gets its read lock and writer 2 the claim, which waits
    # for reader 1 (rw_mutex.h, "Nobody starves for long"). Reader 1's
    # completion is held back until the machine starts waiting for a wakeup:
    # the machine must accept it, since writer 2 cannot get in before reader
    # 1 releases.
    monkeypatch.setitem(globals(), "WAKE_TIMEOUT", 5.0)
    gate = threading.Event()
    armed = [False]

    class LateReader(SyncModel):
        def wait_for_one(self, candidates: list[int]) -> None:
            if armed[0]:
                gate.set()  # reader 1's thread gets to run only now
            super().wait_for_one(candidates)

    m = LateReader()
    rw = m.rw
    try:
        m.rw_write(_Pick(0))
        assert m.rw_writer == 0
        m.rw_write(_Pick(2))
        wait_parked(rw, 1)
        m.rw = _GatedRead(rw, gate)
        m.rw_read(_Pick(1))
        wait_parked(rw, 2)
        armed[0] = True
        m.rw_release(_Pick(0))
        assert gate.is_set(), "the machine did not wait for a wakeup"
        assert m.rw_readers == {1} and m.waiting("rw.write") == [2]
        m.rw_release(_Pick(1))
        assert m.rw_writer == 2
    finally:
        gate.set()
    m.teardown()


SyncModel.TestCase.settings = settings(
    max_examples=examples(40), stateful_step_count=30)
TestSyncModel = SyncModel.TestCase


if __name__ == "__main__":
    from pytest_main import main

    sys.exit(main(__file__))
