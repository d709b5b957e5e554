"""contend.ResourcePool from Python: pooling Python objects made by a Python
factory that the pool calls from its own threads, and a Hypothesis model of
the stats invariants."""

import gc
import threading

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (RuleBasedStateMachine, invariant, precondition,
                                 rule)

import contend
from sync_testing import examples, wait_parked, wait_until


class Conn:
    """A fake connection: counts its creations and destructions."""

    made = 0

    def __init__(self):
        Conn.made += 1
        self.id = Conn.made
        self.thread = threading.get_ident()
        self.closed = False
        self.healthy = True


def test_with_acquire_reuses_one_object():
    pool = contend.ResourcePool(Conn, max_open=2)
    with pool.acquire(timeout=5) as a:
        pass
    with pool.acquire(timeout=5) as b:
        assert b is a
    s = pool.stats()
    assert isinstance(s, contend.ResourcePoolStats)
    assert (s.open, s.idle, s.in_use, s.creates) == (1, 1, 0, 1)
    pool.close()


def test_factory_runs_on_the_pools_thread_with_the_gil():
    """The factory is Python code called from a C++ creator thread: it must
    hold the GIL there (it allocates Python objects and runs bytecode)."""
    pool = contend.ResourcePool(Conn, max_open=1)
    with pool.acquire(timeout=5) as c:
        assert c.thread != threading.get_ident()
    pool.close()


def test_exhausted_pool_times_out_and_counts_it():
    pool = contend.ResourcePool(Conn, max_open=1)
    lease = pool.acquire(timeout=5)
    with pytest.raises(TimeoutError, match="contend: ResourcePool::acquire"):
        pool.acquire(timeout=0.02)
    with pytest.raises(TimeoutError):
        pool.acquire(timeout=0)
    assert pool.stats().acquire_timeouts == 2
    lease.release()
    lease.release()  # idempotent
    assert not lease.active
    with pytest.raises(ValueError, match="the lease was released"):
        lease.value
    pool.close()


def test_mark_broken_destroys_and_the_hook_runs():
    destroyed = []
    pool = contend.ResourcePool(Conn, max_open=1, destroy=destroyed.append)
    lease = pool.acquire(timeout=5)
    first = lease.value
    lease.mark_broken()
    lease.release()
    assert destroyed == [first]
    with pool.acquire(timeout=5) as c:
        assert c is not first
    assert pool.stats().closed_broken == 1
    pool.close()
    assert len(destroyed) == 2  # close() destroys the idle one


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_health_check_false_or_raising_means_broken():
    def check(c):
        if c.healthy is None:
            raise RuntimeError("check failed")  # reported as unraisable
        return c.healthy

    pool = contend.ResourcePool(Conn, max_open=1, health_check=check)
    with pool.acquire(timeout=5) as c:
        c.healthy = False
    with pool.acquire(timeout=5) as d:
        assert d is not c
        d.healthy = None
    with pool.acquire(timeout=5) as e:
        assert e is not d
    assert pool.stats().closed_broken == 2
    pool.close()


def test_factory_error_reaches_the_waiter():
    calls = []

    def factory():
        calls.append(1)
        raise OSError("backend down")

    pool = contend.ResourcePool(factory, max_open=1)
    with pytest.raises(contend.PoolCreateError, match="OSError: backend down"):
        pool.acquire(timeout=5)
    s = pool.stats()
    assert (s.create_failures, s.open, len(calls)) == (1, 0, 1)
    pool.close()


def test_hijack_takes_it_out():
    destroyed = []
    pool = contend.ResourcePool(Conn, max_open=1, destroy=destroyed.append)
    lease = pool.acquire(timeout=5)
    c = lease.hijack()
    assert isinstance(c, Conn)
    assert pool.stats().open == 0
    with pool.acquire(timeout=5) as d:
        assert d is not c
    pool.close()
    assert c not in destroyed


def test_closed_pool_fails_acquires_and_wakes_waiters():
    pool = contend.ResourcePool(Conn, max_open=1)
    lease = pool.acquire(timeout=5)
    errors = []

    def waiter():
        try:
            pool.acquire()
        except contend.PoolClosedError as e:
            errors.append(e)

    t = threading.Thread(target=waiter)
    t.start()
    wait_parked(pool, 1)
    closer = threading.Thread(target=pool.close)
    closer.start()
    t.join(10)
    assert len(errors) == 1
    lease.release()  # close() was waiting for it
    closer.join(10)
    assert not closer.is_alive()
    with pytest.raises(contend.PoolClosedError):
        pool.acquire(timeout=0)


def test_bad_options_raise():
    with pytest.raises(ValueError, match="contend: ResourcePool"):
        contend.ResourcePool(Conn, max_open=0)
    with pytest.raises(ValueError):
        contend.ResourcePool(Conn, max_open=2, min_idle=3)


def test_threads_share_a_bounded_pool():
    """8 threads x 100 acquire/use/release through 3 objects: never more than
    3 exist, every use is exclusive, the counts add up."""
    pool = contend.ResourcePool(Conn, max_open=3, max_concurrent_creates=2)
    holders = {}
    lock = threading.Lock()
    problems = []

    def worker():
        for _ in range(100):
            with pool.acquire(timeout=30) as c:
                with lock:
                    if c.id in holders:
                        problems.append("shared")
                    holders[c.id] = True
                    if len(holders) > 3:
                        problems.append("over max_open")
                with lock:
                    del holders[c.id]
            s = pool.stats()
            if s.open != s.idle + s.in_use:
                problems.append(s)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not problems
    s = pool.stats()
    assert s.open <= 3 and s.creates == s.open and s.in_use == 0
    pool.close()


def test_pool_and_leases_die_in_any_order():
    destroyed = []
    pool = contend.ResourcePool(Conn, max_open=2, destroy=destroyed.append)
    lease = pool.acquire(timeout=5)
    del pool  # the lease keeps the pool alive
    gc.collect()
    assert lease.value.id > 0
    del lease  # releases, then the pool goes (closing: destroys the idle one)
    gc.collect()
    wait_until(lambda: len(destroyed) == 1, "the pool destroyed its object")


class PoolModel(RuleBasedStateMachine):
    """Drives one pool from the main thread and checks every stats() against
    a model: open == idle + in_use, creates - closed - hijacked == open,
    in_use == leases out, factory and destroy calls match the counters."""

    MAX_OPEN = 3
    MAX_IDLE = 2

    def __init__(self):
        super().__init__()
        self.factory_calls = 0
        self.destroyed = 0
        self.fail_next = False
        self.pool = contend.ResourcePool(
            self.factory, max_open=self.MAX_OPEN, max_idle=self.MAX_IDLE,
            destroy=self.destroy)
        self.leases = []
        self.idle = 0
        self.creates = self.failures = self.timeouts = self.waits = 0
        # A timed-out acquire with a tiny timeout may find its deadline
        # already passed (then it never queues): wait_count is in a range.
        self.maybe_waits = 0
        self.closed_idle = self.broken = self.hijacked = 0

    def factory(self):
        self.factory_calls += 1
        if self.fail_next:
            self.fail_next = False
            raise ConnectionError("refused")
        return Conn()

    def destroy(self, _conn):
        self.destroyed += 1

    def open(self):
        return self.idle + len(self.leases)

    @precondition(lambda self: self.idle > 0 or self.open() < self.MAX_OPEN)
    @rule(timeout=st.sampled_from([None, 5.0]))
    def acquire(self, timeout):
        self.leases.append(self.pool.acquire(timeout=timeout))
        if self.idle > 0:
            self.idle -= 1
        else:
            self.creates += 1
            self.waits += 1

    @precondition(lambda self: self.idle > 0)
    @rule()
    def acquire_idle_without_waiting(self):
        self.leases.append(self.pool.acquire(timeout=0))
        self.idle -= 1

    @precondition(lambda self: self.idle == 0 and self.open() == self.MAX_OPEN)
    @rule(timeout=st.sampled_from([0, 0.001]))
    def acquire_exhausted(self, timeout):
        with pytest.raises(TimeoutError):
            self.pool.acquire(timeout=timeout)
        self.timeouts += 1
        if timeout > 0:
            self.maybe_waits += 1

    @precondition(lambda self: self.idle == 0 and self.open() < self.MAX_OPEN)
    @rule()
    def acquire_while_the_factory_fails(self):
        self.fail_next = True
        with pytest.raises(contend.PoolCreateError, match="ConnectionError"):
            self.pool.acquire(timeout=5)
        self.failures += 1
        self.waits += 1

    @precondition(lambda self: self.leases)
    @rule(data=st.data(), how=st.sampled_from(["release", "with", "broken",
                                               "hijack", "drop"]))
    def give_back(self, data, how):
        lease = self.leases.pop(data.draw(st.integers(0, len(self.leases) - 1)))
        if how == "hijack":
            lease.hijack()
            self.hijacked += 1
            return
        if how == "broken":
            lease.mark_broken()
            lease.release()
            self.broken += 1
            return
        if how == "with":
            with lease:
                pass
        elif how == "release":
            lease.release()
        else:
            del lease
            gc.collect()
        if self.idle >= self.MAX_IDLE:
            self.closed_idle += 1
        else:
            self.idle += 1

    @invariant()
    def stats_match_the_model(self):
        s = self.pool.stats()
        assert s.open == s.idle + s.in_use
        closed = (s.closed_max_idle + s.closed_max_idle_time
                  + s.closed_max_lifetime + s.closed_broken)
        assert s.creates - closed - self.hijacked == s.open
        assert (s.open, s.idle, s.in_use) == (self.open(), self.idle,
                                              len(self.leases))
        assert (s.creates, s.create_failures) == (self.creates, self.failures)
        assert (s.closed_max_idle, s.closed_broken) == (self.closed_idle,
                                                        self.broken)
        assert s.acquire_timeouts == self.timeouts
        assert self.waits <= s.wait_count <= self.waits + self.maybe_waits
        assert (s.creating, s.waiters, s.canceled_acquires) == (0, 0, 0)
        assert self.factory_calls == s.creates + s.create_failures
        assert self.destroyed == closed
        assert s.max_open == self.MAX_OPEN

    def teardown(self):
        for lease in self.leases:
            lease.release()
        self.pool.close()
        assert self.destroyed == self.creates - self.hijacked


TestPoolModel = PoolModel.TestCase
TestPoolModel.settings = settings(max_examples=examples(15),
                                  stateful_step_count=20)


if __name__ == "__main__":
    import sys

    from pytest_main import main

    sys.exit(main(__file__))
