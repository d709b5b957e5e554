"""Contention profiling (Go's mutex and block profiles) for contend primitives.

    import contend
    contend.profile.set_mutex_profile_fraction(1000)   # sample 0.1% of events
    ...
    open("mutex.pb.gz", "wb").write(contend.profile.write_mutex_profile())
    # go tool pprof -top mutex.pb.gz

Only contend's primitives are profiled (including the locks the lab runs);
``threading`` locks are not.
"""

from __future__ import annotations

from typing import Any

from contend import _native

__all__ = [
    "analyze",
    "reset",
    "set_block_profile_rate",
    "set_mutex_profile_fraction",
    "start_timeline",
    "stop_timeline",
    "write_block_profile",
    "write_mutex_profile",
    "write_text_report",
    "write_timeline_json",
]


def set_mutex_profile_fraction(n: int) -> int:
    """Samples 1 in ``n`` contended releases, charged to the releasing stack
    (the bottleneck owner); 0 turns it off, < 0 only reads. Returns the
    previous value (Go's runtime.SetMutexProfileFraction)."""
    return _native.profile.set_mutex_profile_fraction(int(n))


def set_block_profile_rate(rate_ns: int) -> int:
    """Records waits >= ``rate_ns`` and shorter ones with probability
    d/rate_ns (unbiased); 0 off, < 0 only reads. Returns the previous value
    (Go's runtime.SetBlockProfileRate)."""
    return _native.profile.set_block_profile_rate(int(rate_ns))


def write_mutex_profile(debug: int = 0) -> bytes:
    """The mutex profile: gzipped pprof (debug=0) or Go's text form."""
    return bytes(_native.profile.write_mutex_profile(int(debug)))


def write_block_profile(debug: int = 0) -> bytes:
    """The block profile: gzipped pprof (debug=0) or Go's text form."""
    return bytes(_native.profile.write_block_profile(int(debug)))


def write_text_report() -> str:
    """Both profiles as text plus the Amdahl analysis."""
    return _native.profile.write_text_report()


def reset() -> None:
    """Clears both profiles and restarts the analysis window."""
    _native.profile.reset()


def start_timeline(events_per_thread: int = 16384, max_threads: int = 256) -> None:
    """Starts recording wait intervals (Chrome trace / Perfetto timeline)."""
    _native.profile.start_timeline(int(events_per_thread), int(max_threads))


def stop_timeline() -> None:
    """Stops recording; the timeline stays available."""
    _native.profile.stop_timeline()


def write_timeline_json() -> str:
    """The recorded timeline as Chrome Trace Event JSON (open in ui.perfetto.dev)."""
    return _native.profile.write_timeline_json()


def analyze(top: int = 10) -> Any:
    """Delay per second, serialized fraction and Amdahl ceiling per site
    (``contend._native.profile.Analysis``: ``.mutex`` and ``.block``)."""
    return _native.profile.analyze(int(top))
