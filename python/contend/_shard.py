"""ShardedCounter, InFlight and DistributedRWMutex: the typed layer over
contend._native."""

from __future__ import annotations

from types import TracebackType
from typing import Optional, Type

from contend import _native
from contend._sync import _RWLock

__all__ = ["DistributedRWMutex", "InFlight", "ShardedCounter"]


class InFlight:
    """One unit of a ShardedCounter, given back exactly once.

    ``counter.track()`` increments the counter and returns the guard; leaving
    the ``with`` block (normally or by an exception) or calling
    :meth:`reset` decrements it. A guard that is never reset gives its unit
    back when it is garbage-collected.
    """

    def __init__(self, native: _native.InFlight) -> None:
        self._native = native

    def reset(self) -> None:
        """Gives the unit back now; later calls do nothing."""
        self._native.reset()

    @property
    def active(self) -> bool:
        """Whether the guard still holds its unit."""
        return self._native.active()

    def __enter__(self) -> "InFlight":
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.reset()


class ShardedCounter:
    """A 64-bit counter with one cache line per CPU (C++ contend::ShardedCounter).

    Updates are cheap from any number of threads; :meth:`load` sums the
    per-CPU slots and is not a snapshot while updates run. Arithmetic wraps
    modulo 2**64.

    >>> in_flight = ShardedCounter()
    >>> with in_flight.track():
    ...     in_flight.load()
    1
    >>> in_flight.load()
    0
    """

    def __init__(self) -> None:
        self._native = _native.ShardedCounter()

    def add(self, n: int) -> None:
        """Adds ``n`` (negative to subtract)."""
        self._native.add(n)

    def inc(self) -> None:
        self._native.inc()

    def dec(self) -> None:
        self._native.dec()

    def load(self) -> int:
        """The sum over the slots (not a snapshot while others update)."""
        return self._native.load()

    def take(self) -> int:
        """Returns the sum and resets it to zero (a rate counter's scrape)."""
        return self._native.take()

    @property
    def slot_count(self) -> int:
        """Number of per-CPU slots (a power of two)."""
        return self._native.slot_count()

    def track(self) -> InFlight:
        """Increments now; the returned guard decrements once (``with``)."""
        return InFlight(self._native.track())


class DistributedRWMutex(_RWLock):
    """A reader/writer lock whose uncontended read writes no shared cache
    line (C++ ``contend::DistributedRWMutex``, BRAVO): each reader claims a
    slot of its own while the lock is reader-biased; a writer revokes the
    bias and waits for the slot holders present to leave.

    The same API and rules as :class:`contend.RWMutex`: ``acquire_read`` /
    ``acquire_write`` take ``threading.Lock.acquire``'s arguments
    (``blocking=True, timeout=-1``); ``read_lock()`` / ``write_lock()`` are
    context managers (TimeoutError on timeout); taking the read lock again
    while holding it, or the write lock while reading, raises RuntimeError;
    a lock is released by the thread that acquired it. Writers never starve.

    The read hold lives in the acquiring thread's slot, so on the main thread
    a blocked ``acquire_read`` waits in 50 ms slices on that thread (Ctrl-C
    is noticed between slices) instead of on a helper thread. A lock dropped
    while another thread still holds it for reading is leaked, not released.

    In Python the interpreter's own shared state dominates a read; the lock
    pays off for native code and free-threaded builds. ``tools/lab`` measures
    it against RWMutex and Mutex (the article's postmortem workload).

    Example::

        rw = contend.DistributedRWMutex()
        with rw.read_lock():
            value = table[key]
        with rw.write_lock(timeout=1.0):
            table[key] = value
    """

    __slots__ = ()
    _NAME = "DistributedRWMutex"

    def __init__(self) -> None:
        self._native = _native.DistributedRWMutex()
