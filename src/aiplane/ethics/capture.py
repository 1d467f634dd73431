"""Reading SageMaker Data Capture files and Model Monitor ground truth for a time window, from S3 or from a
local copy of the bucket laid out the same way.

The formats, as AWS documents them:
- Data capture (Amazon SageMaker Developer Guide, "Capture data from real-time endpoint", section "View
  captured data"): JSON Lines objects at `s3://<DestinationS3Uri>/<endpoint-name>/<variant-name>/yyyy/mm/dd/hh/
  <filename>.jsonl`, one record per line: `{"captureData": {"endpointInput": {"observedContentType",
  "mode": "INPUT", "data", "encoding": "CSV|JSON|BASE64"}, "endpointOutput": {... "mode": "OUTPUT" ...}},
  "eventMetadata": {"eventId", "inferenceId" (when the caller set one), "inferenceTime"}, "eventVersion": "0"}`.
  The hour folders are UTC.
- Ground truth (Amazon SageMaker Developer Guide, "Ingest Ground Truth labels and merge them with
  predictions"): JSON Lines records `{"groundTruthData": {"data", "encoding", "observedContentType"},
  "eventMetadata": {"eventId"}, "eventVersion": "0"}` under `s3://<bucket>/<prefix>/yyyy/mm/dd/hh/`, where the
  hour is when the label was collected (not when the inference ran); the eventId holds the capture's
  `inferenceId` when it has one, else its `eventId`.

A record that cannot be read is skipped and counted by reason (never logged: it holds personal data); one bad
line must not blind the monitor, and the counts in the report show a misconfigured one.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from aiplane.ethics.aws import calling

ENCODINGS = ("CSV", "JSON", "BASE64")


class Skipped(Exception):
    """A record (or a row) that cannot be used; the message is the reason counted in the report."""


@dataclass(frozen=True)
class Payload:
    """One side of a captured exchange, or the data of a ground-truth record."""

    content_type: str
    encoding: str
    data: str

    def text(self) -> str:
        """The payload as text: BASE64 decoded as UTF-8, CSV and JSON as captured."""
        if self.encoding == "BASE64":
            try:
                return base64.b64decode(self.data, validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                raise Skipped("BASE64 payload that is not UTF-8 text") from None
        return self.data


@dataclass(frozen=True)
class CapturedRecord:
    """One captured request/response pair."""

    event_id: str
    inference_id: str | None
    inference_time: datetime
    input: Payload | None
    output: Payload | None

    @property
    def join_key(self) -> str:
        """What ground truth refers to: the caller's inferenceId when set, else SageMaker's eventId."""
        return self.inference_id or self.event_id


@dataclass(frozen=True)
class GroundTruthRecord:
    """One label, referring to a captured record by its join key."""

    event_id: str
    data: Payload


T = TypeVar("T")


@dataclass
class Reading(Generic[T]):
    """What was read: the usable records, how many files, and why others were skipped."""

    records: list[T] = field(default_factory=list)
    files: int = 0
    skipped: Counter[str] = field(default_factory=Counter)


class Source(Protocol):
    """Where capture files are: an S3 bucket or a local folder with the bucket's layout."""

    def keys(self, prefix: str) -> list[str]:
        """Keys (relative to the bucket) under a prefix ending in '/', sorted."""
        ...

    def read(self, key: str) -> bytes: ...


class S3Source:
    """A bucket, listed per hour prefix (never the whole bucket)."""

    def __init__(self, s3: Any, bucket: str) -> None:
        self.s3 = s3
        self.bucket = bucket

    def keys(self, prefix: str) -> list[str]:
        found: list[str] = []
        with calling(f"listing s3://{self.bucket}/{prefix}"):
            for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
                found += [obj["Key"] for obj in page.get("Contents", [])]
        return sorted(found)

    def read(self, key: str) -> bytes:
        with calling(f"reading s3://{self.bucket}/{key}"):
            body: bytes = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        return body


class LocalSource:
    """A local folder standing for the bucket (e.g. `aws s3 sync s3://<bucket> DIR`)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def keys(self, prefix: str) -> list[str]:
        folder = self.root / prefix
        if not folder.is_dir():
            return []
        return sorted(p.relative_to(self.root).as_posix() for p in folder.rglob("*") if p.is_file())

    def read(self, key: str) -> bytes:
        return (self.root / key).read_bytes()


def join_prefix(*parts: str) -> str:
    """Key prefix of non-empty parts joined by '/' (an empty capture prefix is the bucket's root)."""
    return "/".join(p.strip("/") for p in parts if p.strip("/"))


def hour_prefixes(base: str, start: datetime, end: datetime) -> list[str]:
    """`<base>/yyyy/mm/dd/hh/` of every UTC hour overlapping [start, end)."""
    hour = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    prefixes = []
    while hour < end:
        prefixes.append(f"{join_prefix(base, hour.strftime('%Y/%m/%d/%H'))}/")
        hour += timedelta(hours=1)
    return prefixes


def _lines(source: Source, base: str, start: datetime, end: datetime, reading: Reading[Any]) -> Iterator[Any]:
    """Each JSON Lines object of the `.jsonl` files in the window's hour folders (undecodable lines counted)."""
    for prefix in hour_prefixes(base, start, end):
        for key in source.keys(prefix):
            if not key.endswith(".jsonl"):
                continue
            reading.files += 1
            for line in source.read(key).splitlines():
                if not line.strip():
                    continue
                try:
                    yield json.loads(line)
                except (ValueError, UnicodeDecodeError):
                    reading.skipped["line that is not JSON"] += 1


def _payload(value: Any, what: str) -> Payload:
    if not isinstance(value, dict):
        raise Skipped(f"record without {what}")
    encoding, data = value.get("encoding"), value.get("data")
    if encoding not in ENCODINGS or not isinstance(data, str):
        raise Skipped(f"{what} without data and encoding CSV, JSON or BASE64")
    content_type = value.get("observedContentType")
    # CSV and JSON encodings say what the text is even when no content type was observed.
    fallback = {"CSV": "text/csv", "JSON": "application/json"}.get(encoding, "")
    return Payload(
        content_type if isinstance(content_type, str) and content_type else fallback, encoding, data
    )


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 time (`2019-11-22T08:24:40Z`) as an aware UTC datetime, None when absent or unreadable."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def captured_record(obj: Any) -> CapturedRecord:
    """A capture line as a record; Skipped when it is not in the Data Capture format."""
    if not isinstance(obj, dict) or not isinstance(obj.get("captureData"), dict):
        raise Skipped("line that is not a Data Capture record")
    meta = obj.get("eventMetadata")
    if not isinstance(meta, dict) or not isinstance(meta.get("eventId"), str):
        raise Skipped("record without eventMetadata.eventId")
    inference_time = parse_time(meta.get("inferenceTime"))
    if inference_time is None:
        raise Skipped("record without eventMetadata.inferenceTime")
    capture = obj["captureData"]
    inference_id = meta.get("inferenceId")
    return CapturedRecord(
        event_id=meta["eventId"],
        inference_id=inference_id if isinstance(inference_id, str) and inference_id else None,
        inference_time=inference_time,
        input=_payload(capture["endpointInput"], "endpointInput") if "endpointInput" in capture else None,
        output=_payload(capture["endpointOutput"], "endpointOutput") if "endpointOutput" in capture else None,
    )


def read_captures(source: Source, base: str, start: datetime, end: datetime) -> Reading[CapturedRecord]:
    """Captured records of [start, end) under `base` (`<capture prefix>/<endpoint>/<variant>`): the hour
    folders overlapping the window, then each record's inferenceTime."""
    reading: Reading[CapturedRecord] = Reading()
    for obj in _lines(source, base, start, end, reading):
        try:
            record = captured_record(obj)
        except Skipped as why:
            reading.skipped[str(why)] += 1
            continue
        if not start <= record.inference_time < end:
            continue  # in an overlapping hour folder, outside the window: another run's
        reading.records.append(record)
    return reading


def ground_truth_record(obj: Any) -> GroundTruthRecord:
    """A ground-truth line as a record; Skipped when it is not in the Model Monitor merge format."""
    if not isinstance(obj, dict):
        raise Skipped("line that is not a ground-truth record")
    meta = obj.get("eventMetadata")
    if not isinstance(meta, dict) or not isinstance(meta.get("eventId"), str):
        raise Skipped("ground truth without eventMetadata.eventId")
    return GroundTruthRecord(meta["eventId"], _payload(obj.get("groundTruthData"), "groundTruthData"))


def read_ground_truth(
    source: Source, prefix: str, start: datetime, end: datetime
) -> Reading[GroundTruthRecord]:
    """Labels collected in the hours overlapping [start, end) under `<prefix>/yyyy/mm/dd/hh/`."""
    reading: Reading[GroundTruthRecord] = Reading()
    for obj in _lines(source, prefix, start, end, reading):
        try:
            reading.records.append(ground_truth_record(obj))
        except Skipped as why:
            reading.skipped[str(why)] += 1
    return reading
