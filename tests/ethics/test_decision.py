"""Alerts without fatigue: the monitor declares a breach only when the whole confidence interval lies beyond
the bound and every group is big enough; anything less is "ok" or "insufficient data", which never publishes
a breach of 1. The gate, by contrast, fails closed on point estimates and on too little data."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from ethics_traffic import (
    CAPTURE_PREFIX,
    ENDPOINT,
    VARIANT,
    capture_files,
    decisions,
    ground_truth_files,
    monitor_spec,
    traffic,
    write_tree,
)

from aiplane.ethics.capture import LocalSource
from aiplane.ethics.decision import AttributeFairness, judge_gate, judge_monitor
from aiplane.ethics.fairness import Estimate, Fairness, GroupCounts, Interval
from aiplane.ethics.metrics import (
    ALL_METRICS,
    CLOUDWATCH_UNITS,
    FAIRNESS_BREACH,
    INSUFFICIENT_DATA,
    NAMESPACE,
    ROLLBACK_REQUESTED,
)
from aiplane.ethics.monitor import evaluate, report
from aiplane.ethics.report import metric_data
from aiplane.ethics.spec import EthicsMonitorSpec, MonitorThresholds

THRESHOLDS = MonitorThresholds.model_validate(
    monitor_spec()["thresholds"]
)  # critical 0.2 / warning 0.1 (diff)
BIG = (GroupCounts("a", 100, 50), GroupCounts("b", 100, 20))
SMALL = (GroupCounts("a", 100, 50), GroupCounts("b", 29, 5))


def parity(
    difference: float, interval: tuple[float, float], groups: tuple[GroupCounts, ...] = BIG
) -> AttributeFairness:
    # The ratio is kept at parity so that only the difference decides.
    estimates = (
        Estimate("demographicParityDifference", difference, Interval(*interval)),
        Estimate("demographicParityRatio", 1.0, Interval(0.95, 1.0)),
    )
    return AttributeFairness("gender", Fairness(groups, estimates), None)


@pytest.mark.parametrize(
    ("difference", "interval", "status", "severity", "breach"),
    [
        (0.30, (0.25, 0.35), "breach", "critical", {"critical": 1, "warning": 1}),
        (
            0.30,
            (0.15, 0.45),
            "breach",
            "warning",
            {"critical": 0, "warning": 1},
        ),  # only the warning is proven
        (
            0.30,
            (0.05, 0.55),
            "ok",
            None,
            {"critical": 0, "warning": 0},
        ),  # a noisy estimate beyond both bounds
        (0.02, (0.00, 0.06), "ok", None, {"critical": 0, "warning": 0}),
    ],
    ids=["proven-critical", "proven-warning-only", "not-proven", "clean"],
)
def test_the_monitor_breaches_only_on_what_the_interval_proves(
    difference: float,
    interval: tuple[float, float],
    status: str,
    severity: str | None,
    breach: dict[str, int],
) -> None:
    verdict = judge_monitor([parity(difference, interval)], THRESHOLDS, 30)
    assert (verdict.status, verdict.severity) == (status, severity)
    assert {s: verdict.breach_value(s) for s in ("critical", "warning")} == breach  # type: ignore[arg-type]
    assert not verdict.insufficient


def test_a_group_below_min_group_size_is_insufficient_data_not_a_breach() -> None:
    verdict = judge_monitor([parity(0.5, (0.45, 0.55), SMALL)], THRESHOLDS, 30)
    assert verdict.status == "insufficient-data" and verdict.severity is None
    assert {s: verdict.breach_value(s) for s in ("critical", "warning")} == {
        "critical": None,
        "warning": None,
    }
    (attribute,) = verdict.attributes
    assert [m.value for m in attribute.metrics if m.metric != "equalizedOddsDifference"] == [None, None]
    assert attribute.groups == (GroupCounts("a", 100, 50),)  # the small group is left out...
    assert (attribute.suppressed_groups, attribute.smallest_group) == (1, 29)  # ...and only counted


def test_a_breach_elsewhere_still_alerts_when_one_attribute_cannot_be_judged() -> None:
    breached = parity(0.5, (0.45, 0.55))
    small = AttributeFairness("age_band", parity(0.0, (0.0, 0.1), SMALL).parity, None)
    verdict = judge_monitor([breached, small], THRESHOLDS, 30)
    assert (verdict.status, verdict.breach_value("critical"), verdict.insufficient) == ("breach", 1, True)


def test_equalized_odds_needs_positive_and_negative_labels_in_every_group() -> None:
    groups = (
        GroupCounts("a", 50, 25, positives=50, true_positives=25),
        GroupCounts("b", 50, 10, positives=20),
    )
    odds = Fairness(groups, (Estimate("equalizedOddsDifference", 0.5, Interval(0.4, 0.6)),))
    verdict = judge_monitor(
        [AttributeFairness("gender", parity(0.0, (0.0, 0.05)).parity, odds)], THRESHOLDS, 30
    )
    [eo] = [m for m in verdict.attributes[0].metrics if m.metric == "equalizedOddsDifference"]
    assert (eo.status, eo.reason) == ("insufficient-data", "a group has no positive or no negative labels")


def test_the_gate_fails_on_the_point_estimate_and_on_too_little_data() -> None:
    # The same noisy estimate the monitor would not alert on fails the gate.
    noisy = judge_gate([parity(0.30, (0.05, 0.55))], THRESHOLDS, 30)
    assert (noisy.status, noisy.severity) == ("breach", "critical")
    assert judge_gate([parity(0.15, (0.0, 0.3))], THRESHOLDS, 30).severity == "warning"
    assert judge_gate([parity(0.0, (0.0, 0.0), SMALL)], THRESHOLDS, 30).status == "insufficient-data"


def test_the_ratio_is_breached_below_its_bound() -> None:
    estimates = (
        Estimate("demographicParityDifference", 0.05, Interval(0.0, 0.1)),
        Estimate("demographicParityRatio", 0.5, Interval(0.4, 0.59)),  # critical bound 0.6
    )
    verdict = judge_monitor([AttributeFairness("gender", Fairness(BIG, estimates), None)], THRESHOLDS, 30)
    assert verdict.severity == "critical"


# --- a whole run over captured files, down to the report and the datapoints ---------------------------------


def run_over(tmp_path: Path, per_group: dict[str, int], rates: dict[str, int], **spec: Any) -> Any:
    start = datetime(2025, 3, 1, 13, 0, tzinfo=UTC)
    captures, _ = traffic(decisions(per_group, rates), start, 60)
    write_tree(tmp_path, capture_files(captures, f"{CAPTURE_PREFIX}/{ENDPOINT}/{VARIANT}"))
    monitor = EthicsMonitorSpec.model_validate(monitor_spec(**spec))
    end = datetime(2025, 3, 1, 14, 0, tzinfo=UTC)
    run = evaluate(LocalSource(tmp_path), CAPTURE_PREFIX, ENDPOINT, VARIANT, monitor, end)
    return (
        run,
        report(run, ENDPOINT, VARIANT, monitor, "aiplane test"),
        metric_data(run.verdict, ENDPOINT, VARIANT, run.records.rows, end),
    )


def test_a_run_with_a_small_group_reports_it_only_as_a_count(tmp_path: Path) -> None:
    _run, document, data = run_over(tmp_path, {"F": 200, "M": 200, "X": 12}, {"F": 3, "M": 7, "X": 5})
    gender = next(a for a in document["attributes"] if a["name"] == "gender")
    assert gender["status"] == "insufficient-data"
    assert [g["group"] for g in gender["groups"]] == ["F", "M"]
    assert (gender["suppressedGroups"], gender["smallestGroupSize"]) == (1, 12)
    assert '"X"' not in str(document).replace("'", '"')  # the small group's value appears nowhere
    breaches = [d for d in data if d["MetricName"] == FAIRNESS_BREACH.name]
    assert breaches == []  # nothing proven (age band is fair), something not judged: no datum at all
    [insufficient] = [d for d in data if d["MetricName"] == INSUFFICIENT_DATA.name]
    assert insufficient["Value"] == 1.0


def test_a_clean_run_publishes_zeros_and_every_datum_matches_its_definition(tmp_path: Path) -> None:
    _run, document, data = run_over(tmp_path, {"F": 200, "M": 200}, {"F": 5, "M": 5})
    assert (document["status"], document["fairnessBreach"]) == ("ok", {"critical": 0, "warning": 0})
    assert document["records"] == {"files": 1, "captured": 400, "rows": 400, "labeledRows": 0, "skipped": {}}
    definitions = {m.name: m for m in ALL_METRICS}
    for datum in data:
        definition = definitions[datum["MetricName"]]
        assert datum["Unit"] == definition.unit and definition.unit in CLOUDWATCH_UNITS
        assert [d["Name"] for d in datum["Dimensions"]] == list(definition.dimensions)
    breach = {
        d["Dimensions"][2]["Value"]: d["Value"] for d in data if d["MetricName"] == FAIRNESS_BREACH.name
    }
    assert breach == {"critical": 0.0, "warning": 0.0}
    assert NAMESPACE == "aiplane/EthicsMonitor"


def test_datum_refuses_dimensions_other_than_its_definitions() -> None:
    with pytest.raises(ValueError, match="takes dimensions Endpoint, Variant, Severity"):
        FAIRNESS_BREACH.datum(1, {"Endpoint": "e", "Variant": "v"}, datetime(2025, 1, 1, tzinfo=UTC))


def test_with_a_label_delay_equalized_odds_judges_the_earlier_window(tmp_path: Path) -> None:
    # 13:00–14:00 a biased model, labelled at 14:30; 14:00–15:00 a fair one, not labelled yet. At 15:00 with
    # labels an hour late: parity on 14–15 (fair), equalized odds on 13–14 (biased: gaps 4/21).
    biased = decisions({"F": 200, "M": 200}, {"F": 3, "M": 7})
    earlier, labels = traffic(biased, datetime(2025, 3, 1, 13, tzinfo=UTC), 60, "old")
    current, _ = traffic(
        decisions({"F": 200, "M": 200}, {"F": 5, "M": 5}), datetime(2025, 3, 1, 14, tzinfo=UTC), 60, "new"
    )
    write_tree(tmp_path, capture_files([*earlier, *current], f"{CAPTURE_PREFIX}/{ENDPOINT}/{VARIANT}"))
    write_tree(tmp_path, ground_truth_files(labels, "gt", datetime(2025, 3, 1, 14, 30, tzinfo=UTC)))
    spec = EthicsMonitorSpec.model_validate(
        monitor_spec(groundTruth={"prefix": "gt", "labelDelayMinutes": 60})
    )
    end = datetime(2025, 3, 1, 15, 0, tzinfo=UTC)
    run = evaluate(LocalSource(tmp_path), CAPTURE_PREFIX, ENDPOINT, VARIANT, spec, end)
    document = report(run, ENDPOINT, VARIANT, spec, "aiplane test")
    assert document["window"] == {"start": "2025-03-01T14:00:00Z", "end": "2025-03-01T15:00:00Z"}
    assert document["equalizedOddsWindow"] == {"start": "2025-03-01T13:00:00Z", "end": "2025-03-01T14:00:00Z"}
    assert (document["records"]["rows"], document["records"]["labeledRows"]) == (400, 400)
    gender = {m["name"]: m["value"] for m in document["attributes"][0]["metrics"]}
    assert gender["demographicParityDifference"] == 0.0
    assert gender["equalizedOddsDifference"] == pytest.approx(4 / 21, abs=1e-6)


def test_only_a_rollback_monitor_publishes_the_rollback_request_and_it_is_the_critical_breach(tmp_path: Path) -> None:
    """The Endpoint's rollback alarm list is fixed; the action decides whether its fairness alarm has data."""
    run, _document, data = run_over(tmp_path, {"F": 300, "M": 300}, {"F": 2, "M": 8})
    end = datetime(2025, 3, 1, 14, 0, tzinfo=UTC)
    assert [d for d in data if d["MetricName"] == ROLLBACK_REQUESTED.name] == []
    with_rollback = metric_data(run.verdict, ENDPOINT, VARIANT, run.records.rows, end, rollback=True)
    [request] = [d for d in with_rollback if d["MetricName"] == ROLLBACK_REQUESTED.name]
    [critical] = [d for d in with_rollback if d["MetricName"] == FAIRNESS_BREACH.name
                  and {"Name": "Severity", "Value": "critical"} in d["Dimensions"]]
    assert request["Value"] == critical["Value"] == 1.0
    assert {x["Name"] for x in request["Dimensions"]} == set(ROLLBACK_REQUESTED.dimensions)
