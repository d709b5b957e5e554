"""Unit and property tests of contend's Python primitives: semantics, misuse
errors, timeouts within bounds, no lost wakeups, GIL release."""

from __future__ import annotations

import sys
import threading
import time

import pytest
from hypothesis import given, settings, strategies as st

import contend
from sync_testing import start, wait_parked

# Timing bounds: a timed wait must not return before its timeout (minus clock
# granularity) and must return within SLACK seconds after it (2 noisy cores,
# other tests running in parallel).
EARLY = 0.002
SLACK = 1.5


# ------------------------------------------------------------------ Mutex


def test_mutex_context_manager_and_release_errors():
    mu = contend.Mutex()
    assert not mu.locked()
    with mu:
        assert mu.locked()
        assert mu.acquire(timeout=0) is False
    assert not mu.locked()
    with pytest.raises(RuntimeError, match="contend: Mutex.release: release unlocked lock"):
        mu.release()


def test_mutex_excludes_python_threads():
    mu = contend.Mutex("test.counter")
    inside = [0]
    counter = [0]

    def work():
        for _ in range(3000):
            with mu:
                inside[0] += 1
                assert inside[0] == 1
                counter[0] += 1
                inside[0] -= 1

    ts = [start(work) for _ in range(4)]
    for t in ts:
        t.join()
    assert counter[0] == 12000


def test_mutex_release_by_other_thread_like_threading_lock():
    mu = contend.Mutex()
    mu.acquire()
    t = start(mu.release)
    t.join()
    assert mu.acquire(timeout=1)
    mu.release()


def test_dropping_a_locked_mutex_is_harmless():
    mu = contend.Mutex()
    mu.acquire()
    del mu  # the binding unlocks before destroying (C++ forbids a locked one)


def test_mutex_blocked_acquire_releases_the_gil():
    mu = contend.Mutex()
    mu.acquire()
    progress = [0]
    t = start(mu.acquire)  # blocks without the GIL
    deadline = time.monotonic() + 0.3
    while time.monotonic() < deadline:
        progress[0] += 1  # would starve if the waiter held the GIL
    assert progress[0] > 1000
    mu.release()
    t.join(timeout=10)
    assert not t.is_alive()
    mu.release()


@pytest.mark.parametrize("bad", [-2.0, -0.5, float("nan")])
def test_bad_timeouts_raise(bad):
    # threading.Lock's rules: -1 means "no limit", other negatives are errors.
    with pytest.raises(ValueError):
        contend.Mutex().acquire(timeout=bad)
    with pytest.raises(ValueError):
        contend.RWMutex().acquire_write(timeout=bad)


def test_nan_wait_timeouts_raise():
    with pytest.raises(ValueError):
        contend.Event().wait(timeout=float("nan"))
    with pytest.raises(ValueError):
        contend.WaitGroup().wait(timeout=float("nan"))


# ---------------------------------------------------------------- RWMutex

# The reader/writer locks with RWMutex's Python API (DistributedRWMutex's own
# cases are in test_shard.py).
RW_LOCKS = [contend.RWMutex, contend.DistributedRWMutex]


@pytest.mark.parametrize("lock", RW_LOCKS, ids=lambda c: c.__name__)
def test_rwmutex_readers_share_writers_exclude(lock):
    rw = lock()
    holding = threading.Event()
    release = threading.Event()

    def reader():
        with rw.read_lock():
            holding.set()
            release.wait(10)

    t = start(reader)
    assert holding.wait(10)
    assert rw.readers == 1
    assert rw.acquire_read(timeout=0)  # a second reader gets in
    rw.release_read()
    assert rw.acquire_write(timeout=0.05) is False  # the writer does not
    with pytest.raises(TimeoutError):
        with rw.write_lock(timeout=0.05):
            pass
    release.set()
    t.join(10)
    with rw.write_lock(timeout=5):
        assert rw.write_locked
        assert rw.acquire_read(timeout=0.05) is False


def test_rwmutex_queued_writer_blocks_new_readers():
    rw = contend.RWMutex()
    rw.acquire_read()
    got_write = threading.Event()

    def writer():
        rw.acquire_write()
        got_write.set()
        rw.release_write()

    t = start(writer)
    wait_parked(rw, 1)  # the writer is queued
    # A new reader must wait behind the queued writer: writers never starve.
    reader_done = threading.Event()
    order: list[str] = []

    def late_reader():
        with rw.read_lock():
            order.append("reader" if not got_write.is_set() else "reader-after-writer")
        reader_done.set()

    r = start(late_reader)
    wait_parked(rw, 2)  # the reader is queued too, behind the writer
    assert not reader_done.is_set()
    rw.release_read()
    t.join(10)
    r.join(10)
    assert order == ["reader-after-writer"]


@pytest.mark.parametrize("lock", RW_LOCKS, ids=lambda c: c.__name__)
def test_rwmutex_misuse_raises_instead_of_deadlocking(lock):
    rw = lock()
    with pytest.raises(RuntimeError, match="not read-locked"):
        rw.release_read()
    with pytest.raises(RuntimeError, match="not write-locked"):
        rw.release_write()
    with rw.read_lock():
        with pytest.raises(RuntimeError, match="RLock recursion"):
            rw.acquire_read()
        with pytest.raises(RuntimeError, match="upgrade"):
            rw.acquire_write()


@pytest.mark.parametrize("lock", RW_LOCKS, ids=lambda c: c.__name__)
def test_rwmutex_reader_writer_stress(lock):
    rw = lock()
    state = {"writers": 0, "readers": 0, "value": 0}
    errors: list[str] = []

    def writer():
        for _ in range(300):
            with rw.write_lock():
                state["writers"] += 1
                if state["writers"] != 1 or state["readers"] != 0:
                    errors.append("writer overlap")
                state["value"] += 1
                state["writers"] -= 1

    def reader():
        for _ in range(600):
            with rw.read_lock():
                state["readers"] += 1  # GIL makes += atomic enough here
                if state["writers"] != 0:
                    errors.append("reader saw writer")
                state["readers"] -= 1

    ts = [start(writer) for _ in range(2)] + [start(reader) for _ in range(3)]
    for t in ts:
        t.join(60)
    assert not errors
    assert state["value"] == 600


# ------------------------------------------------------------------ Event


def test_event_one_shot_broadcast():
    ev = contend.Event()
    assert not ev.is_set()
    assert ev.wait(timeout=0.01) is False
    woke = []
    ts = [start(lambda: woke.append(ev.wait(timeout=30))) for _ in range(5)]
    wait_parked(ev, 5)
    ev.set()
    ev.set()  # harmless
    for t in ts:
        t.join(30)
    assert woke == [True] * 5
    assert ev.wait() is True and ev.is_set()


def test_event_handoffs_lose_no_wakeup():
    # Ping-pong through fresh Events: a lost wakeup would hang (timeout).
    rounds = 500
    pings = [contend.Event() for _ in range(rounds)]
    pongs = [contend.Event() for _ in range(rounds)]

    def other():
        for i in range(rounds):
            assert pings[i].wait(timeout=30)
            pongs[i].set()

    t = start(other)
    for i in range(rounds):
        pings[i].set()
        assert pongs[i].wait(timeout=30), f"lost wakeup at round {i}"
    t.join(30)


# ------------------------------------------------------------------- Cond


def test_cond_producer_consumer_no_lost_wakeups():
    cond = contend.Cond()
    items: list[int] = []
    got: list[int] = []
    n = 2000

    def consumer():
        for _ in range(n):
            with cond:
                assert cond.wait_for(lambda: items, timeout=30)
                got.append(items.pop(0))

    t = start(consumer)
    for i in range(n):
        with cond:
            items.append(i)
            cond.notify()
    t.join(60)
    assert got == list(range(n))


def test_cond_broadcast_wakes_all():
    cond = contend.Cond(contend.Mutex())
    flag = [False]
    woke = []

    def waiter():
        with cond:
            woke.append(cond.wait_for(lambda: flag[0], timeout=30))

    ts = [start(waiter) for _ in range(4)]
    wait_parked(cond, 4)
    with cond:
        flag[0] = True
    cond.notify_all()
    for t in ts:
        t.join(30)
    assert woke == [True] * 4


def test_cond_misuse_raises():
    cond = contend.Cond()
    with pytest.raises(RuntimeError, match="cannot wait on un-acquired lock"):
        cond.wait(timeout=0.01)


# --------------------------------------------------------------- WaitGroup


def test_wait_group_go_and_wait():
    wg = contend.WaitGroup()
    results = [0] * 8
    for i in range(8):
        wg.go(lambda i=i: results.__setitem__(i, i * i))
    assert wg.wait(timeout=30)
    assert results == [i * i for i in range(8)]
    assert wg.counter == 0


def test_wait_group_misuse_raises():
    wg = contend.WaitGroup()
    with pytest.raises(RuntimeError, match="negative counter"):
        wg.done()
    with pytest.raises(RuntimeError, match="negative counter"):
        wg.add(-1)
    wg.add(1)
    assert wg.wait(timeout=0.02) is False
    wg.done()
    assert wg.wait(timeout=0)


# --------------------------------------------------------------- Semaphore


def test_semaphore_is_fifo_for_python_waiters():
    # A large request at the head blocks later small ones even though enough
    # tokens for them are free: the head keeps its place while it waits.
    sem = contend.Semaphore(2)
    assert sem.acquire(n=2)
    big_got = threading.Event()

    def big():
        sem.acquire(n=2)
        big_got.set()

    t = start(big)
    wait_parked(sem, 1)  # big is queued at the head
    sem.release(1)  # one token free, big needs two
    assert sem.acquire(timeout=0.2) is False  # queued behind big: no barging
    sem.release(1)
    assert big_got.wait(10)
    t.join(10)
    sem.release(2)
    assert sem.available == 2


def test_semaphore_misuse_raises():
    sem = contend.Semaphore(1)
    with pytest.raises(ValueError, match="exceeds capacity"):
        sem.acquire(n=2)
    with pytest.raises(ValueError, match="negative"):
        sem.release(-1)
    with pytest.raises(ValueError, match="released too many times"):
        sem.release(1)
    with sem:
        assert sem.available == 0


# -------------------------------------------------------------------- Once


def test_once_runs_once_and_retries_after_exception():
    once = contend.Once()
    calls = []

    def boom():
        calls.append("boom")
        raise ValueError("x")

    with pytest.raises(ValueError):
        once.call(boom)
    ts = [start(once.call, lambda: calls.append("ok")) for _ in range(6)]
    for t in ts:
        t.join(10)
    once.call(lambda: calls.append("late"))
    assert calls == ["boom", "ok"]


def test_once_recursive_call_raises():
    once = contend.Once()
    seen = []

    def f():
        with pytest.raises(RuntimeError, match="recursive"):
            once.call(lambda: None)
        seen.append(1)

    once.call(f)
    assert seen == [1]


# ----------------------------------------------------- timeouts in bounds


def _held_mutex():
    mu = contend.Mutex()
    mu.acquire()
    return lambda t: mu.acquire(timeout=t)


def _on_other_thread(fn) -> None:
    t = start(fn)
    t.join(10)


def _write_locked_rw_read():
    rw = contend.RWMutex()
    _on_other_thread(rw.acquire_write)
    return lambda t: rw.acquire_read(timeout=t)


def _read_locked_rw_write():
    rw = contend.RWMutex()
    _on_other_thread(rw.acquire_read)
    return lambda t: rw.acquire_write(timeout=t)


def _unset_event():
    ev = contend.Event()
    return lambda t: ev.wait(timeout=t)


def _busy_wait_group():
    wg = contend.WaitGroup()
    wg.add(1)
    return lambda t: wg.wait(timeout=t)


def _empty_semaphore():
    sem = contend.Semaphore(1)
    sem.acquire()
    return lambda t: sem.acquire(timeout=t)


def _silent_cond():
    cond = contend.Cond()
    cond.mutex.acquire()
    return lambda t: bool(cond.wait_for(lambda: False, timeout=t))


BLOCKERS = {
    "Mutex.acquire": _held_mutex,
    "RWMutex.acquire_read": _write_locked_rw_read,
    "RWMutex.acquire_write": _read_locked_rw_write,
    "Event.wait": _unset_event,
    "WaitGroup.wait": _busy_wait_group,
    "Semaphore.acquire": _empty_semaphore,
    "Cond.wait_for": _silent_cond,
}


@settings(max_examples=25)
@given(which=st.sampled_from(sorted(BLOCKERS)),
       timeout=st.floats(min_value=0.0, max_value=0.25))
def test_timeouts_respect_both_bounds(which, timeout):
    call = BLOCKERS[which]()
    t0 = time.monotonic()
    assert call(timeout) is False
    elapsed = time.monotonic() - t0
    assert elapsed >= timeout - EARLY, f"{which} returned {timeout - elapsed:.4f}s early"
    assert elapsed <= timeout + SLACK, f"{which} overslept: {elapsed:.3f}s for {timeout}s"


# ------------------------------------------- one native wait off the main thread


def _voluntary_switches(tid: int) -> int:
    with open(f"/proc/self/task/{tid}/status") as f:
        for line in f:
            if line.startswith("voluntary_ctxt_switches:"):
                return int(line.split()[1])
    raise AssertionError("no voluntary_ctxt_switches in /proc")


def _blocked_worker_cases():
    def mutex(timed):
        mu = contend.Mutex()
        mu.acquire()
        return mu, (lambda: mu.acquire(timeout=60)) if timed else mu.acquire

    def rw_read(timed):
        rw = contend.RWMutex()
        start(rw.acquire_write).join(30)
        return rw, (lambda: rw.acquire_read(timeout=60)) if timed else rw.acquire_read

    def event(timed):
        ev = contend.Event()
        return ev, (lambda: ev.wait(60)) if timed else ev.wait

    def wait_group(timed):
        wg = contend.WaitGroup()
        wg.add(1)
        return wg, (lambda: wg.wait(60)) if timed else wg.wait

    def semaphore(timed):
        sem = contend.Semaphore(1)
        sem.acquire()
        return sem, (lambda: sem.acquire(timeout=60)) if timed else sem.acquire

    def cond(timed):
        c = contend.Cond()

        def w():
            with c:
                c.wait(60 if timed else None)
        return c, w

    return {"Mutex.acquire": mutex, "RWMutex.acquire_read": rw_read,
            "Event.wait": event, "WaitGroup.wait": wait_group,
            "Semaphore.acquire": semaphore, "Cond.wait": cond}


@pytest.mark.parametrize("timed", [False, True])
@pytest.mark.parametrize("which", sorted(_blocked_worker_cases()))
def test_blocked_worker_thread_never_wakes(which, timed):
    # Off the main thread a blocking call is one native wait: no slices, no
    # helper thread. Before, every waiter woke 20 times a second (50 ms
    # slices); Cond also re-locked its mutex on each slice.
    primitive, call = _blocked_worker_cases()[which](timed)
    tid = []
    threads_before = threading.active_count()
    t = start(lambda: (tid.append(threading.get_native_id()), call()))
    wait_parked(primitive, 1)
    before = _voluntary_switches(tid[0])
    time.sleep(0.5)  # a measurement window, not an ordering
    woke = _voluntary_switches(tid[0]) - before
    assert woke <= 1, f"{which}: the blocked worker woke {woke} times in 0.5 s"
    assert threading.active_count() == threads_before + 1
    if isinstance(primitive, contend.Cond):
        assert not primitive.mutex.locked(), "Cond.wait re-locked before it was woken"
    assert t.is_alive()


def test_cond_wait_relocks_only_when_woken():
    cond = contend.Cond()
    woke = threading.Event()

    def waiter():
        with cond:
            assert cond.wait(timeout=60)
            assert cond.mutex.locked()
            woke.set()

    t = start(waiter)
    wait_parked(cond, 1)
    with cond:  # the waiter wants the mutex back only after notify
        assert cond.mutex._native._parked() == 0
        cond.notify()
    assert woke.wait(30)
    t.join(30)


# ----------------------------------------------------------- stubs vs module


def _stub_classes():
    import ast
    import pathlib

    stub = pathlib.Path(contend.__file__).with_name("_native.pyi")
    tree = ast.parse(stub.read_text())
    out = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            # A stub class has its own methods and its stub bases' (the two
            # reader/writer locks share _RWLockBox).
            out[node.name] = {n.name for n in node.body
                              if isinstance(n, ast.FunctionDef) and n.name != "__init__"}
            for base in node.bases:
                if isinstance(base, ast.Name):
                    out[node.name] |= out.get(base.id, set())
    return out


def test_native_stubs_match_the_module():
    # _native.pyi must not drift from the bindings: every sync class and
    # method in the stub exists in the module, and vice versa.
    from contend import _native

    stubs = _stub_classes()
    for name in ("Mutex", "RWMutex", "DistributedRWMutex", "Cond", "Event",
                 "WaitGroup", "Semaphore", "Once"):
        native = getattr(_native, name)
        methods = {m for m in vars(native) if not m.startswith("__")}
        assert stubs[name] == methods, (
            f"_native.pyi {name}: stub-only {sorted(stubs[name] - methods)}, "
            f"module-only {sorted(methods - stubs[name])}")


if __name__ == "__main__":
    from pytest_main import main

    sys.exit(main(__file__))
