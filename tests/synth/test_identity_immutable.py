"""Identity fields are immutable in the XRDs: a field whose change would replace a resource holding data or
quota (the provider refuses ForceNew updates) carries the CEL transition rule `self == oldSelf`, which the API
server checks on every update, for XRs synthesized by aiplane and applied by hand alike."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cel
import pytest
import yaml

from aiplane.project import load_settings

APIS = load_settings(Path(__file__).resolve().parents[2]).manifests / "platform" / "apis"
IMMUTABLE = {
    "acceleratorquotas": ["region", "service", "class", "purchase", "instanceType"],
    "gpunodepools": ["region", "clusterName"],
    "modelbuckets": ["region", "bucketName"],
    "modelendpoints": ["region"],
}


def _spec_schema(plural: str) -> dict[str, Any]:
    xrd = yaml.safe_load((APIS / f"compositeresourcedefinition-{plural}.ai.aiplane.io.yaml").read_text())
    schema: dict[str, Any] = xrd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    return schema


@pytest.mark.parametrize(("plural", "fields"), sorted(IMMUTABLE.items()))
def test_identity_fields_carry_the_transition_rule(plural: str, fields: list[str]) -> None:
    properties = _spec_schema(plural)["properties"]
    for name in fields:
        rules = properties[name].get("x-kubernetes-validations") or []
        assert [r["rule"] for r in rules] == ["self == oldSelf"], (plural, name)
        assert rules[0]["message"].startswith("immutable: ")


def test_fields_that_change_in_place_or_roll_out_stay_mutable() -> None:
    for plural, fields in (("gpunodepools", ["instanceTypes", "scaling", "capacity"]),
                           ("modelendpoints", ["image", "modelDataUrl", "instanceType", "instanceCount"]),
                           ("acceleratorquotas", ["vcpus", "instances"])):
        properties = _spec_schema(plural)["properties"]
        for f in fields:
            rules = [r["rule"] for r in properties[f].get("x-kubernetes-validations") or []]
            assert "self == oldSelf" not in rules, (plural, f)


def test_the_rule_refuses_a_change_and_allows_the_same_value() -> None:
    """Evaluated with the CEL library as the API server evaluates a transition rule on update."""
    program = cel.compile("self == oldSelf")
    assert program.execute(cel.Context(variables={"self": "us-east-1", "oldSelf": "us-east-1"})) is True
    assert program.execute(cel.Context(variables={"self": "eu-west-1", "oldSelf": "us-east-1"})) is False
