"""Which XRD the forcenew-safe rule reads immutability from: the XRD among the objects under check when
validation registered it (what the API server will enforce, and no pydantic schema to build), else the XRD
the API's model makes. For the shipped APIs both give the same paths; an XRD that lost an immutability rule
makes the patches that read the field unsafe again."""

from __future__ import annotations

import copy
from typing import Any

from aiplane.policy import default_context
from aiplane.policy.rules import forcenew_safe
from aiplane.project import Settings
from aiplane.synthesis.pipeline import Synthesis


def _objects(synthesis: Synthesis, kind: str, name: str) -> dict[str, Any]:
    return next(o for o in synthesis.objects() if o["kind"] == kind and o["metadata"]["name"] == name)


def _findings(settings: Settings, synthesis: Synthesis, xrd: dict[str, Any] | None) -> list[str]:
    ctx = default_context(settings)
    if xrd is not None:
        ctx.registry.add_xrd(xrd, "manifests/platform/apis")
    composition = _objects(synthesis, "Composition", "acceleratorquotas-servicequotas")
    return [f.message for f in forcenew_safe.check(composition, ctx)]


def _xrd(settings: Settings, synthesis: Synthesis) -> dict[str, Any]:
    return copy.deepcopy(_objects(synthesis, "CompositeResourceDefinition", f"acceleratorquotas.{settings.group}"))


def test_the_model_and_the_registered_xrd_give_the_same_immutable_paths(settings: Settings, synthesis: Synthesis) -> None:
    ctx = default_context(settings)
    from_models = {kind: forcenew_safe._immutable_spec_paths(api, ctx) for kind, api in ctx.apis.items()}
    for xrd in (o for o in synthesis.objects() if o["kind"] == "CompositeResourceDefinition"):
        ctx.registry.add_xrd(xrd, "manifests/platform/apis")
    from_xrds = {kind: forcenew_safe._immutable_spec_paths(api, ctx) for kind, api in ctx.apis.items()}
    assert from_xrds == from_models
    assert "spec.service" in from_models["AcceleratorQuota"]


def test_the_shipped_composition_is_safe_under_its_own_xrd_and_its_model(settings: Settings, synthesis: Synthesis) -> None:
    assert _findings(settings, synthesis, None) == []
    assert _findings(settings, synthesis, _xrd(settings, synthesis)) == []


def test_a_registered_xrd_without_an_immutability_rule_makes_the_patch_unsafe(
    settings: Settings, synthesis: Synthesis
) -> None:
    xrd = _xrd(settings, synthesis)
    spec = xrd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    del spec["properties"]["service"]["x-kubernetes-validations"]
    found = _findings(settings, synthesis, xrd)
    assert found and all("serviceCode is ForceNew" in message and "spec.service" in message for message in found)
