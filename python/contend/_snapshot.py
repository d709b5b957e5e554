"""Snapshot: the typed layer over contend._native.Snapshot."""

from __future__ import annotations

from typing import Callable, Generic, TypeVar

from contend import _native

__all__ = ["Snapshot"]

T = TypeVar("T")


class Snapshot(Generic[T]):
    """A cell holding one value that readers load and writers replace whole
    (C++ contend::Snapshot<T>; Go's atomic.Pointer used copy-on-write).

    Treat the value as immutable: :meth:`load` returns the very object that
    was stored, so a change to it is seen by every reader without any
    ordering. Replace it instead (:meth:`store`, :meth:`update`,
    :meth:`compare_and_swap`). A replaced value is released soon after no
    reader can still see it (hazard pointers); its last reference is dropped
    with the GIL held, at the end of a later Snapshot call on any Python
    thread, never inside the C++ reclamation itself.

    ``update(f)`` calls ``f(current)`` and publishes its result unless another
    writer got there first, in which case it calls ``f`` again on the newer
    value: ``f`` must be free of side effects beyond its return value.
    ``compare_and_swap(expected, desired)`` compares by identity (``is``).
    """

    def __init__(self, value: T) -> None:
        self._native = _native.Snapshot(value)

    def load(self) -> T:
        """The current value."""
        return self._native.load()  # type: ignore[no-any-return]

    def store(self, value: T) -> None:
        """Publishes ``value``."""
        self._native.store(value)

    def compare_and_swap(self, expected: T, desired: T) -> bool:
        """Publishes ``desired`` iff the current value is ``expected``."""
        return self._native.compare_and_swap(expected, desired)

    def update(self, f: Callable[[T], T]) -> None:
        """Publishes ``f(current)``, retrying on a concurrent write."""
        self._native.update(f)
