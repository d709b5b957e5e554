"""contend.Snapshot from Python: a Hypothesis state machine against a model
(one cell), identity semantics, release of replaced values (including values
retired by a thread that exited, adopted by another thread's reclamation),
and readers on several threads.
"""

from __future__ import annotations

import gc
import sys
import threading
import time
import weakref

from hypothesis import settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

import contend
from contend import _native


class Box:
    """A weak-referenceable value."""

    def __init__(self, n: int) -> None:
        self.n = n


class SnapshotModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.current = Box(0)
        self.s = contend.Snapshot(self.current)
        self.old: list[object] = []  # a load from before some writes

    @rule(n=st.integers())
    def store(self, n: int) -> None:
        self.current = Box(n)
        self.s.store(self.current)

    @rule()
    def remember(self) -> None:
        self.old.append(self.s.load())

    @rule(n=st.integers(), stale=st.booleans())
    def compare_and_swap(self, n: int, stale: bool) -> None:
        expected = self.old[-1] if stale and self.old else self.current
        desired = Box(n)
        ok = self.s.compare_and_swap(expected, desired)
        assert ok == (expected is self.current)
        if ok:
            self.current = desired

    @rule(d=st.integers(-3, 3))
    def update(self, d: int) -> None:
        seen: list[object] = []

        def f(v: Box) -> Box:
            seen.append(v)
            return Box(v.n + d)

        self.s.update(f)
        assert seen[-1] is self.current  # no concurrent writer: one call
        self.current = self.s.load()
        assert self.current.n == seen[-1].n + d

    @invariant()
    def load_is_the_model(self) -> None:
        assert self.s.load() is self.current


TestSnapshotModel = SnapshotModel.TestCase
TestSnapshotModel.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)


def _released(refs: list[weakref.ref]) -> int:
    _native._drain_released()
    gc.collect()
    return sum(r() is None for r in refs)


def test_replaced_values_are_released():
    s = contend.Snapshot(Box(-1))
    refs = []
    for i in range(1000):
        b = Box(i)
        refs.append(weakref.ref(b))
        s.store(b)
        del b
    # Reclamation is batched (a scan every >= 64 retires per thread): all but
    # the last batch and the current value are gone without any explicit drain.
    assert _released(refs) >= 1000 - 200
    del s
    # The Snapshot's own value is retired at its destruction: more stores on
    # another Snapshot push it through a scan.
    t = contend.Snapshot(0)
    for i in range(2000):
        t.store(i)
    assert _released(refs) == 1000


def test_values_retired_by_an_exited_thread_are_released():
    s = contend.Snapshot(Box(-1))
    refs = []

    def writer() -> None:
        for i in range(40):  # fewer than one batch: left for adoption
            b = Box(i)
            refs.append(weakref.ref(b))
            s.store(b)

    th = threading.Thread(target=writer)
    th.start()
    th.join()
    s.store(Box(-2))
    # join() returns before the OS thread runs its thread-local destructors,
    # which hand its retired list on; this thread's scans adopt the list once
    # it is there. Keep retiring (each round triggers scans) until then.
    deadline = time.monotonic() + 30
    while _released(refs) < 40 and time.monotonic() < deadline:
        for i in range(200):
            s.store(Box(i))
    assert _released(refs) == 40


def test_load_returns_the_stored_object_and_update_retries_on_conflict():
    v = {"limit": 10}
    s = contend.Snapshot(v)
    assert s.load() is v
    calls = []

    def f(old):
        calls.append(old)
        if len(calls) == 1:
            s.store({"limit": 11})  # a concurrent writer wins the first try
        return {**old, "limit": old["limit"] + 1}

    s.update(f)
    assert [c["limit"] for c in calls] == [10, 11]
    assert s.load() == {"limit": 12}


def test_update_propagates_exceptions_and_keeps_the_value():
    s = contend.Snapshot(1)

    def boom(_):
        raise ValueError("no")

    try:
        s.update(boom)
    except ValueError:
        pass
    else:
        raise AssertionError("update swallowed the exception")
    assert s.load() == 1


def test_readers_and_a_writer_on_threads():
    s = contend.Snapshot((0, 0))
    stop = threading.Event()
    bad = []

    def reader() -> None:
        last = 0
        while not stop.is_set():
            a, b = s.load()
            if a != b or a < last:
                bad.append((a, b, last))
            last = a

    readers = [threading.Thread(target=reader) for _ in range(3)]
    for r in readers:
        r.start()
    for i in range(1, 3000):
        s.store((i, i))
    stop.set()
    for r in readers:
        r.join()
    assert not bad
    assert s.load() == (2999, 2999)


if __name__ == "__main__":
    from pytest_main import main

    sys.exit(main(__file__))
