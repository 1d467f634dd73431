"""Captured traffic is read as SageMaker writes it (hour folders, JSON Lines, CSV/JSON/BASE64 payloads), from
S3 or a local copy alike, and each payload yields the attributes and predictions the spec points at."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from ethics_traffic import (
    CAPTURE_PREFIX,
    ENDPOINT,
    GROUND_TRUTH_PREFIX,
    VARIANT,
    capture_files,
    capture_record,
    ground_truth_files,
    ground_truth_record,
    monitor_spec,
    write_tree,
)
from moto import mock_aws

from aiplane.ethics.capture import (
    LocalSource,
    Payload,
    S3Source,
    Skipped,
    hour_prefixes,
    read_captures,
    read_ground_truth,
)
from aiplane.ethics.extract import label_of, rows_of
from aiplane.ethics.spec import EthicsMonitorSpec, GroundTruth

BASE = f"{CAPTURE_PREFIX}/{ENDPOINT}/{VARIANT}"
T0 = datetime(2025, 12, 31, 23, 30, tzinfo=UTC)


def test_hour_prefixes_cover_the_window_across_a_year_boundary() -> None:
    assert hour_prefixes("p/e/v", T0, T0 + timedelta(minutes=60)) == [
        "p/e/v/2025/12/31/23/",
        "p/e/v/2026/01/01/00/",
    ]
    assert hour_prefixes("", T0, T0 + timedelta(minutes=10)) == ["2025/12/31/23/"]


def records() -> list[dict[str, Any]]:
    return [
        capture_record("e1", T0 + timedelta(minutes=5), "F,18-35,1,0.5", {"score": 0.9}),
        capture_record("e2", T0 + timedelta(minutes=45), "M,36-65,2,0.5", {"score": 0.1}, base64_input=True),
        capture_record("e3", T0 - timedelta(minutes=5), "M,36-65,3,0.5", {"score": 0.7}),  # before the window
        capture_record("e4", T0 + timedelta(minutes=61), "F,36-65,4,0.5", {"score": 0.7}),  # after it
    ]


def check_reading(source: Any) -> None:
    reading = read_captures(source, BASE, T0, T0 + timedelta(minutes=60))
    assert sorted(r.event_id for r in reading.records) == ["e1", "e2"]
    assert reading.skipped == {"line that is not JSON": 1, "record without eventMetadata.eventId": 1}
    spec = EthicsMonitorSpec.model_validate(monitor_spec())
    rows = [row for record in reading.records for row in rows_of(record, spec)]
    assert sorted((r.groups["gender"], r.groups["age_band"], r.prediction) for r in rows) == [
        ("F", "18-35", 1),
        ("M", "36-65", 0),
    ]


def files() -> dict[str, bytes]:
    found = capture_files(records(), BASE)
    # One line that is not JSON and one record without an eventId, in the first hour's file.
    first = f"{BASE}/2025/12/31/23/capture-0001.jsonl"
    broken = json.dumps({"captureData": {}, "eventMetadata": {}, "eventVersion": "0"})
    found[first] += f"not json\n{broken}\n".encode()
    found[f"{BASE}/2025/12/31/23/notes.txt"] = b"ignored: not .jsonl"
    return found


def test_reading_a_local_copy_of_the_bucket(tmp_path: Path) -> None:
    write_tree(tmp_path, files())
    check_reading(LocalSource(tmp_path))


@mock_aws
def test_reading_the_bucket_in_s3(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="captures")
    for key, body in files().items():
        s3.put_object(Bucket="captures", Key=key, Body=body)
    # Another endpoint's captures share the bucket and are never read.
    s3.put_object(
        Bucket="captures", Key=f"{CAPTURE_PREFIX}/other/{VARIANT}/2025/12/31/23/x.jsonl", Body=b"{}"
    )
    check_reading(S3Source(s3, "captures"))


def spec_with(**changes: Any) -> EthicsMonitorSpec:
    return EthicsMonitorSpec.model_validate(monitor_spec(**changes))


def record_with(input_payload: dict[str, Any], output_payload: dict[str, Any]) -> Any:
    from aiplane.ethics.capture import captured_record

    return captured_record(
        {
            "captureData": {"endpointInput": input_payload, "endpointOutput": output_payload},
            "eventMetadata": {
                "eventId": "e",
                "inferenceId": "inf-1",
                "inferenceTime": "2025-01-01T00:00:00Z",
            },
            "eventVersion": "0",
        }
    )


def test_a_csv_request_of_several_rows_with_a_batch_of_json_predictions() -> None:
    record = record_with(
        {
            "observedContentType": "text/csv",
            "mode": "INPUT",
            "encoding": "CSV",
            "data": "F,18-35\nM,36-65\nF,36-65",
        },
        {
            "observedContentType": "application/json",
            "mode": "OUTPUT",
            "encoding": "JSON",
            "data": json.dumps({"predictions": [{"score": 0.2}, {"score": 0.5}, {"score": 0.8}]}),
        },
    )
    rows = rows_of(record, spec_with(prediction={"jsonPath": "predictions[*].score", "scoreThreshold": 0.5}))
    assert [(r.groups["gender"], r.groups["age_band"], r.prediction) for r in rows] == [
        ("F", "18-35", 0),
        ("M", "36-65", 1),
        ("F", "36-65", 1),
    ]
    assert {r.join_key for r in rows} == {"inf-1"}  # the caller's inferenceId wins over the eventId


def test_json_requests_base64_encoded_with_an_attribute_sent_once_for_the_batch() -> None:
    body = {"context": {"gender": "F"}, "instances": [{"age": "18-35"}, {"age": "36-65"}]}
    record = record_with(
        {
            "observedContentType": "application/json",
            "mode": "INPUT",
            "encoding": "BASE64",
            "data": base64.b64encode(json.dumps(body).encode()).decode(),
        },
        {"observedContentType": "text/csv", "mode": "OUTPUT", "encoding": "CSV", "data": "approved\ndenied"},
    )
    spec = spec_with(
        sensitiveAttributes=[
            {"name": "gender", "jsonPath": "context.gender"},
            {"name": "age_band", "jsonPath": "instances[*].age"},
        ],
        prediction={"csvColumn": 0, "positiveLabel": "approved"},
    )
    assert [(r.groups["gender"], r.groups["age_band"], r.prediction) for r in rows_of(record, spec)] == [
        ("F", "18-35", 1),
        ("F", "36-65", 0),
    ]


@pytest.mark.parametrize(
    ("request_data", "prediction", "reason"),
    [
        ("F,18-35\nM,36-65", {"jsonPath": "predictions[*]"}, "counts differ"),
        ("F", {"jsonPath": "score", "scoreThreshold": 0.5}, "too few columns"),
        ("F,18-35", {"jsonPath": "label"}, "JSON path not found"),
        ("F,18-35", {"jsonPath": "verdict"}, "not 0/1 or true/false"),
        (",18-35", {"jsonPath": "score", "scoreThreshold": 0.5}, "sensitive attribute missing"),
    ],
    ids=["row-count-mismatch", "missing-column", "missing-key", "non-binary-label", "empty-attribute"],
)
def test_unreadable_records_are_skipped_with_a_reason(
    request_data: str, prediction: dict[str, Any], reason: str
) -> None:
    record = record_with(
        {"observedContentType": "text/csv", "mode": "INPUT", "encoding": "CSV", "data": request_data},
        {
            "observedContentType": "application/json",
            "mode": "OUTPUT",
            "encoding": "JSON",
            "data": json.dumps({"predictions": [1, 0, 1], "score": 0.7, "verdict": "maybe"}),
        },
    )
    with pytest.raises(Skipped, match=reason):
        rows_of(record, spec_with(prediction=prediction))


def test_ground_truth_in_the_model_monitor_format(tmp_path: Path) -> None:
    collected = T0 + timedelta(minutes=90)
    write_tree(
        tmp_path,
        ground_truth_files(
            [ground_truth_record("e1", True), ground_truth_record("e2", False)],
            GROUND_TRUTH_PREFIX,
            collected,
        ),
    )
    reading = read_ground_truth(
        LocalSource(tmp_path), GROUND_TRUTH_PREFIX, T0, collected + timedelta(minutes=1)
    )
    ground_truth = GroundTruth(prefix=GROUND_TRUTH_PREFIX)
    assert {r.event_id: label_of(r, ground_truth, None) for r in reading.records} == {"e1": 1, "e2": 0}
    json_label = Payload("application/json", "JSON", json.dumps({"label": "approved"}))
    from aiplane.ethics.capture import GroundTruthRecord

    with_path = GroundTruth(prefix="gt", jsonPath="label")
    assert label_of(GroundTruthRecord("e3", json_label), with_path, "approved") == 1
    assert label_of(GroundTruthRecord("e3", json_label), with_path, 1) == 0
