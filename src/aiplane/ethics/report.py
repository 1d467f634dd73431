"""What a monitor run leaves behind: a JSON report in the capture bucket and datapoints in CloudWatch.

The report holds aggregates only: record counts, each attribute's metrics and intervals, and per group its
size and rates, for groups of at least minGroupSize records. A smaller group is neither named nor given a
size or a rate: it is only counted (`suppressedGroups`). No captured record, eventId or payload is ever
written.

Report key: `<report prefix>/<endpoint>/<variant>/<window end, yyyymmddThhmmssZ>.json` (the report prefix
defaults to `reports` in the capture bucket), so a rerun for the same window replaces its report and the
keys sort by time.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from aiplane.ethics.aws import calling
from aiplane.ethics.capture import join_prefix
from aiplane.ethics.decision import AttributeVerdict, MetricVerdict, Verdict
from aiplane.ethics.fairness import GroupCounts
from aiplane.ethics.metrics import (
    BY_BOUND,
    CRITICAL,
    ENDPOINT,
    EVALUATIONS,
    FAIRNESS_BREACH,
    INSUFFICIENT_DATA,
    NAMESPACE,
    RECORDS_EVALUATED,
    ROLLBACK_REQUESTED,
    SENSITIVE_ATTRIBUTE,
    SEVERITIES,
    SEVERITY,
    SMALLEST_GROUP_SIZE,
    VARIANT,
)
from aiplane.ethics.spec import EthicsMonitorSpec

REPORT_VERSION = 1
# PutMetricData takes at most 1000 metrics per request (Amazon CloudWatch API Reference, PutMetricData);
# a run publishes a few dozen, sent in small batches all the same.
_BATCH = 20


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def report_key(prefix: str, endpoint: str, variant: str, window_end: datetime) -> str:
    return join_prefix(prefix, endpoint, variant, window_end.strftime("%Y%m%dT%H%M%SZ") + ".json")


def _rate(value: float) -> float:
    return round(value, 6)


def _group(g: GroupCounts, labeled: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"group": g.group, "count": g.count, "selectionRate": _rate(g.selection_rate)}
    if labeled:
        out |= {
            "truePositiveRate": _rate(g.true_positive_rate),
            "falsePositiveRate": _rate(g.false_positive_rate),
        }
    return out


def _metric(m: MetricVerdict) -> dict[str, Any]:
    return {
        "name": m.metric,
        "status": m.status,
        "severity": m.severity,
        "value": None if m.value is None else _rate(m.value),
        "interval": None if m.interval is None else [_rate(m.interval[0]), _rate(m.interval[1])],
        "bounds": dict(m.bounds),
        **({"reason": m.reason} if m.reason else {}),
    }


def attribute_json(a: AttributeVerdict) -> dict[str, Any]:
    """One attribute's aggregates (groups below minGroupSize only counted)."""
    return {
        "name": a.attribute,
        "status": a.status,
        "severity": a.severity,
        "smallestGroupSize": a.smallest_group,
        "suppressedGroups": a.suppressed_groups,
        "groups": [_group(g, False) for g in a.groups],
        "labeledGroups": None if a.labeled_groups is None else [_group(g, True) for g in a.labeled_groups],
        "metrics": [_metric(m) for m in a.metrics],
    }


def settings_json(spec: EthicsMonitorSpec) -> dict[str, Any]:
    return {
        "minGroupSize": spec.minGroupSize,
        "confidence": spec.confidence,
        "bootstrapSamples": spec.bootstrapSamples,
        "thresholds": {
            "critical": spec.thresholds.critical.model_dump(),
            "warning": spec.thresholds.effective_warning().model_dump(),
        },
    }


def metric_data(
    verdict: Verdict, endpoint: str, variant: str, rows: int, timestamp: datetime, rollback: bool = False
) -> list[dict[str, Any]]:
    """The run's datapoints (aiplane.ethics.metrics says what each means)."""
    base = {ENDPOINT: endpoint, VARIANT: variant}
    data = [
        EVALUATIONS.datum(1, base, timestamp),
        RECORDS_EVALUATED.datum(rows, base, timestamp),
        INSUFFICIENT_DATA.datum(int(verdict.insufficient), base, timestamp),
    ]
    for severity in SEVERITIES:
        value = verdict.breach_value(severity)
        if value is not None:  # cannot tell: no datum, never a 1 (nor a reassuring 0)
            data.append(FAIRNESS_BREACH.datum(value, {**base, SEVERITY: severity}, timestamp))
            if rollback and severity == CRITICAL:
                data.append(ROLLBACK_REQUESTED.datum(value, base, timestamp))
    for attribute in verdict.attributes:
        dims = {**base, SENSITIVE_ATTRIBUTE: attribute.attribute}
        data.append(SMALLEST_GROUP_SIZE.datum(attribute.smallest_group, dims, timestamp))
        for m in attribute.metrics:
            if m.value is not None:
                data.append(BY_BOUND[m.metric].datum(m.value, dims, timestamp))
    return data


def publish(cloudwatch: Any, data: Sequence[dict[str, Any]]) -> None:
    with calling(f"publishing metrics to CloudWatch namespace {NAMESPACE}"):
        for i in range(0, len(data), _BATCH):
            cloudwatch.put_metric_data(Namespace=NAMESPACE, MetricData=list(data[i : i + _BATCH]))


def write_report(s3: Any, bucket: str, key: str, report: dict[str, Any]) -> None:
    body = json.dumps(report, indent=2, sort_keys=True).encode("utf-8")
    with calling(f"writing the report s3://{bucket}/{key}"):
        s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")
