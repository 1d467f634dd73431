"""A candidate model's predictions on an evaluation set, for the pre-deployment gate: a CSV or Parquet table
with a prediction column, a label column and one column per sensitive attribute (named as in the monitor's
`sensitiveAttributes`). Predictions and labels become 0/1 exactly as the live monitor reads them
(scoreThreshold, positiveLabel). A problem is reported by column and row count, never with a sensitive value."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from aiplane.errors import InputError, Problem
from aiplane.ethics.capture import Skipped
from aiplane.ethics.extract import as_text, binary_label, binary_prediction
from aiplane.ethics.spec import EthicsMonitorSpec

PARQUET_SUFFIXES = (".parquet", ".pq")


@dataclass(frozen=True)
class EvaluationSet:
    groups: dict[str, list[str]]
    predictions: list[int]
    labels: list[int]
    rows: int
    sha256: str


def read_table(path: Path) -> pd.DataFrame:
    """The table in a CSV (every cell as text) or Parquet file."""
    where = str(path)
    try:
        if path.suffix.lower() in PARQUET_SUFFIXES:
            return pd.read_parquet(path)
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise InputError.single(where, "no such file") from None
    except ImportError:
        raise InputError.single(where, "reading Parquet needs pyarrow: install aiplane[parquet]") from None
    except (OSError, ValueError, pd.errors.ParserError) as err:
        kind = "Parquet" if path.suffix.lower() in PARQUET_SUFFIXES else "CSV"
        raise InputError.single(where, f"cannot read it as {kind}: {str(err).splitlines()[0]}") from None


def _missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value it holds."""
    item = getattr(value, "item", None)
    return item() if callable(item) else value


def evaluation_set(
    path: Path, spec: EthicsMonitorSpec, prediction_column: str, label_column: str
) -> EvaluationSet:
    table = read_table(path)
    where = str(path)
    attributes = [a.name for a in spec.sensitiveAttributes]
    absent = [c for c in (prediction_column, label_column, *attributes) if c not in table.columns]
    if absent:
        raise InputError.single(
            where, f"no column {', '.join(absent)} (has: {', '.join(map(str, table.columns)) or 'none'})"
        )
    problems: list[Problem] = []
    for column in (prediction_column, label_column, *attributes):
        empty = sum(_missing(v) for v in table[column])
        if empty:
            problems.append(Problem(where, f"{empty} rows have no value", field=column))
    if problems:
        raise InputError(problems)

    def convert(column: str, read: Any, hint: str) -> list[int]:
        values, bad = [], 0
        for value in table[column]:
            try:
                values.append(read(_plain(value)))
            except Skipped:
                bad += 1
        if bad:
            problems.append(Problem(where, f"{bad} rows are not readable as 0/1: {hint}", field=column))
        return values

    predictions = convert(
        prediction_column, lambda v: binary_prediction(v, spec.prediction), _hint(spec, prediction=True)
    )
    labels = convert(
        label_column, lambda v: binary_label(v, spec.prediction.positiveLabel), _hint(spec, prediction=False)
    )
    if problems:
        raise InputError(problems)
    groups = {name: [as_text(_plain(v)) for v in table[name]] for name in attributes}
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return EvaluationSet(groups, predictions, labels, len(table), digest)


def _hint(spec: EthicsMonitorSpec, *, prediction: bool) -> str:
    if prediction and spec.prediction.scoreThreshold is not None:
        return "a number (a score) is expected, as prediction.scoreThreshold is set"
    return "0/1 or true/false expected (or set prediction.positiveLabel)"
