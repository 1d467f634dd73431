"""One patch at a time: paths resolve in the right schema and values keep a type that fits."""

from __future__ import annotations

from typing import Any

import pytest

from aiplane.validation.fieldpath import object_schema
from aiplane.validation.findings import Severity
from aiplane.validation.patches import (
    COMPOSED,
    COMPOSITE,
    ENVIRONMENT,
    Issue,
    Side,
    check_patch,
    fill_placeholder,
    placeholder,
    transform_chain,
    writes_composed,
)

XR = object_schema({"type": "object", "properties": {
    "spec": {"type": "object", "properties": {"parameters": {"type": "object", "properties": {
        "region": {"type": "string"},
        "maxNodes": {"type": "integer"},
        "ratio": {"type": "number"},
        "spot": {"type": "boolean"},
        "diskSize": {"type": "string"},
        "scaling": {"type": "object", "properties": {"maxSize": {"type": "integer"}}},
    }}}},
    "status": {"type": "object", "properties": {"arn": {"type": "string"}, "nodes": {"type": "integer"}}},
}}, composite=True)
MR = object_schema({"type": "object", "properties": {
    "metadata": {"type": "object"},
    "spec": {"type": "object", "properties": {"forProvider": {"type": "object", "properties": {
        "region": {"type": "string"},
        "maxSize": {"type": "number"},
        "count": {"type": "integer"},
        "capacityType": {"type": "string"},
        "tags": {"type": "object", "additionalProperties": {"type": "string"}},
        "scalingConfig": {"type": "object", "required": ["maxSize"], "properties": {
            "maxSize": {"type": "number", "minimum": 1}, "minSize": {"type": "number"}}},
        "instanceTypes": {"type": "array", "items": {"type": "string"}},
        "enabled": {"type": "boolean"},
    }}}},
    "status": {"type": "object", "properties": {"atProvider": {"type": "object", "properties": {
        "arn": {"type": "string"}, "status": {"type": "string"}, "nodes": {"type": "number"}}}}},
}})
SIDES = {COMPOSITE: Side("the XR", XR), COMPOSED: Side("the MR", MR),
         ENVIRONMENT: Side("the environment", None)}


def _issues(patch: dict[str, Any]) -> list[tuple[Severity, str, str]]:
    return [(i.severity, i.field, i.message) for i in check_patch(patch, SIDES)]


@pytest.mark.parametrize("patch", [
    {"fromFieldPath": "spec.parameters.region", "toFieldPath": "spec.forProvider.region"},
    {"type": "FromCompositeFieldPath", "fromFieldPath": "metadata.labels[aiplane.io/team]",
     "toFieldPath": "spec.forProvider.tags[aiplane.io/team]"},
    {"fromFieldPath": "metadata.uid", "toFieldPath": "metadata.annotations[crossplane.io/external-name]"},
    # An integer fits a number field.
    {"fromFieldPath": "spec.parameters.maxNodes", "toFieldPath": "spec.forProvider.maxSize"},
    {"fromFieldPath": "spec.parameters.region", "toFieldPath": "spec.forProvider.instanceTypes[0]"},
    {"type": "ToCompositeFieldPath", "fromFieldPath": "status.atProvider.arn", "toFieldPath": "status.arn"},
    {"type": "CombineFromComposite", "toFieldPath": "spec.forProvider.tags[Name]",
     "combine": {"strategy": "string", "string": {"fmt": "%s-%d"},
                 "variables": [{"fromFieldPath": "metadata.name"},
                               {"fromFieldPath": "spec.parameters.maxNodes"}]}},
    {"type": "FromEnvironmentFieldPath", "fromFieldPath": "anything.at.all",
     "toFieldPath": "spec.forProvider.region"},
    {"type": "ToEnvironmentFieldPath", "fromFieldPath": "status.atProvider.arn", "toFieldPath": "whatever"},
    {"fromFieldPath": "spec.parameters.diskSize", "toFieldPath": "spec.forProvider.maxSize",
     "transforms": [{"type": "convert", "convert": {"toType": "float64"}}]},
    {"fromFieldPath": "spec.parameters.spot", "toFieldPath": "spec.forProvider.capacityType",
     "transforms": [{"type": "convert", "convert": {"toType": "string"}},
                    {"type": "map", "map": {"true": "SPOT", "false": "ON_DEMAND"}}]},
    {"fromFieldPath": "spec.parameters.maxNodes", "toFieldPath": "spec.forProvider.count",
     "transforms": [{"type": "math", "math": {"type": "Multiply", "multiply": 2}}]},
    {"fromFieldPath": "spec.parameters.maxNodes", "toFieldPath": "spec.forProvider.region",
     "transforms": [{"type": "string", "string": {"type": "Format", "fmt": "%d"}}]},
    {"fromFieldPath": "spec.parameters.scaling", "toFieldPath": "spec.forProvider.scalingConfig"},
])
def test_valid_patches_have_no_errors(patch: dict[str, Any]) -> None:
    assert [i for i in _issues(patch) if i[0] is Severity.ERROR] == []


def test_to_field_path_defaults_to_from_field_path() -> None:
    assert _issues({"fromFieldPath": "spec.parameters.region"}) == [
        (Severity.ERROR, "toFieldPath", "toFieldPath 'spec.parameters.region' does not exist in the MR")]


def test_from_field_path_must_exist_in_the_xr() -> None:
    assert _issues({"fromFieldPath": "spec.parameters.regoin", "toFieldPath": "spec.forProvider.region"}) == [
        (Severity.ERROR, "fromFieldPath", "fromFieldPath 'spec.parameters.regoin' does not exist in the XR")]


def test_to_field_path_must_exist_in_the_mr() -> None:
    assert _issues({"fromFieldPath": "spec.parameters.region", "toFieldPath": "spec.forProvider.regoin"}) == [
        (Severity.ERROR, "toFieldPath", "toFieldPath 'spec.forProvider.regoin' does not exist in the MR")]


def test_to_composite_patches_resolve_the_other_way_round() -> None:
    found = _issues({"type": "ToCompositeFieldPath", "fromFieldPath": "spec.parameters.region",
                     "toFieldPath": "status.atProvider.arn"})
    assert [(f, m) for _, f, m in found] == [
        ("fromFieldPath", "fromFieldPath 'spec.parameters.region' does not exist in the MR"),
        ("toFieldPath", "toFieldPath 'status.atProvider.arn' does not exist in the XR")]


def test_combine_variables_are_resolved() -> None:
    found = _issues({"type": "CombineFromComposite", "toFieldPath": "spec.forProvider.region", "combine": {
        "strategy": "string", "string": {"fmt": "%s"}, "variables": [{"fromFieldPath": "spec.nope"}]}})
    assert [(f, m) for _, f, m in found] == [
        ("combine.variables[0].fromFieldPath",
         "combine.variables[0].fromFieldPath 'spec.nope' does not exist in the XR")]


def test_bad_path_syntax_is_reported() -> None:
    found = _issues({"fromFieldPath": "spec..region", "toFieldPath": "spec.forProvider.region"})
    assert found[0][:2] == (Severity.ERROR, "fromFieldPath")
    assert "not a valid field path: unexpected '.' at position 5" in found[0][2]


def test_string_into_number_without_convert_is_an_error() -> None:
    found = _issues({"fromFieldPath": "spec.parameters.diskSize", "toFieldPath": "spec.forProvider.maxSize"})
    assert found == [(Severity.ERROR, "toFieldPath", "patch writes a string into 'spec.forProvider.maxSize', "
                      "which is a number in the MR; add a convert transform (toType: float64)")]


def test_string_into_integer_of_the_xr_without_convert_is_an_error() -> None:
    found = _issues({"type": "ToCompositeFieldPath", "fromFieldPath": "status.atProvider.status",
                     "toFieldPath": "status.nodes"})
    assert [(s, m) for s, _, m in found] == [
        (Severity.ERROR, "patch writes a string into 'status.nodes', which is an integer in the XR; add a "
                         "convert transform (toType: int64)")]


def test_number_into_integer_is_a_warning() -> None:
    found = _issues({"type": "ToCompositeFieldPath", "fromFieldPath": "status.atProvider.nodes",
                     "toFieldPath": "status.nodes"})
    assert [s for s, _, _ in found] == [Severity.WARNING]


def test_merge_policies_skip_the_type_comparison() -> None:
    assert _issues({"fromFieldPath": "spec.parameters.diskSize", "toFieldPath": "spec.forProvider.maxSize",
                    "policy": {"toFieldPath": "MergeObjects"}}) == []


def test_misspelt_patch_type_suggests_the_right_one() -> None:
    found = _issues({"type": "FromCompositeFieldPth", "fromFieldPath": "spec.parameters.region"})
    assert found[0][:2] == (Severity.ERROR, "type")
    assert "unknown patch type 'FromCompositeFieldPth' (did you mean 'FromCompositeFieldPath'?)" \
        in found[0][2]


def test_combine_needs_combine_and_to_field_path() -> None:
    assert [f for _, f, _ in _issues({"type": "CombineFromComposite"})] == ["combine", "toFieldPath"]


@pytest.mark.parametrize(("in_type", "transforms", "out_type", "problem"), [
    ("integer", [{"type": "map", "map": {"1": "a"}}], "string", "a map transform needs a string input"),
    ("string", [{"type": "map", "map": {"a": 1, "b": 2}}], "integer", None),
    ("string", [{"type": "map", "map": {"a": 1, "b": "x"}}], None, None),
    ("string", [{"type": "math", "math": {"multiply": 2}}], None, "a math transform needs a number"),
    ("number", [{"type": "math", "math": {"type": "ClampMin", "clampMin": 1}}], "number", None),
    ("boolean",
     [{"type": "match", "match": {"patterns": [{"type": "literal", "literal": "a", "result": 1}]}}],
     "integer", "a match transform compares strings"),
    ("string", [{"type": "match", "match": {"patterns": [{"type": "literal", "literal": "a", "result": 1}],
                                            "fallbackValue": 2}}], "integer", None),
    ("string", [{"type": "match", "match": {"patterns": [{"type": "regexp", "regexp": "a", "result": 1}],
                                            "fallbackTo": "Input"}}], None, None),
    ("string", [{"type": "convert", "convert": {"toType": "int64"}}], "integer", None),
    ("string", [{"type": "convert", "convert": {"toType": "float64", "format": "quantity"}}], "number", None),
    ("string", [{"type": "convert", "convert": {"toType": "int64", "format": "quantity"}}], "integer",
     "P&T cannot convert a string to int64 with format quantity"),
    ("integer", [{"type": "convert", "convert": {"toType": "object", "format": "json"}}], "object",
     "P&T cannot convert an integer to object"),
    ("string", [{"type": "convert", "convert": {"toType": "object", "format": "json"}}], "object", None),
    ("integer", [{"type": "string", "string": {"type": "Format", "fmt": "%d"}}], "string", None),
    ("object", [{"type": "string", "string": {"type": "Convert", "convert": "ToSha256"}}], "string", None),
    (None, [{"type": "math", "math": {"multiply": 2}}], None, None),
])
def test_transform_chain_types(in_type: str | None, transforms: list[dict[str, Any]], out_type: str | None,
                               problem: str | None) -> None:
    out, issues = transform_chain(transforms, in_type)
    assert out == out_type
    if problem is None:
        assert issues == []
    else:
        assert [i.severity for i in issues] == [Severity.ERROR]
        assert problem in issues[0].message
        assert issues[0].field == "transforms[0]"


def test_textual_string_transform_on_a_number_is_a_warning() -> None:
    out, issues = transform_chain([{"type": "string", "string": {"type": "Convert", "convert": "ToUpper"}},
                                   {"type": "string", "string": {"type": "TrimPrefix", "trim": "x"}}],
                                  "integer")
    assert out == "string"
    assert issues == [Issue(Severity.WARNING, "string transform Convert on an integer input: P&T formats the "
                            "value with %v first; add a convert transform (toType: string) to make that "
                            "explicit", "transforms[0]")]


def test_writes_composed_names_the_mr_field_a_patch_fills() -> None:
    assert writes_composed({"fromFieldPath": "spec.parameters.region"}) == ["spec", "parameters", "region"]
    from_environment = {"type": "FromEnvironmentFieldPath", "fromFieldPath": "a",
                        "toFieldPath": "spec.forProvider.tags[a.b]"}
    assert writes_composed(from_environment) == ["spec", "forProvider", "tags", "a.b"]
    assert writes_composed({"type": "ToCompositeFieldPath", "fromFieldPath": "a", "toFieldPath": "b"}) is None
    assert writes_composed({"fromFieldPath": "a", "toFieldPath": "spec.items[*].x"}) is None


def test_placeholder_fits_the_schema() -> None:
    assert placeholder({"type": "string", "enum": ["SPOT", "ON_DEMAND"]}) == "SPOT"
    assert placeholder({"type": "integer", "minimum": 3}) == 3
    assert placeholder({"type": "number", "maximum": 0.5}) == 0.5
    assert placeholder({"type": "string", "minLength": 4}) == "xxxx"
    assert placeholder({"type": "array", "items": {"type": "boolean"}}) == [True]
    assert placeholder({"type": "object", "required": ["a"], "properties": {
        "a": {"type": "object", "required": ["b"], "properties": {"b": {"type": "integer"}}},
        "c": {"type": "string"}}}) == {"a": {"b": 1}}


def test_fill_placeholder_adds_only_what_is_missing() -> None:
    base: dict[str, Any] = {"spec": {"forProvider": {"region": "eu-west-1"}}}
    assert fill_placeholder(base, ["spec", "forProvider", "region"], MR) == []
    assert base["spec"]["forProvider"]["region"] == "eu-west-1"
    assert fill_placeholder(base, ["spec", "forProvider", "scalingConfig", "minSize"], MR) == [
        ["spec", "forProvider", "scalingConfig", "minSize"]]
    # The intermediate object is created empty: its required maxSize stays missing, as at runtime.
    assert base["spec"]["forProvider"]["scalingConfig"] == {"minSize": 1.0}
    assert fill_placeholder(base, ["spec", "forProvider", "instanceTypes", 1], MR) == [
        ["spec", "forProvider", "instanceTypes", 0], ["spec", "forProvider", "instanceTypes", 1]]
    assert base["spec"]["forProvider"]["instanceTypes"] == ["x", "x"]
