"""The article's decision matrix, measured here: :func:`matrix` plans the runs
of each experiment, runs them (interleaved repetitions, optionally profiled)
and derives tables (a)-(c) with one recommendation per row, returned as a
:class:`~contend.lab.report.MatrixReport`.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
import time
from typing import Any, Callable, Iterable

from contend import _native
from contend.lab.machine import OtherLoad, machine_info
from contend.lab.experiments import registered
from contend.lab.model import (
    ARTICLE_EXPERIMENTS,
    ARTICLE_HOLD_BUCKETS,
    ARTICLE_SHARE_BUCKETS,
    ARTICLE_TABLE_NS,
    ArticleRow,
    Comparison,
    ComparisonRow,
    Crossover,
    CrossoverPoint,
    Experiment,
    MatrixConfig,
    Progress,
    Result,
    Results,
    RwCell,
    Workload,
    _renamed_experiment_error,
    article_recommendation,
)
from contend.lab.report import MatrixReport
from contend.lab.runner import primitives

__all__ = ["matrix"]


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


def _comparison(
    e: Experiment,
    duration: float,
    median_of: Callable[[Workload, str], float],
    names: dict[str, str],
) -> Comparison:
    display = tuple(names.get(p, p) for p in e.primitives)
    by_point: dict[int, dict[str, float]] = {}
    points = list(e.points)
    for point, w in e.workloads(duration):
        by_point.setdefault(points.index(point), {})[w.primitive] = median_of(
            w, "ops_per_sec")
    rows = []
    for i, point in enumerate(points):
        ops = by_point[i]
        cand, base = ops[e.primitives[0]], ops[e.primitives[1]]
        ratio = cand / base if base > 0 else float("nan")
        best = max(e.primitives, key=lambda p: -1.0 if math.isnan(ops[p]) else ops[p])
        rows.append(ComparisonRow(dict(point), dict(ops), ratio,
                                  display[e.primitives.index(best)]))
    ratios = [r.ratio for r in rows if not math.isnan(r.ratio)]
    wins = sum(1 for x in ratios if x > 1.0)
    if not ratios:
        summary = "not measured"
    elif wins == 0:
        summary = (f"{display[0]} never beats {display[1]} "
                   f"(best ratio {max(ratios):.2f}x)")
    else:
        summary = (f"{display[0]} beats {display[1]} at {wins} of {len(rows)} "
                   f"points (ratio {min(ratios):.2f}x to {max(ratios):.2f}x)")
    return Comparison(e.name, e.title, e.source, e.claim, e.primitives, display,
                      tuple(rows), summary)


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
      * ``"article"``: the article's 4 readers + 1 writer table at 50 ns and 5 us
        critical sections, with std/absl peers -- table (b).
      * ``"crossover"``: hold-time sweep with 4 readers + 1 writer, the hold
        time where the reader/writer lock starts to win -- table (c).
      * ``"scaling"``: throughput vs threads for every lock.
      * the name of a registered :class:`~contend.lab.model.Experiment`
        (``contend/lab/experiments/<module>.py``): its points on its
        primitives, one table of ops/s, ratio and winner.

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
    for name in config.experiments or ():
        renamed = _renamed_experiment_error(name)
        if renamed:
            raise ValueError(renamed)
    known = {p.name for p in primitives()}
    extra = {e.name: e for e in registered()}
    if config.experiments is None:
        config = dataclasses.replace(
            config,
            experiments=ARTICLE_EXPERIMENTS + tuple(
                n for n, e in extra.items() if all(p in known for p in e.primitives)),
        )
    unknown = set(config.experiments) - set(ARTICLE_EXPERIMENTS) - set(extra)
    if unknown:
        raise ValueError(
            f"unknown experiment(s) {sorted(unknown)} (known: "
            f"{', '.join(ARTICLE_EXPERIMENTS + tuple(extra))})")
    chosen = [extra[n] for n in config.experiments if n in extra]
    for e in chosen:
        missing = [p for p in e.primitives if p not in known]
        if missing:
            raise ValueError(
                f"experiment {e.name}: primitive(s) {missing} are not registered "
                "in the lab engine (see contend.lab.primitives())")

    say = progress or (lambda _msg: None)
    machine = machine_info()
    cpus = int(machine["cpus"])
    if config.threads is None:
        config = dataclasses.replace(config, threads=max(2, cpus))
    start = time.monotonic()

    other_load = OtherLoad()
    profiling = config.profile and _native.lab.profile_capture_available()
    if profiling:
        _native.profile.reset()
        prev_fraction = _native.profile.set_mutex_profile_fraction(100)
        prev_rate = _native.profile.set_block_profile_rate(10_000)

    plan: list[tuple[str, Workload]] = []
    d = config.duration
    if "rw" in config.experiments:
        for _, share in ARTICLE_SHARE_BUCKETS:
            for _, hold in ARTICLE_HOLD_BUCKETS:
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
    def four_readers_one_writer(prim: str, hold: int) -> Workload:
        # The article's microbenchmark shape: fixed shares, sized to `duration`.
        return Workload(
            primitive=prim,
            threads=5,
            writers=1,
            critical_ns=hold,
            outside_ns=config.outside_ns,
            ops=_ops_for(d, hold, 5, config.outside_ns),
        )

    if "article" in config.experiments:
        for hold in (50, 5000):
            for prim in config.article_primitives:
                if prim in known:
                    plan.append(("article", four_readers_one_writer(prim, hold)))
    if "crossover" in config.experiments:
        for hold in config.crossover_holds_ns:
            for pair in config.crossover_pairs:
                for prim in pair:
                    if prim in known:
                        plan.append(("crossover", four_readers_one_writer(prim, hold)))
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

    for e in chosen:
        plan += [(e.name, w) for _, w in e.workloads(d)]

    # Deduplicate (the article-table experiment and the crossover share points),
    # keeping first use.
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
        for sb, share in ARTICLE_SHARE_BUCKETS:
            for hb, hold in ARTICLE_HOLD_BUCKETS:
                wm = find("rw", primitive="mutex", read_share=share, critical_ns=hold)
                wr = find("rw", primitive="rwmutex", read_share=share, critical_ns=hold)
                assert wm is not None and wr is not None
                m_ops = median_of(wm, "ops_per_sec")
                r_ops = median_of(wr, "ops_per_sec")
                speedup = r_ops / m_ops if m_ops > 0 else float("nan")
                measured = "RWMutex" if speedup >= 1.0 + config.margin else "Mutex"
                article = article_recommendation(sb, hb)
                agrees = None if article not in ("Mutex", "RWMutex") else measured == article
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
                           article, agrees, rec)
                )

    names = {p.name: p.display_name for p in primitives()}
    shared_mode = {p.name: p.has_shared_mode for p in primitives()}
    article_table: list[ArticleRow] = []
    if "article" in config.experiments:
        for hold in (50, 5000):
            for prim in config.article_primitives:
                w = find("article", primitive=prim, critical_ns=hold)
                if w is None:
                    continue
                rs = [r for r in results if r.workload == w]
                article_table.append(
                    ArticleRow(
                        primitive=prim,
                        display_name=names.get(prim, prim),
                        critical_ns=hold,
                        ns_per_op=_median(r.ns_per_op for r in rs),
                        article_ns_per_op=ARTICLE_TABLE_NS.get((prim, hold)),
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

    comparisons = [_comparison(e, d, median_of, names) for e in chosen]

    machine["other_cpu_during"] = other_load.fraction()
    return MatrixReport(
        config=config,
        machine=machine,
        results=results,
        rw_table=rw_table,
        article_table=article_table,
        crossovers=crossovers,
        wall_seconds=time.monotonic() - start,
        mutex_profile=mutex_profile,
        block_profile=block_profile,
        profile_text=profile_text,
        comparisons=comparisons,
    )
