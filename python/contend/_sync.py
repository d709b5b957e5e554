"""Synchronization primitives: typed, documented wrappers over contend._native.

The lock-shaped types are drop-ins for :mod:`threading`: ``Mutex`` for
``threading.Lock``, ``Semaphore`` for a weighted ``threading.BoundedSemaphore``,
``Cond`` for ``threading.Condition``, ``Event`` for ``threading.Event`` (one
shot, no ``clear()``). Their methods take threading's arguments with
threading's rules and errors: ``acquire(blocking=True, timeout=-1)`` on the
locks, ``acquire(blocking=True, timeout=None, *, n=1)`` on Semaphore,
``wait(timeout=None)``, ``wait_for(predicate, timeout=None)``,
``notify(n=1)``, ``notify_all()``. Go's names are used only where threading
has no such operation (``WaitGroup``, ``Once``, ``RWMutex``).

Every blocking method releases the GIL while it waits. Off the main thread
it is one native wait: an idle blocked worker thread costs no CPU and never
wakes. On the main thread the wait stays interruptible: Ctrl-C raises
KeyboardInterrupt within about 50 ms, and an interrupted acquisition holds
nothing.

Misuse that the C++ library answers by terminating the process (releasing an
unlocked Mutex, a negative WaitGroup counter, releasing more Semaphore tokens
than are held, ...) raises RuntimeError or ValueError here instead, as
threading does; the message starts with ``contend: <Type>.<method>:``.
"""

from __future__ import annotations

import math
import operator
import threading
import time
from types import TracebackType
from typing import Any, Callable, SupportsFloat, SupportsIndex, TypeVar

from contend import _native

__all__ = [
    "Cond",
    "Event",
    "Mutex",
    "Once",
    "RWMutex",
    "Semaphore",
    "WaitGroup",
]

_T = TypeVar("_T")


def _lock_timeout(
    where: str, blocking: SupportsIndex, timeout: SupportsFloat | SupportsIndex
) -> float | None:
    """``threading.Lock.acquire``'s argument rules.

    Returns None (wait forever), 0.0 (one try) or the timeout in seconds.
    Raises what threading raises: TypeError for a non-integer ``blocking``
    or a timeout that is neither float nor integer (str, None), ValueError
    for a timeout with ``blocking=False``, a negative timeout other than -1
    or NaN, OverflowError above ``threading.TIMEOUT_MAX``.
    """
    block = operator.index(blocking)  # threading parses it as an int
    if isinstance(timeout, float):
        t = timeout
        if math.isnan(t):
            raise ValueError(f"contend: {where}: Invalid value NaN (not a number)")
    else:
        t = float(operator.index(timeout))  # type: ignore[arg-type]
    if not block:
        if t != -1:
            raise ValueError(
                f"contend: {where}: can't specify a timeout for a non-blocking call")
        return 0.0
    if t == -1:
        return None
    if t < 0:
        raise ValueError(f"contend: {where}: timeout value must be positive")
    if t > threading.TIMEOUT_MAX:
        raise OverflowError(f"contend: {where}: timeout value is too large")
    return t


def _wait_timeout(where: str, timeout: SupportsFloat | None) -> float | None:
    """``threading.Condition.wait``'s timeout rule: None waits forever, a
    number <= 0 only checks; TypeError for a non-number (str), ValueError for
    NaN."""
    if timeout is None:
        return None
    if isinstance(timeout, (str, bytes)):
        raise TypeError(
            f"contend: {where}: timeout must be a number or None, not "
            f"{type(timeout).__name__}")
    t = float(timeout)
    if math.isnan(t):
        raise ValueError(f"contend: {where}: Invalid value NaN (not a number)")
    return max(t, 0.0)


def _sem_timeout(
    where: str, blocking: object, timeout: SupportsFloat | None
) -> float | None:
    """``threading.Semaphore.acquire``'s rules: ``blocking`` by truth value,
    ValueError for a timeout with ``blocking=False``."""
    if not blocking:
        if timeout is not None:
            raise ValueError(
                f"contend: {where}: can't specify timeout for non-blocking acquire")
        return 0.0
    return _wait_timeout(where, timeout)


def _timed(
    t: float | None,
    block: Callable[[], None],
    try_now: Callable[[], bool],
    try_for: Callable[[float], bool],
) -> bool:
    """The shared shape of every ``acquire``: block for None, one attempt
    for 0, a timed attempt otherwise."""
    if t is None:
        block()
        return True
    if t == 0:
        return try_now()
    return try_for(t)


class Mutex:
    """A mutual-exclusion lock (Go's ``sync.Mutex``), a drop-in for ``threading.Lock``.

    Fair under contention: a waiter that has waited 1 ms switches the lock to
    FIFO hand-off (starvation mode), so no thread starves. Any thread may
    release a Mutex that another thread acquired, as with ``threading.Lock``.
    It is not reentrant: acquiring it twice from one thread deadlocks
    (interruptibly, on the main thread).

    ``label`` names the lock in contention profiles (``contend.profile``).

    Example::

        mu = contend.Mutex()
        with mu:
            counter += 1
        if mu.acquire(timeout=0.5):
            try: ...
            finally: mu.release()
    """

    __slots__ = ("_native",)

    def __init__(self, label: str | None = None) -> None:
        self._native = _native.Mutex(label)

    def acquire(
        self, blocking: bool = True, timeout: float = -1
    ) -> bool:
        """Acquires the lock, as ``threading.Lock.acquire``.

        ``blocking=False`` only tries; ``timeout`` (seconds, -1 for no limit)
        bounds a blocking wait. Returns True if acquired, False otherwise.
        The argument errors are threading's (ValueError for a timeout with
        ``blocking=False`` or a negative timeout other than -1, TypeError for
        a str or None).
        """
        t = _lock_timeout("Mutex.acquire", blocking, timeout)
        n = self._native
        return _timed(t, n.lock, n.try_lock, n.try_lock_for)

    def release(self) -> None:
        """Releases the lock. RuntimeError if it is not locked."""
        self._native.unlock()

    def locked(self) -> bool:
        """True while some thread holds the lock (a snapshot)."""
        return self._native.locked()

    def __enter__(self) -> bool:
        self._native.lock()
        return True

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._native.unlock()


class _Guard:
    """Context manager returned by read_lock()/write_lock() of RWMutex and
    DistributedRWMutex; ``what`` names the call ("RWMutex.read_lock")."""

    __slots__ = ("_acquire", "_release", "_timeout", "_what")

    def __init__(
        self,
        acquire: Callable[[bool, float], bool],
        release: Callable[[], None],
        timeout: float,
        what: str,
    ) -> None:
        _lock_timeout(what, True, timeout)  # reject bad ones now
        self._acquire = acquire
        self._release = release
        self._timeout = timeout
        self._what = what

    def __enter__(self) -> None:
        if not self._acquire(True, self._timeout):
            raise TimeoutError(
                f"contend: {self._what}: not acquired within "
                f"{self._timeout} s"
            )

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._release()


class _RWLock:
    """The Python API shared by RWMutex and DistributedRWMutex (threading-style
    acquire_read/acquire_write, context managers); ``_native`` is the lock's
    box in contend._native, ``_NAME`` its name in messages."""

    __slots__ = ("_native",)
    _NAME = "RWLock"
    _native: Any

    def acquire_read(self, blocking: bool = True, timeout: float = -1) -> bool:
        """Takes the read (shared) lock; False if not acquired."""
        t = _lock_timeout(f"{self._NAME}.acquire_read", blocking, timeout)
        n = self._native
        return _timed(t, n.lock_shared, n.try_lock_shared, n.try_lock_shared_for)

    def release_read(self) -> None:
        """Releases this thread's read lock (RuntimeError if it holds none)."""
        self._native.unlock_shared()

    def acquire_write(self, blocking: bool = True, timeout: float = -1) -> bool:
        """Takes the write (exclusive) lock; False if not acquired."""
        t = _lock_timeout(f"{self._NAME}.acquire_write", blocking, timeout)
        n = self._native
        return _timed(t, n.lock, n.try_lock, n.try_lock_for)

    def release_write(self) -> None:
        """Releases the write lock (RuntimeError unless this thread holds it)."""
        self._native.unlock()

    def read_lock(self, timeout: float = -1) -> _Guard:
        """A context manager holding the read lock (TimeoutError on timeout)."""
        return _Guard(self.acquire_read, self.release_read, timeout,
                      f"{self._NAME}.read_lock")

    def write_lock(self, timeout: float = -1) -> _Guard:
        """A context manager holding the write lock (TimeoutError on timeout)."""
        return _Guard(self.acquire_write, self.release_write, timeout,
                      f"{self._NAME}.write_lock")

    @property
    def readers(self) -> int:
        """Read locks currently held (a snapshot)."""
        return self._native.readers()

    @property
    def write_locked(self) -> bool:
        """True while a writer holds the lock (a snapshot)."""
        return self._native.write_locked()


class RWMutex(_RWLock):
    """A reader/writer lock (Go's ``sync.RWMutex``), writer-preferring.

    Any number of readers or one writer hold it. Once a writer waits, new
    readers wait behind it, so writers never starve. Consequence (the
    "RLock recursion" deadlock of the article *sync — Senior*): a thread must
    not take the read lock again while it holds it -- the bindings raise
    RuntimeError instead of deadlocking, as they do for upgrading a read lock
    to a write lock. Locks are released by the thread that acquired them
    (RuntimeError otherwise), as the C++ RWMutex requires.

    ``acquire_read``/``acquire_write`` take ``threading.Lock.acquire``'s
    arguments (``blocking=True, timeout=-1``) with its rules.

    Whether it beats a plain Mutex depends on read share and hold time: run
    ``contend.lab.matrix()`` or ``tools/lab`` on your machine.

    Example::

        rw = contend.RWMutex()
        with rw.read_lock():
            value = table[key]
        with rw.write_lock(timeout=1.0):   # TimeoutError if not acquired
            table[key] = value
    """

    __slots__ = ()
    _NAME = "RWMutex"

    def __init__(self) -> None:
        self._native = _native.RWMutex()


class Event:
    """A one-shot broadcast (Go's ``close(ch)``), like ``threading.Event``
    without ``clear()``.

    ``set()`` wakes every waiter and every later ``wait()`` returns at once.
    Everything a thread did before ``set()`` is visible to a thread after its
    ``wait()`` returns.

    Example::

        ready = contend.Event()
        threading.Thread(target=lambda: (load(), ready.set())).start()
        ready.wait()
    """

    __slots__ = ("_native",)

    def __init__(self) -> None:
        self._native = _native.Event()

    def set(self) -> None:
        """Sets the flag and wakes all waiters. Setting twice is harmless."""
        self._native.set()

    def is_set(self) -> bool:
        """True once ``set()`` has run."""
        return self._native.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Blocks until the flag is set or ``timeout`` seconds passed; returns
        the flag, as ``threading.Event.wait``."""
        t = _wait_timeout("Event.wait", timeout)
        return self._native.wait(t)


class Cond:
    """A condition variable bound to a :class:`Mutex` (Go's ``sync.Cond``), a
    drop-in for ``threading.Condition``.

    Use it as a context manager (it acquires its Mutex) and wait in a loop on
    a predicate, or use :meth:`wait_for`, which loops for you::

        cond = contend.Cond()
        with cond:
            cond.wait_for(lambda: queue)       # mutex held again here
            item = queue.pop()
        ...
        with cond:
            queue.append(x)
            cond.notify()

    A waiting thread re-locks the mutex only when it is woken (or its
    timeout expires). Two differences from ``threading.Condition``:
    ``notify``/``notify_all`` may be called without holding the mutex (Go's
    rule), and a Ctrl-C delivered to a main-thread waiter wakes the other
    waiters spuriously -- always re-check the predicate (``wait_for`` does).
    """

    __slots__ = ("_mutex", "_native")

    def __init__(self, lock: Mutex | None = None) -> None:
        self._mutex = lock if lock is not None else Mutex()
        self._native = _native.Cond()

    @property
    def mutex(self) -> Mutex:
        """The Mutex that waiters must hold."""
        return self._mutex

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        """Acquires the mutex (``Mutex.acquire``)."""
        return self._mutex.acquire(blocking, timeout)

    def release(self) -> None:
        """Releases the mutex (``Mutex.release``)."""
        self._mutex.release()

    def __enter__(self) -> bool:
        return self._mutex.__enter__()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._mutex.release()

    def wait(self, timeout: float | None = None) -> bool:
        """Releases the mutex, waits until notified or ``timeout`` seconds
        passed, re-acquires the mutex. Returns False iff the timeout expired.

        Requires the mutex to be held (RuntimeError otherwise).
        """
        t = _wait_timeout("Cond.wait", timeout)
        return self._native.wait(self._mutex._native, t)

    def wait_for(
        self, predicate: Callable[[], _T], timeout: float | None = None
    ) -> _T:
        """Waits until ``predicate()`` is true or ``timeout`` passes.

        Evaluates the predicate with the mutex held, first before waiting;
        returns its last value (falsy on timeout), like
        ``threading.Condition.wait_for``.
        """
        t = _wait_timeout("Cond.wait_for", timeout)
        if t is None:
            result = predicate()
            while not result:
                self._native.wait(self._mutex._native, None)
                result = predicate()
            return result
        deadline = time.monotonic() + t
        result = predicate()
        while not result:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self._native.wait(self._mutex._native, remaining)
            result = predicate()
        return result

    def notify(self, n: int = 1) -> None:
        """Wakes up to ``n`` waiters, the longest-waiting first."""
        for _ in range(operator.index(n)):
            self._native.signal()

    def notify_all(self) -> None:
        """Wakes every waiter (they re-acquire the mutex one at a time)."""
        self._native.broadcast()


class WaitGroup:
    """Waits for a collection of tasks to finish (Go's ``sync.WaitGroup``).

    Prefer :meth:`go`, which counts a task before its thread starts and marks
    it done when it ends, so "add inside the goroutine" cannot be written::

        wg = contend.WaitGroup()
        for item in items:
            wg.go(process, item)
        wg.wait()
    """

    __slots__ = ("_native",)

    def __init__(self) -> None:
        self._native = _native.WaitGroup()

    def add(self, delta: int = 1) -> None:
        """Adds ``delta`` (may be negative) to the task counter.

        RuntimeError if the counter would go negative, or if a new batch
        starts while a ``wait()`` of the previous batch has not returned yet.
        """
        self._native.add(operator.index(delta))

    def done(self) -> None:
        """Marks one task done (``add(-1)``)."""
        self._native.done()

    def wait(self, timeout: float | None = None) -> bool:
        """Blocks until the counter is zero (True) or ``timeout`` passed."""
        t = _wait_timeout("WaitGroup.wait", timeout)
        return self._native.wait(t)

    def go(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> threading.Thread:
        """Runs ``fn(*args, **kwargs)`` on a new thread as one task.

        The task is counted before the thread starts and marked done when
        ``fn`` returns or raises; an exception goes to
        ``threading.excepthook`` (the thread's usual fate) and is not re-raised
        by ``wait()`` (use :class:`contend.ErrGroup` for that). Returns the
        started thread.
        """
        self._native.add(1)

        def task() -> None:
            try:
                fn(*args, **kwargs)
            finally:
                self._native.done()

        try:
            thread = threading.Thread(target=task, daemon=True)
            thread.start()
        except BaseException:
            self._native.done()
            raise
        return thread

    @property
    def counter(self) -> int:
        """Tasks not yet done (a snapshot)."""
        return self._native.counter()


class Semaphore:
    """A weighted ``threading.BoundedSemaphore`` with strict FIFO order
    (``x/sync/semaphore``).

    ``Semaphore(value)`` holds ``value`` tokens, at most ``capacity`` (default
    ``value``): ``Semaphore(0, capacity=4)`` starts empty. ``acquire`` and
    ``release`` take threading's arguments; the weight is the keyword-only
    ``n``. Releasing more than was acquired raises ValueError, as
    BoundedSemaphore does. A large request at the head of the queue blocks
    later small ones, so no request starves; a request larger than the
    capacity raises ValueError at once instead of waiting forever. As a
    context manager it holds one token.

    Example::

        sem = contend.Semaphore(8)
        if sem.acquire(timeout=1.0, n=3):
            try: ...
            finally: sem.release(3)
    """

    __slots__ = ("_native",)

    def __init__(self, value: int = 1, *, capacity: int | None = None) -> None:
        v = operator.index(value)
        if v < 0:
            raise ValueError("contend: Semaphore: initial value must be >= 0")
        cap = v if capacity is None else operator.index(capacity)
        if cap < v:
            raise ValueError("contend: Semaphore: value exceeds capacity")
        self._native = _native.Semaphore(cap)
        if cap > v:
            self._native.try_acquire(cap - v)

    def acquire(
        self, blocking: bool = True, timeout: float | None = None, *, n: int = 1
    ) -> bool:
        """Takes ``n`` tokens, as ``threading.Semaphore.acquire``: waits at most
        ``timeout`` seconds (None: no limit); ``blocking=False`` only tries.
        Returns False (holding none) if they were not taken."""
        t = _sem_timeout("Semaphore.acquire", blocking, timeout)
        k = operator.index(n)
        if t == 0:
            return self._native.try_acquire(k)
        return self._native.acquire(k, t)

    def release(self, n: int = 1) -> None:
        """Returns ``n`` tokens (ValueError if more than are held)."""
        self._native.release(operator.index(n))

    @property
    def capacity(self) -> int:
        """The most tokens it can hold."""
        return self._native.capacity()

    @property
    def available(self) -> int:
        """Free tokens (a snapshot)."""
        return self._native.available()

    def __enter__(self) -> bool:
        self._native.acquire(1, None)
        return True

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._native.release(1)


class Once:
    """Runs a function exactly once (Go's ``sync.Once``, C++'s call_once rule).

    ``call(f)`` runs ``f`` if no earlier call completed; every call returns
    only after that run finished. If ``f`` raises, the exception reaches that
    caller and the Once stays not-done: the next caller runs its own ``f``
    (retry), unlike Go. Calling ``call`` from inside ``f`` raises RuntimeError.
    """

    __slots__ = ("_native",)

    def __init__(self) -> None:
        self._native = _native.Once()

    def call(self, f: Callable[[], object]) -> None:
        """Runs ``f()`` unless a previous call completed."""
        self._native.call(f)
