"""The JSON Schema type name of a Python value parsed from YAML or JSON."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def json_type(value: Any) -> str | None:
    """`null`, `boolean`, `integer`, `number`, `string`, `array` or `object`; None for values JSON has no
    type for (dates, timestamps). bool is checked before int because bool is an int in Python."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return None
