"""Crossplane field paths (`spec.forProvider.tags[team]`, `items[0].name`): parse, format, resolve, get, set.

The syntax follows crossplane-runtime's `fieldpath` package, which patch-and-transform uses: dot-separated
field names; `[N]` (an unsigned integer) indexes an array; any other `[text]` is a field name that may
contain dots and slashes (`metadata.labels[aiplane.io/environment]`); `*` (`a[*]`, `a.*`) is a wildcard.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from typing import Any

Segment = str | int

WILDCARD = "*"
_UINT32_MAX = 2**32 - 1
_PLAIN_FIELD = re.compile(r"[^.\[\]]+")


def _field_or_index(text: str) -> Segment:
    # Crossplane treats bracketed text as an index when it parses as a uint32, else as a field name.
    if text.isascii() and text.isdigit() and int(text) <= _UINT32_MAX:
        return int(text)
    return text


def parse_field_path(path: str) -> list[Segment]:
    """Split a Crossplane field path into field names (str) and array indexes (int).

    Raises ValueError naming the position of the first syntax error, as Crossplane would reject it.
    """
    return list(_parsed(path))


@functools.lru_cache(maxsize=4096)
def _parsed(path: str) -> tuple[Segment, ...]:
    # Each distinct path once: a Composition's few hundred paths are read again for every patch applied (a
    # `plan` of the shipped repository renders every XR on both sides until it settles: 16,000 parses) and
    # by validation for every object. A fresh list per caller, which may keep or change it.
    if not path:
        raise ValueError("empty field path")
    segments: list[Segment] = []
    pos = 0
    n = len(path)
    expect_field = True  # at the start or right after a period
    while pos < n:
        ch = path[pos]
        if ch == "[":
            if expect_field and pos > 0:
                raise ValueError(f"unexpected '[' at position {pos} in {path!r}")
            close = path.find("]", pos + 1)
            if close < 0:
                raise ValueError(f"unterminated '[' at position {pos} in {path!r}")
            inner = path[pos + 1 : close]
            if not inner:
                raise ValueError(f"unexpected ']' at position {close} in {path!r}")
            if "[" in inner:
                raise ValueError(f"unexpected '[' at position {pos + 1 + inner.index('[')} in {path!r}")
            segments.append(_field_or_index(inner))
            pos = close + 1
            if pos < n and path[pos] not in ".[":
                raise ValueError(f"unexpected {path[pos]!r} at position {pos} in {path!r}")
            expect_field = False
        elif ch == ".":
            if pos == 0 or pos == n - 1 or expect_field:
                raise ValueError(f"unexpected '.' at position {pos} in {path!r}")
            pos += 1
            expect_field = True
        elif ch == "]":
            raise ValueError(f"unexpected ']' at position {pos} in {path!r}")
        else:
            if not expect_field:
                raise ValueError(f"unexpected {ch!r} at position {pos} in {path!r}")
            match = _PLAIN_FIELD.match(path, pos)
            assert match is not None  # ch is none of '.', '[' and ']'
            segments.append(match.group())
            pos = match.end()
            expect_field = False
    return tuple(segments)


def _needs_brackets(name: str) -> bool:
    # Bracketed digits would read back as an index, so all-digit names stay unbracketed.
    if name.isascii() and name.isdigit():
        return False
    return name == WILDCARD or any(c in name for c in "./ ")


def format_field_path(segments: Sequence[Segment]) -> str:
    """Join segments into Crossplane syntax; keys with dots, slashes and the like go in brackets.

    Raises ValueError for keys Crossplane cannot express (empty, or containing '[' or ']').
    """
    out: list[str] = []
    for seg in segments:
        if isinstance(seg, int):
            if seg < 0:
                raise ValueError(f"negative array index {seg}")
            out.append(f"[{seg}]")
            continue
        if not seg or "[" in seg or "]" in seg:
            raise ValueError(f"field name {seg!r} cannot be written as a Crossplane field path")
        if _needs_brackets(seg):
            out.append(f"[{seg}]")
        else:
            out.append(f".{seg}" if out else seg)
    return "".join(out)


def _allows_anything(schema: Mapping[str, Any]) -> bool:
    """A node that says nothing about its shape (preserve-unknown, or no type and no structure)."""
    if schema.get("x-kubernetes-preserve-unknown-fields") is True:
        return True
    if schema.get("x-kubernetes-int-or-string") is True:
        return False
    return not any(k in schema for k in ("type", "properties", "items", "additionalProperties"))


def resolve_schema(schema: Mapping[str, Any], segments: Sequence[Segment]) -> dict[str, Any] | None:
    """Walk an openAPIV3 schema along a field path; the schema of the target node, or None if absent.

    Map schemas (`additionalProperties`) and `x-kubernetes-preserve-unknown-fields` nodes accept any
    key; `{}` is returned where the path goes below what the schema describes.
    """
    node: Mapping[str, Any] = schema
    for seg in segments:
        nxt: Any
        if isinstance(seg, int):
            if "items" in node:
                nxt = node["items"]
            elif node.get("type") == "array" or (node.get("type") is None and _allows_anything(node)):
                nxt = {}
            else:
                return None
        elif seg == WILDCARD:
            if "items" in node:
                nxt = node["items"]
            elif isinstance(node.get("additionalProperties"), Mapping):
                nxt = node["additionalProperties"]
            elif node.get("type") in (None, "object", "array"):
                # A wildcard over named properties may hit any of them: the type is not known.
                nxt = {}
            else:
                return None
        else:
            props = node.get("properties")
            additional = node.get("additionalProperties")
            if isinstance(props, Mapping) and seg in props:
                nxt = props[seg]
            elif isinstance(additional, Mapping):
                nxt = additional
            elif additional is True or (node.get("type") in (None, "object") and _allows_anything(node)):
                nxt = {}
            else:
                return None
        if not isinstance(nxt, Mapping):
            return None
        node = nxt
    return dict(node)


def get_path(obj: Any, segments: Sequence[Segment]) -> Any:
    """The value at a path in plain dicts/lists; KeyError when any part of the path is missing."""
    cur = obj
    for seg in segments:
        if isinstance(seg, int):
            if not isinstance(cur, list) or seg >= len(cur):
                raise KeyError(format_field_path(segments))
            cur = cur[seg]
        else:
            if not isinstance(cur, dict) or seg not in cur:
                raise KeyError(format_field_path(segments))
            cur = cur[seg]
    return cur


def has_path(obj: Any, segments: Sequence[Segment]) -> bool:
    """Whether a value exists at the path."""
    try:
        get_path(obj, segments)
    except KeyError:
        return False
    return True


def set_path(obj: Any, segments: Sequence[Segment], value: Any) -> None:
    """Set a value in plain dicts/lists, creating missing objects and arrays on the way.

    Arrays grow to reach an index, padded with None (as Crossplane's paved objects do). Raises
    ValueError when an existing value of the wrong kind (e.g. a string) is in the way, and for
    wildcards, which name no single place.
    """
    if not segments:
        raise ValueError("cannot set the empty path")
    cur = obj
    for i, seg in enumerate(segments):
        last = i == len(segments) - 1
        if seg == WILDCARD:
            raise ValueError("cannot set a path that contains a wildcard")
        nxt_default: Any = None if last else ([] if isinstance(segments[i + 1], int) else {})
        if isinstance(seg, int):
            if not isinstance(cur, list):
                raise ValueError(f"{format_field_path(segments[:i]) or 'the object'} is not an array")
            while len(cur) <= seg:
                cur.append(None)
            if last:
                cur[seg] = value
                return
            if cur[seg] is None:
                cur[seg] = nxt_default
            cur = cur[seg]
        else:
            if not isinstance(cur, dict):
                raise ValueError(f"{format_field_path(segments[:i]) or 'the object'} is not an object")
            if last:
                cur[seg] = value
                return
            if cur.get(seg) is None:
                cur[seg] = nxt_default
            cur = cur[seg]


_STRING: dict[str, Any] = {"type": "string"}
_STRING_MAP: dict[str, Any] = {"type": "object", "additionalProperties": _STRING}
# The part of Kubernetes ObjectMeta that patches read and write; CRDs only say `metadata: {type: object}`.
OBJECT_META_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": _STRING,
        "generateName": _STRING,
        "namespace": _STRING,
        "uid": _STRING,
        "resourceVersion": _STRING,
        "generation": {"type": "integer"},
        "creationTimestamp": {"type": "string", "format": "date-time"},
        "deletionTimestamp": {"type": "string", "format": "date-time"},
        "labels": _STRING_MAP,
        "annotations": _STRING_MAP,
        "finalizers": {"type": "array", "items": _STRING},
        "ownerReferences": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "apiVersion": _STRING,
                    "kind": _STRING,
                    "name": _STRING,
                    "uid": _STRING,
                    "controller": {"type": "boolean"},
                    "blockOwnerDeletion": {"type": "boolean"},
                },
            },
        },
        "managedFields": {
            "type": "array",
            "items": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        },
    },
}
_OPEN_OBJECT: dict[str, Any] = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
# What Crossplane v2 adds to every namespaced XR besides the XRD's own schema.
_XR_MACHINERY: dict[str, dict[str, Any]] = {
    "spec": {"crossplane": _OPEN_OBJECT},
    "status": {
        "crossplane": _OPEN_OBJECT,
        "conditions": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "type": _STRING,
                    "status": _STRING,
                    "reason": _STRING,
                    "message": _STRING,
                    "lastTransitionTime": {"type": "string", "format": "date-time"},
                    "observedGeneration": {"type": "integer"},
                },
            },
        },
    },
}


def _with_properties(schema: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """A shallow copy of `schema` with `extra` properties added (the schema's own ones win)."""
    props = schema.get("properties")
    return {
        **schema,
        "type": schema.get("type", "object"),
        "properties": {**extra, **(props if isinstance(props, Mapping) else {})},
    }


def object_schema(schema: Mapping[str, Any], composite: bool = False) -> dict[str, Any]:
    """The schema of a whole Kubernetes object as the API server sees it: `metadata` is full ObjectMeta,
    and a composite resource (`composite=True`) also has Crossplane's `spec.crossplane` and
    `status.conditions`. Copies only the top levels, so it is cheap on large provider schemas.
    """
    props: Mapping[str, Any] = schema.get("properties") or {}
    declared_meta: Mapping[str, Any] = props.get("metadata") or {}
    # Standard ObjectMeta fields win; a CRD may only restrict name and generateName anyway.
    meta = _with_properties(OBJECT_META_SCHEMA, declared_meta.get("properties") or {})
    extra: dict[str, Any] = {"metadata": meta}
    if composite:
        for top, fields in _XR_MACHINERY.items():
            extra[top] = _with_properties(props.get(top) or {}, fields)
    return {**schema, "type": "object", "properties": {**props, **extra}}
