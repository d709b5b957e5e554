"""The notebooks run headlessly (nbclient) with small parameters, so they
cannot rot: every cell executes without error and the plots are produced."""

from __future__ import annotations

import os
import sys

import nbformat
from nbclient import NotebookClient

HERE = os.path.dirname(os.path.abspath(__file__))


def notebook_path(name: str) -> str:
    # Bazel runfiles: <runfiles>/contend/python/notebooks/<name>; in a plain
    # checkout the same path relative to the repository root.
    root = os.path.dirname(os.path.dirname(HERE))
    return os.path.join(root, "python", "notebooks", name)


def execute(name, tmp_path, monkeypatch):
    """Runs notebook `name` headlessly in quick mode; returns its outputs."""
    monkeypatch.setenv("CONTEND_NOTEBOOK_QUICK", "1")
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    monkeypatch.setenv("MPLCONFIGDIR", str(tmp_path / "mpl"))
    # The kernel is a child process: it needs the same import path.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in sys.path if p))
    nb = nbformat.read(notebook_path(name), as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    return [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]


def test_rwmutex_crossover_notebook(tmp_path, monkeypatch):
    outputs = execute("rwmutex_crossover.ipynb", tmp_path, monkeypatch)
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "contend::RWMutex" in text and "(the article: ~1,000 ns)" in text
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert images, "the crossover plot was not produced"


def test_pooling_notebook(tmp_path, monkeypatch):
    """Section 5's rules: size x rate against glibc, and the postmortem's RSS
    with and without the cap (the capped pool must keep RSS down)."""
    outputs = execute("pooling.ipynb", tmp_path, monkeypatch)
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "sizes where BufferPool saves" in text and "capped / unbounded" in text
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 2, "the sweep and the RSS plots were not both produced"


def test_read_mostly_notebook(tmp_path, monkeypatch):
    """Section 4's config-read row and section 6's map table, both plotted."""
    outputs = execute("read_mostly.ipynb", tmp_path, monkeypatch)
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "without a lost update" in text
    assert "contend::Snapshot" in text and "contend::ReadMostlyMap" in text
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert images, "the plots were not produced"


def test_per_cpu_notebook(tmp_path, monkeypatch):
    """Section 3's counter crossover and section 13's reader-lock postmortem."""
    outputs = execute("per_cpu.ipynb", tmp_path, monkeypatch)
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "contend::ShardedCounter" in text and "the article: R > 100" in text
    assert "contend::DistributedRWMutex" in text and "writer p99" in text
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 2, "the crossover and postmortem plots were not both produced"


def test_striped_map_notebook(tmp_path, monkeypatch):
    """Section 6's table (99R/1W, 70R/30W) and section 3's shard-count sweep."""
    outputs = execute("striped_map.ipynb", tmp_path, monkeypatch)
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "contend::StripedMap" in text and "the article:" in text
    tables = [o for o in outputs if "text/html" in o.get("data", {})]
    assert len(tables) >= 2, "the section 6 and shard-count tables were not produced"
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 2, "the plots were not produced"


if __name__ == "__main__":
    from pytest_main import main

    sys.exit(main(__file__))
