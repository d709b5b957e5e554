"""contend.ShardedCounter and contend.InFlight from Python."""

import threading

import pytest

import contend


def test_add_inc_dec_load_take():
    c = contend.ShardedCounter()
    c.add(40)
    c.inc()
    c.inc()
    c.dec()
    c.add(-10)
    assert c.load() == 31
    assert c.take() == 31
    assert c.load() == 0
    assert c.slot_count >= 1
    assert c.slot_count & (c.slot_count - 1) == 0


def test_wraps_modulo_two_to_the_64():
    c = contend.ShardedCounter()
    c.add(2**63 - 1)
    c.inc()
    assert c.load() == -(2**63)


def test_track_is_exception_safe():
    in_flight = contend.ShardedCounter()
    leaky = contend.ShardedCounter()

    def handler(i):
        with in_flight.track():
            leaky.inc()
            if i % 2 == 0:
                raise RuntimeError("upstream failed")
            leaky.dec()

    for i in range(200):
        try:
            handler(i)
        except RuntimeError:
            pass
    assert in_flight.load() == 0
    assert leaky.load() == 100  # what the guard prevents


def test_guard_reset_once_and_keeps_counter_alive():
    c = contend.ShardedCounter()
    g = c.track()
    assert g.active
    assert c.load() == 1
    g.reset()
    g.reset()
    assert not g.active
    assert c.load() == 0
    g2 = contend.ShardedCounter().track()  # counter only referenced by g2
    assert g2.active
    g2.reset()


def test_threads_lose_no_update():
    c = contend.ShardedCounter()

    def work():
        for _ in range(2000):
            c.inc()
            with c.track():
                pass

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert c.load() == 8000


def test_add_rejects_non_integers():
    with pytest.raises(TypeError):
        contend.ShardedCounter().add("1")  # type: ignore[arg-type]
