"""The lab's data model: what to run (:class:`Workload`, :class:`MatrixConfig`),
what one run measured (:class:`Result`, :class:`Results`, :class:`Latency`,
:class:`ThreadStats`), the rows of the decision-matrix tables (:class:`RwCell`,
:class:`ArticleRow`, :class:`Crossover`) and the numbers the article *sync —
Senior* publishes, which the tables put next to the measured ones.

Imports nothing of the lab's other modules (every one of them imports this).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Mapping

from contend import _native

__all__ = [
    "ARTICLE_CROSSOVER_NS",
    "ARTICLE_EXPERIMENTS",
    "ARTICLE_HOLD_BUCKETS",
    "ARTICLE_SHARE_BUCKETS",
    "ARTICLE_TABLE_NS",
    "ArticleRow",
    "Comparison",
    "ComparisonRow",
    "Crossover",
    "CrossoverPoint",
    "Experiment",
    "Latency",
    "MatrixConfig",
    "PrimitiveInfo",
    "Progress",
    "Result",
    "Results",
    "RwCell",
    "ThreadStats",
    "Workload",
    "article_recommendation",
]

Progress = Callable[[str], None]

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



# --------------------------------------------------------------------------
# The article's numbers (section 4 of *sync — Senior*)
# --------------------------------------------------------------------------

# The experiments of the article's decision matrix, in report order (see
# contend.lab.decision.matrix).
ARTICLE_EXPERIMENTS: tuple[str, ...] = ("rw", "article", "crossover", "scaling")

# The article's section 4: "Read share | Hold time | Better choice".
ARTICLE_SHARE_BUCKETS: tuple[tuple[str, float], ...] = (
    (">99%", 0.995),
    ("95-99%", 0.97),
    ("70-95%", 0.85),
    ("<70%", 0.50),
)
ARTICLE_HOLD_BUCKETS: tuple[tuple[str, int], ...] = (
    ("<1 us", 100),
    (">1 us", 5000),
)
# The article's microbenchmark (4 readers, 1 writer, "M-class"), ns/op.
ARTICLE_TABLE_NS: dict[tuple[str, int], float] = {
    ("rwmutex", 50): 9.8,
    ("mutex", 50): 6.6,
    ("rwmutex", 5000): 1130.0,
    ("mutex", 5000): 4180.0,
}
ARTICLE_CROSSOVER_NS = 1000.0


def article_recommendation(share_bucket: str, hold_bucket: str) -> str:
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
    ``experiments``: names from :data:`ARTICLE_EXPERIMENTS` and the registered
    comparisons (:func:`contend.lab.experiments.registered`); None runs the
    article's four and every comparison whose primitives are registered.
    """

    experiments: tuple[str, ...] | None = None
    threads: int | None = None
    duration: float = 0.2
    repetitions: int = 3
    outside_ns: int = 0
    crossover_holds_ns: tuple[int, ...] = (50, 100, 200, 500, 1000, 2000, 5000, 10000)
    crossover_pairs: tuple[tuple[str, str], ...] = (
        ("rwmutex", "mutex"),
        ("std_shared_mutex", "std_mutex"),
    )
    article_primitives: tuple[str, ...] = (
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
            article_primitives=("rwmutex", "mutex"),
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
    article_choice: str  # the article's "better choice" for this cell
    agrees: bool | None  # None where the article recommends neither lock
    recommendation: str


@dataclass(frozen=True)
class ArticleRow:
    """One row of table (b): 4 readers + 1 writer, fixed shares."""

    primitive: str
    display_name: str
    critical_ns: int
    ns_per_op: float
    article_ns_per_op: float | None  # the article's ns/op; None: not in its table
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


# --------------------------------------------------------------------------
# Comparisons that modules add (contend/lab/experiments/<module>.py)
# --------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Experiment:
    """A comparison a module adds to the decision matrix: the same workload
    points run on a candidate primitive and its peers, one table row each.

    Attributes:
        name: the id ``--experiments`` and ``MatrixConfig.experiments`` use.
        title: the table's heading.
        source: where the claim comes from, by title ("the article *sync —
            Senior*, section 6", "Go's sync docs").
        claim: what that source says, printed under the table beside the
            measurement.
        primitives: registry names; ``[0]`` is the candidate, ``[1]`` the
            baseline the ratio divides by, the rest more peers.
        points: Workload fields other than ``primitive`` for each row (a point
            without ``ops`` or ``duration`` runs for ``MatrixConfig.duration``).
    """

    name: str
    title: str
    source: str
    claim: str
    primitives: tuple[str, ...]
    points: tuple[Mapping[str, Any], ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "primitives", tuple(self.primitives))
        object.__setattr__(self, "points", tuple(dict(p) for p in self.points))
        if not self.name or not self.name.isidentifier():
            raise ValueError(f"Experiment name {self.name!r} is not an identifier")
        if len(self.primitives) < 2:
            raise ValueError(f"Experiment {self.name}: needs a candidate and a baseline")
        if not self.points:
            raise ValueError(f"Experiment {self.name}: no points")
        if any(p in self.points[:i] for i, p in enumerate(self.points)):
            raise ValueError(f"Experiment {self.name}: a point is listed twice")
        fields = {f.name for f in dataclasses.fields(Workload)} - {"primitive"}
        for p in self.points:
            unknown = set(p) - fields
            if unknown:
                raise ValueError(
                    f"Experiment {self.name}: unknown workload field(s) {sorted(unknown)}")

    def workloads(self, duration: float) -> list[tuple[Mapping[str, Any], Workload]]:
        """(point, workload) for every point and primitive, points outermost."""
        out = []
        for p in self.points:
            sized = p if ("ops" in p or "duration" in p) else {**p, "duration": duration}
            out += [(p, Workload(primitive=prim, **sized)) for prim in self.primitives]
        return out


@dataclass(frozen=True)
class ComparisonRow:
    """One point of a :class:`Comparison`: median ops/s per primitive."""

    point: dict[str, Any]
    ops_per_sec: dict[str, float]
    ratio: float  # candidate / baseline throughput; > 1: the candidate wins
    winner: str  # display name of the fastest primitive


@dataclass(frozen=True)
class Comparison:
    """The measured table of an :class:`Experiment`."""

    name: str
    title: str
    source: str
    claim: str
    primitives: tuple[str, ...]
    display_names: tuple[str, ...]
    rows: tuple[ComparisonRow, ...]
    summary: str


# --------------------------------------------------------------------------
# Renamed names: reading one fails with an error that names its replacement
# (python/README.md lists them)
# --------------------------------------------------------------------------

# Old module-level name -> current name (contend.lab.model and contend.lab).
_RENAMED: dict[str, str] = {
    "SEED_CROSSOVER_NS": "ARTICLE_CROSSOVER_NS",
    "SEED_HOLD_BUCKETS": "ARTICLE_HOLD_BUCKETS",
    "SEED_SHARE_BUCKETS": "ARTICLE_SHARE_BUCKETS",
    "SEED_TABLE_NS": "ARTICLE_TABLE_NS",
    "SeedRow": "ArticleRow",
    "seed_recommendation": "article_recommendation",
}

# Old experiment name -> current one; matrix() and tools/lab reject the old
# one, and no module's experiment may take it.
_RENAMED_EXPERIMENTS: dict[str, str] = {"seed": "article"}


def _no_attribute(module: str, name: str) -> AttributeError:
    """The error for reading ``name`` from ``module``: the replacement's name
    for a renamed one, Python's usual message for any other."""
    new = _RENAMED.get(name)
    if new is None:
        return AttributeError(f"module {module!r} has no attribute {name!r}")
    return AttributeError(f"{module}: {name} was renamed {new}")


def _renamed_experiment_error(name: str) -> str | None:
    """``unknown experiment 'old' (renamed 'new')`` for a renamed experiment
    name, None for any other."""
    new = _RENAMED_EXPERIMENTS.get(name)
    return None if new is None else f"unknown experiment {name!r} (renamed {new!r})"


if not TYPE_CHECKING:  # type checkers report an unknown name themselves

    def __getattr__(name: str) -> Any:
        raise _no_attribute(__name__, name)
