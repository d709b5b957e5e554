"""contend as a drop-in for threading: the same scenarios run against
threading.Lock / BoundedSemaphore / Condition / Event and against contend's
Mutex (and the two sides of RWMutex and DistributedRWMutex) / Semaphore / Cond / Event, and must give the
same results -- return values, and the exception types (and threading's
message text) for bad arguments and misuse."""

from __future__ import annotations

import sys
import threading

import pytest

import contend
from sync_testing import start, wait_until


def outcome(fn, *args, **kwargs):
    """What a call did: ("ok", value) or ("raise", exception type)."""
    try:
        return ("ok", fn(*args, **kwargs))
    except Exception as e:  # noqa: BLE001 -- the type is the result
        return ("raise", type(e))


def message(fn, *args, **kwargs) -> str:
    try:
        fn(*args, **kwargs)
    except Exception as e:  # noqa: BLE001
        return str(e)
    return ""


# The argument lists threading.Lock.acquire accepts or rejects.
LOCK_ARGS = [
    ((), {}),
    ((True,), {}),
    ((False,), {}),
    ((), {"blocking": False}),
    ((1,), {}),
    ((0,), {}),
    ((True, -1), {}),
    ((True, 0), {}),
    ((True, 0.01), {}),
    ((True, True), {}),  # a bool is an int: 1 second
    ((), {"timeout": 0.01}),
    ((False, 1), {}),  # ValueError: timeout with a non-blocking call
    ((False, -1), {}),
    ((True, -2), {}),  # ValueError: negative other than -1
    ((True, -0.5), {}),
    ((True, float("nan")), {}),
    ((True, None), {}),  # TypeError
    ((True, "1"), {}),  # TypeError
    (("x",), {}),  # TypeError
    ((None,), {}),  # TypeError
    ((1.5,), {}),  # TypeError (blocking is an int)
    ((True, threading.TIMEOUT_MAX * 2), {}),  # OverflowError
]


def _lock_sides():
    """(name, make, acquire, release, locked) for every lock-shaped side."""
    rw = contend.RWMutex

    def rw_write():
        r = rw()
        return r, r.acquire_write, r.release_write, lambda: r.write_locked

    def rw_read():
        r = rw()
        return r, r.acquire_read, r.release_read, lambda: r.readers > 0

    def mutex():
        m = contend.Mutex()
        return m, m.acquire, m.release, m.locked

    def drw_write():
        r = contend.DistributedRWMutex()
        return r, r.acquire_write, r.release_write, lambda: r.write_locked

    def drw_read():
        r = contend.DistributedRWMutex()
        return r, r.acquire_read, r.release_read, lambda: r.readers > 0

    return {"Mutex": mutex, "RWMutex.acquire_write": rw_write,
            "RWMutex.acquire_read": rw_read,
            "DistributedRWMutex.acquire_write": drw_write,
            "DistributedRWMutex.acquire_read": drw_read}


@pytest.mark.parametrize("side", sorted(_lock_sides()))
@pytest.mark.parametrize("args,kwargs", LOCK_ARGS)
def test_lock_acquire_arguments_match_threading_lock(side, args, kwargs):
    ref = threading.Lock()
    _, acquire, release, _ = _lock_sides()[side]()
    want = outcome(ref.acquire, *args, **kwargs)
    got = outcome(acquire, *args, **kwargs)
    assert got == want, f"{side}{args}{kwargs}: threading {want}, contend {got}"
    if want[0] == "ok":
        release()
    elif want[1] is not OverflowError:  # OverflowError's text varies
        assert message(ref.acquire, *args, **kwargs) in \
            message(acquire, *args, **kwargs)


@pytest.mark.parametrize("args,kwargs", [
    ((False,), {}), ((), {"blocking": False}), ((True, 0), {}),
    ((True, 0.02), {}), ((), {"timeout": 0.02}),
])
def test_acquire_of_a_held_lock_matches_threading_lock(args, kwargs):
    ref = threading.Lock()
    ref.acquire()
    mu = contend.Mutex()
    mu.acquire()
    assert outcome(mu.acquire, *args, **kwargs) == outcome(ref.acquire, *args, **kwargs)
    for cls in (contend.RWMutex, contend.DistributedRWMutex):
        rw = cls()
        start(rw.acquire_write).join(30)  # held by a thread that has ended
        assert outcome(rw.acquire_read, *args, **kwargs) == \
            outcome(ref.acquire, *args, **kwargs), cls.__name__


def test_lock_release_and_context_manager_match_threading_lock():
    for lock in (threading.Lock(), contend.Mutex()):
        assert outcome(lock.release) == ("raise", RuntimeError)
        with lock as value:
            assert value is True
            assert lock.locked()
        assert not lock.locked()
    assert "release unlocked lock" in message(contend.Mutex().release)


# ---------------------------------------------------------------- Semaphore

SEM_ARGS = [
    ((), {}),
    ((True,), {}),
    ((False,), {}),
    ((), {"blocking": False}),
    ((True, None), {}),
    ((True, 0), {}),
    ((True, -1), {}),  # threading: a negative timeout only tries
    ((), {"timeout": 0.01}),
    ((False, 1), {}),  # ValueError
]


@pytest.mark.parametrize("free", [True, False])
@pytest.mark.parametrize("args,kwargs", SEM_ARGS)
def test_semaphore_acquire_arguments_match_bounded_semaphore(free, args, kwargs):
    if not free and (args[:1] in ((), (True,)) and
                     kwargs.get("timeout", args[1] if len(args) > 1 else None) is None):
        pytest.skip("would block forever on both")
    ref = threading.BoundedSemaphore(1)
    sem = contend.Semaphore(1)
    if not free:
        ref.acquire()
        sem.acquire()
    assert outcome(sem.acquire, *args, **kwargs) == outcome(ref.acquire, *args, **kwargs)


def test_semaphore_sequence_matches_bounded_semaphore():
    def run(sem):
        out = [outcome(sem.acquire) for _ in range(2)]
        out.append(outcome(sem.acquire, False))
        out.append(outcome(sem.acquire, timeout=0.01))
        out += [outcome(sem.release) for _ in range(3)]  # the third over-releases
        out.append(outcome(sem.acquire, blocking=False))
        with sem as value:
            out.append(("with", value))
        return out

    assert run(contend.Semaphore(2)) == run(threading.BoundedSemaphore(2))
    assert "released too many times" in message(contend.Semaphore(1).release)
    assert outcome(contend.Semaphore, -1) == outcome(threading.BoundedSemaphore, -1)


def test_semaphore_weight_is_keyword_only_n():
    sem = contend.Semaphore(3)
    assert sem.acquire(n=3)
    assert sem.acquire(False, n=1) is False
    sem.release(3)
    # Semaphore(0)-style "start empty": capacity above the initial value.
    empty = contend.Semaphore(0, capacity=2)
    assert empty.acquire(False) is False
    empty.release(2)
    assert outcome(empty.release) == ("raise", ValueError)
    assert empty.acquire(n=2)


# --------------------------------------------------------------- Condition


def _conds():
    return [threading.Condition(), contend.Cond(), contend.Cond(contend.Mutex())]


def test_condition_waits_match_threading():
    def run(cond):
        out = [outcome(cond.wait, 0)]  # not held
        with cond as value:
            out.append(("with", value))
            out.append(outcome(cond.wait, 0))
            out.append(outcome(cond.wait, -1))
            out.append(outcome(cond.wait, 0.01))
            out.append(outcome(cond.wait_for, lambda: 7))
            out.append(outcome(cond.wait_for, lambda: 0, 0.01))
            out.append(outcome(cond.wait_for, lambda: [], timeout=0))
        out.append(outcome(cond.acquire, False))
        out.append(outcome(cond.release))
        return out

    results = [run(c) for c in _conds()]
    assert results[1] == results[0]
    assert results[2] == results[0]


@pytest.mark.parametrize("which", [0, 1])
def test_notify_n_wakes_n_and_notify_all_the_rest(which):
    cond = _conds()[which]
    state = {"waiting": 0, "woken": 0, "go": 0}

    def waiter():
        with cond:
            state["waiting"] += 1
            while state["go"] == 0:
                cond.wait()
            state["go"] -= 1
            state["woken"] += 1

    ts = [start(waiter) for _ in range(4)]

    def all_waiting():
        with cond:  # a waiter counted under the lock releases it only in wait()
            return state["waiting"] == 4

    wait_until(all_waiting, "4 waiters are in wait()")
    with cond:
        state["go"] = 2
        cond.notify(2)
    wait_until(lambda: state["woken"] == 2, "notify(2) woke 2 waiters")
    with cond:
        state["go"] = 2
        cond.notify_all()
    for t in ts:
        t.join(30)
    assert state["woken"] == 4


# ------------------------------------------------------------------- Event


def test_event_matches_threading():
    def run(ev):
        out = [outcome(ev.is_set), outcome(ev.wait, 0), outcome(ev.wait, 0.01),
               outcome(ev.wait, -1)]
        start(ev.set).join(30)
        out += [outcome(ev.is_set), outcome(ev.wait), outcome(ev.wait, 0),
                outcome(ev.wait, None)]
        return out

    assert run(contend.Event()) == run(threading.Event())


def test_drop_in_code_runs_unchanged():
    """A threading-style program with its imports swapped."""
    def program(Lock, Condition, Semaphore, Event):
        lock, items, done = Lock(), [], Event()
        cond, sem = Condition(Lock()), Semaphore(2)
        total = [0]

        def producer():
            for i in range(200):
                with cond:
                    items.append(i)
                    cond.notify()
            done.set()

        def consumer():
            got = 0
            while got < 100:
                with cond:
                    if not cond.wait_for(lambda: items, timeout=30):
                        raise AssertionError("consumer starved")
                    items.pop()
                got += 1
                with sem:
                    if lock.acquire(True, 30):
                        total[0] += 1
                        lock.release()

        ts = [threading.Thread(target=f) for f in (consumer, consumer, producer)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(60)
        return done.wait(30), total[0]

    want = program(threading.Lock, threading.Condition, threading.BoundedSemaphore,
                   threading.Event)
    got = program(contend.Mutex, contend.Cond, contend.Semaphore, contend.Event)
    assert got == want == (True, 200)


if __name__ == "__main__":
    from pytest_main import main

    sys.exit(main(__file__))
