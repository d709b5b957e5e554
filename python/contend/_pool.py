"""ResourcePool: the typed layer over contend._native (pool/resource_pool.h)."""

from __future__ import annotations

import dataclasses
from types import TracebackType
from typing import Any, Callable, Generic, Optional, Type, TypeVar

from contend import _native

__all__ = [
    "PoolClosedError",
    "PoolCreateError",
    "ResourcePool",
    "ResourcePoolLease",
    "ResourcePoolStats",
]

T = TypeVar("T")


class PoolClosedError(RuntimeError):
    """acquire() on a closed pool (or one closed while the caller waited)."""


class PoolCreateError(RuntimeError):
    """The factory failed for the creation this acquire was waiting for (its
    message names the Python exception the factory raised)."""


@dataclasses.dataclass(frozen=True)
class ResourcePoolStats:
    """A snapshot taken under the pool's lock (``open == idle + in_use`` in
    every value). Field meanings as in Go's ``database/sql`` DBStats and
    puddle; ``wait_duration`` is in seconds."""

    max_open: int
    open: int
    in_use: int
    idle: int
    creating: int
    waiters: int
    wait_count: int
    wait_duration: float
    closed_max_idle: int
    closed_max_idle_time: int
    closed_max_lifetime: int
    closed_broken: int
    creates: int
    create_failures: int
    acquire_timeouts: int
    canceled_acquires: int


class ResourcePoolLease(Generic[T]):
    """One pooled object on loan. ``with lease as obj:`` releases it on leaving
    the block; :meth:`mark_broken` makes the release destroy it instead;
    :meth:`hijack` takes it out of the pool. A lease that is never released
    goes back when it is garbage-collected."""

    def __init__(self, native: Any) -> None:
        self._native = native

    @property
    def value(self) -> T:
        """The pooled object (ValueError after release)."""
        return self._native.get()

    @property
    def active(self) -> bool:
        return self._native.active()

    def mark_broken(self) -> None:
        """The release destroys the object (it is never handed out again)."""
        self._native.mark_broken()

    def release(self) -> None:
        """Gives the object back now (or destroys it if broken); later calls
        do nothing."""
        self._native.release()

    def hijack(self) -> T:
        """Takes the object out of the pool: the pool forgets it and may
        create a replacement; the destroy hook is not run for it."""
        return self._native.hijack()

    def __enter__(self) -> T:
        return self.value

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.release()


def _seconds(x: Optional[float]) -> float:
    return 0.0 if x is None else float(x)


class ResourcePool(Generic[T]):
    """A bounded pool of Python objects made by ``factory()`` (C++
    ``contend::ResourcePool``): at most ``max_open`` exist, waiters are served
    first come first served, creation happens on the pool's own threads while
    callers wait on the pool, broken objects are never handed out again.

    ``factory``, ``health_check(obj) -> bool`` and ``destroy(obj)`` are called
    from the pool's threads as well as the caller's, with the GIL taken;
    exceptions from ``health_check`` count as unhealthy and those from
    ``destroy`` are reported as unraisable. Durations are seconds (``None``:
    unlimited).

    >>> pool = ResourcePool(lambda: [], max_open=2)
    >>> with pool.acquire(timeout=1.0) as conn:
    ...     conn.append("used")
    >>> pool.stats().idle
    1
    >>> pool.close()
    """

    def __init__(
        self,
        factory: Callable[[], T],
        *,
        max_open: int = 8,
        max_idle: Optional[int] = None,
        min_idle: int = 0,
        max_lifetime: Optional[float] = None,
        max_idle_time: Optional[float] = None,
        health_check: Optional[Callable[[T], bool]] = None,
        check_on_release: bool = False,
        destroy: Optional[Callable[[T], Any]] = None,
        create_timeout: float = 30.0,
        max_concurrent_creates: int = 1,
        create_retry_backoff: float = 0.1,
        housekeeping_interval: float = 1.0,
    ) -> None:
        self._native = _native.ResourcePool(
            factory, health_check, destroy, check_on_release, max_open,
            -1 if max_idle is None else max_idle, min_idle,
            _seconds(max_lifetime), _seconds(max_idle_time), create_timeout,
            max_concurrent_creates, create_retry_backoff,
            housekeeping_interval)

    def acquire(self, timeout: Optional[float] = None) -> ResourcePoolLease[T]:
        """A lease on an idle or new object. Waits at most ``timeout`` seconds
        (``None``: forever; ``<= 0``: only an idle one) and raises
        TimeoutError then; PoolClosedError after close(); PoolCreateError
        when the creation it waited for failed. On the main thread Ctrl-C
        interrupts the wait (KeyboardInterrupt, nothing held)."""
        r = self._native.acquire(timeout)
        if not isinstance(r, tuple):
            return ResourcePoolLease(r)
        code, message = r
        if code == "DEADLINE_EXCEEDED":
            raise TimeoutError(f"contend: {message}")
        if code == "FAILED_PRECONDITION":
            raise PoolClosedError(f"contend: {message}")
        if code == "CANCELLED":  # not reachable from Python: no stop token
            raise TimeoutError(f"contend: {message}")
        raise PoolCreateError(f"contend: ResourcePool.acquire: {message}")

    def fill(self, n: int) -> None:
        """Creates objects on the calling thread until ``n`` are open (warm-up);
        raises PoolCreateError on the first failure."""
        try:
            self._native.fill(n)
        except RuntimeError as e:
            raise PoolCreateError(f"contend: ResourcePool.fill: {e}") from None

    def stats(self) -> ResourcePoolStats:
        return ResourcePoolStats(**self._native.stats())

    def close(self) -> None:
        """New and queued acquires fail, idle objects are destroyed; returns
        when every lease came back (release yours first: close() waits for
        them, and cannot be interrupted). Idempotent."""
        self._native.close()

    def __enter__(self) -> "ResourcePool[T]":
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()
