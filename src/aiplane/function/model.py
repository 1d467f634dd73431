"""What one run of the function sees and decides, as plain dicts (the shape of a RunFunctionRequest)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

Object = dict[str, Any]
# The name of the Function package object (pkg.crossplane.io/v1) that Compositions reference in their
# pipeline step; the offline renderer runs this module's logic for a step that names it.
FUNCTION_NAME = "function-aiplane"


@dataclass
class Request:
    """The observed XR, the composed resources earlier steps want (by composition resource name), and the
    composed resources that exist (observed, with their status)."""

    xr: Mapping[str, Any]
    desired: dict[str, Object]
    observed: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @property
    def spec(self) -> Mapping[str, Any]:
        spec = self.xr.get("spec")
        return spec if isinstance(spec, Mapping) else {}


@dataclass
class Outcome:
    """The composed resources to keep (a name missing here is deleted by Crossplane), XR status fields to
    set, warnings (Crossplane records them as events on the XR), and custom status conditions of the XR
    (`type`, `status` True|False|Unknown, `reason`, `message`; Crossplane sets them, never Ready)."""

    desired: dict[str, Object]
    status: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    conditions: list[dict[str, str]] = field(default_factory=list)


def get(obj: Mapping[str, Any] | None, *path: str) -> Any:
    """obj[path[0]][path[1]]…, or None where any step is missing."""
    cur: Any = obj
    for key in path:
        if not isinstance(cur, Mapping):
            return None
        cur = cur.get(key)
    return cur


def ensure(obj: Object, *path: str) -> Object:
    """The dict at `path` inside `obj`, created where missing."""
    cur = obj
    for key in path:
        nxt = cur.get(key)
        if not isinstance(nxt, dict):
            nxt = {}
            cur[key] = nxt
        cur = nxt
    return cur
