"""Synchronization primitives: typed, documented wrappers over contend._native.

Every blocking method releases the GIL while it waits and stays interruptible:
the native side waits in slices of at most 50 ms and runs Python's signal
handlers between slices, so Ctrl-C raises KeyboardInterrupt in a thread blocked
in ``Event.wait()``, ``Mutex.acquire()`` and the rest.

Timeouts are ``float`` seconds or ``None`` (wait forever), like ``threading``.
Negative or NaN timeouts raise ValueError.

Misuse that the C++ library answers by terminating the process (releasing an
unlocked Mutex, a negative WaitGroup counter, releasing more Semaphore tokens
than are held, ...) raises RuntimeError or ValueError here instead; the
message starts with ``contend: <Type>.<method>:``.
"""

from __future__ import annotations

import math
import threading
import time
from types import TracebackType
from typing import Any, Callable, TypeVar

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

# Longest native wait of Cond.wait() (matches kWaitSlice in blocking.h).
_COND_SLICE_S = 0.05


def _check_timeout(timeout: float | None) -> float | None:
    if timeout is None:
        return None
    t = float(timeout)
    if math.isnan(t) or t < 0:
        raise ValueError(f"timeout must be None or >= 0 seconds, got {timeout!r}")
    return t



def _timed_acquire(
    timeout: float | None,
    block: Callable[[], None],
    try_now: Callable[[], bool],
    try_for: Callable[[float], bool],
) -> bool:
    """The shared shape of every ``acquire*(timeout)``: block for None, one
    attempt for 0, a timed attempt otherwise."""
    t = _check_timeout(timeout)
    if t is None:
        block()
        return True
    if t == 0:
        return try_now()
    return try_for(t)

class Mutex:
    """A mutual-exclusion lock (Go's ``sync.Mutex``), usable like ``threading.Lock``.

    Fair under contention: a waiter that has waited 1 ms switches the lock to
    FIFO hand-off (starvation mode), so no thread starves. Any thread may
    release a Mutex that another thread acquired, as with ``threading.Lock``.
    It is not reentrant: acquiring it twice from one thread deadlocks
    (interruptibly).

    ``label`` names the lock in contention profiles (``contend.profile``).

    Example::

        mu = contend.Mutex()
        with mu:
            counter += 1
    """

    __slots__ = ("_native",)

    def __init__(self, label: str | None = None) -> None:
        self._native = _native.Mutex(label)

    def acquire(self, timeout: float | None = None) -> bool:
        """Acquires the lock; returns False if ``timeout`` seconds passed first.

        ``timeout=None`` waits forever (and returns True); ``0`` only tries.
        """
        n = self._native
        return _timed_acquire(timeout, n.lock, n.try_lock, n.try_lock_for)

    def release(self) -> None:
        """Releases the lock. Raises RuntimeError if it is not locked."""
        self._native.unlock()

    def locked(self) -> bool:
        """True while some thread holds the lock (a snapshot)."""
        return self._native.locked()

    def __enter__(self) -> Mutex:
        self._native.lock()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._native.unlock()


class _Guard:
    """Context manager returned by RWMutex.read_lock()/write_lock()."""

    __slots__ = ("_acquire", "_release", "_timeout", "_what")

    def __init__(
        self,
        acquire: Callable[[float | None], bool],
        release: Callable[[], None],
        timeout: float | None,
        what: str,
    ) -> None:
        self._acquire = acquire
        self._release = release
        self._timeout = _check_timeout(timeout)
        self._what = what

    def __enter__(self) -> None:
        if not self._acquire(self._timeout):
            raise TimeoutError(
                f"contend: RWMutex.{self._what}: not acquired within "
                f"{self._timeout} s"
            )

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._release()


class RWMutex:
    """A reader/writer lock (Go's ``sync.RWMutex``), writer-preferring.

    Any number of readers or one writer hold it. Once a writer waits, new
    readers wait behind it, so writers never starve. Consequence (the
    "RLock recursion" deadlock of *sync — Senior*): a thread must not take the read
    lock again while it holds it -- the bindings raise RuntimeError instead
    of deadlocking, as they do for upgrading a read lock to a write lock.
    Locks are released by the thread that acquired them (RuntimeError
    otherwise), as the C++ RWMutex requires.

    Whether it beats a plain Mutex depends on read share and hold time: run
    ``contend.lab.matrix()`` or ``tools/lab`` on your machine.

    Example::

        rw = contend.RWMutex()
        with rw.read_lock():
            value = table[key]
        with rw.write_lock(timeout=1.0):   # TimeoutError if not acquired
            table[key] = value
    """

    __slots__ = ("_native",)

    def __init__(self) -> None:
        self._native = _native.RWMutex()

    def acquire_read(self, timeout: float | None = None) -> bool:
        """Takes the read (shared) lock; False if ``timeout`` passed first."""
        n = self._native
        return _timed_acquire(timeout, n.lock_shared, n.try_lock_shared,
                              n.try_lock_shared_for)

    def release_read(self) -> None:
        """Releases this thread's read lock (RuntimeError if it holds none)."""
        self._native.unlock_shared()

    def acquire_write(self, timeout: float | None = None) -> bool:
        """Takes the write (exclusive) lock; False if ``timeout`` passed first."""
        n = self._native
        return _timed_acquire(timeout, n.lock, n.try_lock, n.try_lock_for)

    def release_write(self) -> None:
        """Releases the write lock (RuntimeError unless this thread holds it)."""
        self._native.unlock()

    def read_lock(self, timeout: float | None = None) -> _Guard:
        """A context manager holding the read lock (TimeoutError on timeout)."""
        return _Guard(self.acquire_read, self.release_read, timeout, "read_lock")

    def write_lock(self, timeout: float | None = None) -> _Guard:
        """A context manager holding the write lock (TimeoutError on timeout)."""
        return _Guard(self.acquire_write, self.release_write, timeout, "write_lock")

    @property
    def readers(self) -> int:
        """Read locks currently held (a snapshot)."""
        return self._native.readers()

    @property
    def write_locked(self) -> bool:
        """True while a writer holds the lock (a snapshot)."""
        return self._native.write_locked()


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
        """Blocks until the flag is set (True) or ``timeout`` passed (False)."""
        t = _check_timeout(timeout)
        if t is None:
            self._native.wait()
            return True
        return self._native.wait_for(t)


class Cond:
    """A condition variable bound to a :class:`Mutex` (Go's ``sync.Cond``).

    Use it as a context manager (it acquires its Mutex) and wait in a loop on
    a predicate, or use :meth:`wait_for`, which loops for you::

        cond = contend.Cond()
        with cond:
            cond.wait_for(lambda: queue)       # mutex held again here
            item = queue.pop()
        ...
        with cond:
            queue.append(x)
        cond.signal()

    Unlike ``threading.Condition``, :meth:`wait` may return True without a
    signal (at most every 50 ms): that slice is what keeps a waiting thread
    interruptible by Ctrl-C, and looping inside the binding instead could
    lose a signal. Go's Cond documents spurious wakeups too; always re-check.
    """

    __slots__ = ("_mutex", "_native")

    def __init__(self, mutex: Mutex | None = None) -> None:
        self._mutex = mutex if mutex is not None else Mutex()
        self._native = _native.Cond()

    @property
    def mutex(self) -> Mutex:
        """The Mutex that waiters must hold."""
        return self._mutex

    def __enter__(self) -> Cond:
        self._mutex.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._mutex.release()

    def wait(self, timeout: float | None = None) -> bool:
        """Releases the mutex, waits for a signal, re-acquires the mutex.

        Returns False only if ``timeout`` seconds passed without a signal;
        True means signalled *or* a spurious wakeup (see the class doc).
        Requires the mutex to be held (RuntimeError otherwise).
        """
        t = _check_timeout(timeout)
        if t is None:
            self._native.wait_for(self._mutex._native, _COND_SLICE_S)
            return True
        deadline = time.monotonic() + t
        if self._native.wait_for(self._mutex._native, t):
            return True
        return time.monotonic() < deadline

    def wait_for(
        self, predicate: Callable[[], _T], timeout: float | None = None
    ) -> _T:
        """Waits until ``predicate()`` is true or ``timeout`` passes.

        Evaluates the predicate with the mutex held, first before waiting;
        returns its last value (falsy on timeout), like
        ``threading.Condition.wait_for``.
        """
        t = _check_timeout(timeout)
        deadline = None if t is None else time.monotonic() + t
        result = predicate()
        while not result:
            if deadline is None:
                self._native.wait_for(self._mutex._native, _COND_SLICE_S)
            else:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._native.wait_for(self._mutex._native, remaining)
            result = predicate()
        return result

    def signal(self) -> None:
        """Wakes the longest-waiting thread, if any (mutex need not be held)."""
        self._native.signal()

    def broadcast(self) -> None:
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
        self._native.add(int(delta))

    def done(self) -> None:
        """Marks one task done (``add(-1)``)."""
        self._native.done()

    def wait(self, timeout: float | None = None) -> bool:
        """Blocks until the counter is zero (True) or ``timeout`` passed."""
        t = _check_timeout(timeout)
        if t is None:
            self._native.wait()
            return True
        return self._native.wait_for(t)

    def go(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> threading.Thread:
        """Runs ``fn(*args, **kwargs)`` on a new thread as one task.

        The task is counted before the thread starts and marked done when
        ``fn`` returns or raises; an exception goes to
        ``threading.excepthook`` (the thread's usual fate) and is not re-raised
        by ``wait()``. Returns the started thread.
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
    """A weighted semaphore with strict FIFO order (``x/sync/semaphore``).

    A large request at the head of the queue blocks later small ones, so no
    request starves. Requests larger than the capacity raise ValueError at
    once instead of waiting forever. As a context manager it holds one token.
    """

    __slots__ = ("_native",)

    def __init__(self, capacity: int) -> None:
        self._native = _native.Semaphore(int(capacity))

    def acquire(self, n: int = 1, timeout: float | None = None) -> bool:
        """Takes ``n`` tokens; False (holding none) if ``timeout`` passed."""
        t = _check_timeout(timeout)
        if t is None:
            self._native.acquire(int(n))
            return True
        if t == 0:
            return self._native.try_acquire(int(n))
        return self._native.try_acquire_for(int(n), t)

    def try_acquire(self, n: int = 1) -> bool:
        """Takes ``n`` tokens if free and nobody is queued; never blocks."""
        return self._native.try_acquire(int(n))

    def release(self, n: int = 1) -> None:
        """Returns ``n`` tokens (RuntimeError if more than are held)."""
        self._native.release(int(n))

    @property
    def capacity(self) -> int:
        return self._native.capacity()

    @property
    def available(self) -> int:
        """Free tokens (a snapshot)."""
        return self._native.available()

    def __enter__(self) -> Semaphore:
        self._native.acquire(1)
        return self

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
