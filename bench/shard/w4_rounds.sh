#!/bin/bash
# Paired rounds of the W4 benchmark: each round runs every map once, back to
# back, so a ratio is taken between runs minutes apart at most, not across a
# whole sweep while the machine drifts (bench/shard/RESULTS.md).
#
#   bazel build -c opt //bench/shard:read_mostly_map_benchmark
#   bench/shard/w4_rounds.sh bazel-bin/bench/shard/read_mostly_map_benchmark 9 99 2
#
# Prints one line per round: wall ns/op of ReadMostlyMap Striped256 Tbb
# RWLocked Cuckoo, then the round's ReadMostlyMap / best-peer ratio; last, the
# median ratio.
set -euo pipefail
bin=$1 rounds=$2 pct=$3 threads=$4
ratios=()
for _ in $(seq 1 "$rounds"); do
  line=()
  for m in ReadMostlyMap Striped256 Tbb RWLocked Cuckoo; do
    line+=("$("$bin" --benchmark_min_time=0.3 \
      --benchmark_filter="^W4/$m/read_pct:$pct/real_time/threads:$threads\$" \
      2>/dev/null | awk '/^W4\//{print $2}')")
  done
  ratio=$(printf '%s\n' "${line[@]:1}" |
    sort -g | head -1 | awk -v r="${line[0]}" '{printf "%.2f", r / $1}')
  ratios+=("$ratio")
  echo "${line[*]} $ratio"
done
printf '%s\n' "${ratios[@]}" | sort -g |
  awk '{a[NR]=$1} END {print "median ratio", (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'
