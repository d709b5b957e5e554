#!/usr/bin/env bash
# tests/consumer/run.sh — contend as a dependency of another Bazel workspace (issue 20),
# offline, from a clean clone. A CI stage (.ci/run). Checks, in this order:
#   1. //:app (Mutex, WaitGroup, profiler, debug_server through @contend// labels)
#      builds, runs and prints "consumer: OK";
#   2. every contend target a consumer can see builds (the visible() query below);
#   3. depending on contend's internals or its _dsched twins is a visibility error;
#   4. own_deps/: a consumer that declares com_google_absl and com_google_googletest
#      before contend_deps() keeps its own and still builds and runs @consumer//:app.
# Each workspace gets its own output base under /tmp (keyed by this checkout, so
# contend's own server and other clones are untouched); the two share a disk cache.
# Every Bazel server started here is shut down on exit. Ends with "tests/consumer: N s".
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
contend=$(cd "$here/../.." && pwd)
base=/tmp/contend-consumer-$(id -u)-$(printf %s "$here" | md5sum | cut -c1-8)
flags=(--symlink_prefix=/ --disk_cache="$base/disk_cache")
start=$(date +%s)

# bz WS ARGS...: bazel in workspace $here/WS with that workspace's output base.
bz() {
  local ws=$1 ob=$base/ob-consumer
  shift
  [ "$ws" = . ] || ob=$base/ob-$ws
  (cd "$here/$ws" && bazel --output_base="$ob" "$@")
}
# `bazel shutdown` starts no server when none is running.
trap 'bz . shutdown; bz own_deps shutdown' EXIT
fail() {
  echo "tests/consumer: FAILED: $*" >&2
  exit 1
}
mkdir -p "$base"
"$contend/tools/setup" >/dev/null

# 1. Build and run the sample binary; app.cc exits non-zero on a failed check.
bz . build "${flags[@]}" //:app >"$base/build.log" 2>&1 ||
  { cat "$base/build.log"; fail "bazel build //:app"; }
out=$("$(bz . info "${flags[@]}" bazel-bin 2>/dev/null)/app") || { echo "$out"; fail "app"; }
echo "$out"
[ "$(tail -n 1 <<<"$out")" = "consumer: OK" ] || fail "app did not print 'consumer: OK'"

# 2. Every target visible to a consumer, in the modules that hold public targets
#    (ARCHITECTURE.md §1; shard/ and pool/ join as they land). `@contend//...` cannot be used:
#    Bazel 4.2.3 does not apply contend's .bazelignore to it and walks into bazel-*.
pattern=""
for m in sync profile shard pool python; do
  [ -d "$contend/$m" ] && pattern+="${pattern:+ + }@contend//$m/..."
done
public=$(bz . query "visible(//:app, $pattern)" 2>"$base/query.log") ||
  { cat "$base/query.log"; fail "query of public targets"; }
echo "public targets: $(wc -l <<<"$public")"
grep -q '^@contend//sync:mutex$' <<<"$public" || fail "query found no @contend//sync:mutex"
# shellcheck disable=SC2086  # one target per word
bz . build "${flags[@]}" $public >"$base/public.log" 2>&1 ||
  { cat "$base/public.log"; fail "building contend's public targets"; }

# 3. Internals and test-only twins: both must fail analysis with a visibility error.
if bz . build "${flags[@]}" --keep_going //internals:uses_internal \
  //internals:uses_dsched_twin >"$base/internals.log" 2>&1; then
  fail "a consumer could depend on contend's internals"
fi
for dep in @contend//sync/internal:parking_lot @contend//sync:mutex_dsched; do
  grep -q "target '$dep' is not visible from target" "$base/internals.log" ||
    { cat "$base/internals.log"; fail "no visibility error for $dep"; }
done
echo "internals: visibility errors for parking_lot and mutex_dsched, as expected"
bz . shutdown

# 4. A consumer with its own Abseil and GoogleTest: the declarations that win must be
#    the consumer's (its WORKSPACE), not contend_deps()'s.
for repo in com_google_absl com_google_googletest; do
  decl=$(bz own_deps query --output=build "//external:$repo" 2>/dev/null)
  grep -q "own_deps/WORKSPACE:" <<<"$decl" && ! grep -q contend_deps <<<"$decl" ||
    { echo "$decl"; fail "contend_deps() replaced the consumer's @$repo"; }
done
bz own_deps build "${flags[@]}" @consumer//:app >"$base/own_deps.log" 2>&1 ||
  { cat "$base/own_deps.log"; fail "bazel build @consumer//:app with own Abseil"; }
"$(bz own_deps info "${flags[@]}" bazel-bin 2>/dev/null)/external/consumer/app" >/dev/null ||
  fail "app built against the consumer's own Abseil"
echo "own_deps: consumer's own @com_google_absl and @com_google_googletest kept; app OK"

echo "tests/consumer: $(($(date +%s) - start)) s"
