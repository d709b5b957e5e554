#!/bin/bash
# Runs one tests/python file under pytest with Debian's /usr/bin/python3 and
# the package from Bazel's runfiles (python/contend with the built _native).
#
# An sh_test rather than py_test: Bazel 4.2.3's py_binary stub starts with
# "#!/usr/bin/env python", and Debian has no `python` on PATH.
set -euo pipefail
root="${TEST_SRCDIR:?run me with bazel test}/${TEST_WORKSPACE:-contend}"
export PYTHONPATH="$root/python:$root/tests/python:$root/tests/dsched"
export PYTHONDONTWRITEBYTECODE=1
export MPLBACKEND=Agg
export MPLCONFIGDIR="${TEST_TMPDIR:-/tmp}/matplotlib"
export HOME="${TEST_TMPDIR:-$HOME}"
# No sanitizer branch: these tests are tagged no_sanitizer (BUILD.bazel), so a
# sanitizer config never runs them.
exec /usr/bin/python3 "$root/tests/python/pytest_main.py" "$root/tests/python/$1"
