"""contend: Go's sync and golang.org/x/sync for C++20, with Python bindings.

The primitives release the GIL while they wait and stay interruptible by
Ctrl-C::

    import contend
    mu = contend.Mutex()
    with mu:
        ...
    rw = contend.RWMutex()
    with rw.read_lock():
        ...
    ready = contend.Event()
    ready.wait(timeout=1.0)

``contend.lab`` measures which primitive a workload should use on this machine
(``contend.lab.matrix()`` runs the *sync — Senior* article's decision matrix);
``contend.profile`` exposes the contention profiler.
"""

from contend import _native  # noqa: F401  (imported unconditionally, by design)
from contend import lab, profile
from contend._sync import Cond, Event, Mutex, Once, RWMutex, Semaphore, WaitGroup

__all__ = [
    "Cond",
    "Event",
    "Mutex",
    "Once",
    "RWMutex",
    "Semaphore",
    "WaitGroup",
    "lab",
    "profile",
]

__version__ = "0.1.0"
