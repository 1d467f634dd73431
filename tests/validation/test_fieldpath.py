"""Crossplane field paths: the syntax patches use, and walking schemas and objects along them."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aiplane.validation.fieldpath import (
    format_field_path,
    get_path,
    has_path,
    object_schema,
    parse_field_path,
    resolve_schema,
    set_path,
)


@pytest.mark.parametrize(("path", "segments"), [
    ("spec.forProvider.region", ["spec", "forProvider", "region"]),
    ("spec.forProvider.instanceTypes[0]", ["spec", "forProvider", "instanceTypes", 0]),
    ("metadata.labels[aiplane.io/environment]", ["metadata", "labels", "aiplane.io/environment"]),
    ("a[0][1].b", ["a", 0, 1, "b"]),
    ("a[key].b", ["a", "key", "b"]),
    ("[0].a", [0, "a"]),
    ("a.0", ["a", "0"]),  # only bracketed numbers are indexes
    ("spec.taint[*].effect", ["spec", "taint", "*", "effect"]),
    ("a[4294967296]", ["a", "4294967296"]),  # beyond uint32: a key, as in Crossplane
])
def test_parses_crossplane_paths(path: str, segments: list[str | int]) -> None:
    assert parse_field_path(path) == segments


@pytest.mark.parametrize(("path", "complaint"), [
    ("", "empty field path"),
    (".a", "unexpected '.' at position 0"),
    ("a.", "unexpected '.' at position 1"),
    ("a..b", "unexpected '.' at position 2"),
    ("a.[0]", "unexpected '['"),
    ("a[0", "unterminated '['"),
    ("a[]", "unexpected ']'"),
    ("a]", "unexpected ']'"),
    ("a[0]b", "unexpected 'b'"),
    ("a[b[c]", "unexpected '['"),
])
def test_rejects_bad_syntax_with_position(path: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint.replace("[", r"\[").replace(".", r"\.")):
        parse_field_path(path)


def test_formats_keys_with_dots_and_slashes_in_brackets() -> None:
    assert format_field_path(["metadata", "labels", "aiplane.io/environment"]) == \
        "metadata.labels[aiplane.io/environment]"
    assert format_field_path(["spec", "taint", 0, "effect"]) == "spec.taint[0].effect"
    assert format_field_path(["a", "*"]) == "a[*]"
    assert format_field_path(["a", "123"]) == "a.123"  # bracketed it would read back as an index


@pytest.mark.parametrize("bad", [[""], ["a[b"], ["x]"], [-1]])
def test_format_refuses_what_crossplane_cannot_express(bad: list[str | int]) -> None:
    with pytest.raises(ValueError):
        format_field_path(bad)


_names = st.text(min_size=1).filter(lambda s: "[" not in s and "]" not in s)
_segments = st.lists(st.one_of(_names, st.integers(min_value=0, max_value=2**32 - 1)), min_size=1)


@given(_segments)
def test_format_then_parse_round_trips(segments: list[str | int]) -> None:
    assert parse_field_path(format_field_path(segments)) == segments


SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "spec": {"type": "object", "properties": {
            "tags": {"type": "object", "additionalProperties": {"type": "string"}},
            "sizes": {"type": "array", "items": {"type": "integer"}},
            "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
            "closed": {"type": "object"},
            "port": {"x-kubernetes-int-or-string": True},
        }},
    },
}


@pytest.mark.parametrize(("path", "expected_type"), [
    ("spec.tags[team]", "string"),
    ("spec.tags[aiplane.io/cost-center]", "string"),
    ("spec.sizes[3]", "integer"),
    ("spec.sizes[*]", "integer"),
    ("spec.free.anything.below[2]", None),
    ("spec.port", None),
])
def test_resolves_paths_that_exist(path: str, expected_type: str | None) -> None:
    node = resolve_schema(SCHEMA, parse_field_path(path))
    assert node is not None
    assert node.get("type") == expected_type


@pytest.mark.parametrize("path", [
    "spec.missing", "spec.tags.team.deeper", "spec.sizes.first", "spec.closed.key", "spec.port.x", "spec[0]",
])
def test_paths_that_do_not_exist_resolve_to_none(path: str) -> None:
    assert resolve_schema(SCHEMA, parse_field_path(path)) is None


def test_object_schema_adds_metadata_to_crd_schemas() -> None:
    crd_like = {"type": "object", "properties": {"metadata": {"type": "object"}, "spec": {"type": "object"}}}
    full = object_schema(crd_like)
    for path in ("metadata.name", "metadata.uid", "metadata.labels[aiplane.io/environment]",
                 "metadata.annotations[crossplane.io/external-name]"):
        assert resolve_schema(full, parse_field_path(path)) is not None, path
    assert resolve_schema(full, parse_field_path("metadata.nmae")) is None
    assert resolve_schema(crd_like, parse_field_path("metadata.name")) is None  # the input is not changed


def test_object_schema_of_a_composite_adds_crossplane_machinery() -> None:
    xr = object_schema({"type": "object", "properties": {"spec": {"type": "object", "properties": {
        "parameters": {"type": "object"}}}}}, composite=True)
    assert resolve_schema(xr, parse_field_path("spec.crossplane.compositionRef.name")) is not None
    assert resolve_schema(xr, parse_field_path("status.conditions[0].reason")) == {"type": "string"}
    assert resolve_schema(xr, parse_field_path("spec.parameters")) is not None  # own fields kept


def test_get_set_and_has_on_plain_objects() -> None:
    obj: dict[str, Any] = {}
    set_path(obj, parse_field_path("spec.forProvider.tags[aiplane.io/team]"), "ml")
    set_path(obj, parse_field_path("spec.forProvider.instanceTypes[1]"), "g5.xlarge")
    assert obj == {"spec": {"forProvider": {"tags": {"aiplane.io/team": "ml"},
                                            "instanceTypes": [None, "g5.xlarge"]}}}
    assert get_path(obj, ["spec", "forProvider", "instanceTypes", 1]) == "g5.xlarge"
    assert has_path(obj, ["spec", "forProvider", "tags"])
    assert not has_path(obj, ["spec", "forProvider", "instanceTypes", 5])
    with pytest.raises(KeyError):
        get_path(obj, ["spec", "nope"])


def test_set_path_refuses_to_walk_through_a_scalar() -> None:
    obj: dict[str, Any] = {"spec": "text"}
    with pytest.raises(ValueError, match="spec is not an object"):
        set_path(obj, ["spec", "a"], 1)
    with pytest.raises(ValueError, match="wildcard"):
        set_path(obj, ["items", "*"], 1)
