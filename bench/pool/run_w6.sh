#!/usr/bin/env bash
# bench/pool/run_w6.sh — W6 in one run: the C++ peers (//bench/pool:pool_benchmark)
# and Go's sync.Pool (bench/pool/go, standard library only, offline), back to back,
# with the load average before each. Medians of 5.
set -euo pipefail
cd "$(dirname "$0")/../.."
echo "# $(uptime)"
bazel run -c opt //bench/pool:pool_benchmark -- --benchmark_filter=W6 \
  --benchmark_repetitions=5 --benchmark_report_aggregates_only=true 2>/dev/null |
  grep -E 'median|^Run|^CPU|Load'
echo "# $(uptime)"
cd bench/pool/go
GOFLAGS=-mod=mod GOPROXY=off GOCACHE="${TMPDIR:-/tmp}/contend-go-cache" \
  go test -run '^$' -bench W6 -cpu 1,2,4 -count 5 .
