"""aiplane's renderer against the real engine on generated XRs: specs drawn from each XRD's own schema
(numbers of every size, unicode, empty lists, optional fields absent), rendered by both through every
Composition of that API. Where ours cannot render what P&T renders, it must refuse (RenderError), never
produce something different. CI replays a fixed set of examples (hypothesis profile `ci`); locally they vary.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import pytest
from compare import desired_state, differences
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from realengine import Engine, EngineError
from shipped import compositions, xrds

from aiplane.crossplane.render import RenderError
from aiplane.crossplane.render import render as aiplane_render
from aiplane.validation.defaults import apply_plan, build_plan

EXAMPLES = int(os.environ.get("AIPLANE_CONFORMANCE_EXAMPLES", "25"))
settings.register_profile("ci", derandomize=True, print_blob=True, deadline=None)
if os.environ.get("CI"):
    settings.load_profile("ci")


def from_openapi(schema: Mapping[str, Any]) -> st.SearchStrategy[Any]:
    """Values valid against a Kubernetes structural schema (the subset XRDs use: object, array, string,
    integer, number, boolean; enum, bounds, lengths, patterns, required). `x-kubernetes-validations` (CEL)
    are the API server's business, not rendering's, and are not honoured."""
    if "enum" in schema:
        return st.sampled_from(list(schema["enum"]))
    typ = schema.get("type")
    if schema.get("x-kubernetes-int-or-string"):
        return st.one_of(st.integers(min_value=-1000, max_value=1000), st.text(min_size=1, max_size=12))
    if typ == "object":
        props = schema.get("properties") or {}
        if not props:
            values = from_openapi(schema["additionalProperties"]) if isinstance(schema.get("additionalProperties"), Mapping) else st.text(max_size=8)
            return st.dictionaries(st.text(min_size=1, max_size=12), values, max_size=3)
        required = set(schema.get("required") or [])
        return st.fixed_dictionaries(
            {k: from_openapi(v) for k, v in props.items() if k in required},
            optional={k: from_openapi(v) for k, v in props.items() if k not in required},
        )
    if typ == "array":
        return st.lists(
            from_openapi(schema.get("items") or {"type": "string"}),
            min_size=int(schema.get("minItems", 0)),
            max_size=min(int(schema.get("maxItems", 4)), 4),
        )
    if typ == "string":
        if "pattern" in schema:
            text = st.from_regex(schema["pattern"], fullmatch=True)
        else:
            text = st.text(min_size=int(schema.get("minLength", 0)), max_size=min(int(schema.get("maxLength", 40)), 40))
        lo, hi = int(schema.get("minLength", 0)), int(schema.get("maxLength", 10**9))
        return text.filter(lambda v: lo <= len(v) <= hi)
    if typ in ("integer", "number"):
        lo, hi = schema.get("minimum"), schema.get("maximum")
        if typ == "integer":
            ints = st.integers(min_value=lo, max_value=hi)
            return ints.filter(lambda v: not (schema.get("exclusiveMinimum") and v == lo))
        return st.floats(
            min_value=lo, max_value=hi, exclude_min=bool(schema.get("exclusiveMinimum")),
            exclude_max=bool(schema.get("exclusiveMaximum")), allow_nan=False, allow_infinity=False,
        )
    if typ == "boolean":
        return st.booleans()
    raise AssertionError(f"schema type {typ!r} is not generated: extend from_openapi")


API_TYPES = sorted(xrds())


def defaulted(xr: dict[str, Any], xrd: Mapping[str, Any], api_version: str) -> dict[str, Any]:
    version = next(v for v in xrd["spec"]["versions"] if f"{xrd['spec']['group']}/{v['name']}" == api_version)
    plan = build_plan(version["schema"]["openAPIV3Schema"])
    return apply_plan(plan, xr) if plan is not None else xr


def xr_strategy(api_version: str, kind: str) -> st.SearchStrategy[dict[str, Any]]:
    schema = xrds()[(api_version, kind)]
    version = next(v for v in schema["spec"]["versions"] if f"{schema['spec']['group']}/{v['name']}" == api_version)
    spec_schema = version["schema"]["openAPIV3Schema"]["properties"]["spec"]
    labels = st.dictionaries(
        st.sampled_from(["aiplane.io/environment", "aiplane.io/cost-center", "team"]),
        st.from_regex(r"[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?", fullmatch=True),
        max_size=3,
    )
    return st.builds(
        lambda spec, lab: {
            "apiVersion": api_version,
            "kind": kind,
            "metadata": {"name": "generated", "namespace": "ai-test", "labels": lab},
            "spec": spec,
        },
        from_openapi(spec_schema),
        labels,
    )


@pytest.mark.parametrize(("api_version", "kind"), API_TYPES, ids=[k for _, k in API_TYPES])
def test_both_renderers_agree_on_generated_xrs(engine: Engine, api_version: str, kind: str) -> None:
    comps = [c for c in compositions() if c["spec"]["compositeTypeRef"] == {"apiVersion": api_version, "kind": kind}]
    xrd = xrds()[(api_version, kind)]

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
    @given(xr=xr_strategy(api_version, kind), comp_index=st.integers(0, len(comps) - 1))
    def agree(xr: dict[str, Any], comp_index: int) -> None:
        comp = comps[comp_index]
        try:
            real = engine.render(xr, comp, xrd)
        except EngineError as err:
            # The real engine refuses this XR (e.g. a transform fails on a generated value): ours must refuse
            # too, given the XR as the engine saw it (the XRD's defaults applied, here by aiplane's defaulting).
            with pytest.raises(RenderError):
                aiplane_render(defaulted(xr, xrd, api_version), comp)
            assert str(err)
            return
        try:
            ours = {r.name: r.obj for r in aiplane_render(real.xr, comp)}
        except RenderError as err:
            pytest.fail(f"aiplane.render refused what the real engine rendered: {err}")
        theirs = real.by_resource_name()
        assert set(ours) == set(theirs), "different composed resources"
        found = [f"{n}: {d}" for n in sorted(theirs) for d in differences(desired_state(ours[n]), desired_state(theirs[n]))]
        assert found == [], "\n".join(found)

    agree()
