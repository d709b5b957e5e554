"""Contention profiling (Go's mutex and block profiles) for contend primitives.

    import contend
    contend.profile.set_mutex_profile_fraction(1000)   # sample 0.1% of events
    ...
    open("mutex.pb.gz", "wb").write(contend.profile.write_mutex_profile())
    # go tool pprof -top mutex.pb.gz

Only contend's primitives are profiled (including the locks the lab runs);
``threading`` locks are not.

Every sampled event taken from Python carries the calling thread's Python
stack (up to 8 frames: qualname, file:line; contend's own wrappers left out)
above its native frames, so ``go tool pprof -top`` names the Python function
that held the lock (mutex profile) or waited (block profile). Angle brackets
in qualnames become square ones (``[module]``, ``f.[locals].[lambda]``):
pprof drops ``<...>`` from names. One Python wait is one block-profile event,
also on the main thread (where contend waits in slices to stay interruptible).
"""

from __future__ import annotations

import dataclasses
import types

from contend import _native

__all__ = [
    "Analysis",
    "DebugServer",
    "ProfileAnalysis",
    "Site",
    "analyze",
    "reset",
    "serve_debug",
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


@dataclasses.dataclass(frozen=True)
class Site:
    """One site of a profile: the owner (mutex profile) or the waiter (block
    profile), with its totals and what it costs the program."""

    function: str  # first frame of the user's code (the Python function from Python)
    label: str  # the lock's label, "" if none
    stack: tuple[str, ...]  # symbolized frames, innermost first
    contentions: int
    delay_ns: int
    delay_per_second_ns: float  # ns waited per wall-clock second
    serialized_fraction: float  # delay_per_second_ns / 1e9, <= 1
    amdahl_ceiling: float  # 1 / serialized_fraction (inf if 0)


@dataclasses.dataclass(frozen=True)
class ProfileAnalysis:
    """One profile's totals over its window and its top sites."""

    enabled: bool
    wall_seconds: float  # time the profile was enabled since reset()
    contentions: int
    delay_ns: int
    delay_per_second_ns: float
    serialized_fraction: float
    amdahl_ceiling: float
    overflow_contentions: float  # events that found the stack table full
    sites: tuple[Site, ...]  # by delay, descending


@dataclasses.dataclass(frozen=True)
class Analysis:
    """``mutex``: the top bottleneck owners; ``block``: the top waiters."""

    mutex: ProfileAnalysis
    block: ProfileAnalysis


def _site(s: _native.profile.Site) -> Site:
    return Site(str(s.function), str(s.label), tuple(str(f) for f in s.stack),
                int(s.contentions), int(s.delay_ns), float(s.delay_per_second_ns),
                float(s.serialized_fraction), float(s.amdahl_ceiling))


def _profile_analysis(p: _native.profile.ProfileAnalysis) -> ProfileAnalysis:
    return ProfileAnalysis(bool(p.enabled), float(p.wall_seconds), int(p.contentions),
                           int(p.delay_ns), float(p.delay_per_second_ns),
                           float(p.serialized_fraction), float(p.amdahl_ceiling),
                           float(p.overflow_contentions),
                           tuple(_site(s) for s in p.sites))


def analyze(top: int = 10) -> Analysis:
    """Delay per second, serialized fraction and Amdahl ceiling per site, for
    the ``top`` sites of each profile."""
    a = _native.profile.analyze(int(top))
    return Analysis(_profile_analysis(a.mutex), _profile_analysis(a.block))


class DebugServer:
    """A running ``/debug/pprof`` endpoint on 127.0.0.1 (profile/debug_server.h):
    ``go tool pprof http://127.0.0.1:PORT/debug/pprof/mutex``. ``stop()`` (also
    on leaving a ``with`` block) stops accepting, waits for the requests in
    flight and is idempotent."""

    __slots__ = ("_native",)

    def __init__(self, native: object) -> None:
        self._native = native

    @property
    def port(self) -> int:
        """The bound TCP port (the ephemeral one for ``serve_debug(0)``)."""
        return int(self._native.port())  # type: ignore[attr-defined]

    def stop(self) -> None:
        """Stops the server; idempotent."""
        self._native.stop()  # type: ignore[attr-defined]

    def __enter__(self) -> DebugServer:
        return self

    def __exit__(self, exc_type: type[BaseException] | None,
                 exc: BaseException | None, tb: types.TracebackType | None) -> None:
        self.stop()


def serve_debug(port: int = 0) -> DebugServer:
    """Serves Go's ``/debug/pprof`` endpoints (``mutex``, ``block``, with
    ``?seconds=N`` deltas and ``?debug=1`` text) on 127.0.0.1:``port``; 0
    picks a free port (read it back from ``.port``). Raises ``OSError`` if the
    port cannot be bound, ``RuntimeError`` if this build of the module has no
    HTTP server (setup.py builds it only where pkg-config knows cpp-httplib)."""
    if isinstance(port, bool) or not isinstance(port, int):
        raise TypeError("contend: serve_debug: port must be an int")
    serve = getattr(_native.profile, "serve_debug", None)
    if serve is None:
        raise RuntimeError(
            "contend: serve_debug: this contend._native was built without the HTTP "
            "server: pkg-config knew no cpp-httplib when it was built; install "
            "libcpp-httplib-dev (Debian) and reinstall contend")
    return DebugServer(serve(port))
