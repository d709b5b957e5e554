"""The contention lab: measure which primitive to use, on this machine.

The *sync — Senior* article's decisions are all "measure production-shaped traffic".
This package runs contention workloads on native threads (the C++ engine in
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

The package's modules, each importing only those listed above it (no cycles;
tests/python/test_lab_imports.py checks it):

  ``model``     data types: Workload, Result(s), MatrixConfig, table rows, and
                the numbers the article publishes
  ``runner``    :func:`run`, :func:`primitives`, :func:`calibration` (the C++ engine)
  ``machine``   the one /proc/stat reader, :func:`cpu_busy_fraction`, :func:`machine_info`
  ``report``    :class:`MatrixReport` and its text/Markdown/JSON/CSV/PNG renderings
  ``experiments``  the comparisons modules add, one file each
                (``experiments/<module>.py``; imports only ``model``)
  ``decision``  :func:`matrix`, the article's decision matrix plus those comparisons
  ``cli``       ``python3 -m contend lab`` / ``tools/lab`` (not imported here)

Every public name is re-exported here: ``contend.lab.run(...)``,
``contend.lab.matrix(...)``, ``contend.lab.Workload`` ...
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from contend.lab import experiments, report
from contend.lab.decision import matrix
from contend.lab.machine import cpu_busy_fraction, machine_info
from contend.lab.model import (
    ARTICLE_CROSSOVER_NS,
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
    Latency,
    MatrixConfig,
    PrimitiveInfo,
    Progress,
    Result,
    Results,
    RwCell,
    ThreadStats,
    Workload,
    _no_attribute,
    article_recommendation,
)
from contend.lab.report import MatrixReport
from contend.lab.runner import calibration, primitives, run

__all__ = [
    "ArticleRow",
    "Comparison",
    "ComparisonRow",
    "Crossover",
    "CrossoverPoint",
    "Experiment",
    "Latency",
    "MatrixConfig",
    "MatrixReport",
    "PrimitiveInfo",
    "Result",
    "Results",
    "RwCell",
    "ThreadStats",
    "Workload",
    "calibration",
    "cpu_busy_fraction",
    "machine_info",
    "matrix",
    "primitives",
    "run",
]

if not TYPE_CHECKING:  # type checkers report an unknown name themselves

    def __getattr__(name: str) -> Any:
        # A renamed name of contend.lab.model fails naming its replacement.
        raise _no_attribute(__name__, name)
