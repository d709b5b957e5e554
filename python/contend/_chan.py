"""Chan and select: Go's channels with queue.Queue's verbs (contend::Chan).

A :class:`Chan` passes any Python objects from producers to consumers in
FIFO order, like ``queue.Queue``, plus Go's ``close`` and ``select``::

    jobs = contend.Chan(16)        # room for 16 items; Chan() is unbuffered
    jobs.put(job)                  # blocks while full
    jobs.close()                   # no more puts; consumers drain, then stop
    for job in jobs:               # get() until closed and drained
        run(job)

``select`` waits on several channel operations and performs exactly one::

    i, item = contend.select(contend.recv(jobs), contend.recv(done),
                             contend.send(results, r), timeout=1.0)
    if i is None:   ...            # nothing was ready within 1 s
    elif i == 0:    run(item)      # item came from jobs (or is CLOSED)
    elif i == 1:    return         # done was closed (item is CLOSED)
    else:           ...            # r was sent on results

Differences from ``queue.Queue`` (all of them Go's):

* ``Chan(capacity)`` is the number of items it holds; ``Chan(0)`` (the
  default) is *unbuffered*: ``put`` returns only once a consumer took the
  item. There is no unbounded channel (``queue.Queue(0)`` is unbounded).
* ``close()``: afterwards ``get`` still returns the items in the channel,
  then raises :class:`ChanClosed`; ``put`` raises :class:`ChanClosed` at
  once (Go panics: "send on closed channel"), and so does a ``put`` blocked
  when ``close()`` runs (its item was not sent). A second ``close()`` raises
  :class:`ChanClosed` too. This is ``queue.ShutDown`` of Python 3.13 with
  ``immediate=False``.
* No ``task_done``/``join`` (use a :class:`contend.WaitGroup`).

Blocking calls release the GIL while they wait; off the main thread each is
one native wait, on the main thread Ctrl-C interrupts it (KeyboardInterrupt;
nothing was sent or received then).
"""

from __future__ import annotations

import queue
from typing import Any, Generic, Iterator, Optional, Tuple, TypeVar

from contend import _native

__all__ = ["CLOSED", "Chan", "ChanClosed", "recv", "select", "send"]

T = TypeVar("T")

_OK, _NOT_READY, _CLOSED = 0, 1, 2


class ChanClosed(Exception):
    """The channel is closed: raised by ``get`` once it is closed *and*
    drained (every item put before ``close()`` was received), by ``put`` on
    a closed channel (the item was not sent), by a second ``close()``, and
    by :func:`select` when its chosen send case's channel is closed."""


class _Closed:
    __slots__ = ()

    def __repr__(self) -> str:
        return "contend.CLOSED"


#: The item :func:`select` returns for a :func:`recv` case whose channel is
#: closed and drained (Go's ``v, ok := <-ch`` with ``ok == false``).
CLOSED: Any = _Closed()


class Chan(Generic[T]):
    """A channel of Python objects (C++ ``contend::Chan``), shaped like
    ``queue.Queue``. Safe from any number of threads."""

    def __init__(self, capacity: int = 0) -> None:
        if capacity < 0:
            raise ValueError("contend: Chan: capacity must be >= 0")
        self._native = _native.Chan(capacity)

    def put(self, item: T, block: bool = True, timeout: Optional[float] = None) -> None:
        """Sends ``item``: waits while the channel is full (unbuffered: until
        a consumer takes it), up to ``timeout`` seconds (None: forever).
        Raises ``queue.Full`` if it could not send in time (or at once, with
        ``block=False``), :class:`ChanClosed` if the channel is closed."""
        _check_timeout(timeout)
        r = self._native.send(item, block, timeout)
        if r == _NOT_READY:
            raise queue.Full
        if r == _CLOSED:
            raise ChanClosed("contend: Chan.put: put on closed channel")

    def put_nowait(self, item: T) -> None:
        """``put(item, block=False)``."""
        self.put(item, block=False)

    def get(self, block: bool = True, timeout: Optional[float] = None) -> T:
        """Receives the oldest item: waits while the channel is empty, up to
        ``timeout`` seconds (None: forever). Raises ``queue.Empty`` if none
        came in time (or at once, with ``block=False``), :class:`ChanClosed`
        once the channel is closed and drained."""
        _check_timeout(timeout)
        r, item = self._native.recv(block, timeout)
        if r == _NOT_READY:
            raise queue.Empty
        if r == _CLOSED:
            raise ChanClosed("contend: Chan.get: channel closed and drained")
        return item

    def get_nowait(self) -> T:
        """``get(block=False)``."""
        return self.get(block=False)

    def close(self) -> None:
        """No more puts: blocked and later ``put`` calls raise ChanClosed;
        consumers receive what is in the channel, then ChanClosed. Raises
        :class:`ChanClosed` if already closed."""
        if self._native.close() == _CLOSED:
            raise ChanClosed("contend: Chan.close: close of closed channel")

    def qsize(self) -> int:
        """Items in the channel now (a snapshot; always 0 when unbuffered)."""
        return self._native.size()

    def empty(self) -> bool:
        """``qsize() == 0`` (a snapshot)."""
        return self.qsize() == 0

    def full(self) -> bool:
        """``qsize() == capacity`` (a snapshot; always true when unbuffered)."""
        return self.qsize() == self.capacity

    @property
    def capacity(self) -> int:
        """How many items the channel holds (0: unbuffered)."""
        return self._native.capacity()

    @property
    def closed(self) -> bool:
        """Whether close() has run."""
        return self._native.closed()

    def __iter__(self) -> Iterator[T]:
        """Receives until the channel is closed and drained."""
        while True:
            r, item = self._native.recv(True, None)
            if r == _CLOSED:
                return
            yield item

    def __repr__(self) -> str:
        return (f"contend.Chan(capacity={self.capacity}, qsize={self.qsize()}, "
                f"closed={self.closed})")


class _Case:
    __slots__ = ("_spec",)

    def __init__(self, spec: Tuple[bool, Any, Any]) -> None:
        self._spec = spec


def recv(ch: Chan[Any]) -> _Case:
    """A :func:`select` case receiving from ``ch``."""
    return _Case((False, ch._native, None))


def send(ch: Chan[T], item: T) -> _Case:
    """A :func:`select` case sending ``item`` on ``ch`` (sent only if this
    case is the one chosen)."""
    return _Case((True, ch._native, item))


def select(*cases: _Case, block: bool = True,
           timeout: Optional[float] = None) -> Tuple[Optional[int], Any]:
    """Waits until one of ``cases`` (:func:`recv` / :func:`send`) can
    proceed, performs exactly that one, and returns ``(index, item)``:
    ``index`` is its position among ``cases``; ``item`` is the received
    object for a recv case (:data:`CLOSED` if that channel is closed and
    drained: a closed channel is always ready), None for a send case.
    When several are ready, each is chosen with equal probability.

    ``block=False`` (Go's ``default:``) or a ``timeout`` (seconds) that
    passes first: returns ``(None, None)`` and nothing was sent or received.
    A chosen send case whose channel is closed raises :class:`ChanClosed`
    (nothing was sent). Any number of cases, several on one channel allowed.
    """
    _check_timeout(timeout)
    specs = []
    for c in cases:
        if not isinstance(c, _Case):
            raise TypeError("contend.select: cases are contend.recv(ch) / contend.send(ch, item)")
        specs.append(c._spec)
    if not specs:
        raise ValueError("contend.select: needs at least one case")
    i, r, item = _native.chan_select(specs, block, timeout)
    if i < 0:
        return None, None
    if r == _CLOSED:
        if specs[i][0]:
            raise ChanClosed("contend.select: send on closed channel")
        return i, CLOSED
    return i, item


def _check_timeout(timeout: Optional[float]) -> None:
    if timeout is not None and timeout < 0:
        raise ValueError("'timeout' must be a non-negative number")

