"""The pydantic models are the XRD schemas: an XR that one accepts, the other accepts too."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pydantic import ValidationError

from aiplane.synthesis.pipeline import Synthesis
from aiplane.validation import Location, SchemaRegistry, Severity, validate_object


@pytest.fixture(scope="module")
def registry(synthesis: Synthesis) -> SchemaRegistry:
    reg = SchemaRegistry.default()
    for obj in synthesis.objects():
        if obj["kind"] == "CompositeResourceDefinition":
            reg.add_xrd(obj)
    return reg


def xrs(synthesis: Synthesis) -> list[dict[str, Any]]:
    return [o for o in synthesis.objects() if o["kind"] in synthesis.project.apis]


def errors(obj: dict[str, Any], registry: SchemaRegistry) -> list[str]:
    return [
        f"{f.field}: {f.message}"
        for f in validate_object(obj, registry, Location())
        if f.severity is Severity.ERROR
    ]


def test_every_xrd_is_namespaced_v2_with_one_referenceable_version(synthesis: Synthesis) -> None:
    xrds = [o for o in synthesis.objects() if o["kind"] == "CompositeResourceDefinition"]
    assert sorted(x["spec"]["names"]["kind"] for x in xrds) == sorted(synthesis.project.apis)
    for xrd in xrds:
        assert xrd["apiVersion"] == "apiextensions.crossplane.io/v2"
        assert xrd["spec"]["scope"] == "Namespaced"
        assert xrd["metadata"]["name"] == f"{xrd['spec']['names']['plural']}.{xrd['spec']['group']}"
        assert [v["referenceable"] for v in xrd["spec"]["versions"]] == [True]
        assert "claimNames" not in xrd["spec"] and "connectionSecretKeys" not in xrd["spec"]


def test_descriptions_enums_and_defaults_come_from_the_model(synthesis: Synthesis) -> None:
    xrd = next(o for o in synthesis.objects() if o["metadata"]["name"].startswith("gpunodepools."))
    spec = xrd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    capacity = spec["properties"]["capacity"]
    assert capacity["enum"] == ["onDemand", "spot", "mixed"] and capacity["default"] == "onDemand"
    assert "spot" in capacity["description"]
    assert "p5.48xlarge" in spec["properties"]["instanceTypes"]["items"]["enum"]
    assert "AL2_x86_64_GPU" not in spec["properties"]["amiType"]["enum"]
    assert {"region", "finops", "clusterName", "instanceTypes", "scaling"} <= set(spec["required"])


def test_every_shipped_xr_round_trips_through_model_and_xrd(
    synthesis: Synthesis, registry: SchemaRegistry
) -> None:
    checked = 0
    for xr in xrs(synthesis):
        api = synthesis.project.apis[xr["kind"]]
        spec = {k: v for k, v in xr["spec"].items() if k != "crossplane"}
        parsed = api.spec.model_validate(spec)
        assert parsed.model_dump(mode="json", by_alias=True, exclude_none=True) == spec
        assert errors(xr, registry) == [], xr["metadata"]["name"]
        checked += 1
    assert checked >= 15


@pytest.mark.parametrize(
    ("kind", "path", "bad"),
    [
        ("GPUNodePool", ("capacity",), "reserved"),
        ("GPUNodePool", ("instanceTypes",), ["t3.micro"]),
        ("GPUNodePool", ("scaling", "maxSize"), "six"),
        ("ModelEndpoint", ("dataCapture", "samplingPercent"), 0),
        ("ModelBucket", ("purpose",), "logs"),
        ("AcceleratorQuota", ("vcpus",), 0),
    ],
)
def test_model_and_xrd_reject_the_same_bad_value(
    synthesis: Synthesis, registry: SchemaRegistry, kind: str, path: tuple[str, ...], bad: Any
) -> None:
    xr = copy.deepcopy(next(o for o in xrs(synthesis) if o["kind"] == kind))
    target = xr["spec"]
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = bad
    with pytest.raises(ValidationError):
        synthesis.project.apis[kind].spec.model_validate(
            {k: v for k, v in xr["spec"].items() if k != "crossplane"}
        )
    assert errors(xr, registry), f"the XRD accepted {path}={bad!r}"


def test_xrd_cel_rule_catches_min_above_max_like_the_model(
    synthesis: Synthesis, registry: SchemaRegistry
) -> None:
    xr = copy.deepcopy(next(o for o in xrs(synthesis) if o["kind"] == "GPUNodePool"))
    xr["spec"]["scaling"].update({"minSize": 9, "maxSize": 3})
    xr["spec"]["scaling"].pop("desiredSize", None)
    assert any("minSize must not exceed maxSize" in e for e in errors(xr, registry))
