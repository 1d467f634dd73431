"""The one definition of what the ethics monitor publishes to CloudWatch: namespace, metric names, units
and dimensions. The evaluator builds every datum from it, and the ModelEndpoint Composition builds its
alarms from it, so the two cannot drift apart.

What a run publishes (all datapoints stamped with the end of the evaluated window):
- `Evaluations` = 1 {Endpoint, Variant}: the monitor ran; a missing datapoint means it did not.
- `RecordsEvaluated` {Endpoint, Variant}: rows judged (after decoding and locating the fields).
- `FairnessBreach` {Endpoint, Variant, Severity}, one datum per severity (critical, warning): 1 when some
  attribute's metric lies beyond that severity's bound with its whole confidence interval, with every group
  at minGroupSize or more; 0 when every metric of every attribute could be judged and none breaches; and
  NO datum when nothing breaches but something could not be judged (too few records). Insufficient data is
  never a 1, and never a reassuring 0 either. Warning bounds are as strict as the critical ones or stricter,
  so Severity=warning is 1 whenever Severity=critical is.
- `RollbackRequested` {Endpoint, Variant}, only under `action: rollback`: the critical `FairnessBreach` value.
  The Endpoint's auto-rollback alarm list is fixed (ForceNew), so what the action decides is whether this
  metric exists: under any other action its alarm never leaves OK.
- `InsufficientData` {Endpoint, Variant}: 1 when some attribute (or, with ground truth, equalized odds)
  could not be judged for lack of records, else 0.
- `DemographicParityDifference`, `DemographicParityRatio`, `EqualizedOddsDifference`
  {Endpoint, Variant, SensitiveAttribute}: the point estimates, only for attributes that could be judged.
- `SmallestGroupSize` {Endpoint, Variant, SensitiveAttribute}: records in the attribute's smallest group
  (how far from minGroupSize it is), without naming the group.

Units are from CloudWatch's list (MetricDatum.Unit, Amazon CloudWatch API Reference: Seconds | ... |
Percent | Count | ... | Count/Second | None): ratios and 0/1 flags are `None`, record counts `Count`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

NAMESPACE = "aiplane/EthicsMonitor"

# Dimension names.
ENDPOINT = "Endpoint"
VARIANT = "Variant"
SENSITIVE_ATTRIBUTE = "SensitiveAttribute"
SEVERITY = "Severity"

Severity = Literal["critical", "warning"]
CRITICAL: Severity = "critical"
WARNING: Severity = "warning"
SEVERITIES: tuple[Severity, ...] = (CRITICAL, WARNING)

# CloudWatch's standard units (MetricDatum.Unit, Amazon CloudWatch API Reference).
CLOUDWATCH_UNITS = frozenset(
    {
        "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes",
        "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count",
        "Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second",
        "Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second",
        "Count/Second", "None",
    }
)  # fmt: skip


@dataclass(frozen=True)
class MetricDefinition:
    """One CloudWatch metric: its name, unit, the dimensions every datum carries, and the statistic an alarm
    on it uses."""

    name: str
    unit: str
    dimensions: tuple[str, ...]
    statistic: str
    description: str

    def datum(self, value: float, dimensions: Mapping[str, str], timestamp: datetime) -> dict[str, Any]:
        """A `put_metric_data` MetricDatum; refuses dimensions other than the definition's."""
        if set(dimensions) != set(self.dimensions):
            raise ValueError(
                f"{self.name} takes dimensions {', '.join(self.dimensions)}, not {', '.join(sorted(dimensions))}"
            )
        return {
            "MetricName": self.name,
            "Dimensions": [{"Name": d, "Value": dimensions[d]} for d in self.dimensions],
            "Timestamp": timestamp,
            "Value": float(value),
            "Unit": self.unit,
        }


EVALUATIONS = MetricDefinition(
    "Evaluations", "Count", (ENDPOINT, VARIANT), "SampleCount", "1 per run of the monitor"
)
RECORDS_EVALUATED = MetricDefinition(
    "RecordsEvaluated", "Count", (ENDPOINT, VARIANT), "Sum", "rows judged in the window"
)
FAIRNESS_BREACH = MetricDefinition(
    "FairnessBreach",
    "None",
    (ENDPOINT, VARIANT, SEVERITY),
    "Maximum",
    "1: a fairness bound of this severity is breached beyond the confidence interval; 0: judged, none is",
)
INSUFFICIENT_DATA = MetricDefinition(
    "InsufficientData",
    "None",
    (ENDPOINT, VARIANT),
    "Maximum",
    "1: some attribute could not be judged (a group below minGroupSize, or no records)",
)
ROLLBACK_REQUESTED = MetricDefinition(
    "RollbackRequested",
    "None",
    (ENDPOINT, VARIANT),
    "Maximum",
    "published only under action rollback: the critical FairnessBreach value, which the endpoint's "
    "fairness-rollback alarm (one of its fixed auto-rollback alarms) watches",
)
DEMOGRAPHIC_PARITY_DIFFERENCE = MetricDefinition(
    "DemographicParityDifference",
    "None",
    (ENDPOINT, VARIANT, SENSITIVE_ATTRIBUTE),
    "Maximum",
    "largest minus smallest selection rate across the attribute's groups",
)
DEMOGRAPHIC_PARITY_RATIO = MetricDefinition(
    "DemographicParityRatio",
    "None",
    (ENDPOINT, VARIANT, SENSITIVE_ATTRIBUTE),
    "Minimum",
    "smallest over largest selection rate (disparate impact)",
)
EQUALIZED_ODDS_DIFFERENCE = MetricDefinition(
    "EqualizedOddsDifference",
    "None",
    (ENDPOINT, VARIANT, SENSITIVE_ATTRIBUTE),
    "Maximum",
    "larger of the true- and false-positive-rate gaps across the attribute's groups",
)
SMALLEST_GROUP_SIZE = MetricDefinition(
    "SmallestGroupSize",
    "Count",
    (ENDPOINT, VARIANT, SENSITIVE_ATTRIBUTE),
    "Minimum",
    "records in the attribute's smallest group",
)

ALL_METRICS: tuple[MetricDefinition, ...] = (
    EVALUATIONS,
    RECORDS_EVALUATED,
    FAIRNESS_BREACH,
    INSUFFICIENT_DATA,
    ROLLBACK_REQUESTED,
    DEMOGRAPHIC_PARITY_DIFFERENCE,
    DEMOGRAPHIC_PARITY_RATIO,
    EQUALIZED_ODDS_DIFFERENCE,
    SMALLEST_GROUP_SIZE,
)

# The fairness metric definitions by the spec's field name (FairnessBounds).
BY_BOUND: Mapping[str, MetricDefinition] = {
    "demographicParityDifference": DEMOGRAPHIC_PARITY_DIFFERENCE,
    "demographicParityRatio": DEMOGRAPHIC_PARITY_RATIO,
    "equalizedOddsDifference": EQUALIZED_ODDS_DIFFERENCE,
}


def breach_dimensions(endpoint: str, variant: str, severity: Severity) -> dict[str, str]:
    """The dimensions of the FairnessBreach metric an alarm of this severity watches."""
    return {ENDPOINT: endpoint, VARIANT: variant, SEVERITY: severity}
