"""Running workloads on the C++ lab engine (bench/lab, bound as
``contend._native.lab``): :func:`run`, the registry (:func:`primitives`) and
the busy-work calibration (:func:`calibration`)."""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

from contend import _native
from contend.lab.model import PrimitiveInfo, Progress, Result, Results, Workload

__all__ = ["calibration", "primitives", "run"]


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
