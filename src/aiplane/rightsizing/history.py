"""The utilization history every source is read into: per workload (a GPUNodePool or ModelEndpoint of the
environment) and canonical metric, a time series of hourly samples, each the hour's maximum.

Why hourly maxima: CloudWatch keeps 1-hour data for 455 days (5-minute data only 63) and a Prometheus range
query is capped at 11,000 points per series; the hour's maximum keeps every peak, so percentiles of hourly
maxima overstate load a little, never understate it — the safe side for rightsizing. The same series (hour of
week × value) is what a seasonal forecaster needs, so predictive scaling can read this model unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

Kind = Literal["GPUNodePool", "ModelEndpoint"]
KINDS: tuple[Kind, ...] = ("GPUNodePool", "ModelEndpoint")
SAMPLE_SECONDS = 3600

# Canonical metrics and their units: every reader converts into these.
INSTANCES = "instances"  # running nodes (pool) or instances (endpoint); count
GPU_UTILIZATION = "gpu_utilization"  # percent of one GPU, 0-100 (the busiest GPU, or the mean where only that is published)
GPU_MEMORY_USED_GIB = "gpu_memory_used_gib"  # GiB used on one GPU
CPU_UTILIZATION = "cpu_utilization"  # percent of all vCPUs of one instance, 0-100
INVOCATIONS = "invocations"  # requests in the hour (sum), endpoints only
METRICS: dict[str, str] = {
    INSTANCES: "count",
    GPU_UTILIZATION: "percent of one GPU (0-100)",
    GPU_MEMORY_USED_GIB: "GiB per GPU",
    CPU_UTILIZATION: "percent of the instance's vCPUs (0-100)",
    INVOCATIONS: "requests per hour",
}


@dataclass(frozen=True, order=True)
class Workload:
    kind: Kind
    name: str

    def __str__(self) -> str:
        return f"{self.kind}/{self.name}"


@dataclass(frozen=True)
class Sample:
    at: datetime  # UTC, the start of the hour
    value: float


@dataclass(frozen=True)
class Series:
    workload: Workload
    metric: str
    samples: tuple[Sample, ...]

    @property
    def values(self) -> list[float]:
        return [s.value for s in self.samples]


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime

    @property
    def days(self) -> float:
        return (self.end - self.start).total_seconds() / 86400


@dataclass
class History:
    """Everything one source said about one environment over one window; `source` names where it came from."""

    source: str
    window: Window
    series: dict[tuple[Workload, str], Series] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # what the source could not read, said in the report

    def add(self, workload: Workload, metric: str, samples: Iterable[Sample]) -> None:
        """Merge samples into a series; two samples of one hour keep the larger (hourly maxima)."""
        if metric not in METRICS:
            raise ValueError(f"unknown metric {metric!r}; known: {', '.join(METRICS)}")
        by_hour = {s.at: s.value for s in self.series.get((workload, metric), Series(workload, metric, ())).samples}
        for s in samples:
            if not math.isfinite(s.value):
                continue
            at = hour_of(s.at)
            if self.window.start <= at < self.window.end:
                by_hour[at] = max(by_hour.get(at, s.value), s.value)
        self.series[(workload, metric)] = Series(
            workload, metric, tuple(Sample(t, v) for t, v in sorted(by_hour.items()))
        )

    def get(self, workload: Workload, metric: str) -> Series | None:
        return self.series.get((workload, metric))

    def workloads(self) -> list[Workload]:
        return sorted({w for w, _ in self.series})


def hour_of(at: datetime) -> datetime:
    """The UTC hour a timestamp falls in (naive timestamps are taken as UTC)."""
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return at.replace(minute=0, second=0, microsecond=0)


def window_ending(end: datetime, days: int) -> Window:
    """The `days` whole hours before `end`'s hour."""
    last = hour_of(end)
    return Window(datetime.fromtimestamp(last.timestamp() - days * 86400, UTC), last)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), linear between closest ranks (numpy's default method)."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class Evidence:
    """What a recommendation rests on: percentiles, sample count and the window they cover."""

    metric: str
    samples: int
    first: datetime
    last: datetime
    p50: float
    p95: float
    max: float

    @property
    def days(self) -> float:
        return (self.last - self.first).total_seconds() / 86400 + SAMPLE_SECONDS / 86400

    @classmethod
    def of(cls, series: Series) -> Evidence:
        values = series.values
        return cls(
            series.metric,
            len(values),
            series.samples[0].at,
            series.samples[-1].at,
            percentile(values, 50),
            percentile(values, 95),
            max(values),
        )
