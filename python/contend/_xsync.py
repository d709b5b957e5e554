"""golang.org/x/sync for Python: ErrGroup, Singleflight, LazyRetry, StopToken.

Written in Python on contend's primitives (Mutex, Event, Semaphore, WaitGroup),
with the semantics of the C++ types of the same names (sync/errgroup.h,
sync/singleflight.h, sync/lazy_retry.h): a C++ task cannot run Python code
without the GIL, so binding the C++ versions would only add a hop per task.
"""

from __future__ import annotations

import inspect
import random
import threading
import time
from typing import Any, Callable, Generic, Hashable, TypeVar

from contend._sync import Event, Mutex, Semaphore, WaitGroup

__all__ = ["ErrGroup", "LazyRetry", "Singleflight", "StopToken"]

_T = TypeVar("_T")


class StopToken:
    """A cancellation flag, the Python form of ``std::stop_token``.

    ``request_stop()`` sets it (once; later calls do nothing);
    ``stop_requested`` reads it; ``wait(timeout)`` blocks until it is set.
    """

    __slots__ = ("_event",)

    def __init__(self) -> None:
        self._event = Event()

    @property
    def stop_requested(self) -> bool:
        """True once ``request_stop()`` ran."""
        return self._event.is_set()

    def request_stop(self) -> None:
        """Requests the stop; wakes every ``wait()``."""
        self._event.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Blocks until a stop is requested (True) or ``timeout`` passed."""
        return self._event.wait(timeout)


def _accepts_stop(fn: Callable[..., Any]) -> bool:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):  # builtins without a signature
        return False
    p = params.get("stop")
    return p is not None and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)


class ErrGroup:
    """Runs tasks on threads, waits for all, keeps the first exception
    (Go's ``errgroup.Group`` with ``SetLimit``).

    ``go(fn, *args)`` starts ``fn(*args)`` on a new thread -- blocking first
    while ``limit`` tasks are running; ``try_go`` returns False instead of
    blocking. The first exception a task raises requests the group's stop
    (:attr:`stop`); a task whose ``fn`` has a ``stop`` parameter is called with
    ``stop=<the StopToken>`` so it can end early. ``wait()`` returns once every
    started task finished and re-raises the first exception, its traceback
    intact.

    Example::

        g = contend.ErrGroup(limit=4)
        for url in urls:
            g.go(fetch, url)          # def fetch(url, stop): ...
        g.wait()                      # raises fetch's first exception
    """

    def __init__(self, limit: int | None = None) -> None:
        if limit is not None and limit < 1:
            raise ValueError(f"contend: ErrGroup: limit must be >= 1 or None, got {limit}")
        self._limit = None if limit is None else Semaphore(limit)
        self._wg = WaitGroup()
        self._mu = Mutex()
        self._error: BaseException | None = None  # guarded by _mu
        self.stop = StopToken()
        """Requested when the first task raises (or by ``stop.request_stop()``)."""

    def _start(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        kwargs = {"stop": self.stop} if _accepts_stop(fn) else {}

        def task() -> None:
            try:
                fn(*args, **kwargs)
            except BaseException as e:  # noqa: BLE001 -- kept for wait()
                with self._mu:
                    if self._error is None:
                        self._error = e
                self.stop.request_stop()
            finally:
                if self._limit is not None:
                    self._limit.release()
                self._wg.done()

        self._wg.add(1)
        try:
            threading.Thread(target=task, daemon=True).start()
        except BaseException:
            if self._limit is not None:
                self._limit.release()
            self._wg.done()
            raise

    def go(self, fn: Callable[..., Any], *args: Any) -> None:
        """Starts ``fn(*args)`` as a task, waiting for a free slot first."""
        if self._limit is not None:
            self._limit.acquire()
        self._start(fn, args)

    def try_go(self, fn: Callable[..., Any], *args: Any) -> bool:
        """Starts ``fn(*args)`` only if a slot is free; False otherwise."""
        if self._limit is not None and not self._limit.acquire(False):
            return False
        self._start(fn, args)
        return True

    def wait(self, timeout: float | None = None) -> None:
        """Waits until every started task finished, then re-raises the first
        exception a task raised. TimeoutError if ``timeout`` passed first."""
        if not self._wg.wait(timeout):
            raise TimeoutError(f"contend: ErrGroup.wait: tasks still running after {timeout} s")
        with self._mu:
            error = self._error
        if error is not None:
            raise error


class _Call:
    __slots__ = ("done", "value", "error", "dups")

    def __init__(self) -> None:
        self.done = Event()
        self.value: Any = None
        self.error: BaseException | None = None
        self.dups = 0  # guarded by Singleflight._mu


class Singleflight(Generic[_T]):
    """Collapses concurrent calls with the same key into one (Go's
    ``singleflight.Group``).

    ``do(key, fn)`` runs ``fn()`` unless a call for ``key`` is in flight, in
    which case it waits for that call; returns ``(value, shared)``, where
    ``shared`` is True when the value went to more than one caller (the
    leader included). An exception from ``fn`` is raised in every caller of
    that call. ``forget(key)`` makes the next ``do(key, ...)`` start a new
    call even while the current one runs.
    """

    def __init__(self) -> None:
        self._mu = Mutex()
        self._calls: dict[Hashable, _Call] = {}  # guarded by _mu

    def do(self, key: Hashable, fn: Callable[[], _T]) -> tuple[_T, bool]:
        """Runs or joins the call for ``key``; returns (value, shared)."""
        with self._mu:
            call = self._calls.get(key)
            if call is not None:
                call.dups += 1
                leader = False
            else:
                call = self._calls[key] = _Call()
                leader = True
        if leader:
            try:
                call.value = fn()
            except BaseException as e:  # noqa: BLE001 -- raised in every caller
                call.error = e
            with self._mu:
                if self._calls.get(key) is call:
                    del self._calls[key]
                shared = call.dups > 0
            call.done.set()
        else:
            call.done.wait()
            shared = True
        if call.error is not None:
            raise call.error
        return call.value, shared

    def forget(self, key: Hashable) -> None:
        """Forgets the in-flight call for ``key`` (its callers still get it)."""
        with self._mu:
            self._calls.pop(key, None)


class LazyRetry(Generic[_T]):
    """Lazy initialization that caches success forever and retries failure
    after a backoff (sync/lazy_retry.h; the fix the article *sync — Senior*
    gives for "Once caching an error").

    ``get()`` returns the value of the first successful ``fn()``. Attempts
    never overlap: callers during an attempt wait for its outcome. After a
    failed attempt, ``get()`` re-raises that exception at once, without
    calling ``fn``, until the backoff has passed; the next ``get()`` then
    starts a new attempt. After the k-th consecutive failure the backoff is
    ``min(max_backoff, initial_backoff * multiplier**(k-1))`` seconds, less a
    random fraction of up to ``jitter`` of it.
    """

    def __init__(
        self,
        fn: Callable[[], _T],
        initial_backoff: float = 0.1,
        max_backoff: float = 30.0,
        multiplier: float = 2.0,
        jitter: float = 0.2,
        *,
        _clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not (multiplier >= 1.0 and multiplier != float("inf")):
            raise ValueError(
                f"contend: LazyRetry: multiplier must be finite and >= 1 (got {multiplier})")
        self._fn: Callable[[], _T] | None = fn
        self._initial = max(0.0, float(initial_backoff))
        self._max = max(0.0, float(max_backoff))
        self._multiplier = float(multiplier)
        self._jitter = min(max(float(jitter), 0.0), 1.0)
        self._clock = _clock
        self._mu = Mutex()
        self._done = False  # guarded by _mu, like everything below
        self._value: Any = None
        self._error: BaseException | None = None
        self._retry_at = 0.0
        self._failures = 0
        self._running: Event | None = None
        self.generation = 0
        """Attempts started so far."""

    def backoff(self, failures: int) -> float:
        """The longest wait after ``failures`` consecutive failures (no jitter)."""
        if failures < 1:
            return 0.0
        try:
            d = self._initial * self._multiplier ** (failures - 1)
        except OverflowError:
            d = float("inf")
        return min(self._max, d)

    def get(self) -> _T:
        """The value, running ``fn`` if needed; raises a failed attempt's exception."""
        while True:
            with self._mu:
                if self._done:
                    return self._value
                running = self._running
                if running is None:
                    if self._error is not None and self._clock() < self._retry_at:
                        raise self._error
                    self._running = running = Event()
                    self.generation += 1
                    leader = True
                else:
                    leader = False
            if not leader:
                running.wait()
                with self._mu:
                    if self._done:
                        return self._value
                    if self._running is None and self._error is not None:
                        raise self._error
                continue
            fn = self._fn
            assert fn is not None
            try:
                value = fn()
            except BaseException as e:  # noqa: BLE001 -- cached for the window
                with self._mu:
                    self._failures += 1
                    d = self.backoff(self._failures)
                    d *= 1.0 - self._jitter * random.random()
                    self._error = e
                    self._retry_at = self._clock() + d
                    self._running = None
                running.set()
                raise
            with self._mu:
                self._value = value
                self._done = True
                self._error = None
                self._fn = None  # releases its captures
                self._running = None
            running.set()
            return value
