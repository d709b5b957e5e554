"""Comparisons that modules add to the lab's decision matrix, one file each.

A module whose primitive is registered in the lab engine
(``bench/lab/<module>_primitives.cc``) and wants a table in ``tools/lab``'s
report adds ``python/contend/lab/experiments/<module>.py`` defining
``EXPERIMENTS``, a sequence of :class:`contend.lab.model.Experiment`::

    from contend.lab.model import Experiment

    EXPERIMENTS = [
        Experiment(
            name="counter",                      # --experiments=counter
            title="ShardedCounter vs one atomic counter",
            source="the article *sync — Senior*, section 6",
            claim="what that source says, in a sentence",
            primitives=("sharded_counter", "atomic_counter"),  # candidate, baseline
            points=[dict(threads=t, critical_ns=0, outside_ns=50) for t in (1, 2, 4)],
        ),
    ]

:func:`matrix` runs every registered experiment whose primitives are all
registered (or those named in ``MatrixConfig.experiments``), and the report
prints one table per experiment: ops/s of each primitive at each point, the
candidate/baseline ratio and the winner. Keep an experiment small (a dozen
runs or fewer: each point runs once per primitive and repetition) -- it adds
to the default ``tools/lab`` time. This file imports only the model; no
other file needs an edit.
"""

from __future__ import annotations

import importlib
import pkgutil

from contend.lab.model import _RENAMED_EXPERIMENTS, ARTICLE_EXPERIMENTS, Experiment

__all__ = ["registered"]


def registered() -> tuple[Experiment, ...]:
    """Every experiment of the modules in this package, by module then order.

    Raises ValueError when two experiments share a name, or one takes the
    name of the article's experiments (rw, article, crossover, scaling) or
    seed, the name 'article' had before (matrix() rejects it as renamed)."""
    out: list[Experiment] = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        mod = importlib.import_module(f"{__name__}.{info.name}")
        for e in getattr(mod, "EXPERIMENTS", ()):
            if not isinstance(e, Experiment):
                raise TypeError(f"{mod.__name__}.EXPERIMENTS holds {e!r}, not an Experiment")
            out.append(e)
    names = [e.name for e in out]
    clash = sorted({n for n in names if names.count(n) > 1 or n in ARTICLE_EXPERIMENTS
                    or n in _RENAMED_EXPERIMENTS})
    if clash:
        raise ValueError(f"lab experiment name(s) used twice: {clash}")
    return tuple(out)
