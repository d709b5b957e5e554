"""contend.lab's module structure: every module imports alone in a fresh
interpreter, and the import graph of the whole contend package (every import
statement, including ones inside functions) has no cycle."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import time

import pytest

import contend
import contend.lab

PACKAGE_DIR = os.path.dirname(os.path.abspath(contend.__file__))


def module_files(root: str) -> dict[str, str]:
    """Module name -> file for the .py files and .pyi stubs (compiled modules
    such as _native) of the package at ``root``."""
    out: dict[str, str] = {}
    base = os.path.dirname(root)
    for dirpath, _dirs, files in os.walk(root):
        for f in files:
            if not f.endswith((".py", ".pyi")):
                continue
            rel = os.path.relpath(os.path.join(dirpath, f), base)
            name = rel.rsplit(".", 1)[0].replace(os.sep, ".")
            if name.endswith(".__init__"):
                name = name[: -len(".__init__")]
            out.setdefault(name, os.path.join(dirpath, f))
    return out


LAB_MODULES = sorted(
    m for m, f in module_files(PACKAGE_DIR).items()
    if (m == "contend.lab" or m.startswith("contend.lab.")) and f.endswith(".py")
)


def import_graph(root: str) -> dict[str, set[str]]:
    """module -> the package's modules it imports. ``from P import n`` is an
    edge to P.n when that is a module, else to P. Edges to a module's own
    ancestor packages are left out (Python runs them first, by design)."""
    mods = module_files(root)
    graph: dict[str, set[str]] = {}
    for name, path in mods.items():
        if path.endswith(".pyi"):
            graph.setdefault(name, set())
            continue
        is_pkg = os.path.basename(path) == "__init__.py"
        here = name if is_pkg else name.rpartition(".")[0]
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read(), path)
        targets: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                parent = node.module or ""
                if node.level:
                    up = here.split(".")
                    up = up[: len(up) - (node.level - 1)]
                    parent = ".".join(up + ([parent] if parent else []))
                for a in node.names:
                    sub = f"{parent}.{a.name}"
                    targets.add(sub if sub in mods else parent)
        graph[name] = {
            t for t in targets
            if t in mods and t != name and not name.startswith(t + ".")
        }
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as [a, b, ..., a], or None."""
    state: dict[str, int] = {}  # 1: on the stack, 2: done
    stack: list[str] = []

    def visit(n: str) -> list[str] | None:
        state[n] = 1
        stack.append(n)
        for m in sorted(graph.get(n, ())):
            if state.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if m not in state:
                found = visit(m)
                if found:
                    return found
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(graph):
        if n not in state:
            found = visit(n)
            if found:
                return found
    return None


def test_lab_is_a_package_of_the_expected_modules():
    # Modules add files under contend/lab/experiments/; these are the core.
    assert set(LAB_MODULES) >= {
        "contend.lab", "contend.lab.cli", "contend.lab.decision",
        "contend.lab.experiments", "contend.lab.machine", "contend.lab.model",
        "contend.lab.report", "contend.lab.runner",
    }


@pytest.mark.parametrize("module", LAB_MODULES)
def test_module_imports_alone_in_a_fresh_interpreter(module):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    r = subprocess.run(
        [sys.executable, "-c", f"import {module}"],
        env=env, capture_output=True, text=True, timeout=60,
    )
    assert r.returncode == 0, f"import {module} alone failed:\n{r.stderr}"


def test_import_graph_is_acyclic():
    graph = import_graph(PACKAGE_DIR)
    assert "contend.lab.model" in graph and "contend._native" in graph
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph) or [])


def test_lab_modules_do_not_import_the_package_they_are_in():
    # `from contend.lab import run` inside contend/lab/decision.py would work
    # only in the order __init__ happens to import things: a hidden cycle.
    graph = import_graph(PACKAGE_DIR)
    for mod in LAB_MODULES:
        if mod != "contend.lab":
            assert "contend.lab" not in graph[mod], mod
            assert "contend" not in graph[mod], mod


def test_experiment_files_import_only_the_model():
    # contend/lab/experiments/<module>.py are data: the decision matrix
    # imports them, so they must not import it (or the report, or runner).
    graph = import_graph(PACKAGE_DIR)
    for mod in LAB_MODULES:
        if mod.startswith("contend.lab.experiments."):
            assert graph[mod] <= {"contend.lab.model"}, (mod, graph[mod])


def test_one_proc_stat_reader():
    # Machine load is read in one place (contend/lab/machine.py), so the
    # "before" and "during" figures of a report cannot disagree on the fields.
    readers = []
    for name, path in module_files(PACKAGE_DIR).items():
        if path.endswith(".py"):
            with open(path, encoding="utf-8") as f:
                if '"/proc/stat"' in f.read():
                    readers.append(name)
    assert readers == ["contend.lab.machine"]
    from contend.lab import machine

    busy0, total0 = machine.proc_stat()
    busy1, total1 = machine.proc_stat()
    assert 0 <= busy0 <= total0 and busy0 <= busy1 and total0 <= total1
    assert 0.0 <= machine.cpu_busy_fraction(0.02) <= 1.0
    other = machine.OtherLoad()
    time.sleep(0.05)  # a few clock ticks of /proc/stat, not an ordering
    assert 0.0 <= other.fraction() <= 1.0


def test_the_cycle_finder_finds_a_planted_cycle(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("from pkg.sub import a\n")
    (pkg / "sub" / "a.py").write_text("def f():\n    from . import b\n")
    (pkg / "sub" / "b.py").write_text("from pkg.sub.a import f\n")
    (pkg / "c.py").write_text("import pkg.sub.a\n")
    graph = import_graph(str(pkg))
    assert graph["pkg.sub.a"] == {"pkg.sub.b"}
    assert graph["pkg.c"] == {"pkg.sub.a"}
    assert find_cycle(graph) == ["pkg.sub.a", "pkg.sub.b", "pkg.sub.a"]
    (pkg / "sub" / "a.py").write_text("")
    assert find_cycle(import_graph(str(pkg))) is None


if __name__ == "__main__":
    from pytest_main import main

    sys.exit(main(__file__))
