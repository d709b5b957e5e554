"""The read-mostly rows: Snapshot for a config read (the article's section 4,
">99% reads") and the map table of section 6 by read share: ReadMostlyMap,
StripedMap (256 shards, the article's structural fix) and one RWMutex over a
map. Both tables are small (3 points x 3 primitives); the notebooks
python/notebooks/read_mostly.ipynb and striped_map.ipynb sweep further."""

from __future__ import annotations

from contend.lab.model import Experiment

EXPERIMENTS = [
    Experiment(
        name="snapshot",
        title="Config read: Snapshot vs RWMutex vs Mutex",
        source="the article *sync — Senior*, section 4",
        claim=">99% reads: an atomic pointer with copy-on-write beats any lock",
        primitives=("snapshot", "rwmutex", "mutex"),
        points=[dict(threads=2, read_share=s, critical_ns=20, outside_ns=50)
                for s in (0.9, 0.99, 0.999)],
    ),
    Experiment(
        name="read_mostly_map",
        title="Map of 1000 keys: ReadMostlyMap vs StripedMap vs one RWMutex over a "
              "flat_hash_map",
        source="the article *sync — Senior*, section 6",
        claim="read-dominated maps with stable keys: sync.Map; otherwise a locked map",
        primitives=("read_mostly_map", "striped_map", "rwmutex_map"),
        points=[dict(threads=2, read_share=s, keys=1000, critical_ns=20, outside_ns=50)
                for s in (0.7, 0.99, 0.999)],
    ),
]
