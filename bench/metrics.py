"""Figures of a run: latency percentiles, process-tree memory and CPU, rates."""

import contextlib
import math
import time
from array import array

import psutil


def percentile(sorted_samples, fraction: float) -> float | None:
    """The nearest-rank percentile of already sorted samples (None when there are none)."""
    if not sorted_samples:
        return None
    rank = max(1, math.ceil(fraction * len(sorted_samples)))
    return sorted_samples[rank - 1]


def latency_summary(samples) -> dict:
    """p50, p99 and max in milliseconds, and the sample count."""
    ordered = sorted(samples)
    as_ms = lambda seconds: None if seconds is None else round(seconds * 1000, 3)  # noqa: E731
    return {
        "count": len(ordered),
        "p50_ms": as_ms(percentile(ordered, 0.50)),
        "p99_ms": as_ms(percentile(ordered, 0.99)),
        "max_ms": as_ms(ordered[-1] if ordered else None),
    }


def timeline(samples, answered_at, start: float, seconds: float) -> list[dict]:
    """Per second of the window: answers, and the largest latency among them (ms)."""
    buckets = [[0, 0.0] for _ in range(max(1, math.ceil(seconds)))]
    for latency, when in zip(samples, answered_at, strict=True):
        bucket = buckets[min(len(buckets) - 1, max(0, int(when - start)))]
        bucket[0] += 1
        bucket[1] = max(bucket[1], latency)
    return [{"answers": n, "max_ms": round(worst * 1000, 1)} for n, worst in buckets]


def merge_samples(parts) -> array:
    """One array of the latency samples every client process sent back."""
    merged = array("d")
    for part in parts:
        merged.extend(part)
    return merged


def tree(pid: int) -> list[psutil.Process]:
    """The process and all its descendants (a server's supervisor and workers)."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def tree_rss(pid: int) -> int:
    """Resident memory of a process tree in bytes."""
    total = 0
    for process in tree(pid):
        with contextlib.suppress(psutil.NoSuchProcess):
            total += process.memory_info().rss
    return total


class CpuMeter:
    """CPU used by a set of processes between start() and stop(), as % of one core."""

    def __init__(self, pids_of):
        # A callable: a server's workers, or the database's backends, come and go.
        self._pids_of = pids_of
        self._start: dict[int, float] = {}
        self._wall = 0.0
        self.percent: float | None = None
        self.seconds: float | None = None

    def start(self) -> None:
        self._start = _cpu_by_pid(self._pids_of())
        self._wall = time.monotonic()

    def stop(self) -> float | None:
        now = _cpu_by_pid(self._pids_of())
        # Per process: one that appeared since start() counts from zero; one that ended is lost
        # (its CPU cannot be read any more), so the figure errs low, never negative.
        used = sum(cpu - self._start.get(pid, 0.0) for pid, cpu in now.items())
        wall = time.monotonic() - self._wall
        self.seconds = round(used, 3)
        self.percent = round(100 * used / wall, 1) if wall > 0 else None
        return self.percent


def _cpu_by_pid(pids) -> dict[int, float]:
    cpu = {}
    for pid in pids:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            times = psutil.Process(pid).cpu_times()
            cpu[pid] = times.user + times.system
    return cpu


def rate(count: int, seconds: float) -> float | None:
    """count per second, rounded; None without a duration."""
    return round(count / seconds, 1) if seconds > 0 else None


def service_pids(name: str) -> list[int]:
    """Pids of every process with that name (all PostgreSQL backends, the Redis server)."""
    return [p.pid for p in psutil.process_iter(["name"]) if p.info["name"] == name]
