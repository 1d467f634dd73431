"""Deterministic synthetic traffic in the real SageMaker Data Capture and Model Monitor ground-truth formats:
requests carrying `gender` and `age_band`, a model that scores them, and labels, written in the bucket layout
(`<prefix>/<endpoint>/<variant>/yyyy/mm/dd/hh/<file>.jsonl`)."""

from __future__ import annotations

import base64
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ENDPOINT = "dev-sentiment"
VARIANT = "primary"
CAPTURE_PREFIX = "sentiment"
GROUND_TRUTH_PREFIX = "ground-truth/sentiment"
SNS = "arn:aws:sns:us-east-1:111122223333:aiplane-ethics-alerts"


def monitor_spec(**overrides: Any) -> dict[str, Any]:
    """A monitor spec (as the XR carries it) reading CSV requests and JSON responses."""
    spec: dict[str, Any] = {
        "sensitiveAttributes": [{"name": "gender", "csvColumn": 0}, {"name": "age_band", "csvColumn": 1}],
        "prediction": {"jsonPath": "score", "scoreThreshold": 0.5},
        "thresholds": {
            "critical": {
                "demographicParityDifference": 0.2,
                "demographicParityRatio": 0.6,
                "equalizedOddsDifference": 0.2,
            },
            "warning": {
                "demographicParityDifference": 0.1,
                "demographicParityRatio": 0.8,
                "equalizedOddsDifference": 0.1,
            },
        },
        "minGroupSize": 30,
        "bootstrapSamples": 400,
        "windowMinutes": 60,
        "alertTarget": SNS,
    }
    spec.update(overrides)
    return spec


def selected(index: int, rate_in_tenths: int) -> bool:
    """Exactly rate/10 of every ten consecutive requests of a group are selected."""
    return index % 10 < rate_in_tenths


def decisions(
    per_group: Mapping[str, int], rates: Mapping[str, int], age_bands: tuple[str, ...] = ("18-35", "36-65")
) -> list[tuple[str, str, bool, bool]]:
    """(gender, age band, positive prediction, positive label) rows. Each gender's selection rate is given in
    tenths: the first `rate` of every ten consecutive requests are selected. Age bands take whole tens in
    turn, so they share every gender's rates (a model fair by gender is fair by age band). The label is the
    prediction except for the first (a false positive) and the last (a false negative) of every ten: per
    group TPR (rate-1)/rate and FPR 1/(10-rate)."""
    rows = []
    for gender, count in per_group.items():
        rate = rates[gender]
        for i in range(count):
            prediction = selected(i, rate)
            label = prediction != (i % 10 in (0, 9))
            rows.append((gender, age_bands[(i // 10) % len(age_bands)], prediction, label))
    return rows


def capture_record(
    event_id: str,
    when: datetime,
    request_csv: str,
    response: Any,
    *,
    base64_input: bool = False,
    inference_id: str | None = None,
) -> dict[str, Any]:
    """One Data Capture record: a CSV request and a JSON response."""
    data_in: dict[str, Any] = {
        "observedContentType": "text/csv",
        "mode": "INPUT",
        "encoding": "CSV",
        "data": request_csv,
    }
    if base64_input:
        data_in |= {"encoding": "BASE64", "data": base64.b64encode(request_csv.encode()).decode()}
    meta: dict[str, Any] = {
        "eventId": event_id,
        "inferenceTime": when.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
    }
    if inference_id is not None:
        meta["inferenceId"] = inference_id
    return {
        "captureData": {
            "endpointInput": data_in,
            "endpointOutput": {
                "observedContentType": "application/json",
                "mode": "OUTPUT",
                "encoding": "JSON",
                "data": json.dumps(response),
            },
        },
        "eventMetadata": meta,
        "eventVersion": "0",
    }


def ground_truth_record(event_id: str, label: bool) -> dict[str, Any]:
    return {
        "groundTruthData": {
            "data": "1" if label else "0",
            "encoding": "CSV",
            "observedContentType": "text/csv",
        },
        "eventMetadata": {"eventId": event_id},
        "eventVersion": "0",
    }


def traffic(
    rows: list[tuple[str, str, bool, bool]], start: datetime, minutes: int, events: str = "evt"
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Capture records spread evenly over `minutes` from `start` (event ids `<events>-<n>`), and their
    ground truth."""
    step = timedelta(minutes=minutes) / max(len(rows), 1)
    captures, labels = [], []
    for i, (gender, band, prediction, label) in enumerate(rows):
        event = f"{events}-{i:06d}"
        score = 0.83 if prediction else 0.21
        captures.append(
            capture_record(event, start + step * i, f"{gender},{band},{i % 7},0.5", {"score": score})
        )
        labels.append(ground_truth_record(event, label))
    return captures, labels


def _hour_of(record: Mapping[str, Any]) -> str:
    when = datetime.fromisoformat(record["eventMetadata"]["inferenceTime"])
    return when.strftime("%Y/%m/%d/%H")


def capture_files(records: Iterable[Mapping[str, Any]], base: str) -> dict[str, bytes]:
    """Key → JSON Lines body, one file per hour folder as SageMaker writes them."""
    by_hour: dict[str, list[str]] = defaultdict(list)
    for record in records:
        by_hour[_hour_of(record)].append(json.dumps(record))
    return {
        f"{base}/{hour}/capture-0001.jsonl": ("\n".join(lines) + "\n").encode()
        for hour, lines in by_hour.items()
    }


def ground_truth_files(labels: list[dict[str, Any]], prefix: str, collected: datetime) -> dict[str, bytes]:
    """All labels in one file of the hour they were collected."""
    body = "\n".join(json.dumps(label) for label in labels) + "\n"
    return {f"{prefix}/{collected.strftime('%Y/%m/%d/%H')}/labels-0001.jsonl": body.encode()}


def write_tree(root: Path, files: Mapping[str, bytes]) -> None:
    for key, body in files.items():
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
