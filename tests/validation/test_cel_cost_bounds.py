"""An object the schema admits is not estimated at runtime when its kind's rules are `within_runtime_limits`
(celrules): that rests on the static estimate of each rule bounding its runtime estimate on any admitted value.
Checked here rule by rule on every synthesized object, and end to end: the findings are the same with and
without the runtime estimates."""

from __future__ import annotations

from typing import Any

import pytest

from aiplane.synthesis.pipeline import Synthesis
from aiplane.validation import SchemaRegistry, checker, validate_documents
from aiplane.validation.celcost import CostParseError, runtime_estimate, static_estimate
from aiplane.validation.celrules import _compile
from aiplane.validation.defaults import apply_plan
from aiplane.validation.registry import is_crd, is_xrd


def _pairs(node: Any, value: Any) -> list[tuple[str, Any, Any]]:
    """(rule, schema node, value) for every data-dependent rule of `node` and below that `value` reaches."""
    if not isinstance(node, dict) or value is None:
        return []
    out = []
    for v in node.get("x-kubernetes-validations") or ():
        if isinstance(v, dict) and isinstance(v.get("rule"), str) and _compile(v["rule"]).data_dependent:
            out.append((v["rule"], node, value))
    if isinstance(value, dict):
        for name, sub in (node.get("properties") or {}).items():
            if name in value:
                out += _pairs(sub, value[name])
        if isinstance(node.get("additionalProperties"), dict):
            out += [p for sub in value.values() for p in _pairs(node["additionalProperties"], sub)]
    if isinstance(value, list) and isinstance(node.get("items"), dict):
        out += [p for sub in value for p in _pairs(node["items"], sub)]
    return out


def _registry(objects: list[dict[str, Any]]) -> SchemaRegistry:
    reg = SchemaRegistry.default()
    for obj in objects:
        if is_xrd(obj):
            reg.add_xrd(obj)
        elif is_crd(obj):
            reg.add_crd(obj)
    return reg


def test_the_static_estimate_bounds_the_runtime_one_on_every_synthesized_object(synthesis: Synthesis) -> None:
    objects = synthesis.objects()
    reg = _registry(objects)
    checked = 0
    for obj in objects:
        ks = reg.lookup(obj["apiVersion"], obj["kind"])
        if ks is None:
            continue
        compiled = checker.compile_kind(ks)
        defaulted = apply_plan(compiled.defaults, obj) if compiled.defaults is not None else obj
        if not compiled.validator.is_valid(defaulted):
            continue
        for rule, node, value in _pairs(ks.schema, defaulted):
            try:
                assert runtime_estimate(rule, value) <= static_estimate(rule, node), (obj["kind"], rule)
            except CostParseError:
                continue
            checked += 1
    assert checked > 100


def test_the_findings_are_the_same_with_and_without_runtime_estimates(
    synthesis: Synthesis, monkeypatch: pytest.MonkeyPatch
) -> None:
    objects = synthesis.objects()
    shortcut = validate_documents(objects, SchemaRegistry.default(), strict=True).findings
    original = checker.check_rules
    monkeypatch.setattr(
        checker, "check_rules", lambda plan, value, path, out, **_: original(plan, value, path, out, estimate=True)
    )
    estimated = validate_documents(objects, SchemaRegistry.default(), strict=True).findings
    assert [str(f) for f in shortcut] == [str(f) for f in estimated]


def test_the_shipped_platform_kinds_are_within_the_runtime_limits(synthesis: Synthesis) -> None:
    """Otherwise the shortcut never applies to the objects people write most."""
    objects = synthesis.objects()
    reg = _registry(objects)
    for kind in ("GPUNodePool", "ModelEndpoint", "ModelBucket", "AcceleratorQuota"):
        xr = next(o for o in objects if o["kind"] == kind)
        ks = reg.lookup(xr["apiVersion"], kind)
        assert ks is not None
        rules = checker.compile_kind(ks).rules
        assert rules is not None and rules.within_runtime_limits, kind
