"""The lab command line end to end (what tools/lab runs after building):
tables on stdout, progress on stderr, and every lab-out/ file."""

from __future__ import annotations

import csv
import gzip
import json
import os
import subprocess
import sys

import contend


def test_quick_lab_writes_report(tmp_path):
    out = tmp_path / "lab-out"
    r = subprocess.run(
        [sys.executable, "-m", "contend", "lab", "--quick", "--duration=0.01",
         f"--out={out}"],
        cwd=str(tmp_path), text=True, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(os.environ, MPLBACKEND="Agg", MPLCONFIGDIR=str(tmp_path)))
    assert r.returncode == 0, r.stderr
    # Tables on stdout, one per experiment, with the article's rows.
    assert "(a) RWMutex vs Mutex" in r.stdout
    assert "95-99%" in r.stdout and "<70%" in r.stdout
    assert "(b) 4 readers + 1 writer" in r.stdout
    assert "contend::RWMutex 5us" in r.stdout
    assert "(c) Crossover" in r.stdout
    # Progress on stderr only.
    assert "lab: [1/" in r.stderr and "lab: [" not in r.stdout

    files = set(os.listdir(out))
    expected = {"report.md", "results.json", "results.csv",
                "throughput_vs_threads.png", "throughput_vs_hold_time.png",
                "rw_matrix.png"}
    assert expected <= files, files
    doc = json.loads((out / "results.json").read_text())
    assert len(doc["rw_table"]) == 8 and doc["results"]
    assert {(r["primitive"], r["critical_ns"]) for r in doc["article_table"]} >= {
        ("mutex", 50), ("rwmutex", 5000)}
    with open(out / "results.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(doc["results"])
    for png in ("throughput_vs_threads.png", "throughput_vs_hold_time.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = (out / "report.md").read_text()
    assert "# contend lab report" in report and "![rw_matrix.png]" in report
    if contend._native.lab.profile_capture_available():
        data = gzip.decompress((out / "mutex.pb.gz").read_bytes())
        assert data, "empty mutex profile"
        assert "profile.txt" in files


def _lab(tmp_path, *flags):
    return subprocess.run(
        [sys.executable, "-m", "contend", "lab", "--quick", "--duration=0.01",
         "--no-profile", f"--out={tmp_path / 'lab-out'}", *flags],
        cwd=str(tmp_path), text=True, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(os.environ, MPLBACKEND="Agg", MPLCONFIGDIR=str(tmp_path)))


def test_article_experiment_and_its_renamed_name(tmp_path):
    new = _lab(tmp_path, "--experiments=article")
    assert new.returncode == 0, new.stderr
    assert "(b) 4 readers + 1 writer" in new.stdout and "(a)" not in new.stdout
    assert "renamed" not in new.stderr
    doc = json.loads((tmp_path / "lab-out" / "results.json").read_text())
    assert doc["config"]["experiments"] == ["article"] and doc["article_table"]

    (tmp_path / "old").mkdir()
    old = _lab(tmp_path / "old", "--experiments=rw,seed")
    assert old.returncode == 2, old.stderr
    assert "tools/lab: unknown experiment 'seed' (renamed 'article')\n" in old.stderr
    assert "calibrating" not in old.stderr and old.stdout == ""
    assert not (tmp_path / "old" / "lab-out").exists()

    help_text = subprocess.run([sys.executable, "-m", "contend", "lab", "--help"],
                               stdout=subprocess.PIPE, text=True).stdout
    assert "article (b:" in help_text and "seed" not in help_text


def test_bad_flag_exits_2(tmp_path):
    r = subprocess.run([sys.executable, "-m", "contend", "lab",
                        "--experiments=nope"], cwd=str(tmp_path),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert r.returncode == 2 and "unknown experiment" in r.stderr


if __name__ == "__main__":
    from pytest_main import main

    sys.exit(main(__file__))
