"""When a fairness metric is a breach, and of which severity. Two rules over the same computations:

- The live monitor alerts only on what the data proves (`judge_monitor`): a metric is breached when its whole
  confidence interval lies beyond the bound (above it for the differences, below it for the ratio) and every
  group of the attribute has at least minGroupSize records. Anything less is "ok" (the interval reaches the
  bound: not proven) or "insufficient-data" (a group too small, or fewer than two groups), and neither pages
  anyone. Noise in a small window therefore cannot alert, and a real breach alerts every run until fixed.
- The pre-deployment gate fails closed (`judge_gate`): a point estimate beyond the critical bound fails, and
  so does too little data; letting a model in needs evidence, not the absence of proof.

Severity: critical when a critical bound is breached, else warning when a warning bound is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from aiplane.ethics.fairness import (
    BREACHED_ABOVE,
    DEMOGRAPHIC_PARITY_DIFFERENCE,
    DEMOGRAPHIC_PARITY_RATIO,
    EQUALIZED_ODDS_DIFFERENCE,
    Estimate,
    Fairness,
    GroupCounts,
)
from aiplane.ethics.metrics import CRITICAL, SEVERITIES, WARNING, Severity
from aiplane.ethics.spec import FairnessBounds, MonitorThresholds

Status = Literal["ok", "breach", "insufficient-data"]
MetricStatus = Literal["ok", "breach", "insufficient-data", "not-evaluated"]


@dataclass(frozen=True)
class MetricVerdict:
    """One metric of one attribute, judged. value/interval are None unless the metric could be judged."""

    metric: str
    status: MetricStatus
    severity: Severity | None = None
    value: float | None = None
    interval: tuple[float, float] | None = None
    bounds: tuple[tuple[Severity, float], ...] = ()
    reason: str = ""

    def breached(self, severity: Severity) -> bool:
        return self.status == "breach" and (severity == WARNING or self.severity == CRITICAL)


@dataclass(frozen=True)
class AttributeVerdict:
    """An attribute's metrics judged, with the groups big enough to be reported (the others only counted)."""

    attribute: str
    status: Status
    severity: Severity | None
    metrics: tuple[MetricVerdict, ...]
    groups: tuple[GroupCounts, ...]
    labeled_groups: tuple[GroupCounts, ...] | None
    suppressed_groups: int
    smallest_group: int


@dataclass(frozen=True)
class Verdict:
    status: Status
    severity: Severity | None
    attributes: tuple[AttributeVerdict, ...]

    def breach_value(self, severity: Severity) -> int | None:
        """The FairnessBreach datum of a severity: 1 breached, 0 all judged and clean, None cannot tell."""
        metrics = [m for a in self.attributes for m in a.metrics]
        if any(m.breached(severity) for m in metrics):
            return 1
        if any(m.status == "insufficient-data" for m in metrics) or not self.attributes:
            return None
        return 0

    @property
    def insufficient(self) -> bool:
        return not self.attributes or any(
            m.status == "insufficient-data" for a in self.attributes for m in a.metrics
        )


def _bound(bounds: FairnessBounds, metric: str) -> float:
    value: float = getattr(bounds, metric)
    return value


def _beyond(metric: str, value: float, bound: float) -> bool:
    return value > bound if BREACHED_ABOVE[metric] else value < bound


def _insufficiency(groups: Sequence[GroupCounts], min_group_size: int, labeled: bool) -> str:
    """Why these groups cannot be judged, or ''."""
    if len(groups) < 2:
        return "fewer than two groups" if groups else "no records"
    if any(g.count < min_group_size for g in groups):
        return f"a group has fewer than minGroupSize ({min_group_size}) records"
    if labeled and any(g.positives == 0 or g.negatives == 0 for g in groups):
        return "a group has no positive or no negative labels"
    return ""


def _judge(
    estimate: Estimate,
    groups: Sequence[GroupCounts],
    thresholds: MonitorThresholds,
    min_group_size: int,
    *,
    by_interval: bool,
) -> MetricVerdict:
    metric = estimate.metric
    labeled = metric == EQUALIZED_ODDS_DIFFERENCE
    levels: dict[Severity, FairnessBounds] = {
        CRITICAL: thresholds.critical,
        WARNING: thresholds.effective_warning(),
    }
    bounds = tuple((s, _bound(levels[s], metric)) for s in SEVERITIES)
    why = _insufficiency(groups, min_group_size, labeled)
    if why:
        return MetricVerdict(metric, "insufficient-data", bounds=bounds, reason=why)
    interval = (estimate.interval.low, estimate.interval.high) if estimate.interval else None
    if by_interval:
        assert interval is not None, "the monitor's rule needs a bootstrapped interval"
        # The interval's near end must be beyond the bound: the lower end for a difference, the upper for the ratio.
        near = interval[0] if BREACHED_ABOVE[metric] else interval[1]
    else:
        near = estimate.value
    breached = [s for s, bound in bounds if _beyond(metric, near, bound)]
    severity: Severity | None = CRITICAL if CRITICAL in breached else WARNING if breached else None
    return MetricVerdict(
        metric,
        "breach" if severity else "ok",
        severity=severity,
        value=estimate.value,
        interval=interval,
        bounds=bounds,
    )


def _severity(verdicts: Sequence[MetricVerdict | AttributeVerdict]) -> Severity | None:
    severities = {v.severity for v in verdicts}
    return CRITICAL if CRITICAL in severities else WARNING if WARNING in severities else None


def _status(statuses: Sequence[str]) -> Status:
    if "breach" in statuses:
        return "breach"
    return "insufficient-data" if "insufficient-data" in statuses or not statuses else "ok"


@dataclass(frozen=True)
class AttributeFairness:
    """What fairness computed for one attribute: demographic parity over the window's rows, and equalized
    odds over the labelled rows (None when the monitor has no ground truth)."""

    attribute: str
    parity: Fairness
    odds: Fairness | None


def judge_attribute(
    result: AttributeFairness, thresholds: MonitorThresholds, min_group_size: int, *, by_interval: bool
) -> AttributeVerdict:
    metrics: list[MetricVerdict] = []
    for fairness in (result.parity, result.odds):
        if fairness is None:
            continue
        if not fairness.estimates:
            names = (
                (DEMOGRAPHIC_PARITY_DIFFERENCE, DEMOGRAPHIC_PARITY_RATIO)
                if fairness is result.parity
                else (EQUALIZED_ODDS_DIFFERENCE,)
            )
            # Fewer than two groups: nothing to compare.
            reason = _insufficiency(fairness.groups, min_group_size, fairness is result.odds)
            metrics += [MetricVerdict(n, "insufficient-data", reason=reason) for n in names]
            continue
        metrics += [
            _judge(e, fairness.groups, thresholds, min_group_size, by_interval=by_interval)
            for e in fairness.estimates
        ]
    if result.odds is None:
        metrics.append(MetricVerdict(EQUALIZED_ODDS_DIFFERENCE, "not-evaluated", reason="no ground truth"))
    groups = result.parity.groups
    return AttributeVerdict(
        attribute=result.attribute,
        status=_status([m.status for m in metrics]),
        severity=_severity(metrics),
        metrics=tuple(metrics),
        groups=tuple(g for g in groups if g.count >= min_group_size),
        labeled_groups=None
        if result.odds is None
        else tuple(g for g in result.odds.groups if g.count >= min_group_size),
        suppressed_groups=sum(g.count < min_group_size for g in groups),
        smallest_group=min((g.count for g in groups), default=0),
    )


def _verdict(
    results: Sequence[AttributeFairness],
    thresholds: MonitorThresholds,
    min_group_size: int,
    *,
    by_interval: bool,
) -> Verdict:
    attributes = tuple(
        judge_attribute(r, thresholds, min_group_size, by_interval=by_interval) for r in results
    )
    return Verdict(_status([a.status for a in attributes]), _severity(attributes), attributes)


def judge_monitor(
    results: Sequence[AttributeFairness], thresholds: MonitorThresholds, min_group_size: int
) -> Verdict:
    """The live monitor's rule: breached only when the whole interval is beyond the bound, groups big enough."""
    return _verdict(results, thresholds, min_group_size, by_interval=True)


def judge_gate(
    results: Sequence[AttributeFairness], thresholds: MonitorThresholds, min_group_size: int
) -> Verdict:
    """The gate's rule: a point estimate beyond the bound is a breach; too little data is not a pass."""
    return _verdict(results, thresholds, min_group_size, by_interval=False)
