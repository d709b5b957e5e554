"""Model-based tests of Semaphore, WaitGroup and Cond: Hypothesis drives each
primitive from several worker threads (sync_testing.Worker) and checks every
step against a model, with plain, timed and expiring ("cancelled": Python's
form of a cancelled wait is a timeout) operations.

No step is ordered by the clock. After every step the machine waits for the
state the model predicts: each completion the model grants must arrive
(within STATE_TIMEOUT, else "lost wakeup"), and every waiter the model says
is still blocked must be parked in the ParkingLot (the primitive's native
``_parked()`` count) -- a waiter that is parked cannot complete without a
wake-up, so "it did not complete" is exact, not a guess after a window.
Preconditions (not early returns) keep every rule legal.
"""

from __future__ import annotations

import sys

from hypothesis import settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

import contend
from sync_testing import STATE_TIMEOUT, Worker, examples, wait_parked

N_WORKERS = 3
EXPIRE = 0.005  # a timed wait the model says must expire (nothing can wake it)


class _Machine(RuleBasedStateMachine):
    primitive: object

    def __init__(self) -> None:
        super().__init__()
        self.w = [Worker(i) for i in range(N_WORKERS)]

    def idle(self) -> list[int]:
        return [i for i, wk in enumerate(self.w) if wk.pending is None]

    def blocked(self) -> list[int]:
        return [i for i, wk in enumerate(self.w) if wk.pending is not None]

    def complete(self, i: int, what: str) -> object:
        tag = self.w[i].poll(STATE_TIMEOUT)
        assert tag is not None, f"lost wakeup: worker {i} ({what}) never completed"
        return self.w[i].value

    def run_now(self, i: int, tag: str, fn) -> object:
        """A command that must complete without anyone else's help."""
        self.w[i].submit(tag, fn)
        return self.complete(i, tag)

    def expect_parked(self, n: int) -> None:
        wait_parked(self.primitive, n)
        for i in self.blocked():
            assert self.w[i].poll(0) is None, (
                f"worker {i} completed {self.w[i].pending} that the model says blocks")

    def teardown(self) -> None:
        for wk in self.w:
            if wk.pending is None:
                wk.stop()


# ----------------------------------------------------------------- Semaphore

CAPACITY = 3


class SemaphoreModel(_Machine):
    """Weighted, strict FIFO: the head request is granted when enough tokens
    are free; later requests wait behind it even if they would fit."""

    def __init__(self) -> None:
        super().__init__()
        self.primitive = self.sem = contend.Semaphore(CAPACITY)
        self.free = CAPACITY
        self.queue: list[tuple[int, int]] = []  # (worker, n), FIFO

    def grant(self) -> None:
        while self.queue and self.queue[0][1] <= self.free:
            i, n = self.queue.pop(0)
            self.complete(i, f"acquire(n={n})")
            self.free -= n
        self.expect_parked(len(self.queue))

    @precondition(lambda self: self.idle())
    @rule(data=st.data(), n=st.integers(1, CAPACITY))
    def acquire(self, data, n):
        i = data.draw(st.sampled_from(self.idle()))
        self.w[i].submit("acquire", lambda: self.sem.acquire(n=n))
        self.queue.append((i, n))
        self.grant()

    @precondition(lambda self: self.idle())
    @rule(data=st.data(), n=st.integers(1, CAPACITY), timed=st.booleans())
    def try_or_expire(self, data, n, timed):
        # acquire(False) or acquire(timeout=EXPIRE): granted at once iff nobody
        # is queued and n tokens are free; otherwise it must give up holding
        # nothing (nothing can release while the machine waits for it).
        i = data.draw(st.sampled_from(self.idle()))
        call = ((lambda: self.sem.acquire(timeout=EXPIRE, n=n)) if timed
                else (lambda: self.sem.acquire(False, n=n)))
        got = self.run_now(i, "try", call)
        want = not self.queue and n <= self.free
        assert got is want, f"acquire(n={n}, timed={timed}) -> {got}, model {want}"
        if got:
            self.free -= n
        self.expect_parked(len(self.queue))

    @precondition(lambda self: self.free < CAPACITY)
    @rule(data=st.data())
    def release(self, data):
        # Tokens have no owner: the machine's thread gives them back.
        n = data.draw(st.integers(1, CAPACITY - self.free))
        self.sem.release(n)
        self.free += n
        self.grant()

    @precondition(lambda self: self.free == CAPACITY and self.idle())
    @rule()
    def over_release_raises(self):
        try:
            self.sem.release(1)
        except ValueError:
            return
        raise AssertionError("release beyond capacity did not raise ValueError")

    @invariant()
    def tokens(self):
        assert self.sem.available == self.free

    def teardown(self) -> None:
        while self.queue:  # liveness: releasing everything drains the queue
            self.sem.release(CAPACITY - self.free)
            self.free = CAPACITY
            self.grant()
        super().teardown()


# ----------------------------------------------------------------- WaitGroup


class WaitGroupModel(_Machine):
    def __init__(self) -> None:
        super().__init__()
        self.primitive = self.wg = contend.WaitGroup()
        self.counter = 0
        self.waiters: list[int] = []

    def settle(self) -> None:
        if self.counter == 0:
            for i in self.waiters:
                assert self.complete(i, "wait") is True
            self.waiters = []
        self.expect_parked(len(self.waiters))

    @precondition(lambda self: not self.waiters or self.counter > 0)
    @rule(k=st.integers(1, 3))
    def add(self, k):
        self.wg.add(k)
        self.counter += k
        self.settle()

    @precondition(lambda self: self.counter > 0)
    @rule()
    def done(self):
        self.wg.done()
        self.counter -= 1
        self.settle()

    @precondition(lambda self: self.counter == 0)
    @rule()
    def done_below_zero_raises(self):
        try:
            self.wg.done()
        except RuntimeError:
            return
        raise AssertionError("done() at zero did not raise")

    @precondition(lambda self: self.idle())
    @rule(data=st.data())
    def wait(self, data):
        i = data.draw(st.sampled_from(self.idle()))
        self.w[i].submit("wait", self.wg.wait)
        self.waiters.append(i)
        self.settle()

    @precondition(lambda self: self.idle())
    @rule(data=st.data())
    def wait_expiring(self, data):
        i = data.draw(st.sampled_from(self.idle()))
        got = self.run_now(i, "wait(timeout)", lambda: self.wg.wait(EXPIRE))
        assert got is (self.counter == 0)
        self.settle()

    @invariant()
    def counter_mirrors(self):
        assert self.wg.counter == self.counter

    def teardown(self) -> None:
        while self.counter:
            self.wg.done()
            self.counter -= 1
        self.settle()
        super().teardown()


# ---------------------------------------------------------------------- Cond


class CondModel(_Machine):
    """notify(n) wakes the n longest waiters; notify_all wakes all; a waiter
    holds the mutex again when it returns; a timed wait with no notify
    expires (False)."""

    def __init__(self) -> None:
        super().__init__()
        self.cond = contend.Cond()
        self.primitive = self.cond
        self.waiters: list[int] = []  # FIFO, in the order they parked

    def waiter(self) -> bool:
        with self.cond:
            ok = self.cond.wait()
            assert self.cond.mutex.locked()
            return ok

    @precondition(lambda self: self.idle())
    @rule(data=st.data())
    def wait(self, data):
        i = data.draw(st.sampled_from(self.idle()))
        self.w[i].submit("wait", self.waiter)
        self.waiters.append(i)
        self.expect_parked(len(self.waiters))  # parked in arrival order

    @rule(n=st.integers(0, N_WORKERS + 1), locked=st.booleans())
    def notify(self, n, locked):
        if locked:
            with self.cond:
                self.cond.notify(n)
        else:
            self.cond.notify(n)
        woken, self.waiters = self.waiters[:n], self.waiters[n:]
        for i in woken:
            assert self.complete(i, "wait") is True
        self.expect_parked(len(self.waiters))

    @rule()
    def notify_all(self):
        self.cond.notify_all()
        for i in self.waiters:
            assert self.complete(i, "wait") is True
        self.waiters = []
        self.expect_parked(0)

    @precondition(lambda self: self.idle())
    @rule(data=st.data())
    def wait_expiring(self, data):
        i = data.draw(st.sampled_from(self.idle()))

        def timed():
            with self.cond:
                return self.cond.wait(EXPIRE)

        assert self.run_now(i, "wait(timeout)", timed) is False
        self.expect_parked(len(self.waiters))

    @invariant()
    def mutex_free_between_steps(self):
        assert not self.cond.mutex.locked()

    def teardown(self) -> None:
        self.notify_all()
        super().teardown()


def _settings():
    return settings(max_examples=examples(25), stateful_step_count=25)


SemaphoreModel.TestCase.settings = _settings()
WaitGroupModel.TestCase.settings = _settings()
CondModel.TestCase.settings = _settings()
TestSemaphoreModel = SemaphoreModel.TestCase
TestWaitGroupModel = WaitGroupModel.TestCase
TestCondModel = CondModel.TestCase


if __name__ == "__main__":
    from pytest_main import main

    sys.exit(main(__file__))
