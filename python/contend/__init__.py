"""contend: Go's sync and golang.org/x/sync for C++20, with Python bindings.

The lock-shaped types are drop-ins for ``threading``'s (same signatures and
errors); they release the GIL while they wait (one native wait off the main
thread) and stay interruptible by Ctrl-C on the main thread. ``ErrGroup``,
``Singleflight`` and ``LazyRetry`` are golang.org/x/sync's helpers::

    import contend
    mu = contend.Mutex()
    with mu:
        ...
    rw = contend.RWMutex()
    with rw.read_lock():
        ...
    ready = contend.Event()
    ready.wait(timeout=1.0)
    g = contend.ErrGroup(limit=4)
    g.go(fetch, url)
    g.wait()            # re-raises the first task exception
    jobs = contend.Chan(16)   # Go's channel with queue.Queue's verbs
    jobs.put(job); jobs.close()
    for job in jobs: ...      # until closed and drained

``contend.lab`` measures which primitive a workload should use on this machine
(``contend.lab.matrix()`` runs the *sync — Senior* article's decision matrix);
``contend.profile`` exposes the contention profiler.
"""

from contend import _native  # noqa: F401  (imported unconditionally, by design)
from contend import lab, profile
from contend._chan import CLOSED, Chan, ChanClosed, recv, select, send
from contend._pool import (
    PoolClosedError,
    PoolCreateError,
    ResourcePool,
    ResourcePoolLease,
    ResourcePoolStats,
)
from contend._keyed import KeyedMutex, KeyGuard
from contend._shard import DistributedRWMutex, InFlight, ShardedCounter
from contend._snapshot import Snapshot
from contend._sync import Cond, Event, Mutex, Once, RWMutex, Semaphore, WaitGroup
from contend._xsync import ErrGroup, LazyRetry, Singleflight, StopToken

__all__ = [
    "CLOSED",
    "Chan",
    "ChanClosed",
    "Cond",
    "DistributedRWMutex",
    "ErrGroup",
    "Event",
    "InFlight",
    "KeyGuard",
    "KeyedMutex",
    "LazyRetry",
    "Mutex",
    "Once",
    "PoolClosedError",
    "PoolCreateError",
    "RWMutex",
    "ResourcePool",
    "ResourcePoolLease",
    "ResourcePoolStats",
    "Semaphore",
    "ShardedCounter",
    "Singleflight",
    "Snapshot",
    "StopToken",
    "WaitGroup",
    "lab",
    "profile",
    "recv",
    "select",
    "send",
]

__version__ = "0.1.0"
