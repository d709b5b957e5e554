"""shard/'s comparisons in the lab report (issue 16): the article's per-CPU
counter crossover and its reader-lock postmortem, each run on the sharded
primitive and its peers (C++ registrations in bench/lab/shard_primitives.cc).
"""

from __future__ import annotations

from contend.lab.model import Experiment

# One read per R increments is read_share = 1 / (R + 1): R = 1, ~100, ~10^4
# (round shares, so the table's point labels stay readable).
_READ_SHARES = (0.5, 0.01, 0.0001)

EXPERIMENTS = [
    Experiment(
        name="counter_crossover",
        title="Per-CPU counter vs one atomic word, 2 threads: read_share 0.5, 0.01, "
              "0.0001 = one read per 1, ~100, ~10^4 increments",
        source="the article *sync — Senior*, section 3 (per-P sharding)",
        claim="Sharding a counter per CPU: writes are uncontended; reads pay O(P); it "
              "wins when write:read > 100:1. (Its win is the atomic's contended "
              "write, which needs both threads on-core at once: on a loaded or "
              "time-sliced machine expect break-even, not a win.)",
        primitives=("sharded_counter", "atomic_counter"),
        points=tuple(
            {"threads": 2, "read_share": share, "critical_ns": 0,
             "outside_ns": 0, "latency_sample": 0}
            for share in _READ_SHARES
        ),
    ),
    Experiment(
        name="reader_lock_postmortem",
        title="The postmortem workload: 100 ns read path, 200 reads per write",
        source="the article *sync — Senior*, section 13 (postmortem \"RWMutex worse "
               "than Mutex\")",
        claim="RWMutex was slower than Mutex for a 100 ns read path at 200:1 "
              "reads:writes, because every RLock writes the shared reader count and "
              "its cache line bounces between cores; DistributedRWMutex's reader "
              "writes only its own slot's line, so it should not lose to Mutex there "
              "(its writers pay a revocation instead).",
        primitives=("distributed_rwmutex", "mutex", "rwmutex", "std_shared_mutex"),
        points=tuple(
            {"threads": t, "read_share": 200 / 201, "critical_ns": 100, "outside_ns": 0}
            for t in (2, 4)
        ),
    ),
]
