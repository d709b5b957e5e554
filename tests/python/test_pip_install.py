"""Packaging a user can rely on, offline: in a temporary copy of the source
tree, `python3 -m build --no-isolation --sdist` makes an sdist that holds
every source setup.py compiles (MANIFEST.in); a wheel is built from that
sdist alone (`python3 -m build --no-isolation --wheel` in the unpacked sdist),
installed into a fresh venv, and the installed package imports and works,
its /debug/pprof server (contend.profile.serve_debug) included."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import textwrap

import pytest

import contend

# What setup.py compiles and packages (see its SOURCES), plus the metadata.
TREE = ["sync", "shard", "pool", "profile", "bench/lab", "bench/sync/busy_work.h",
        "bench/sync/busy_work.cc", "python/contend", "python/README.md",
        "setup.py", "pyproject.toml", "MANIFEST.in"]


def source_root() -> str:
    # The runfiles are symlinks into the workspace; the contend package's
    # real location is <root>/python/contend. (Bazel reruns this test when
    # any C++ source changes: they are all inputs of _native.so, a dep.)
    return os.path.dirname(os.path.dirname(
        os.path.dirname(os.path.realpath(contend.__file__))))


def copy_tree(src_root: str, dst_root: str) -> None:
    ignore = shutil.ignore_patterns("*.so", "__pycache__", "*.egg-info",
                                    "BUILD.bazel")
    for rel in TREE:
        src = os.path.join(src_root, rel)
        dst = os.path.join(dst_root, rel)
        if os.path.isdir(src):
            shutil.copytree(src, dst, ignore=ignore)
        else:
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copy(src, dst)


def test_sdist_wheel_venv_install(tmp_path):
    root = source_root()
    if not os.path.exists(os.path.join(root, "setup.py")):
        pytest.fail(f"cannot find the source tree (looked in {root})")
    src = tmp_path / "src"
    copy_tree(root, str(src))
    env = dict(os.environ)
    # The venv must see only what pip installed; and a sanitizer runtime
    # preloaded for Bazel's instrumented extension (run_pytest.sh) has no
    # business in pip, the compiler or the plain extension pip builds.
    for var in ("PYTHONPATH", "PYTHONSAFEPATH", "RUNFILES_DIR",
                "RUNFILES_MANIFEST_FILE", "LD_PRELOAD"):
        env.pop(var, None)
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["CONTEND_BUILD_JOBS"] = "2"
    env["HOME"] = str(tmp_path)

    def sh(cmd: str) -> str:
        r = subprocess.run(cmd, shell=True, cwd=src, env=env, text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        assert r.returncode == 0, f"{cmd} failed:\n{r.stdout[-6000:]}"
        return r.stdout

    # The sdist holds every source setup.py compiles, and every header.
    sh("/usr/bin/python3 -m build --no-isolation --sdist --outdir dist .")
    (sdist,) = (src / "dist").glob("contend-*.tar.gz")
    with tarfile.open(sdist) as tar:
        names = tar.getnames()
        top = names[0].split("/")[0]
        packed = {n.split("/", 1)[1] for n in names if "/" in n}
        tar.extractall(tmp_path / "unpacked")
    wanted = set()
    for rel in TREE:
        path = src / rel
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        wanted |= {str(p.relative_to(src)) for p in files
                   if p.suffix in (".h", ".cc", ".py", ".pyi") or p.name == "py.typed"}
    missing = sorted(wanted - packed)
    assert not missing, f"the sdist lacks {missing}"
    # A wheel from the sdist alone, installed into a fresh venv.
    unpacked = tmp_path / "unpacked" / top
    r = subprocess.run("/usr/bin/python3 -m build --no-isolation --wheel --outdir "
                       f"{src}/dist .", shell=True, cwd=unpacked, env=env, text=True,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert r.returncode == 0, f"wheel from the sdist failed:\n{r.stdout[-6000:]}"
    sh("/usr/bin/python3 -m venv --system-site-packages .venv && "
       ".venv/bin/pip install --no-index --no-deps dist/contend-*.whl")

    check = textwrap.dedent("""
        import contend, contend.lab as lab, os, sys
        assert "site-packages" in contend.__file__, contend.__file__
        files = sorted(os.listdir(os.path.dirname(contend.__file__)))
        assert "py.typed" in files, files
        assert not [f for f in files if f.endswith((".cc", ".h"))], files
        mu = contend.Mutex()
        with mu:
            assert mu.locked()
        ev = contend.Event(); ev.set(); assert ev.wait(0)
        (r,) = lab.run(primitive="rwmutex", threads=2, read_share=0.9,
                       duration=0.02)
        assert r.total_ops > 0 and r.exclusion_ok
        names = {p.name for p in lab.primitives()}
        assert {"mutex", "rwmutex", "std_mutex", "absl_mutex"} <= names, names
        # contend.lab is a package: every module of it was installed.
        import contend.lab.cli
        lab_files = set(os.listdir(os.path.dirname(lab.__file__)))
        assert {"__init__.py", "cli.py", "decision.py", "machine.py", "model.py",
                "report.py", "runner.py"} <= lab_files, lab_files
        assert os.path.isfile(os.path.join(os.path.dirname(lab.__file__),
                                           "experiments", "__init__.py"))
        assert contend.lab.cli.main(["--list"]) == 0
        # The pip-built module has the /debug/pprof HTTP server (setup.py
        # compiles profile/debug_server.cc against cpp-httplib).
        import urllib.request
        from contend import profile
        with profile.serve_debug(0) as server:
            base = f"http://127.0.0.1:{server.port}/debug/pprof/"
            with urllib.request.urlopen(base, timeout=30) as response:
                assert response.status == 200, response.status
                assert b"contend /debug/pprof/" in response.read()
            with urllib.request.urlopen(base + "mutex?debug=1", timeout=30) as response:
                assert response.status == 200, response.status
                assert response.read().startswith(b"--- mutex:")
        try:
            urllib.request.urlopen(base, timeout=5)
        except OSError:
            pass
        else:
            raise AssertionError("the stopped server still answers")
        print("installed-ok")
    """)
    # Run from outside the source tree so only the installed copy is found.
    r = subprocess.run([str(src / ".venv/bin/python"), "-c", check],
                       cwd=str(tmp_path), env=env, text=True,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert r.returncode == 0 and "installed-ok" in r.stdout, r.stdout


if __name__ == "__main__":
    from pytest_main import main

    sys.exit(main(__file__))
