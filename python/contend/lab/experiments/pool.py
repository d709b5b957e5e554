"""pool/'s comparison for the decision matrix: when does a buffer pool beat
the allocator (bench/lab/pool_primitives.cc; the notebook
python/notebooks/pooling.ipynb sweeps the full size x rate grid)."""

from __future__ import annotations

from contend.lab.model import Experiment

EXPERIMENTS = [
    Experiment(
        name="pool",
        title="BufferPool vs new[]/delete[]: object size x allocation rate",
        source="the article *sync — Senior*, section 5",
        claim="pooling objects under 64 B or allocated under 1K/s is noise; "
              "pool what is large and hot",
        primitives=("buffer_pool", "malloc"),
        # keys = object size in bytes; outside_ns = work between allocations.
        points=[dict(threads=2, keys=size, critical_ns=0, outside_ns=outside)
                for size in (64, 262144) for outside in (0, 10000)],
    ),
]
