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
# Sanitizer builds (--config=tsan/asan): the extension needs its runtime
# loaded before the (uninstrumented) interpreter starts.
deps=$(ldd "$root/python/contend/_native.so" 2>/dev/null || true)
for rt in tsan asan; do
  lib=$(awk -v rt="lib$rt" '$1 ~ rt {print $3; exit}' <<<"$deps")
  if [ -n "$lib" ]; then
    export LD_PRELOAD="$lib${LD_PRELOAD:+:$LD_PRELOAD}"
    export CONTEND_SANITIZER="$rt"
  fi
done
if [ "${CONTEND_SANITIZER:-}" = tsan ]; then
  export TSAN_OPTIONS="${TSAN_OPTIONS:+$TSAN_OPTIONS:}suppressions=$root/tests/python/tsan.supp"
fi
exec /usr/bin/python3 "$root/tests/python/pytest_main.py" "$root/tests/python/$1"
