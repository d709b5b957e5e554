"""KeyedMutex and KeyGuard: the typed layer over contend._native."""

from __future__ import annotations

from types import TracebackType
from typing import Hashable, Iterable, Optional, Type

from contend import _native

__all__ = ["KeyGuard", "KeyedMutex"]


class KeyGuard:
    """One or more keys of a KeyedMutex, held until released.

    Leaving the ``with`` block (normally or by an exception) or calling
    :meth:`release` releases the keys; a guard that is never released gives
    them back when it is garbage-collected. Release it on the thread that
    took it (another thread's :meth:`release` raises RuntimeError).
    """

    def __init__(self, native: _native.KeyGuard) -> None:
        self._native = native

    def release(self) -> None:
        """Releases the keys now; later calls do nothing."""
        self._native.release()

    @property
    def active(self) -> bool:
        """Whether the guard still holds its keys."""
        return self._native.active()

    def __enter__(self) -> "KeyGuard":
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.release()


class KeyedMutex:
    """A lock per key (C++ contend::KeyedMutex); keys are hashable objects.

    ``lock(key)`` excludes every other holder of ``key`` and nobody else.
    An entry exists only while some thread holds or waits for its key, so
    memory is bounded by the keys in use (:attr:`entries`), not by the keys
    ever seen. Keys are told apart by ``hash()``: two keys with equal hashes
    share one lock (they may exclude each other; never unsafe), as do keys
    beyond ``max_entries``, which share ``stripes`` hash stripes.

    Waits release the GIL; on the main thread they stay interruptible by
    Ctrl-C (except :meth:`lock_many`'s). Locking a key the calling thread
    already holds raises RuntimeError (it would deadlock).

    >>> accounts = KeyedMutex()
    >>> with accounts.lock("alice"):
    ...     accounts.entries
    1
    >>> with accounts.lock_many(["bob", "alice"]):  # any order is safe
    ...     pass
    >>> accounts.acquire("carol")
    True
    >>> accounts.release("carol")
    >>> accounts.entries
    0
    """

    def __init__(self, max_entries: int = 1 << 16, stripes: int = 64) -> None:
        if max_entries < 0 or stripes < 1:
            raise ValueError("max_entries must be >= 0 and stripes >= 1")
        self._native = _native.KeyedMutex(max_entries, stripes)

    def lock(self, key: Hashable, timeout: Optional[float] = None) -> Optional[KeyGuard]:
        """Waits for ``key`` (at most ``timeout`` seconds; None: forever).

        Returns the guard, or None if the timeout expired first.
        """
        g = self._native.lock(key, timeout)
        return None if g is None else KeyGuard(g)

    def lock_many(self, keys: Iterable[Hashable]) -> KeyGuard:
        """Locks every distinct key of ``keys`` in one global order, so calls
        naming overlapping keys in any order never deadlock each other."""
        return KeyGuard(self._native.lock_many(keys))

    def acquire(self, key: Hashable, blocking: bool = True, timeout: float = -1) -> bool:
        """threading.Lock.acquire's signature, per key; pair with :meth:`release`."""
        return self._native.acquire(key, blocking, timeout)

    def release(self, key: Hashable) -> None:
        """Releases a key this thread took with :meth:`acquire`."""
        self._native.release(key)

    @property
    def entries(self) -> int:
        """Entries alive now (keys held or waited for, outside the stripes)."""
        return self._native.entries()
