#!/usr/bin/python3
"""Runs mutex_benchmark's W2 rows (2 and 4 threads) in several fresh processes
and prints each process's medians and the median over processes.

Why several processes: on the 2-vCPU reference VM a contended W2 run settles
into one of two regimes (for contend::Mutex ~75-90 or ~140-150 ns/op at 2
threads) and tends to stay there for the rest of the process, so repetitions
inside one process are not independent samples. Usage (after
`bazel build -c opt //bench/sync:mutex_benchmark`):

    /usr/bin/python3 bench/sync/w2_runs.py [processes] [binary] [--loaded]

--loaded drops --wait_quiet (which waits for other processes to go idle): for a
machine that never gets quiet. Absolute numbers are then meaningless; the
ratios between locks measured in the same process still compare.
"""

import json
import statistics
import subprocess
import sys

LOCKS = ("ContendMutexLock", "StdMutexLock", "AbslMutexLock", "TbbSpinMutexLock")


def one_process(binary: str, wait_quiet: bool = True) -> dict[str, float]:
    out = subprocess.run(
        [binary] + (["--wait_quiet"] if wait_quiet else []) + [
         "--benchmark_filter=BM_W2<.*>/(2|4)/",
         "--benchmark_repetitions=3",
         "--benchmark_enable_random_interleaving=true",
         "--benchmark_format=json"],
        check=True, capture_output=True, text=True).stdout
    values: dict[str, list[float]] = {}
    for b in json.loads(out)["benchmarks"]:
        if b.get("run_type") != "iteration":
            continue
        name = b["run_name"].split("/iterations")[0]
        values.setdefault(name, []).append(b["ns_per_op"])
    return {k: statistics.median(v) for k, v in values.items()}


def main() -> None:
    args = [a for a in sys.argv[1:] if a != "--loaded"]
    wait_quiet = "--loaded" not in sys.argv[1:]
    n = int(args[0]) if len(args) > 0 else 10
    binary = args[1] if len(args) > 1 else "bazel-bin/bench/sync/mutex_benchmark"
    runs = [one_process(binary, wait_quiet) for _ in range(n)]
    print("| process | T | contend::Mutex | std::mutex | absl::Mutex | tbb::spin_mutex "
          "| contend/std | contend/absl | contend/tbb |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for t in (2, 4):
        rows = []
        for i, r in enumerate(runs, 1):
            c, s, a, b = (r[f"BM_W2<{lock}>/{t}"] for lock in LOCKS)
            rows.append((c, s, a, b))
            print(f"| {i} | {t} | {c:.1f} | {s:.1f} | {a:.1f} | {b:.1f} "
                  f"| {c / s:.2f} | {c / a:.2f} | {c / b:.2f} |")
        med = [statistics.median(x) for x in zip(*rows)]
        rs = statistics.median(c / s for c, s, _, _ in rows)
        ra = statistics.median(c / a for c, _, a, _ in rows)
        rb = statistics.median(c / b for c, _, _, b in rows)
        worst_a = max(c / a for c, _, a, _ in rows)
        print(f"| **median** | {t} | **{med[0]:.1f}** | **{med[1]:.1f}** | "
              f"**{med[2]:.1f}** | **{med[3]:.1f}** | **{rs:.2f}** | **{ra:.2f}** "
              f"| **{rb:.2f}** |")
        print(f"| worst contend/absl | {t} | | | | | | {worst_a:.2f} | |")


if __name__ == "__main__":
    main()
