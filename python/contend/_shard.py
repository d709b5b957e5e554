"""ShardedCounter and InFlight: the typed layer over contend._native."""

from __future__ import annotations

from types import TracebackType
from typing import Optional, Type

from contend import _native

__all__ = ["InFlight", "ShardedCounter"]


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
