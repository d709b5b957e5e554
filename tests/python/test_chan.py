"""contend.Chan and contend.select: queue.Queue's verbs with Go's close and
select; a Hypothesis model test against a queue.Queue-like model; refcounts;
the _native.pyi stubs of Chan."""

from __future__ import annotations

import gc
import queue
import sys
import threading

import pytest
from hypothesis import given, settings, strategies as st

import contend
from sync_testing import examples, wait_parked

LONG = 30.0  # "must complete" waits: generous, never a pass/fail timing


def thread(fn, *args):
    t = threading.Thread(target=fn, args=args, daemon=True)
    t.start()
    return t


# ------------------------------------------------------------------ queue verbs


def test_fifo_and_sizes():
    ch = contend.Chan(3)
    assert ch.capacity == 3 and ch.qsize() == 0 and ch.empty() and not ch.full()
    for i in range(3):
        ch.put(i)
    assert ch.qsize() == 3 and ch.full()
    with pytest.raises(queue.Full):
        ch.put_nowait(9)
    with pytest.raises(queue.Full):
        ch.put(9, timeout=0.01)
    assert [ch.get(), ch.get_nowait(), ch.get(timeout=1)] == [0, 1, 2]
    with pytest.raises(queue.Empty):
        ch.get_nowait()
    with pytest.raises(queue.Empty):
        ch.get(timeout=0.01)
    with pytest.raises(queue.Empty):
        ch.get(block=False)


def test_close_drains_then_raises():
    ch = contend.Chan(4)
    ch.put("a")
    ch.put("b")
    ch.close()
    assert ch.closed
    with pytest.raises(contend.ChanClosed):
        ch.put("c")
    with pytest.raises(contend.ChanClosed):
        ch.put_nowait("c")
    assert ch.get() == "a"
    assert ch.get_nowait() == "b"
    for _ in range(2):  # stays closed and drained
        with pytest.raises(contend.ChanClosed):
            ch.get()
        with pytest.raises(contend.ChanClosed):
            ch.get_nowait()
    with pytest.raises(contend.ChanClosed):
        ch.close()


def test_iteration_until_closed_and_drained():
    ch = contend.Chan(2)
    got = []
    t = thread(lambda: got.extend(ch))
    for i in range(50):
        ch.put(i)
    ch.close()
    t.join(LONG)
    assert got == list(range(50))


def test_unbuffered_put_waits_for_a_consumer():
    ch = contend.Chan()
    assert ch.capacity == 0 and ch.full()
    with pytest.raises(queue.Full):
        ch.put_nowait(1)  # nobody is receiving
    done = threading.Event()
    t = thread(lambda: (ch.put("x"), done.set()))
    wait_parked(ch, 1)
    assert not done.is_set()
    assert ch.get() == "x"
    assert done.wait(LONG)
    t.join(LONG)


def test_close_wakes_blocked_get_and_put():
    ch = contend.Chan()
    errors = []

    def getter():
        try:
            ch.get()
        except contend.ChanClosed as e:
            errors.append(("get", e))

    def putter():
        try:
            ch.put(object())
        except contend.ChanClosed as e:
            errors.append(("put", e))

    ts = [thread(getter)]
    wait_parked(ch, 1)
    ch.close()
    ts[0].join(LONG)
    ch2 = contend.Chan()
    ch = ch2
    ts.append(thread(putter))
    wait_parked(ch, 1)
    ch.close()
    ts[1].join(LONG)
    assert [k for k, _ in errors] == ["get", "put"]
    assert "put on closed channel" in str(errors[1][1])


def test_bad_arguments():
    with pytest.raises(ValueError):
        contend.Chan(-1)
    ch = contend.Chan(1)
    with pytest.raises(ValueError):
        ch.put(1, timeout=-1)
    with pytest.raises(ValueError):
        ch.get(timeout=-1)
    with pytest.raises(TypeError):
        contend.select(ch)
    with pytest.raises(ValueError):
        contend.select()


def test_many_producers_and_consumers():
    ch = contend.Chan(4)
    got = []
    lock = threading.Lock()

    def consume():
        for v in ch:
            with lock:
                got.append(v)

    consumers = [thread(consume) for _ in range(3)]
    producers = [thread(lambda p=p: [ch.put((p, i)) for i in range(200)])
                 for p in range(3)]
    for t in producers:
        t.join(LONG)
    ch.close()
    for t in consumers:
        t.join(LONG)
    assert sorted(got) == sorted((p, i) for p in range(3) for i in range(200))


# ------------------------------------------------------------------- refcounts


def test_refcounts_balanced():
    item = object()
    base = sys.getrefcount(item)
    ch = contend.Chan(4)
    ch.put(item)
    ch.put(item)
    assert sys.getrefcount(item) == base + 2
    with pytest.raises(queue.Full):
        full = contend.Chan(0)
        full.put(item, block=False)  # a failed put keeps no reference
    assert sys.getrefcount(item) == base + 2
    assert ch.get() is item
    assert sys.getrefcount(item) == base + 1
    out = contend.Chan(0)
    assert contend.select(contend.send(out, item), block=False) == (None, None)
    assert sys.getrefcount(item) == base + 1
    del ch  # the item still in the buffer is released with the channel
    gc.collect()
    assert sys.getrefcount(item) == base


# ---------------------------------------------------------------------- select


def test_select_default_timeout_and_ready_cases():
    a, b = contend.Chan(1), contend.Chan(1)
    assert contend.select(contend.recv(a), contend.recv(b), block=False) == (None, None)
    assert contend.select(contend.recv(a), timeout=0.01) == (None, None)
    b.put("B")
    assert contend.select(contend.recv(a), contend.recv(b)) == (1, "B")
    assert contend.select(contend.recv(a), contend.send(b, "x")) == (1, None)
    assert b.get_nowait() == "x"


def test_select_send_only_if_chosen():
    a, b = contend.Chan(1), contend.Chan(1)
    b.put("full")
    i, item = contend.select(contend.send(a, "to-a"), contend.send(b, "to-b"))
    assert (i, item) == (0, None)
    assert a.get_nowait() == "to-a" and b.get_nowait() == "full"


def test_select_closed_channel():
    done, out = contend.Chan(), contend.Chan()
    done.close()
    assert contend.select(contend.recv(done)) == (0, contend.CLOSED)
    with pytest.raises(contend.ChanClosed):
        contend.select(contend.send(done, 1))
    # A blocked select woken by close().
    res = []
    t = thread(lambda: res.append(contend.select(contend.recv(out), contend.recv(contend.Chan()))))
    wait_parked(out, 1)
    out.close()
    t.join(LONG)
    assert res == [(0, contend.CLOSED)]


def test_select_blocked_send_woken_by_close_raises():
    out = contend.Chan()
    err = []

    def sender():
        try:
            contend.select(contend.send(out, 1))
        except contend.ChanClosed as e:
            err.append(e)

    t = thread(sender)
    wait_parked(out, 1)
    out.close()
    t.join(LONG)
    assert len(err) == 1


def test_select_is_fair():
    a, b = contend.Chan(1000), contend.Chan(1000)
    for i in range(1000):
        a.put(i)
        b.put(i)
    counts = [0, 0]
    for _ in range(1000):
        i, _item = contend.select(contend.recv(a), contend.recv(b))
        counts[i] += 1
    assert min(counts) > 350  # expected 500; sigma ~16


def test_select_woken_by_either_channel():
    a, b = contend.Chan(), contend.Chan()
    res = []
    t = thread(lambda: res.append(contend.select(contend.recv(a), contend.recv(b))))
    wait_parked(a, 1)  # a select parks under its first channel case
    b.put("hi")
    t.join(LONG)
    assert res == [(1, "hi")]
    assert a.empty() and not a._native._parked() and not b._native._parked()


# ------------------------------------------------------------------ model test


class Model:
    """queue.Queue-like model of a buffered channel, single-threaded."""

    def __init__(self, capacity):
        self.capacity, self.items, self.closed = capacity, [], False

    def put(self, item):
        if self.closed:
            return "closed"
        if len(self.items) == self.capacity:
            return "full"
        self.items.append(item)
        return None

    def get(self):
        if self.items:
            return ("item", self.items.pop(0))
        return ("closed", None) if self.closed else ("empty", None)

    def close(self):
        if self.closed:
            return "closed"
        self.closed = True
        return None


OPS = st.lists(st.one_of(st.tuples(st.just("put"), st.integers()),
                         st.just(("get",)), st.just(("close",)),
                         st.just(("select_get",)),
                         st.tuples(st.just("select_put"), st.integers())),
               max_size=40)


@settings(max_examples=examples(60), deadline=None)
@given(capacity=st.integers(1, 4), ops=OPS)
def test_matches_the_queue_model(capacity, ops):
    ch, m = contend.Chan(capacity), Model(capacity)
    for op in ops:
        if op[0] in ("put", "select_put"):
            want = m.put(op[1])
            try:
                if op[0] == "put":
                    ch.put_nowait(op[1])
                    got = None
                else:
                    got = None if contend.select(contend.send(ch, op[1]),
                                                 block=False)[0] == 0 else "full"
            except queue.Full:
                got = "full"
            except contend.ChanClosed:
                got = "closed"
            assert got == want
        elif op[0] in ("get", "select_get"):
            want = m.get()
            if op[0] == "get":
                try:
                    got = ("item", ch.get_nowait())
                except queue.Empty:
                    got = ("empty", None)
                except contend.ChanClosed:
                    got = ("closed", None)
            else:
                i, item = contend.select(contend.recv(ch), block=False)
                got = (("empty", None) if i is None else
                       ("closed", None) if item is contend.CLOSED else ("item", item))
            assert got == want
        else:
            try:
                ch.close()
                got = None
            except contend.ChanClosed:
                got = "closed"
            assert got == m.close()
        assert ch.qsize() == len(m.items) and ch.closed == m.closed


# ----------------------------------------------------------------------- stubs


def test_native_chan_stubs_match_the_module():
    import ast
    import pathlib

    from contend import _native

    tree = ast.parse(pathlib.Path(contend.__file__).with_name("_native.pyi").read_text())
    stub = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Chan")
    stubbed = {n.name for n in stub.body
               if isinstance(n, ast.FunctionDef) and n.name != "__init__"}
    methods = {m for m in vars(_native.Chan) if not m.startswith("__")}
    assert stubbed == methods
    funcs = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    assert "chan_select" in funcs and hasattr(_native, "chan_select")


if __name__ == "__main__":
    from pytest_main import main

    sys.exit(main(__file__))
