"""The export format for teams with neither CloudWatch nor Prometheus history (docs/rightsizing.md, "Export files"):
a CSV file (or Parquet, with the `parquet` extra) with one sample a row and the columns

    timestamp,workload,kind,metric,value

`timestamp` ISO 8601 (UTC when no offset is given) or Unix seconds; `workload` the pool's or endpoint's name
in the environment file; `kind` GPUNodePool or ModelEndpoint; `metric` one of history.METRICS in its unit.
Samples of one hour are merged into the hour's maximum, as every source is.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiplane.errors import InputError, Problem
from aiplane.rightsizing.history import KINDS, METRICS, History, Sample, Window, Workload

COLUMNS = ("timestamp", "workload", "kind", "metric", "value")


def read_export(path: Path, window: Window) -> History:
    """A history from an export file; InputError (exit 2) names the file, row and column of every problem."""
    source = str(path)
    if not path.is_file():
        raise InputError.single(source, "no such file (--source takes cloudwatch, prometheus or a CSV/Parquet file)")
    rows = _parquet_rows(path) if path.suffix.lower() == ".parquet" else _csv_rows(path)
    history = History(f"file {path.name}", window)
    problems: list[Problem] = []
    grouped: dict[tuple[Workload, str], list[Sample]] = {}
    for line, row in rows:
        try:
            workload, metric, sample = _parse(row)
        except ValueError as err:
            problems.append(Problem(source, str(err), line=line))
            if len(problems) >= 20:
                break
            continue
        grouped.setdefault((workload, metric), []).append(sample)
    if problems:
        raise InputError(problems)
    for (workload, metric), samples in sorted(grouped.items()):
        history.add(workload, metric, samples)
    return history


def _csv_rows(path: Path) -> Iterable[tuple[int, Mapping[str, Any]]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise InputError.single(str(path), f"missing column(s) {', '.join(missing)}; the header must be "
                                    f"{','.join(COLUMNS)}", line=1)
        yield from ((reader.line_num, row) for row in reader)


def _parquet_rows(path: Path) -> Iterable[tuple[int, Mapping[str, Any]]]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise InputError.single(str(path), "reading Parquet needs the parquet extra (pip install 'aiplane[parquet]')") from None
    table = pq.read_table(path)
    missing = [c for c in COLUMNS if c not in table.column_names]
    if missing:
        raise InputError.single(str(path), f"missing column(s) {', '.join(missing)}")
    return ((i + 1, row) for i, row in enumerate(table.select(list(COLUMNS)).to_pylist()))


def _parse(row: Mapping[str, Any]) -> tuple[Workload, str, Sample]:
    kind, metric, name = str(row["kind"] or ""), str(row["metric"] or ""), str(row["workload"] or "")
    if kind not in KINDS:
        raise ValueError(f"kind {kind!r} is not one of {', '.join(KINDS)}")
    if metric not in METRICS:
        raise ValueError(f"metric {metric!r} is not one of {', '.join(METRICS)}")
    if not name:
        raise ValueError("workload is empty")
    try:
        value = float(row["value"])
    except (TypeError, ValueError):
        raise ValueError(f"value {row['value']!r} is not a number") from None
    return Workload(kind, name), metric, Sample(_timestamp(row["timestamp"]), value)


def _timestamp(raw: Any) -> datetime:
    if isinstance(raw, datetime):
        return raw if raw.tzinfo else raw.replace(tzinfo=UTC)
    text = str(raw or "").strip()
    try:
        return datetime.fromtimestamp(float(text), UTC)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"timestamp {text!r} is neither ISO 8601 nor Unix seconds") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
