"""``python3 -m contend lab``: the lab command line (what ``tools/lab`` runs).

With no flags it runs the article's decision matrix in about a minute, prints the
article's tables with measured numbers and a recommendation per row on stdout,
reports progress on stderr, and writes ``lab-out/`` (report.md, results.json,
results.csv, PNG plots, and the run's contention profile as pprof files).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Sequence

from contend.lab import report
from contend.lab.decision import matrix
from contend.lab.machine import cpu_busy_fraction
from contend.lab.experiments import registered
from contend.lab.model import ARTICLE_EXPERIMENTS, MatrixConfig, _renamed_experiment_error
from contend.lab.runner import primitives

__all__ = ["main"]

_EXPERIMENTS = {
    "rw": "rw", "a": "rw", "matrix": "rw",
    "article": "article", "b": "article", "table": "article",
    "crossover": "crossover", "c": "crossover",
    "scaling": "scaling", "d": "scaling", "threads": "scaling",
}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="tools/lab",
        description="Run the lock decision matrix of *sync — Senior* on this machine "
        "and say which primitive to use.",
    )
    p.add_argument(
        "--experiments",
        default=None,
        help="comma-separated subset of: rw (a: RWMutex vs Mutex by read share x "
        "hold time), article (b: the article's microbenchmark, 4 readers + 1 writer, "
        "50 ns vs 5 us), crossover "
        "(c: hold-time sweep), scaling (throughput vs threads)"
        + "".join(f", {e.name} ({e.title})" for e in registered())
        + ". Default: all (registered comparisons whose primitives are built in).",
    )
    p.add_argument("--threads", type=int, default=None,
                   help="threads for table (a) and the top of the scaling sweep "
                   "(default: one per CPU, at least 2)")
    p.add_argument("--duration", type=float, default=None,
                   help="seconds per run (default 0.2; --quick 0.04)")
    p.add_argument("--repetitions", type=int, default=None,
                   help="interleaved repetitions per configuration; medians are "
                   "reported (default 3; --quick 1)")
    p.add_argument("--outside", type=int, default=None,
                   help="ns of busy work between ops in (a)-(c) (default 0: the "
                   "lock is saturated, as in Go's RunParallel benchmarks)")
    p.add_argument("--quick", action="store_true",
                   help="CI size: short runs, fewer points (a few seconds)")
    p.add_argument("--out", default="lab-out",
                   help="output directory (default lab-out)")
    p.add_argument("--no-profile", action="store_true",
                   help="do not profile the run (no pprof files)")
    p.add_argument("--list", action="store_true",
                   help="list the registered primitives and exit")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.list:
        for p in primitives():
            mode = "shared+exclusive" if p.has_shared_mode else "exclusive"
            print(f"{p.name:<18} {p.display_name:<20} {mode:<17} {p.description}")
        return 0

    overrides: dict[str, object] = {}
    if args.experiments is not None:
        extra = [e.name for e in registered()]
        aliases = {**_EXPERIMENTS, **{n: n for n in extra}}
        exps: list[str] = []
        for e in args.experiments.split(","):
            e = e.strip()
            if not e:
                continue
            renamed = _renamed_experiment_error(e)
            if renamed:
                print(f"tools/lab: {renamed}", file=sys.stderr)
                return 2
            if e not in aliases:
                print(f"tools/lab: unknown experiment {e!r} (choose from "
                      f"{', '.join(ARTICLE_EXPERIMENTS + tuple(extra))})",
                      file=sys.stderr)
                return 2
            if aliases[e] not in exps:
                exps.append(aliases[e])
        overrides["experiments"] = tuple(exps)
    if args.threads is not None:
        if args.threads < 1:
            print("tools/lab: --threads must be >= 1", file=sys.stderr)
            return 2
        overrides["threads"] = args.threads
        overrides["scaling_threads"] = tuple(
            t for t in (1, 2, 4, 8, 16, 32, 64) if t < args.threads) + (args.threads,)
    if args.duration is not None:
        overrides["duration"] = args.duration
    if args.repetitions is not None:
        overrides["repetitions"] = args.repetitions
    if args.outside is not None:
        overrides["outside_ns"] = args.outside
    if args.no_profile:
        overrides["profile"] = False

    def progress(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    cfg = (MatrixConfig.quick(**overrides) if args.quick
           else MatrixConfig(**overrides))
    busy = _busy_warning()
    if busy:
        progress(busy)
    progress("lab: calibrating busy work and running "
             f"{', '.join(cfg.experiments) if cfg.experiments else 'every experiment'} "
             f"({cfg.duration:g} s per run, {cfg.repetitions} repetition(s))")
    t0 = time.monotonic()
    rep = matrix(cfg, progress=progress)
    sys.stdout.write(report.tables_text(rep))
    sys.stdout.flush()
    written = report.write_outputs(rep, args.out)
    progress(f"lab: done in {time.monotonic() - t0:.0f} s; wrote "
             + ", ".join(_show(p) for p in written))
    other = rep.machine.get("other_cpu_during", 0.0)
    if other > 0.15:
        progress(f"lab: WARNING: other processes used {other:.0%} of the CPUs "
                 "during the run; the numbers are noisy (see the NOTE above the "
                 "tables)")
    return 0


def _busy_warning() -> str:
    """A warning when other processes compete for the CPUs (noisy numbers)."""
    busy = cpu_busy_fraction()
    if not busy > 0.25:  # also false for NaN
        return ""
    cpus = os.cpu_count() or 1
    return (f"lab: WARNING: {busy:.0%} of the {cpus} CPUs were busy before the "
            "lab started: other processes compete for the CPUs, so lock "
            "timings (especially reader/writer locks, whose readers get "
            "preempted while holding the lock) will be noisy; rerun on a "
            "quiet machine before deciding")


def _show(path: str) -> str:
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
