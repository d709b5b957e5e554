#!/bin/bash
# Paired rounds of the W7 benchmark: each round runs the bound, Snapshot::load
# and Snapshot::Reader::load back to back at T=1 and T=2, so each ratio to the
# bound is taken within seconds, not across a sweep while the VM drifts
# (bench/sync/RESULTS.md).
#
#   bazel build -c opt //bench/sync:snapshot_benchmark
#   bench/sync/w7_rounds.sh bazel-bin/bench/sync/snapshot_benchmark 9
#
# Prints one line per round: CPU ns per load of the bound at T=1 and T=2, then
# load() / bound and Reader::load() / bound at each; last, the median ratios.
set -euo pipefail
bin=$1 rounds=$2
rows=()
for _ in $(seq 1 "$rounds"); do
  row=$("$bin" --benchmark_min_time=0.3 --benchmark_format=csv \
    --benchmark_filter='^W7/(Bound|Snapshot|SnapshotReader)/real_time/threads:(1|2)$' \
    2>/dev/null | awk -F, '/^"W7\//{
      gsub(/"/, "", $1); split($1, a, "/"); v[a[2] "/" a[4]] = $4 }
    END {
      b1 = v["Bound/threads:1"]; b2 = v["Bound/threads:2"]
      printf "%.3f %.3f %.2f %.2f %.2f %.2f\n", b1, b2,
        v["Snapshot/threads:1"] / b1, v["SnapshotReader/threads:1"] / b1,
        v["Snapshot/threads:2"] / b2, v["SnapshotReader/threads:2"] / b2 }')
  echo "bound T1 T2 ns, load T1, Reader T1, load T2, Reader T2 (x bound): $row"
  rows+=("$row")
done
med() {  # the median of column $1 of the rounds
  printf '%s\n' "${rows[@]}" | awk -v c="$1" '{print $c}' | sort -g |
    awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'
}
echo "median x bound: load T1 $(med 3), Reader T1 $(med 4)," \
  "load T2 $(med 5), Reader T2 $(med 6)"
