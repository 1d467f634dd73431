"""Locating the sensitive attributes and the prediction in a captured payload, as the monitor's spec says,
and turning predictions and labels into 0/1.

A payload is parsed by its content type: CSV (every line one row), JSON (one document) or JSON Lines (every
line one document, one row each). A CSV column gives one value per row; a JSON path one value per document,
or one per list element when it holds `[*]`. The values of one record are then paired row by row, a single
value applying to every row (an attribute sent once for a batch).
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass
from typing import Any

from aiplane.ethics.capture import CapturedRecord, GroundTruthRecord, Payload, Skipped
from aiplane.ethics.spec import (
    ALL,
    EthicsMonitorSpec,
    GroundTruth,
    Locator,
    Prediction,
    SensitiveAttribute,
    parse_json_path,
)

TRUE_LABELS = frozenset({"1", "true"})
FALSE_LABELS = frozenset({"0", "false"})


@dataclass(frozen=True)
class Parsed:
    """A decoded payload: CSV rows, or JSON documents (one, or one per JSON Lines line)."""

    csv_rows: list[list[str]] | None = None
    documents: list[Any] | None = None


@dataclass(frozen=True)
class Row:
    """One judged decision: the group of each sensitive attribute, and the prediction as 0/1."""

    groups: dict[str, str]
    prediction: int
    join_key: str


def parse(payload: Payload) -> Parsed:
    """Parse a payload by its content type (`text/csv`, `application/json`, `application/jsonlines`)."""
    text = payload.text()
    kind = payload.content_type.split(";", 1)[0].strip().lower()
    if "csv" in kind:
        return Parsed(csv_rows=[row for row in csv.reader(io.StringIO(text)) if row])
    try:
        if "jsonlines" in kind or "jsonl" in kind:
            return Parsed(documents=[json.loads(line) for line in text.splitlines() if line.strip()])
        if "json" in kind:
            return Parsed(documents=[json.loads(text)])
    except ValueError:
        raise Skipped("JSON payload that does not parse") from None
    raise Skipped("payload of a content type other than CSV, JSON or JSON Lines")


def _follow(document: Any, steps: tuple[str | int, ...]) -> list[Any]:
    values = [document]
    for step in steps:
        following: list[Any] = []
        for value in values:
            if step == ALL:
                if not isinstance(value, list):
                    raise Skipped("JSON path [*] on a value that is not a list")
                following += value
            elif isinstance(step, int):
                if not isinstance(value, list) or step >= len(value):
                    raise Skipped("JSON path index out of range")
                following.append(value[step])
            else:
                if not isinstance(value, dict) or step not in value:
                    raise Skipped("JSON path not found in the payload")
                following.append(value[step])
        values = following
    return values


def locate(parsed: Parsed, locator: Locator) -> list[Any]:
    """The values a locator points at: one per CSV row, per JSON document, or per `[*]` element."""
    if locator.csvColumn is not None:
        if parsed.csv_rows is None:
            raise Skipped("csvColumn on a payload that is not CSV")
        column = locator.csvColumn
        if any(column >= len(row) for row in parsed.csv_rows):
            raise Skipped("CSV row with too few columns")
        return [row[column].strip() for row in parsed.csv_rows]
    assert locator.jsonPath is not None
    if parsed.documents is None:
        raise Skipped("jsonPath on a payload that is not JSON")
    steps = parse_json_path(locator.jsonPath)
    return [value for document in parsed.documents for value in _follow(document, steps)]


def as_text(value: Any) -> str:
    """A located value as text: JSON true/false as `true`/`false`, numbers as JSON writes them."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool) or value is None or isinstance(value, (int, float)):
        return json.dumps(value)
    raise Skipped("value that is an object or a list, not a scalar")


def binary_label(value: Any, positive: int | str | None) -> int:
    """1 or 0: equal to `positive` when it is set (as text, or as numbers: 1 matches "1" and 1.0), else
    1/0/true/false."""
    text = as_text(value)
    if positive is not None:
        wanted = as_text(positive)
        number, wanted_number = _number(text), _number(wanted)
        return int(text == wanted or (number is not None and number == wanted_number))
    lowered = text.lower()
    if lowered in TRUE_LABELS or _number(text) == 1:
        return 1
    if lowered in FALSE_LABELS or _number(text) == 0:
        return 0
    raise Skipped("label that is not 0/1 or true/false (set positiveLabel)")


def _number(text: str) -> float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def binary_prediction(value: Any, prediction: Prediction) -> int:
    """1 or 0: a score compared with scoreThreshold, else a label as binary_label reads it."""
    if prediction.scoreThreshold is None:
        return binary_label(value, prediction.positiveLabel)
    score = _number(as_text(value))
    if score is None:
        raise Skipped("prediction score that is not a number")
    return int(score >= prediction.scoreThreshold)


def _payload_of(record: CapturedRecord, source: str, parsed: dict[str, Parsed]) -> Parsed:
    if source not in parsed:
        payload = record.input if source == "input" else record.output
        if payload is None:
            raise Skipped(f"record without endpoint{source.capitalize()}")
        parsed[source] = parse(payload)
    return parsed[source]


def _paired(columns: list[list[Any]]) -> int:
    """Rows in a record: the length all value lists share (a single value applies to every row)."""
    lengths = {len(c) for c in columns if len(c) != 1}
    if any(len(c) == 0 for c in columns) or len(lengths) > 1:
        raise Skipped("attribute and prediction counts differ within a record")
    return lengths.pop() if lengths else 1


def rows_of(record: CapturedRecord, spec: EthicsMonitorSpec) -> list[Row]:
    """The rows of one captured record; Skipped when any attribute or the prediction cannot be read."""
    parsed: dict[str, Parsed] = {}
    attributes: list[SensitiveAttribute] = spec.sensitiveAttributes
    columns = [locate(_payload_of(record, a.source, parsed), a) for a in attributes]
    predictions = locate(_payload_of(record, spec.prediction.source, parsed), spec.prediction)
    count = _paired([*columns, predictions])

    def at(values: list[Any], i: int) -> Any:
        return values[0] if len(values) == 1 else values[i]

    rows = []
    for i in range(count):
        groups = {}
        for attribute, values in zip(attributes, columns, strict=True):
            group = as_text(at(values, i))
            if group in ("", "null"):
                raise Skipped("sensitive attribute missing")
            groups[attribute.name] = group
        rows.append(Row(groups, binary_prediction(at(predictions, i), spec.prediction), record.join_key))
    return rows


def label_of(record: GroundTruthRecord, ground_truth: GroundTruth, positive: int | str | None) -> int:
    """The 0/1 label of a ground-truth record: its first CSV column, or its JSON (at jsonPath)."""
    parsed = parse(record.data)
    if parsed.csv_rows is not None:
        if len(parsed.csv_rows) != 1 or not parsed.csv_rows[0]:
            raise Skipped("ground truth that is not one CSV value")
        return binary_label(parsed.csv_rows[0][0], positive)
    assert parsed.documents is not None
    if len(parsed.documents) != 1:
        raise Skipped("ground truth that is not one JSON document")
    document = parsed.documents[0]
    if ground_truth.jsonPath is not None:
        (document,) = _follow(document, parse_json_path(ground_truth.jsonPath))
    return binary_label(document, positive)
