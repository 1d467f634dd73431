"""Generated utilization histories with known answers (labelled as generated: no real account's data)."""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path


def current_hour() -> datetime:
    """Histories end at the current hour, where the command's window ends. Read when a history is made, not
    when this module is imported: a test run that crossed an hour between the two lost a sample."""
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


def hours(days: float, end: datetime | None = None) -> list[datetime]:
    """Whole hours of the `days` before `end`'s hour (default: the current hour)."""
    end = end or current_hour()
    count = int(days * 24)
    return [end - timedelta(hours=count - i) for i in range(count)]


def write_csv(path: Path, rows: list[tuple[datetime, str, str, str, float]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["timestamp", "workload", "kind", "metric", "value"])
        for at, workload, kind, metric, value in rows:
            out.writerow([at.isoformat(), workload, kind, metric, value])
    return path


def series(workload: str, kind: str, metric: str, days: float, value: Callable[[int], float]) -> list[
        tuple[datetime, str, str, str, float]]:
    return [(at, workload, kind, metric, value(i)) for i, at in enumerate(hours(days))]


def idle_pool(workload: str = "experiments", days: float = 14, peak_nodes: int = 2) -> list[
        tuple[datetime, str, str, str, float]]:
    """A pool that runs 1 node, reaches `peak_nodes` once, with its GPUs 5-8 % busy and 6 GiB used."""
    return [
        *series(workload, "GPUNodePool", "instances", days, lambda i: peak_nodes if i == 100 else 1),
        *series(workload, "GPUNodePool", "gpu_utilization", days, lambda i: 5 + i % 4),
        *series(workload, "GPUNodePool", "gpu_memory_used_gib", days, lambda i: 6.0),
    ]
