"""XRD checks: what Crossplane rejects about a CompositeResourceDefinition beyond its CRD schema."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from aiplane.validation.findings import Finding, Location, Severity
from aiplane.validation.xrds import check_xrd, structural_problems
from aiplane.yamlio import load_documents

FIXTURE = Path(__file__).parent.parent / "fixtures" / "compositions" / "xrd.yaml"


@pytest.fixture
def xrd() -> dict[str, Any]:
    obj = load_documents(FIXTURE)[0].obj
    assert obj["kind"] == "CompositeResourceDefinition"
    return copy.deepcopy(obj)


def _schema(xrd: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = xrd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return schema


def _errors(findings: list[Finding]) -> list[tuple[str, str]]:
    return [(f.field, f.message) for f in findings if f.severity is Severity.ERROR]


def test_the_fixture_xrd_has_no_findings(xrd: dict[str, Any]) -> None:
    assert check_xrd(xrd, Location("xrd.yaml")) == []


def test_claim_names_are_rejected_in_v2(xrd: dict[str, Any]) -> None:
    xrd["spec"]["claimNames"] = {"kind": "GPUNodePoolClaim", "plural": "gpunodepoolclaims"}
    errors = _errors(check_xrd(xrd, Location("xrd.yaml", 0, 3)))
    assert errors == [("spec.claimNames", "claims are not supported in apiextensions.crossplane.io/v2; "
                                          "remove spec.claimNames")]


def test_connection_secret_keys_are_rejected_in_v2(xrd: dict[str, Any]) -> None:
    xrd["spec"]["connectionSecretKeys"] = ["endpoint"]
    assert [f for f, _ in _errors(check_xrd(xrd, Location()))] == ["spec.connectionSecretKeys"]


def test_name_must_be_plural_dot_group(xrd: dict[str, Any]) -> None:
    xrd["metadata"]["name"] = "gpunodepool.ai.aiplane.io"
    findings = check_xrd(xrd, Location("xrd.yaml", 2, 40))
    assert _errors(findings) == [("metadata.name", "metadata.name must be <plural>.<group> = "
                                  "'gpunodepools.ai.aiplane.io' (is 'gpunodepool.ai.aiplane.io')")]
    assert (findings[0].path, findings[0].index, findings[0].line, findings[0].name) == \
        ("xrd.yaml", 2, 40, "gpunodepool.ai.aiplane.io")


def test_two_referenceable_versions_are_rejected(xrd: dict[str, Any]) -> None:
    second = copy.deepcopy(xrd["spec"]["versions"][0])
    second["name"] = "v1beta1"
    xrd["spec"]["versions"].append(second)
    assert _errors(check_xrd(xrd, Location())) == [
        ("spec.versions", "exactly one version must be referenceable: true (found v1alpha1, v1beta1)")]


def test_no_referenceable_version_is_rejected(xrd: dict[str, Any]) -> None:
    xrd["spec"]["versions"][0]["referenceable"] = False
    assert "found none" in _errors(check_xrd(xrd, Location()))[0][1]


def test_v1_xrd_gets_a_deprecation_warning_and_may_have_claims(xrd: dict[str, Any]) -> None:
    xrd["apiVersion"] = "apiextensions.crossplane.io/v1"
    xrd["spec"]["claimNames"] = {"kind": "GPUNodePoolClaim", "plural": "gpunodepoolclaims"}
    findings = check_xrd(xrd, Location())
    assert [(f.severity, f.field) for f in findings] == [(Severity.WARNING, "apiVersion")]
    assert "deprecated" in findings[0].message


@pytest.mark.parametrize(("top", "sub"), [("spec", "crossplane"), ("status", "crossplane"),
                                          ("status", "conditions")])
def test_crossplane_reserved_fields_are_rejected(xrd: dict[str, Any], top: str, sub: str) -> None:
    _schema(xrd)["properties"][top]["properties"][sub] = {"type": "object"}
    errors = _errors(check_xrd(xrd, Location()))
    assert errors == [(f"spec.versions[0].schema.openAPIV3Schema.properties.{top}.properties.{sub}",
                       f"schema is not valid: {top}.{sub} is reserved for Crossplane's own fields; remove it "
                       "from the schema")]


def test_untyped_schema_node_is_not_structural(xrd: dict[str, Any]) -> None:
    _schema(xrd)["properties"]["spec"]["properties"]["parameters"]["properties"]["region"] = {
        "description": "no type"}
    errors = _errors(check_xrd(xrd, Location()))
    assert len(errors) == 1
    assert errors[0][0] == ("spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.parameters"
                            ".properties.region")
    assert "has no 'type'" in errors[0][1]


def _problems(schema: dict[str, Any]) -> list[tuple[list[str | int], str]]:
    return structural_problems({"type": "object", "properties": {"spec": schema}})


def test_preserve_unknown_and_int_or_string_nodes_need_no_type() -> None:
    assert _problems({"x-kubernetes-preserve-unknown-fields": True}) == []
    assert _problems({"x-kubernetes-int-or-string": True,
                      "anyOf": [{"type": "integer"}, {"type": "string"}]}) == []


@pytest.mark.parametrize(("schema", "complaint"), [
    ({"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": {"type": "string"}},
     "mutually exclusive"),
    ({"type": "object", "additionalProperties": False}, "additionalProperties: false"),
    ({"type": "array"}, "needs 'items'"),
    ({"type": "array", "items": {"type": "string"}, "uniqueItems": True}, "uniqueItems"),
    ({"type": "object", "patternProperties": {"^a": {"type": "string"}}},
     "'patternProperties' is not supported"),
    ({"type": "list"}, "'type: list' is not one of"),
    ({"type": "object", "x-kubernetes-preserve-unknown-fields": False}, "must be true or absent"),
    ({"type": "string", "x-kubernetes-int-or-string": True}, "must not set 'type'"),
    ({"type": "object", "properties": {"a": {"type": "string"}},
      "anyOf": [{"properties": {"a": {"type": "string"}}}]}, "'type' must not be set inside"),
    ({"type": "object", "properties": {"a": {"type": "string"}},
      "oneOf": [{"properties": {"b": {}}}]}, "property 'b' inside a junctor must also be defined outside it"),
    ({"type": "object", "properties": {"a": {"type": "string"}},
      "allOf": [{"properties": {"a": {"default": "x"}}}]}, "'default' must not be set inside"),
    ({"type": "string", "not": {"description": "nope"}}, "'description' must not be set inside"),
])
def test_structural_rule_violations(schema: dict[str, Any], complaint: str) -> None:
    problems = _problems(schema)
    assert problems, "expected a structural problem"
    assert any(complaint in message for _, message in problems), problems


def test_junctors_restating_validations_of_defined_fields_are_fine() -> None:
    assert _problems({"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
                      "oneOf": [{"required": ["a"]}, {"required": ["b"]}],
                      "anyOf": [{"properties": {"a": {"minLength": 3}}}]}) == []


def test_schema_root_must_be_an_object() -> None:
    assert structural_problems({"type": "string"}) == [([], "the root of the schema must be 'type: object'")]


def test_root_metadata_may_only_restrict_name() -> None:
    ok: dict[str, Any] = {"type": "object", "properties": {"metadata": {"type": "object", "properties": {
        "name": {"type": "string", "maxLength": 40}}}}}
    assert structural_problems(ok) == []
    ok["properties"]["metadata"]["properties"]["labels"] = {"type": "object"}
    assert any("only restrict name and generateName" in m for _, m in structural_problems(ok))
