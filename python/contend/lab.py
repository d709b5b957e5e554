"""The contention lab: measure which primitive to use, on this machine.

The *sync — Senior* article's decisions are all "measure production-shaped traffic".
This module runs contention workloads on native threads (the C++ engine in
bench/lab, bound into ``contend._native``) and returns typed results:

    >>> import contend.lab as lab
    >>> rs = lab.run(primitive=["mutex", "rwmutex"], threads=4,
    ...              read_share=0.95, critical_ns=[100, 5000], duration=0.2)
    >>> rs.to_dataframe()[["primitive", "critical_ns", "ops_per_sec"]]

:func:`matrix` runs the article's whole decision matrix (RWMutex vs Mutex by read
share and hold time, the 4-readers/1-writer 50 ns vs 5 us table, the
crossover hold time, thread scaling) and returns a :class:`MatrixReport` with
the tables and one recommendation per row; ``tools/lab`` prints it and writes
``lab-out/``.

A workload is: ``threads`` threads looping {acquire (shared with probability
``read_share``, or dedicated roles with ``writers``); ``critical_ns`` of
calibrated busy work; release; ``outside_ns`` of busy work} for ``duration``
seconds, or until ``ops`` operations (split evenly) are done. Busy work is a
dependent multiply chain calibrated at start-up, so "50 ns" means 50 ns of
CPU here, not a sleep.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import os
import platform
import statistics
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from contend import _native

__all__ = [
    "Crossover",
    "CrossoverPoint",
    "Latency",
    "MatrixConfig",
    "MatrixReport",
    "PrimitiveInfo",
    "Result",
    "Results",
    "RwCell",
    "SeedRow",
    "ThreadStats",
    "Workload",
    "calibration",
    "cpu_busy_fraction",
    "machine_info",
    "matrix",
    "primitives",
    "run",
]

Progress = Callable[[str], None]


# --------------------------------------------------------------------------
# Data model
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    """What to run. Field meanings follow bench/lab/workload.h.

    Attributes:
        primitive: registry name (see :func:`primitives`), e.g. ``"rwmutex"``.
        threads: worker threads (>= 1).
        read_share: probability that an operation takes the shared lock, when
            ``writers`` is None. Primitives without a shared mode (Mutex)
            take the exclusive lock for those operations.
        writers: None: every thread draws each op; an int N: threads [0, N)
            only write and the rest only read (the article's "4 readers, 1
            writer" is ``threads=5, writers=1``).
        critical_ns: busy work while holding the lock, in ns.
        outside_ns: busy work between operations, in ns.
        duration: seconds to run when ``ops`` is 0.
        ops: total operations, split evenly over the threads (fixed shares,
            so fairness cannot change the mix); 0 = run for ``duration``.
        keys: key space for map-shaped primitives (0 = not applicable).
        seed: PRNG seed of the op mix.
        latency_sample: time 1 in N acquisitions (0 = no latency data).
        capture_profile: record the mutex and block profiles of the run
            (contend primitives only; gzipped pprof bytes in the Result).
    """

    primitive: str = "mutex"
    threads: int = 2
    read_share: float = 0.0
    writers: int | None = None
    critical_ns: int = 50
    outside_ns: int = 50
    duration: float = 0.2
    ops: int = 0
    keys: int = 0
    seed: int = 1
    latency_sample: int = 8
    capture_profile: bool = False

    def to_native(self) -> Any:
        """The equivalent ``contend._native.lab.Workload``."""
        w = _native.lab.Workload()
        w.primitive = self.primitive
        w.threads = int(self.threads)
        w.writers = -1 if self.writers is None else int(self.writers)
        w.read_share = float(self.read_share)
        w.critical_ns = int(self.critical_ns)
        w.outside_ns = int(self.outside_ns)
        w.duration_ns = max(1, int(round(self.duration * 1e9)))
        w.ops = int(self.ops)
        w.keys = int(self.keys)
        w.seed = int(self.seed)
        w.latency_sample = int(self.latency_sample)
        w.capture_profile = bool(self.capture_profile)
        return w


@dataclass(frozen=True)
class Latency:
    """Acquisition-latency percentiles in ns (log-linear histogram, <3.2% error)."""

    count: int
    mean_ns: float
    min_ns: int
    p50_ns: int
    p90_ns: int
    p99_ns: int
    p999_ns: int
    max_ns: int

    @classmethod
    def _from_native(cls, s: Any) -> Latency:
        return cls(
            count=s.count,
            mean_ns=s.mean_ns,
            min_ns=s.min_ns,
            p50_ns=s.p50_ns,
            p90_ns=s.p90_ns,
            p99_ns=s.p99_ns,
            p999_ns=s.p999_ns,
            max_ns=s.max_ns,
        )


@dataclass(frozen=True)
class ThreadStats:
    """What one worker thread did."""

    ops: int
    reads: int
    writes: int
    elapsed_ns: int


@dataclass(frozen=True)
class Result:
    """The outcome of one run.

    Invariants: ``total_ops == sum(t.ops for t in per_thread) == reads +
    writes``; latency percentiles are non-decreasing; ``exclusion_ok`` (no
    lost update on the protected counter) holds for every correct lock.
    ``fairness`` is min/max of the per-thread op rates (within each role when
    threads have dedicated roles), 1.0 = perfectly fair.
    """

    workload: Workload
    display_name: str
    elapsed_s: float
    total_ops: int
    reads: int
    writes: int
    ops_per_sec: float
    ns_per_op: float
    per_thread: tuple[ThreadStats, ...]
    fairness: float
    latency: Latency
    read_latency: Latency
    write_latency: Latency
    exclusion_ok: bool
    cancelled: bool
    repetition: int = 0
    mutex_profile: bytes = field(default=b"", repr=False)
    block_profile: bytes = field(default=b"", repr=False)

    @property
    def primitive(self) -> str:
        return self.workload.primitive

    def to_dict(self) -> dict[str, Any]:
        """A flat dict (workload fields, results, latency as ``latency_p99_ns``
        etc.), the row format of :meth:`Results.to_dataframe` and the CSV."""
        d: dict[str, Any] = {}
        for f in dataclasses.fields(Workload):
            d[f.name] = getattr(self.workload, f.name)
        d.update(
            display_name=self.display_name,
            repetition=self.repetition,
            elapsed_s=self.elapsed_s,
            total_ops=self.total_ops,
            reads=self.reads,
            writes=self.writes,
            ops_per_sec=self.ops_per_sec,
            ns_per_op=self.ns_per_op,
            fairness=self.fairness,
            exclusion_ok=self.exclusion_ok,
            cancelled=self.cancelled,
            per_thread_ops=[t.ops for t in self.per_thread],
        )
        for prefix, lat in (
            ("latency", self.latency),
            ("read_latency", self.read_latency),
            ("write_latency", self.write_latency),
        ):
            for f in dataclasses.fields(Latency):
                d[f"{prefix}_{f.name}"] = getattr(lat, f.name)
        return d

    @classmethod
    def _from_native(cls, w: Workload, r: Any, repetition: int) -> Result:
        return cls(
            workload=w,
            display_name=r.display_name,
            elapsed_s=r.elapsed_ns / 1e9,
            total_ops=r.total_ops,
            reads=r.reads,
            writes=r.writes,
            ops_per_sec=r.ops_per_sec,
            ns_per_op=r.ns_per_op,
            per_thread=tuple(
                ThreadStats(t.ops, t.reads, t.writes, t.elapsed_ns)
                for t in r.per_thread
            ),
            fairness=r.fairness,
            latency=Latency._from_native(r.latency),
            read_latency=Latency._from_native(r.read_latency),
            write_latency=Latency._from_native(r.write_latency),
            exclusion_ok=r.exclusion_ok,
            cancelled=r.cancelled,
            repetition=repetition,
            mutex_profile=bytes(r.mutex_profile),
            block_profile=bytes(r.block_profile),
        )


class Results(list):  # list[Result]; subscripting `list` at runtime is 3.9+
    """A list of :class:`Result` with tabular views."""

    def to_records(self) -> list[dict[str, Any]]:
        """One flat dict per result (:meth:`Result.to_dict`)."""
        return [r.to_dict() for r in self]

    def to_dataframe(self) -> Any:
        """A ``pandas.DataFrame`` with one row per result.

        Raises ImportError with an install hint when pandas is missing
        (Debian: ``python3-pandas``).
        """
        try:
            import pandas as pd
        except ImportError as e:  # pragma: no cover - depends on the host
            raise ImportError(
                "Results.to_dataframe() needs pandas (apt install python3-pandas "
                "or pip install pandas)"
            ) from e
        return pd.DataFrame.from_records(self.to_records())

    def where(self, **fields: Any) -> Results:
        """The results whose workload fields equal the given values."""
        return Results(
            r
            for r in self
            if all(getattr(r.workload, k) == v for k, v in fields.items())
        )


@dataclass(frozen=True)
class PrimitiveInfo:
    """A primitive registered in the lab engine."""

    name: str
    display_name: str
    description: str
    has_shared_mode: bool


def primitives() -> list[PrimitiveInfo]:
    """Every primitive the lab can run, sorted by name."""
    return [
        PrimitiveInfo(p.name, p.display_name, p.description, p.has_shared_mode)
        for p in _native.lab.primitives()
    ]


def calibration() -> tuple[float, float]:
    """(busy-work steps per ns, ns per latency timestamp) measured by the engine."""
    steps, clock = _native.lab.busy_calibration()
    return float(steps), float(clock)


# --------------------------------------------------------------------------
# run()
# --------------------------------------------------------------------------

_WORKLOAD_FIELDS = {f.name for f in dataclasses.fields(Workload)}


def _expand(fields: dict[str, Any]) -> list[Workload]:
    unknown = set(fields) - _WORKLOAD_FIELDS
    if unknown:
        raise TypeError(f"unknown workload field(s): {sorted(unknown)}")
    keys = list(fields)
    axes = [
        list(v) if isinstance(v, (list, tuple, range)) else [v]
        for v in fields.values()
    ]
    return [Workload(**dict(zip(keys, combo))) for combo in itertools.product(*axes)]


def run(
    *workloads: Workload,
    repetitions: int = 1,
    progress: Progress | None = None,
    **fields: Any,
) -> Results:
    """Runs workloads and returns their results.

    Either pass :class:`Workload` objects, or Workload fields as keyword
    arguments; a field given as a list (or tuple/range) is swept, and the runs
    are the cartesian product::

        run(primitive=["mutex", "rwmutex"], threads=[1, 2, 4], read_share=0.9)

    Each workload runs ``repetitions`` times; repetitions are interleaved
    (all workloads, then all again) so slow drifts of the machine hit every
    configuration alike. Blocks while running, without the GIL; Ctrl-C
    cancels the current run and raises KeyboardInterrupt.

    Raises:
        ValueError: a field out of range (message names it).
        KeyError: an unknown primitive (message lists the known ones).
    """
    if workloads and fields:
        raise TypeError("pass Workload objects or workload fields, not both")
    todo = list(workloads) if workloads else _expand(fields)
    if repetitions < 1:
        raise ValueError("repetitions must be >= 1")
    out = Results()
    total = len(todo) * repetitions
    for rep in range(repetitions):
        for i, w in enumerate(todo):
            if progress is not None:
                progress(
                    f"[{rep * len(todo) + i + 1}/{total}] {w.primitive} "
                    f"threads={w.threads} read_share={w.read_share:g} "
                    f"critical={w.critical_ns}ns"
                )
            native = _native.lab.run(w.to_native())
            out.append(Result._from_native(w, native, rep))
    return out


# --------------------------------------------------------------------------
# The article's decision matrix
# --------------------------------------------------------------------------

# The article's section 4: "Read share | Hold time | Better choice".
SEED_SHARE_BUCKETS: tuple[tuple[str, float], ...] = (
    (">99%", 0.995),
    ("95-99%", 0.97),
    ("70-95%", 0.85),
    ("<70%", 0.50),
)
SEED_HOLD_BUCKETS: tuple[tuple[str, int], ...] = (
    ("<1 us", 100),
    (">1 us", 5000),
)
# The article's microbenchmark (4 readers, 1 writer, "M-class"), ns/op.
SEED_TABLE_NS: dict[tuple[str, int], float] = {
    ("rwmutex", 50): 9.8,
    ("mutex", 50): 6.6,
    ("rwmutex", 5000): 1130.0,
    ("mutex", 5000): 4180.0,
}
SEED_CROSSOVER_NS = 1000.0


def seed_recommendation(share_bucket: str, hold_bucket: str) -> str:
    """The article's "better choice" for a cell of its section-4 table."""
    if share_bucket == ">99%":
        return "atomic.Pointer + copy-on-write"
    if share_bucket == "95-99%":
        return "RWMutex" if hold_bucket == ">1 us" else "Mutex"
    return "Mutex"


@dataclass(frozen=True)
class MatrixConfig:
    """Parameters of :func:`matrix`.

    ``threads`` is used by the read-share table (None: one per CPU, at least
    2 -- like Go's RunParallel, which runs GOMAXPROCS goroutines; more
    threads than CPUs measures preemption of lock holders more than the
    lock) and is the top of the scaling sweep; table (b) and the crossover use the article's 4 readers + 1
    writer. ``duration`` is the target seconds per run; ``repetitions`` runs
    are interleaved and their median is reported. ``margin``: RWMutex is
    recommended only if it is at least this much faster (ratio - 1), since
    the article's default is Mutex and smaller gains are within noise here.
    """

    experiments: tuple[str, ...] = ("rw", "seed", "crossover", "scaling")
    threads: int | None = None
    duration: float = 0.2
    repetitions: int = 3
    outside_ns: int = 0
    crossover_holds_ns: tuple[int, ...] = (50, 100, 200, 500, 1000, 2000, 5000, 10000)
    crossover_pairs: tuple[tuple[str, str], ...] = (
        ("rwmutex", "mutex"),
        ("std_shared_mutex", "std_mutex"),
    )
    seed_primitives: tuple[str, ...] = (
        "rwmutex",
        "mutex",
        "std_shared_mutex",
        "std_mutex",
        "absl_mutex",
    )
    scaling_threads: tuple[int, ...] = (1, 2, 4, 8)
    scaling_primitives: tuple[str, ...] = (
        "mutex",
        "rwmutex",
        "std_mutex",
        "std_shared_mutex",
        "absl_mutex",
    )
    scaling_read_share: float = 0.9
    scaling_critical_ns: int = 100
    scaling_outside_ns: int = 100
    margin: float = 0.10
    profile: bool = True

    @classmethod
    def quick(cls, **overrides: Any) -> MatrixConfig:
        """A CI-sized configuration (seconds, not a minute)."""
        base = dict(
            duration=0.04,
            repetitions=1,
            crossover_holds_ns=(50, 500, 5000),
            crossover_pairs=(("rwmutex", "mutex"),),
            seed_primitives=("rwmutex", "mutex"),
            scaling_threads=(1, 2, 4),
            scaling_primitives=("mutex", "rwmutex", "std_mutex"),
        )
        base.update(overrides)
        return cls(**base)


@dataclass(frozen=True)
class RwCell:
    """One cell of table (a): Mutex vs RWMutex at a read share and hold time."""

    share_bucket: str
    hold_bucket: str
    read_share: float
    critical_ns: int
    mutex_ops_per_sec: float
    rwmutex_ops_per_sec: float
    speedup: float  # rwmutex / mutex throughput
    measured: str  # "RWMutex" or "Mutex"
    seed: str
    agrees: bool | None  # None where the article recommends neither lock
    recommendation: str


@dataclass(frozen=True)
class SeedRow:
    """One row of table (b): 4 readers + 1 writer, fixed shares."""

    primitive: str
    display_name: str
    critical_ns: int
    ns_per_op: float
    seed_ns_per_op: float | None
    ideal_ns_per_op: float
    fairness: float
    write_p99_ns: int


@dataclass(frozen=True)
class CrossoverPoint:
    critical_ns: int
    rw_ns_per_op: float
    mutex_ns_per_op: float
    speedup: float  # mutex ns/op / rw ns/op; > 1: the RW lock wins


@dataclass(frozen=True)
class Crossover:
    """Table (c): where the reader/writer lock starts to win."""

    rw: str
    mutex: str
    points: tuple[CrossoverPoint, ...]
    crossover_ns: float | None  # None: no crossing in the measured range
    summary: str


@dataclass
class MatrixReport:
    """Everything :func:`matrix` measured, with the derived tables."""

    config: MatrixConfig
    machine: dict[str, Any]
    results: Results
    rw_table: list[RwCell]
    seed_table: list[SeedRow]
    crossovers: list[Crossover]
    wall_seconds: float
    mutex_profile: bytes = b""
    block_profile: bytes = b""
    profile_text: str = ""

    @property
    def crossover(self) -> Crossover | None:
        """The contend RWMutex vs Mutex crossover, if measured."""
        for c in self.crossovers:
            if (c.rw, c.mutex) == ("rwmutex", "mutex"):
                return c
        return None

    def tables_text(self) -> str:
        """The article's tables with measured numbers, as plain text."""
        from contend import report

        return report.tables_text(self)

    def to_markdown(self) -> str:
        from contend import report

        return report.markdown(self)


def _proc_stat() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat."""
    with open("/proc/stat", encoding="ascii") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    hz = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    total = sum(fields[:8])  # guest time is already counted in user
    return (total - idle) / hz, total / hz


class _OtherLoad:
    """Measures the CPU share that *other* processes used while it was open:
    machine busy time from /proc/stat minus this process's own CPU time."""

    def __init__(self) -> None:
        try:
            self._stat0 = _proc_stat()
        except (OSError, ValueError, IndexError):
            self._stat0 = None
        self._self0 = time.process_time()

    def fraction(self) -> float:
        if self._stat0 is None:
            return float("nan")
        busy1, total1 = _proc_stat()
        busy = busy1 - self._stat0[0]
        total = total1 - self._stat0[1]
        mine = time.process_time() - self._self0
        if total <= 0:
            return float("nan")
        return max(0.0, min(1.0, (busy - mine) / total))


def cpu_busy_fraction(interval: float = 0.5) -> float:
    """Fraction of all CPUs' time spent busy over ``interval`` seconds, from
    /proc/stat (NaN where unavailable). Unlike the load average, which decays
    over a minute, this sees only what runs now -- e.g. not the build that
    just finished before a lab run. Reads /proc/stat through _proc_stat, the
    one reader (guest time counted once, inside user)."""
    try:
        busy0, total0 = _proc_stat()
        time.sleep(interval)
        busy1, total1 = _proc_stat()
    except (OSError, ValueError, IndexError):
        return float("nan")
    total = total1 - total0
    return 0.0 if total <= 0 else max(0.0, min(1.0, (busy1 - busy0) / total))


def machine_info() -> dict[str, Any]:
    """CPU model, logical CPUs, load, busy-work calibration."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    steps, clock = calibration()
    try:
        load = os.getloadavg()
    except OSError:
        load = (float("nan"),) * 3
    return {
        "cpu": model,
        "cpus": os.cpu_count() or 1,
        "loadavg": list(load),
        "cpu_busy_before": cpu_busy_fraction(),
        "busy_steps_per_ns": steps,
        "timestamp_ns": clock,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def _ops_for(duration: float, critical_ns: int, threads: int, outside_ns: int) -> int:
    # Fixed shares sized so that a fully serialized run (a Mutex) takes about
    # `duration`: each op costs at least critical_ns of lock time plus ~100 ns
    # of handoff overhead.
    per_op = critical_ns + 100 + outside_ns / max(threads, 1)
    ops = int(duration * 1e9 / per_op)
    return max(threads * 200, min(ops, 20_000_000))


def _median(values: Iterable[float]) -> float:
    vs = [v for v in values if not math.isnan(v)]
    return statistics.median(vs) if vs else float("nan")


def _ideal_4r1w_ns(critical_ns: int, shared: bool, cpus: int) -> float:
    # Fixed shares: 1/5 of the ops are writes (serialized), 4/5 reads, which a
    # reader/writer lock can overlap up to min(4 readers, CPUs) at a time.
    if not shared:
        return float(critical_ns)
    return 0.2 * critical_ns + 0.8 * critical_ns / max(1, min(4, cpus))


def _crossover(rw: str, mu: str, points: list[CrossoverPoint]) -> Crossover:
    pts = sorted(points, key=lambda p: p.critical_ns)
    names = {p.name: p.display_name for p in primitives()}
    rw_name, mu_name = names.get(rw, rw), names.get(mu, mu)
    # The crossover is the smallest hold time from which the RW lock wins at
    # every larger measured hold time; interpolated on log(hold) between the
    # last losing and first winning point.
    first_win = None
    for i in range(len(pts)):
        if all(p.speedup > 1.0 for p in pts[i:]):
            first_win = i
            break
    if not pts:
        return Crossover(rw, mu, (), None, "not measured")
    if first_win is None:
        return Crossover(
            rw,
            mu,
            tuple(pts),
            None,
            f"{rw_name} never wins consistently up to {pts[-1].critical_ns} ns "
            f"(best speedup {max(p.speedup for p in pts):.2f}x)",
        )
    if first_win == 0:
        return Crossover(
            rw,
            mu,
            tuple(pts),
            float(pts[0].critical_ns),
            f"{rw_name} is ahead of {mu_name} at every hold time measured "
            f"(>= {pts[0].critical_ns} ns); crossover at or below "
            f"{pts[0].critical_ns} ns",
        )
    lo, hi = pts[first_win - 1], pts[first_win]
    # log-linear interpolation of log(speedup) = 0
    a, b = math.log(lo.speedup), math.log(hi.speedup)
    t = 0.0 if b == a else (0 - a) / (b - a)
    x = math.exp(
        math.log(lo.critical_ns) + t * (math.log(hi.critical_ns) - math.log(lo.critical_ns))
    )
    return Crossover(
        rw,
        mu,
        tuple(pts),
        x,
        f"{rw_name} starts to beat {mu_name} at ~{_fmt_ns(x)} hold time "
        f"(between {lo.critical_ns} and {hi.critical_ns} ns)",
    )


def _fmt_ns(ns: float) -> str:
    if ns >= 1000:
        return f"{ns / 1000:.3g} us"
    return f"{ns:.3g} ns"


def matrix(
    config: MatrixConfig | None = None,
    *,
    quick: bool = False,
    progress: Progress | None = None,
    **overrides: Any,
) -> MatrixReport:
    """Runs the article's decision matrix on this machine.

    Experiments (``config.experiments``):
      * ``"rw"``: RWMutex vs Mutex by read share (>99%, 95-99%, 70-95%,
        <70%) x hold time (<1 us, >1 us) -- table (a), one recommendation per
        cell next to the article's.
      * ``"seed"``: the article's 4 readers + 1 writer table at 50 ns and 5 us
        critical sections, with std/absl peers -- table (b).
      * ``"crossover"``: hold-time sweep with 4 readers + 1 writer, the hold
        time where the reader/writer lock starts to win -- table (c).
      * ``"scaling"``: throughput vs threads for every lock.

    With ``config.profile`` (and the profiler linked) the whole run is
    profiled (mutex fraction 100, block rate 10 us): the report carries the
    gzipped pprof profiles and the text report.

    ``quick=True`` uses :meth:`MatrixConfig.quick`; keyword overrides replace
    config fields (``matrix(threads=8, duration=0.5)``).
    """
    if config is None:
        config = MatrixConfig.quick(**overrides) if quick else MatrixConfig(**overrides)
    elif overrides:
        config = dataclasses.replace(config, **overrides)
    unknown = set(config.experiments) - {"rw", "seed", "crossover", "scaling"}
    if unknown:
        raise ValueError(f"unknown experiment(s) {sorted(unknown)}")

    say = progress or (lambda _msg: None)
    machine = machine_info()
    cpus = int(machine["cpus"])
    if config.threads is None:
        config = dataclasses.replace(config, threads=max(2, cpus))
    known = {p.name for p in primitives()}
    start = time.monotonic()

    other_load = _OtherLoad()
    profiling = config.profile and _native.lab.profile_capture_available()
    if profiling:
        _native.profile.reset()
        prev_fraction = _native.profile.set_mutex_profile_fraction(100)
        prev_rate = _native.profile.set_block_profile_rate(10_000)

    plan: list[tuple[str, Workload]] = []
    d = config.duration
    if "rw" in config.experiments:
        for _, share in SEED_SHARE_BUCKETS:
            for _, hold in SEED_HOLD_BUCKETS:
                for prim in ("mutex", "rwmutex"):
                    plan.append(
                        (
                            "rw",
                            Workload(
                                primitive=prim,
                                threads=config.threads,
                                read_share=share,
                                critical_ns=hold,
                                outside_ns=config.outside_ns,
                                duration=d,
                            ),
                        )
                    )
    if "seed" in config.experiments:
        for hold in (50, 5000):
            for prim in config.seed_primitives:
                if prim in known:
                    plan.append(
                        (
                            "seed",
                            Workload(
                                primitive=prim,
                                threads=5,
                                writers=1,
                                critical_ns=hold,
                                outside_ns=config.outside_ns,
                                ops=_ops_for(d, hold, 5, config.outside_ns),
                            ),
                        )
                    )
    if "crossover" in config.experiments:
        for hold in config.crossover_holds_ns:
            for pair in config.crossover_pairs:
                for prim in pair:
                    if prim in known:
                        plan.append(
                            (
                                "crossover",
                                Workload(
                                    primitive=prim,
                                    threads=5,
                                    writers=1,
                                    critical_ns=hold,
                                    outside_ns=config.outside_ns,
                                    ops=_ops_for(d, hold, 5, config.outside_ns),
                                ),
                            )
                        )
    if "scaling" in config.experiments:
        for t in config.scaling_threads:
            for prim in config.scaling_primitives:
                if prim in known:
                    plan.append(
                        (
                            "scaling",
                            Workload(
                                primitive=prim,
                                threads=t,
                                read_share=config.scaling_read_share,
                                critical_ns=config.scaling_critical_ns,
                                outside_ns=config.scaling_outside_ns,
                                duration=d,
                            ),
                        )
                    )

    # Deduplicate (the seed experiment and crossover share points) keeping first use.
    unique: list[Workload] = []
    seen: set[Workload] = set()
    for _, w in plan:
        if w not in seen:
            seen.add(w)
            unique.append(w)

    results = Results()
    total = len(unique) * config.repetitions
    done = 0
    try:
        for rep in range(config.repetitions):
            for w in unique:
                done += 1
                say(
                    f"lab: [{done}/{total}] {w.primitive:<16} threads={w.threads}"
                    + (f" writers={w.writers}" if w.writers is not None else
                       f" read_share={w.read_share:g}")
                    + f" critical={w.critical_ns}ns"
                )
                native = _native.lab.run(w.to_native())
                results.append(Result._from_native(w, native, rep))
    finally:
        mutex_profile = block_profile = b""
        profile_text = ""
        if profiling:
            # Written while the settings are still in force, so the files
            # record the sampling period that produced them.
            mutex_profile = bytes(_native.profile.write_mutex_profile())
            block_profile = bytes(_native.profile.write_block_profile())
            profile_text = _native.profile.write_text_report()
            _native.profile.set_mutex_profile_fraction(prev_fraction)
            _native.profile.set_block_profile_rate(prev_rate)

    def median_of(w: Workload, attr: str) -> float:
        return _median(getattr(r, attr) for r in results if r.workload == w)

    def find(exp: str, **kv: Any) -> Workload | None:
        for e, w in plan:
            if e == exp and all(getattr(w, k) == v for k, v in kv.items()):
                return w
        return None

    rw_table: list[RwCell] = []
    if "rw" in config.experiments:
        for sb, share in SEED_SHARE_BUCKETS:
            for hb, hold in SEED_HOLD_BUCKETS:
                wm = find("rw", primitive="mutex", read_share=share, critical_ns=hold)
                wr = find("rw", primitive="rwmutex", read_share=share, critical_ns=hold)
                assert wm is not None and wr is not None
                m_ops = median_of(wm, "ops_per_sec")
                r_ops = median_of(wr, "ops_per_sec")
                speedup = r_ops / m_ops if m_ops > 0 else float("nan")
                measured = "RWMutex" if speedup >= 1.0 + config.margin else "Mutex"
                seed = seed_recommendation(sb, hb)
                agrees = None if seed not in ("Mutex", "RWMutex") else measured == seed
                if sb == ">99%":
                    rec = (
                        f"{measured} among locks; the article's answer is "
                        "copy-on-write (contend::Snapshot<T>, sync/snapshot.h)"
                    )
                elif measured == "RWMutex":
                    rec = f"RWMutex ({speedup:.2f}x Mutex's throughput)"
                elif speedup >= 1.0:
                    rec = (
                        f"Mutex (RWMutex only {speedup:.2f}x, below the "
                        f"{config.margin:.0%} margin)"
                    )
                else:
                    rec = f"Mutex (RWMutex {speedup:.2f}x: slower)"
                rw_table.append(
                    RwCell(sb, hb, share, hold, m_ops, r_ops, speedup, measured,
                           seed, agrees, rec)
                )

    names = {p.name: p.display_name for p in primitives()}
    shared_mode = {p.name: p.has_shared_mode for p in primitives()}
    seed_table: list[SeedRow] = []
    if "seed" in config.experiments:
        for hold in (50, 5000):
            for prim in config.seed_primitives:
                w = find("seed", primitive=prim, critical_ns=hold)
                if w is None:
                    continue
                rs = [r for r in results if r.workload == w]
                seed_table.append(
                    SeedRow(
                        primitive=prim,
                        display_name=names.get(prim, prim),
                        critical_ns=hold,
                        ns_per_op=_median(r.ns_per_op for r in rs),
                        seed_ns_per_op=SEED_TABLE_NS.get((prim, hold)),
                        ideal_ns_per_op=_ideal_4r1w_ns(hold, shared_mode.get(prim, False), cpus),
                        fairness=_median(r.fairness for r in rs),
                        write_p99_ns=int(_median(r.write_latency.p99_ns for r in rs)),
                    )
                )

    crossovers: list[Crossover] = []
    if "crossover" in config.experiments:
        for rw, mu in config.crossover_pairs:
            if rw not in known or mu not in known:
                continue
            pts = []
            for hold in config.crossover_holds_ns:
                wr = find("crossover", primitive=rw, critical_ns=hold)
                wm = find("crossover", primitive=mu, critical_ns=hold)
                if wr is None or wm is None:
                    continue
                r_ns = median_of(wr, "ns_per_op")
                m_ns = median_of(wm, "ns_per_op")
                pts.append(CrossoverPoint(hold, r_ns, m_ns, m_ns / r_ns if r_ns > 0 else float("nan")))
            crossovers.append(_crossover(rw, mu, pts))

    machine["other_cpu_during"] = other_load.fraction()
    return MatrixReport(
        config=config,
        machine=machine,
        results=results,
        rw_table=rw_table,
        seed_table=seed_table,
        crossovers=crossovers,
        wall_seconds=time.monotonic() - start,
        mutex_profile=mutex_profile,
        block_profile=block_profile,
        profile_text=profile_text,
    )
