"""Property tests of the lab engine through contend.lab: the invariants every
Result must satisfy, for arbitrary workloads on every registered primitive."""

from __future__ import annotations

import json
import os
import statistics
import sys

import pytest
from hypothesis import given, settings, strategies as st

import contend
from contend import lab

PRIMITIVES = [p.name for p in lab.primitives()]
SHARED = {p.name for p in lab.primitives() if p.has_shared_mode}


def test_registry_has_core_and_peer_primitives():
    assert {"mutex", "rwmutex", "std_mutex", "std_shared_mutex", "absl_mutex"} <= set(PRIMITIVES)
    assert {"rwmutex", "std_shared_mutex", "absl_mutex"} <= SHARED
    assert "mutex" not in SHARED


@st.composite
def workloads(draw):
    threads = draw(st.integers(1, 4))
    fixed = draw(st.booleans())
    return lab.Workload(
        primitive=draw(st.sampled_from(PRIMITIVES)),
        threads=threads,
        read_share=draw(st.floats(0.0, 1.0)),
        writers=draw(st.one_of(st.none(), st.integers(0, threads))),
        critical_ns=draw(st.sampled_from([0, 10, 50, 200, 1000, 3000])),
        outside_ns=draw(st.sampled_from([0, 50, 500])),
        duration=0.01,
        ops=draw(st.integers(1, 3000)) if fixed else 0,
        seed=draw(st.integers(0, 2**32)),
        latency_sample=draw(st.sampled_from([0, 1, 3, 8])),
    )


def check_latency(lat: lab.Latency, what: str) -> None:
    if lat.count == 0:
        assert (lat.p50_ns, lat.p99_ns, lat.max_ns) == (0, 0, 0), what
        return
    chain = [lat.min_ns, lat.p50_ns, lat.p90_ns, lat.p99_ns, lat.p999_ns, lat.max_ns]
    assert chain == sorted(chain), f"{what}: percentiles not monotone: {chain}"
    assert lat.min_ns <= lat.mean_ns <= lat.max_ns, what


@settings(max_examples=60)
@given(w=workloads())
def test_result_invariants(w):
    (r,) = lab.run(w)
    n = w.threads
    assert len(r.per_thread) == n
    assert r.total_ops == sum(t.ops for t in r.per_thread)
    assert r.total_ops == r.reads + r.writes
    assert r.reads == sum(t.reads for t in r.per_thread)
    assert all(t.ops == t.reads + t.writes for t in r.per_thread)
    assert r.exclusion_ok, "the protected counter lost an update"
    assert not r.cancelled
    assert 0.0 <= r.fairness <= 1.0
    if w.ops:
        assert r.total_ops == w.ops
        shares = sorted(t.ops for t in r.per_thread)
        assert shares[-1] - shares[0] <= 1, f"fixed shares unequal: {shares}"
    else:
        assert r.elapsed_s >= w.duration * 0.95
    if w.writers is not None:
        for i, t in enumerate(r.per_thread):
            if i < w.writers:
                assert t.reads == 0, "a dedicated writer read"
            else:
                assert t.writes == 0, "a dedicated reader wrote"
    elif w.read_share == 0.0:
        assert r.reads == 0
    elif w.read_share == 1.0:
        assert r.writes == 0
    if r.total_ops:
        assert r.ops_per_sec == pytest.approx(r.total_ops / r.elapsed_s, rel=1e-6)
        assert r.ns_per_op == pytest.approx(r.elapsed_s * 1e9 / r.total_ops, rel=1e-6)
    for lat, what in ((r.latency, "all"), (r.read_latency, "read"),
                      (r.write_latency, "write")):
        check_latency(lat, what)
    assert r.latency.count == r.read_latency.count + r.write_latency.count
    assert r.latency.count <= r.total_ops
    if w.latency_sample == 0:
        assert r.latency.count == 0
    if w.latency_sample == 1:
        assert r.latency.count == r.total_ops


@pytest.mark.parametrize("primitive", ["mutex", "rwmutex", "std_mutex"])
def test_zero_ns_critical_section_is_never_slower_than_5us(primitive):
    # Interleaved repetitions, medians: a 0 ns critical section must not be
    # slower than a 5 us one beyond noise (it should be far faster).
    fast, slow = [], []
    for rep in range(3):
        for crit, into in ((0, fast), (5000, slow)):
            (r,) = lab.run(primitive=primitive, threads=2, read_share=0.5,
                           critical_ns=crit, outside_ns=0, duration=0.05, seed=rep)
            into.append(r.ops_per_sec)
    assert statistics.median(fast) >= 0.8 * statistics.median(slow), (fast, slow)


def test_sweep_is_a_cartesian_product_and_to_dataframe():
    rs = lab.run(primitive=["mutex", "rwmutex"], threads=[1, 2], critical_ns=50,
                 duration=0.01, repetitions=2)
    assert len(rs) == 8
    assert [r.repetition for r in rs] == [0] * 4 + [1] * 4
    assert len(rs.where(primitive="mutex")) == 4
    pd = pytest.importorskip(
        "pandas", reason="missing tool: pandas (Debian python3-pandas)")
    df = rs.to_dataframe()
    assert isinstance(df, pd.DataFrame)
    assert len(df) == 8
    for col in ("primitive", "threads", "ops_per_sec", "latency_p99_ns", "fairness"):
        assert col in df.columns
    assert (df["total_ops"] > 0).all()


def test_bad_workloads_are_rejected():
    with pytest.raises(ValueError, match="threads"):
        lab.run(primitive="mutex", threads=0)
    with pytest.raises(ValueError, match="read_share"):
        lab.run(primitive="mutex", read_share=1.5)
    with pytest.raises(KeyError, match="known"):
        lab.run(primitive="no_such_lock")
    with pytest.raises(TypeError):
        lab.run(primitiv="mutex")


def test_profile_capture_names_the_workload():
    if not contend._native.lab.profile_capture_available():
        pytest.skip("profiler not linked")
    (r,) = lab.run(primitive="mutex", threads=4, critical_ns=2000, outside_ns=0,
                   duration=0.05, capture_profile=True)
    assert r.mutex_profile[:2] == b"\x1f\x8b"  # gzip
    assert r.block_profile[:2] == b"\x1f\x8b"


def test_quick_matrix_tables():
    rep = lab.matrix(quick=True, experiments=("rw", "article", "crossover"),
                     duration=0.01, profile=False)
    assert len(rep.rw_table) == 8
    assert {c.share_bucket for c in rep.rw_table} == {">99%", "95-99%", "70-95%", "<70%"}
    for c in rep.rw_table:
        assert c.measured in ("Mutex", "RWMutex")
        assert c.speedup == pytest.approx(c.rwmutex_ops_per_sec / c.mutex_ops_per_sec)
    assert {(r.primitive, r.critical_ns) for r in rep.article_table} >= {
        ("mutex", 50), ("rwmutex", 50), ("mutex", 5000), ("rwmutex", 5000)}
    c = rep.crossover
    assert c is not None and len(c.points) == 3
    text = rep.tables_text()
    assert "(a)" in text and "(b)" in text and "(c)" in text


def test_article_names_and_the_renamed_ones_fail(tmp_path):
    rep = lab.matrix(quick=True, experiments=("rw", "article"), duration=0.01,
                     profile=False)
    rows = {(r.primitive, r.critical_ns): r for r in rep.article_table}
    assert rows[("mutex", 50)].article_ns_per_op == lab.ARTICLE_TABLE_NS[("mutex", 50)]
    assert rows[("rwmutex", 5000)].article_ns_per_op == 1130.0
    for c in rep.rw_table:
        assert c.article_choice == lab.article_recommendation(c.share_bucket, c.hold_bucket)
    assert "Article says" in rep.tables_text()

    # Module-level names of contend.lab and contend.lab.model: each old one
    # fails naming the new one.
    from contend.lab import model
    for old, new in [("SEED_CROSSOVER_NS", "ARTICLE_CROSSOVER_NS"),
                     ("SEED_HOLD_BUCKETS", "ARTICLE_HOLD_BUCKETS"),
                     ("SEED_SHARE_BUCKETS", "ARTICLE_SHARE_BUCKETS"),
                     ("SEED_TABLE_NS", "ARTICLE_TABLE_NS"),
                     ("SeedRow", "ArticleRow"),
                     ("seed_recommendation", "article_recommendation")]:
        for mod in (lab, model):
            with pytest.raises(AttributeError,
                               match=f"^{mod.__name__}: {old} was renamed {new}$"):
                getattr(mod, old)
            assert not hasattr(mod, old)
            assert old not in mod.__all__ and new in model.__all__
            assert getattr(mod, new) is getattr(model, new)
    with pytest.raises(ImportError, match="SeedRow"):
        from contend.lab import SeedRow  # noqa: F401
    for mod in (lab, model):
        with pytest.raises(AttributeError,
                           match=f"^module '{mod.__name__}' has no attribute 'SEED_NOPE'$"):
            mod.SEED_NOPE

    # Attributes of the table rows, the report and the config are gone.
    assert not hasattr(rep.article_table[0], "seed_ns_per_op")
    assert not hasattr(rep.rw_table[0], "seed")
    assert not hasattr(rep, "seed_table")
    assert not hasattr(rep.config, "seed_primitives")
    with pytest.raises(TypeError, match="seed_primitives"):
        lab.MatrixConfig(seed_primitives=("mutex",))
    with pytest.raises(TypeError, match="seed_primitives"):
        lab.MatrixConfig.quick(seed_primitives=("mutex",))

    # The experiment's old name is rejected, naming the new one.
    renamed = r"^unknown experiment 'seed' \(renamed 'article'\)$"
    with pytest.raises(ValueError, match=renamed):
        lab.matrix(quick=True, experiments=("seed",), duration=0.01, profile=False)
    with pytest.raises(ValueError, match=renamed):
        lab.matrix(lab.MatrixConfig.quick(experiments=("rw", "seed"), duration=0.01,
                                          profile=False))


def _canon(doc):
    # Key order aside, and NaN (not measured) equal to NaN.
    return json.dumps(doc, sort_keys=True)


def test_results_json_reads_back_in_both_formats(tmp_path):
    from contend.lab import report

    rep = lab.matrix(quick=True, experiments=("rw", "article"), duration=0.01,
                     profile=False)
    report.write_outputs(rep, str(tmp_path))
    new = json.loads((tmp_path / "results.json").read_text())
    assert "article_table" in new and "seed_table" not in new
    assert new["article_table"][0]["article_ns_per_op"] is not None
    assert new["rw_table"][0]["article_choice"]
    assert new["config"]["experiments"] == ["rw", "article"]
    assert _canon(report.load_results(str(tmp_path / "results.json"))) == _canon(new)

    # The same run in the older format: seed_table, seed_ns_per_op, RwCell
    # seed, seed_primitives, experiment "seed".
    old = json.loads((tmp_path / "results.json").read_text())
    old["seed_table"] = old.pop("article_table")
    for r in old["seed_table"]:
        r["seed_ns_per_op"] = r.pop("article_ns_per_op")
    for c in old["rw_table"]:
        c["seed"] = c.pop("article_choice")
    old["config"]["seed_primitives"] = old["config"].pop("article_primitives")
    old["config"]["experiments"] = ["rw", "seed"]
    path = tmp_path / "old.json"
    path.write_text(json.dumps(old, indent=1))
    assert "seed_table" in path.read_text()
    loaded = report.load_results(str(path))
    assert _canon(loaded) == _canon(new)
    row = loaded["article_table"][0]
    assert row["article_ns_per_op"] == lab.ARTICLE_TABLE_NS.get(
        (row["primitive"], row["critical_ns"]))


def _demo_experiment(**kw):
    fields = dict(
        name="demo", title="contend::Mutex vs std::mutex",
        source="Go's sync docs", claim="a claim to put the numbers beside",
        primitives=("mutex", "std_mutex"),
        points=[dict(threads=t, critical_ns=100, outside_ns=100) for t in (1, 2)])
    fields.update(kw)
    return lab.Experiment(**fields)


def test_registered_experiment_gets_a_table(monkeypatch, tmp_path):
    # What a module's contend/lab/experiments/<module>.py adds, without one.
    from contend.lab import decision, report

    monkeypatch.setattr(decision, "registered", lambda: (_demo_experiment(),))
    rep = lab.matrix(quick=True, experiments=("demo",), duration=0.01, profile=False)
    assert not rep.rw_table and not rep.article_table and not rep.crossovers
    (c,) = rep.comparisons
    assert c.display_names == ("contend::Mutex", "std::mutex")
    assert [r.point["threads"] for r in c.rows] == [1, 2]
    for r in c.rows:
        assert set(r.ops_per_sec) == {"mutex", "std_mutex"}
        assert all(v > 0 for v in r.ops_per_sec.values())
        assert r.ratio == pytest.approx(r.ops_per_sec["mutex"] / r.ops_per_sec["std_mutex"])
        assert r.winner in c.display_names
    # 2 points x 2 primitives, each run once (duration = the config's).
    assert len(rep.results) == 4
    assert {r.workload.duration for r in rep.results} == {0.01}
    text = rep.tables_text()
    assert "[demo] contend::Mutex vs std::mutex" in text
    assert "Go's sync docs: a claim to put the numbers beside" in text
    assert "Measured: contend::Mutex" in text
    written = {os.path.basename(p) for p in report.write_outputs(rep, str(tmp_path))}
    assert {"report.md", "results.json"} <= written
    doc = json.loads((tmp_path / "results.json").read_text())
    assert doc["comparisons"][0]["name"] == "demo"
    # None = the article's experiments plus every comparison that can run.
    with pytest.raises(ValueError, match="primitive.*no_such_lock"):
        monkeypatch.setattr(decision, "registered", lambda: (
            _demo_experiment(primitives=("mutex", "no_such_lock")),))
        lab.matrix(quick=True, experiments=("demo",), duration=0.01, profile=False)
    with pytest.raises(ValueError, match="unknown experiment"):
        lab.matrix(quick=True, experiments=("nope",), duration=0.01, profile=False)


def test_experiment_definitions_are_checked():
    with pytest.raises(ValueError, match="identifier"):
        _demo_experiment(name="not an id")
    with pytest.raises(ValueError, match="baseline"):
        _demo_experiment(primitives=("mutex",))
    with pytest.raises(ValueError, match="unknown workload field"):
        _demo_experiment(points=[dict(thread=2)])
    with pytest.raises(ValueError, match="twice"):
        _demo_experiment(points=[dict(threads=2), dict(threads=2)])
    e = _demo_experiment(points=[dict(threads=2, ops=1000)])
    assert [w.primitive for _, w in e.workloads(0.5)] == ["mutex", "std_mutex"]
    assert all(w.ops == 1000 and w.duration == lab.Workload().duration
               for _, w in e.workloads(0.5))
    # The modules' real experiments: unique names, valid, not the article's.
    names = [x.name for x in lab.experiments.registered()]
    assert len(names) == len(set(names))
    assert not set(names) & set(lab.ARTICLE_EXPERIMENTS)
    assert "seed" not in names


def test_module_experiment_may_not_take_a_renamed_name(monkeypatch):
    # registered() reserves 'seed' (rejected by matrix() as renamed 'article').
    import types

    from contend.lab import experiments

    mod = types.ModuleType("contend.lab.experiments.fake")
    mod.EXPERIMENTS = [_demo_experiment(name="seed")]
    monkeypatch.setattr(experiments.pkgutil, "iter_modules",
                        lambda _path: [types.SimpleNamespace(name="fake")])
    monkeypatch.setattr(experiments.importlib, "import_module", lambda _name: mod)
    with pytest.raises(ValueError, match=r"\['seed'\]"):
        experiments.registered()


if __name__ == "__main__":
    from pytest_main import main

    sys.exit(main(__file__))
