"""What else the machine is doing: the one /proc/stat reader of the lab
(:func:`proc_stat`), the CPU share other processes use (:func:`cpu_busy_fraction`
before a run, :class:`OtherLoad` during one) and :func:`machine_info`.

bench/sync/busy_work.cc reads /proc/stat the same way for the C++ benchmarks
(``ForeignCpu``): busy = user + nice + system + irq + softirq + steal, idle =
idle + iowait, guest time counted once (inside user).
"""

from __future__ import annotations

import os
import platform
import time
from typing import Any

from contend.lab.runner import calibration

__all__ = ["OtherLoad", "cpu_busy_fraction", "machine_info", "proc_stat"]


def proc_stat() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat."""
    with open("/proc/stat", encoding="ascii") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    hz = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    total = sum(fields[:8])  # guest time is already counted in user
    return (total - idle) / hz, total / hz


class OtherLoad:
    """Measures the CPU share that *other* processes used while it was open:
    machine busy time from /proc/stat minus this process's own CPU time."""

    def __init__(self) -> None:
        try:
            self._stat0 = proc_stat()
        except (OSError, ValueError, IndexError):
            self._stat0 = None
        self._self0 = time.process_time()

    def fraction(self) -> float:
        if self._stat0 is None:
            return float("nan")
        busy1, total1 = proc_stat()
        busy = busy1 - self._stat0[0]
        total = total1 - self._stat0[1]
        mine = time.process_time() - self._self0
        if total <= 0:
            return float("nan")
        return max(0.0, min(1.0, (busy - mine) / total))


def cpu_busy_fraction(interval: float = 0.5) -> float:
    """Fraction of all CPUs' time spent busy over ``interval`` seconds, from
    /proc/stat (NaN where unavailable). Unlike the load average, which decays
    over a minute, this sees only what runs now -- e.g. not the build that
    just finished before a lab run."""
    try:
        busy0, total0 = proc_stat()
        time.sleep(interval)
        busy1, total1 = proc_stat()
    except (OSError, ValueError, IndexError):
        return float("nan")
    total = total1 - total0
    return 0.0 if total <= 0 else max(0.0, min(1.0, (busy1 - busy0) / total))


def machine_info() -> dict[str, Any]:
    """CPU model, logical CPUs, load, busy-work calibration."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    steps, clock = calibration()
    try:
        load = os.getloadavg()
    except OSError:
        load = (float("nan"),) * 3
    return {
        "cpu": model,
        "cpus": os.cpu_count() or 1,
        "loadavg": list(load),
        "cpu_busy_before": cpu_busy_fraction(),
        "busy_steps_per_ns": steps,
        "timestamp_ns": clock,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
