"""contend.KeyedMutex from Python: unit tests and a Hypothesis model test.

The model: each key has at most one holder (a worker thread) and a FIFO-free
set of blocked waiters. The machine drives real threads (sync_testing.Worker)
and checks every completion against it:
  * exclusion: a blocking acquisition of a held key does not complete while
    the holder keeps it (short window: can only miss a bug);
  * no lost wakeup: once the holder releases, one waiter completes (long
    timeout: noise cannot fail it);
  * try/timed acquisitions succeed iff the key is free; a held key's owner
    re-locking it, or a non-holder releasing, raises RuntimeError;
  * lock_many of free keys holds them all; entries equals the number of
    distinct keys held or waited for whenever nothing is in flight.
"""

from __future__ import annotations

import threading

import pytest
from hypothesis import settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

import contend
from sync_testing import STATE_TIMEOUT, Worker, examples, start, wait_until

N_WORKERS = 3
KEYS = ["alice", "bob", 7, ("x", 1)]  # distinct hashes
BLOCK_WINDOW = 0.03
WAKE_TIMEOUT = 20.0


def test_lock_is_a_context_manager_and_evicts():
    km = contend.KeyedMutex()
    with km.lock("k") as g:
        assert g.active
        assert km.entries == 1
    assert not g.active
    assert km.entries == 0
    g.release()  # a second release does nothing


def test_exclusion_between_threads_and_independence_of_keys():
    km = contend.KeyedMutex()
    g = km.lock(("user", 1))
    got = []
    t = start(lambda: got.append(km.lock(("user", 1)).release()))
    with km.lock(("user", 2)):  # another key is free
        pass
    wait_until(lambda: km.entries == 1 and t.is_alive(), "the waiter is blocked")
    assert not got
    g.release()
    t.join(STATE_TIMEOUT)
    assert got == [None]
    assert km.entries == 0


def test_threading_style_acquire():
    km = contend.KeyedMutex()
    assert km.acquire("a")
    assert not start_and_get(lambda: km.acquire("a", blocking=False))
    assert not start_and_get(lambda: km.acquire("a", timeout=0.01))
    with pytest.raises(RuntimeError, match="already holds"):
        km.acquire("a")
    with pytest.raises(ValueError):
        km.acquire("b", blocking=False, timeout=1)
    with pytest.raises(ValueError):
        km.acquire("b", timeout=-2)
    with pytest.raises(RuntimeError, match="did not acquire"):
        start_and_get(lambda: km.release("a"))
    km.release("a")
    with pytest.raises(RuntimeError, match="did not acquire"):
        km.release("a")
    assert km.lock("a", timeout=0) is not None  # free again (guard collected)
    assert km.entries == 0


def test_unhashable_key_is_a_type_error():
    km = contend.KeyedMutex()
    with pytest.raises(TypeError):
        km.lock([1, 2])


def test_lock_many_any_order_never_deadlocks():
    km = contend.KeyedMutex(max_entries=2, stripes=2)  # stripes too
    counts = {k: 0 for k in range(5)}

    def worker(seed: int) -> None:
        import random

        rnd = random.Random(seed)
        for _ in range(200):
            keys = rnd.sample(range(5), rnd.randint(1, 4))
            with km.lock_many(keys + keys[:1]):  # a duplicate too
                for k in keys:
                    counts[k] += 1
    threads = [start(worker, s) for s in range(4)]
    for t in threads:
        t.join(STATE_TIMEOUT)  # the watchdog: a deadlock fails here
        assert not t.is_alive(), "lock_many deadlocked"
    assert km.entries == 0


def start_and_get(fn):
    out = []
    t = threading.Thread(target=lambda: out.append(_capture(fn)))
    t.start()
    t.join(STATE_TIMEOUT)
    value, err = out[0]
    if err is not None:
        raise err
    return value


def _capture(fn):
    try:
        return fn(), None
    except BaseException as e:  # re-raised on the test's thread
        return None, e


class KeyedModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.w = [Worker(i) for i in range(N_WORKERS)]
        self.km = contend.KeyedMutex()
        self.holder: dict[object, int] = {}  # key -> worker
        self.waiting: dict[int, object] = {}  # worker -> key it blocks on
        self.guards: dict[int, list] = {i: [] for i in range(N_WORKERS)}

    def idle(self, i: int) -> bool:
        return self.w[i].pending is None

    def run(self, i: int, fn):
        self.w[i].submit("op", fn)
        try:
            tag = self.w[i].poll(WAKE_TIMEOUT)
        except BaseException:
            self.w[i].pending = None  # the op completed by raising
            raise
        assert tag == "op", f"worker {i} stuck"
        return self.w[i].value

    def held_by(self, i: int) -> list:
        return [k for k, h in self.holder.items() if h == i]

    @rule(i=st.integers(0, N_WORKERS - 1), key=st.sampled_from(KEYS))
    def try_acquire(self, i, key):
        if not self.idle(i):
            return
        if self.holder.get(key) == i:
            with pytest.raises(RuntimeError):
                self.run(i, lambda: self.km.acquire(key, blocking=False))
            return
        got = self.run(i, lambda: self.km.acquire(key, blocking=False))
        assert got == (key not in self.holder)
        if got:
            self.holder[key] = i

    @rule(i=st.integers(0, N_WORKERS - 1), key=st.sampled_from(KEYS))
    def timed_acquire_of_held_key_expires(self, i, key):
        h = self.holder.get(key)
        if not self.idle(i) or h is None or h == i:
            return
        assert self.run(i, lambda: self.km.acquire(key, timeout=0.005)) is False

    @rule(i=st.integers(0, N_WORKERS - 1), key=st.sampled_from(KEYS))
    def blocking_acquire(self, i, key):
        h = self.holder.get(key)
        if not self.idle(i) or self.held_by(i):
            return  # waiters hold nothing (teardown releases holders first)
        self.w[i].submit("acquire", lambda: self.km.acquire(key))
        if h is None and not any(k == key for k in self.waiting.values()):
            assert self.w[i].poll(WAKE_TIMEOUT) == "acquire"
            self.holder[key] = i
        else:
            assert self.w[i].poll(BLOCK_WINDOW) is None, "exclusion violated"
            self.waiting[i] = key

    @rule(i=st.integers(0, N_WORKERS - 1), data=st.data())
    def release(self, i, data):
        mine = self.held_by(i)
        if not self.idle(i) or not mine:
            return
        key = data.draw(st.sampled_from(sorted(mine, key=repr)))
        self.run(i, lambda: self.km.release(key))
        del self.holder[key]
        waiters = [j for j, k in self.waiting.items() if k == key]
        if waiters:
            # No lost wakeup: one waiter gets the key (any one).
            done = None
            for _ in range(int(WAKE_TIMEOUT / BLOCK_WINDOW)):
                for j in waiters:
                    if self.w[j].poll(BLOCK_WINDOW / len(waiters)) == "acquire":
                        done = j
                        break
                if done is not None:
                    break
            assert done is not None, "lost wakeup"
            del self.waiting[done]
            self.holder[key] = done

    @rule(i=st.integers(0, N_WORKERS - 1), keys=st.lists(st.sampled_from(KEYS), min_size=1, max_size=4))
    def lock_many_free_keys(self, i, keys):
        if not self.idle(i) or any(k in self.holder for k in keys):
            return
        if any(k in self.waiting.values() for k in keys):
            return
        g = self.run(i, lambda: self.km.lock_many(keys))
        assert g.active
        self.run(i, g.release)

    @rule(i=st.integers(0, N_WORKERS - 1))
    def non_holder_release_raises(self, i):
        free = [k for k in KEYS if self.holder.get(k) != i]
        if not self.idle(i) or not free:
            return
        with pytest.raises(RuntimeError):
            self.run(i, lambda: self.km.release(free[0]))

    @invariant()
    def entries_count_keys_in_use(self):
        if any(not self.idle(i) for i in range(N_WORKERS) if i not in self.waiting):
            return
        in_use = set(self.holder) | set(self.waiting.values())
        assert self.km.entries == len(in_use)

    def teardown(self):
        # Release everything so blocked workers finish, then stop them.
        while self.holder:
            key, i = next(iter(self.holder.items()))
            self.run(i, lambda: self.km.release(key))
            del self.holder[key]
            for j, k in list(self.waiting.items()):
                if k == key:
                    assert self.w[j].poll(WAKE_TIMEOUT) == "acquire"
                    del self.waiting[j]
                    self.holder[key] = j
                    break
        for w in self.w:
            w.stop()


KeyedModel.TestCase.settings = settings(
    max_examples=examples(15), stateful_step_count=20, deadline=None
)
TestKeyedModel = KeyedModel.TestCase
