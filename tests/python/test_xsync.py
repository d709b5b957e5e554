"""ErrGroup, Singleflight, LazyRetry and StopToken, checked against models
with Hypothesis. Orderings come from Events and parked counts, never sleeps."""

from __future__ import annotations

import sys
import threading
import traceback

import pytest
from hypothesis import given, settings, strategies as st

import contend
from sync_testing import STATE_TIMEOUT, examples, start, wait_parked, wait_until


class Boom(Exception):
    pass


# ------------------------------------------------------------------ ErrGroup


@settings(max_examples=examples(30))
@given(outcomes=st.lists(st.one_of(st.none(), st.integers(0, 9)), max_size=8),
       limit=st.one_of(st.none(), st.integers(1, 3)))
def test_errgroup_matches_model(outcomes, limit):
    # Model: every task runs; at most `limit` run at once; wait() raises the
    # exception of the first failing task in submission order, else returns.
    # "First" is made certain, not likely: later failing tasks raise only
    # after the group's stop was requested, i.e. after it kept the first.
    g = contend.ErrGroup(limit=limit)
    lock = threading.Lock()
    running = [0, 0]  # now, max
    ran: list[int] = []
    failing = [i for i, o in enumerate(outcomes) if o is not None]

    def task(i, outcome):
        with lock:
            running[0] += 1
            running[1] = max(running[1], running[0])
        try:
            ran.append(i)
            if outcome is not None:
                if i != failing[0]:
                    assert g.stop.wait(STATE_TIMEOUT)
                raise Boom(i)
        finally:
            with lock:
                running[0] -= 1

    for i, outcome in enumerate(outcomes):
        g.go(task, i, outcome)
    if failing:
        with pytest.raises(Boom) as info:
            g.wait(timeout=STATE_TIMEOUT)
        assert info.value.args == (failing[0],)
        assert g.stop.stop_requested
    else:
        g.wait(timeout=STATE_TIMEOUT)
        assert not g.stop.stop_requested
    assert sorted(ran) == list(range(len(outcomes)))
    if limit is not None:
        assert running[1] <= limit


def test_errgroup_reraises_with_the_task_traceback():
    def deep_failure():
        raise Boom("deep")

    g = contend.ErrGroup()
    g.go(deep_failure)
    with pytest.raises(Boom) as info:
        g.wait()
    frames = [f.name for f in traceback.extract_tb(info.value.__traceback__)]
    assert "deep_failure" in frames


def test_errgroup_cancels_tasks_that_accept_stop():
    g = contend.ErrGroup()
    saw_stop = contend.Event()

    def patient(stop):
        assert stop.wait(STATE_TIMEOUT)
        saw_stop.set()

    g.go(patient)
    g.go(lambda: (_ for _ in ()).throw(Boom("first")))
    with pytest.raises(Boom):
        g.wait(timeout=STATE_TIMEOUT)
    assert saw_stop.is_set()


def test_errgroup_try_go_respects_the_limit():
    g = contend.ErrGroup(limit=1)
    release = contend.Event()
    g.go(release.wait)
    assert g.try_go(lambda: None) is False
    release.set()
    g.wait(timeout=STATE_TIMEOUT)
    assert g.try_go(lambda: None) is True
    g.wait(timeout=STATE_TIMEOUT)
    with pytest.raises(ValueError):
        contend.ErrGroup(limit=0)


# --------------------------------------------------------------- Singleflight


@settings(max_examples=examples(30))
@given(followers=st.integers(0, 3), fail=st.booleans(), forget=st.booleans())
def test_singleflight_matches_model(followers, fail, forget):
    # Model: one leader call is in flight; `followers` join it and get its
    # outcome with shared=True; shared for the leader is (followers > 0);
    # after forget(key) a new do() runs its own call.
    sf = contend.Singleflight()
    calls = [0]
    release = contend.Event()

    def slow():
        calls[0] += 1
        release.wait()
        if fail:
            raise Boom("x")
        return 42

    results: dict[int, object] = {}

    def caller(k):
        try:
            results[k] = sf.do("key", slow)
        except Boom as e:
            results[k] = e

    leader = start(caller, 0)
    wait_parked(release, 1)  # the leader runs slow() and waits in it
    joined = [start(caller, k + 1) for k in range(followers)]
    call = sf._calls["key"]
    wait_parked(call.done, followers)
    if forget:
        sf.forget("key")
        assert sf.do("key", lambda: 7) == (7, False)
    release.set()
    for t in [leader, *joined]:
        t.join(STATE_TIMEOUT)
    assert calls[0] == 1
    for k in range(followers + 1):
        shared = followers > 0
        if fail:
            assert isinstance(results[k], Boom)
        else:
            assert results[k] == (42, shared)
    assert sf.do("key", lambda: 8) == (8, False)


# ----------------------------------------------------------------- LazyRetry


@settings(max_examples=examples(40))
@given(steps=st.lists(st.tuples(st.booleans(), st.floats(0, 3)), max_size=12),
       initial=st.floats(0.1, 1), multiplier=st.floats(1, 3))
def test_lazy_retry_matches_model(steps, initial, multiplier):
    # Each step: advance a fake clock by dt, then get() with fn failing or
    # not. Model: success is cached forever; after the k-th consecutive
    # failure get() re-raises it without calling fn until backoff(k) (no
    # jitter here) has passed.
    now = [0.0]
    outcome = [False]
    calls = [0]

    def fn():
        calls[0] += 1
        if not outcome[0]:
            raise Boom(calls[0])
        return calls[0]

    lr = contend.LazyRetry(fn, initial_backoff=initial, max_backoff=5.0,
                           multiplier=multiplier, jitter=0.0, _clock=lambda: now[0])
    value = None
    failures = 0
    retry_at = 0.0
    expected_calls = 0
    last_error = None
    for ok, dt in steps:
        now[0] += dt
        outcome[0] = ok
        if value is None and (last_error is None or now[0] >= retry_at):
            expected_calls += 1
            if ok:
                value = expected_calls
            else:
                failures += 1
                last_error = expected_calls
                retry_at = now[0] + min(5.0, initial * multiplier ** (failures - 1))
        if value is not None:
            assert lr.get() == value
        else:
            with pytest.raises(Boom) as info:
                lr.get()
            assert info.value.args == (last_error,)
        assert calls[0] == expected_calls
        assert lr.generation == expected_calls


def test_lazy_retry_attempts_never_overlap():
    entered = contend.Event()
    release = contend.Event()
    calls = [0]

    def fn():
        calls[0] += 1
        entered.set()
        release.wait()
        return "v"

    lr = contend.LazyRetry(fn)
    got: list[str] = []
    first = start(lambda: got.append(lr.get()))
    assert entered.wait(STATE_TIMEOUT)
    others = [start(lambda: got.append(lr.get())) for _ in range(3)]
    wait_until(lambda: lr._running is not None and lr._running._native._parked() == 3,
               "3 callers wait for the running attempt")
    release.set()
    for t in [first, *others]:
        t.join(STATE_TIMEOUT)
    assert got == ["v"] * 4 and calls[0] == 1
    with pytest.raises(ValueError):
        contend.LazyRetry(fn, multiplier=0.5)


def test_stop_token():
    tok = contend.StopToken()
    assert not tok.stop_requested and tok.wait(0) is False
    tok.request_stop()
    tok.request_stop()
    assert tok.stop_requested and tok.wait() is True


if __name__ == "__main__":
    from pytest_main import main

    sys.exit(main(__file__))
