"""One run of the live monitor, from captured files to a verdict and its report: which windows to read,
the rows of every captured record, the labels joined to them, the metrics per attribute and the judgement."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aiplane.ethics.capture import (
    CapturedRecord,
    Skipped,
    Source,
    join_prefix,
    read_captures,
    read_ground_truth,
)
from aiplane.ethics.decision import AttributeFairness, Verdict, judge_monitor
from aiplane.ethics.extract import Row, label_of, rows_of
from aiplane.ethics.fairness import BOOTSTRAP_SEED, demographic_parity, equalized_odds
from aiplane.ethics.report import REPORT_VERSION, attribute_json, iso, settings_json
from aiplane.ethics.spec import EthicsMonitorSpec


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime

    def holds(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    def as_json(self) -> dict[str, str]:
        return {"start": iso(self.start), "end": iso(self.end)}


@dataclass(frozen=True)
class Windows:
    """The window judged for demographic parity, and the (earlier, with a label delay) one for equalized
    odds, whose labels may have been collected any time from its start until the run."""

    parity: Window
    odds: Window | None

    @classmethod
    def ending(cls, end: datetime, spec: EthicsMonitorSpec) -> Windows:
        length = timedelta(minutes=spec.windowMinutes)
        odds = None
        if spec.groundTruth is not None:
            odds_end = end - timedelta(minutes=spec.groundTruth.labelDelayMinutes)
            odds = Window(odds_end - length, odds_end)
        return cls(Window(end - length, end), odds)


@dataclass
class Records:
    """Counts of what was read (never the records themselves)."""

    files: int = 0
    captured: int = 0
    rows: int = 0
    labeled_rows: int = 0
    skipped: Counter[str] = field(default_factory=Counter)

    def as_json(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "captured": self.captured,
            "rows": self.rows,
            "labeledRows": self.labeled_rows,
            "skipped": dict(sorted(self.skipped.items())),
        }


@dataclass(frozen=True)
class Run:
    windows: Windows
    records: Records
    verdict: Verdict


def _rows(records: list[CapturedRecord], spec: EthicsMonitorSpec, counts: Records) -> dict[int, list[Row]]:
    """Each readable record's rows, by its position in `records`; the others counted as skipped."""
    rows: dict[int, list[Row]] = {}
    for i, record in enumerate(records):
        try:
            rows[i] = rows_of(record, spec)
        except Skipped as why:
            counts.skipped[str(why)] += 1
    return rows


def _labels(
    source: Source, spec: EthicsMonitorSpec, window: Window, until: datetime, counts: Records
) -> dict[str, int]:
    """Labels by join key, read from the hours between the window's start and the run."""
    assert spec.groundTruth is not None
    reading = read_ground_truth(source, spec.groundTruth.prefix, window.start, until)
    counts.files += reading.files
    counts.skipped.update({f"ground truth: {k}": v for k, v in reading.skipped.items()})
    labels: dict[str, int] = {}
    for record in reading.records:
        try:
            labels[record.event_id] = label_of(record, spec.groundTruth, spec.prediction.positiveLabel)
        except Skipped as why:
            counts.skipped[f"ground truth: {why}"] += 1
    return labels


def evaluate(
    captures: Source,
    capture_prefix: str,
    endpoint: str,
    variant: str,
    spec: EthicsMonitorSpec,
    end: datetime,
) -> Run:
    """Read the windows' captures (and labels), compute every attribute's metrics, judge them."""
    windows = Windows.ending(end, spec)
    earliest = min(windows.parity.start, windows.odds.start if windows.odds else windows.parity.start)
    reading = read_captures(captures, join_prefix(capture_prefix, endpoint, variant), earliest, end)
    counts = Records(files=reading.files, skipped=Counter(reading.skipped))
    # Every record of either window read once (the windows overlap unless labels are delayed by a window).
    rows = _rows(reading.records, spec, counts)

    def rows_in(window: Window) -> list[Row]:
        return [
            row
            for i, r in enumerate(reading.records)
            if window.holds(r.inference_time)
            for row in rows.get(i, [])
        ]

    counts.captured = sum(windows.parity.holds(r.inference_time) for r in reading.records)
    parity_rows = rows_in(windows.parity)
    counts.rows = len(parity_rows)
    odds_rows: list[tuple[Row, int]] | None = None
    if windows.odds is not None:
        labels = _labels(captures, spec, windows.odds, end, counts)
        odds_rows = [(row, labels[row.join_key]) for row in rows_in(windows.odds) if row.join_key in labels]
        counts.labeled_rows = len(odds_rows)
    results = []
    for attribute in spec.sensitiveAttributes:
        name = attribute.name
        parity = demographic_parity(
            [r.groups[name] for r in parity_rows],
            [r.prediction for r in parity_rows],
            bootstrap=spec.bootstrapSamples,
            confidence=spec.confidence,
            seed=BOOTSTRAP_SEED,
        )
        odds = None
        if odds_rows is not None:
            odds = equalized_odds(
                [r.groups[name] for r, _ in odds_rows],
                [label for _, label in odds_rows],
                [r.prediction for r, _ in odds_rows],
                bootstrap=spec.bootstrapSamples,
                confidence=spec.confidence,
                seed=BOOTSTRAP_SEED,
            )
        results.append(AttributeFairness(name, parity, odds))
    return Run(windows, counts, judge_monitor(results, spec.thresholds, spec.minGroupSize))


def report(
    run: Run, endpoint: str, variant: str, spec: EthicsMonitorSpec, generated_by: str
) -> dict[str, Any]:
    """The run's JSON report (aggregates only; aiplane.ethics.report says what is left out)."""
    verdict = run.verdict
    return {
        "kind": "EthicsMonitorReport",
        "version": REPORT_VERSION,
        "generatedBy": generated_by,
        "endpoint": endpoint,
        "variant": variant,
        "window": run.windows.parity.as_json(),
        "equalizedOddsWindow": None if run.windows.odds is None else run.windows.odds.as_json(),
        "status": verdict.status,
        "severity": verdict.severity,
        "fairnessBreach": {s: verdict.breach_value(s) for s in ("critical", "warning")},
        "insufficientData": verdict.insufficient,
        "records": run.records.as_json(),
        "settings": settings_json(spec),
        "attributes": [attribute_json(a) for a in verdict.attributes],
    }
