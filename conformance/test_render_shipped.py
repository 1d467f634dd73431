"""Every shipped XR, through its Composition (P&T, then function-aiplane served from src/aiplane/function, then
auto-ready), rendered by the real Crossplane engine: first apply (nothing observed) and the next reconcile
(everything observed, Ready, with provider status). aiplane's own renderer, given the same observed state,
must compose the same resources."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from compare import desired_state, differences
from observed import observed_from
from realengine import Engine, Rendered
from shipped import Case, cases, crd_schemas, to_composite_targets

from aiplane.crossplane.render import render as aiplane_render
from aiplane.crossplane.render import render_composition
from aiplane.validation.fieldpath import get_path, parse_field_path

CASES = cases()


def _condition(obj: dict[str, Any], kind: str) -> dict[str, Any]:
    return next((c for c in (obj.get("status") or {}).get("conditions") or [] if c["type"] == kind), {})


def first_and_second(engine: Engine, case: Case, cache: dict[str, tuple[Rendered, Rendered]]) -> tuple[Rendered, Rendered]:
    if case.id not in cache:
        first = engine.render(case.xr(), case.composition_object(), case.xrd())
        second = engine.render(
            case.xr(), case.composition_object(), case.xrd(), observed=observed_from(first.composed, crd_schemas())
        )
        cache[case.id] = (first, second)
    return cache[case.id]


@pytest.fixture(scope="session")
def renders() -> dict[str, tuple[Rendered, Rendered]]:
    return {}


def _by_name(composed: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {c["metadata"]["annotations"]["crossplane.io/composition-resource-name"]: c for c in composed}


def test_every_environment_xr_is_covered() -> None:
    from shipped import compositions

    assert {c.xr_file.parent.name for c in CASES} == {"dev", "staging", "prod"}
    # One Composition per API, and every one of them serves a shipped XR.
    assert {c.composition for c in CASES} == {c["metadata"]["name"] for c in compositions()}
    assert len(CASES) == len({c.xr_file for c in CASES})


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_first_apply_composes_every_resource_and_waits_for_readiness(
    engine: Engine, case: Case, renders: dict[str, tuple[Rendered, Rendered]]
) -> None:
    first, _ = first_and_second(engine, case, renders)
    assert case.xr()["spec"]["crossplane"]["compositionRef"]["name"] == case.composition
    # P&T composes every resource (a missing Required input would skip one); function-aiplane keeps those the
    # spec asks for, which aiplane's renderer names the same way (compared in full below).
    ours = render_composition(first.xr, case.composition_object())
    # Only what the spec leaves out on purpose: Application Auto Scaling without `spec.autoscaling`.
    optional = [s for s in ours.skipped if s.name.startswith("autoscaling-") and "autoscaling" not in first.xr["spec"]]
    assert [s for s in ours.skipped if s not in optional] == [], ours.skipped
    assert set(first.by_resource_name()) == {r.name for r in ours.resources}
    assert _condition(first.xr, "Synced").get("status") == "True", first.xr["status"]
    assert _condition(first.xr, "Ready").get("status") == "False"
    # Crossplane v2: a namespaced XR composes into its own namespace (Compositions set none), and the engine
    # names each composed resource whose Composition sets no metadata.name after the XR (`<xr>-<hash>`).
    assert {c["metadata"].get("namespace") for c in first.composed} == {first.xr["metadata"]["namespace"]}
    named = {r.name for r in aiplane_render(first.xr, case.composition_object()) if "name" in r.obj.get("metadata", {})}
    for name, obj in first.by_resource_name().items():
        if name not in named:
            assert obj["metadata"]["generateName"] == first.xr["metadata"]["name"] + "-", name


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_next_reconcile_is_ready_keeps_desired_state_and_reports_status(
    engine: Engine, case: Case, renders: dict[str, tuple[Rendered, Rendered]]
) -> None:
    first, second = first_and_second(engine, case, renders)
    before, after = first.by_resource_name(), second.by_resource_name()
    observed = _by_name(observed_from(first.composed, crd_schemas()))
    ours = render_composition(first.xr, case.composition_object(), observed=observed)
    # What the next reconcile composes follows from what was observed (an AcceleratorQuota whose observed
    # value is below the request adds the request now); aiplane's renderer must say the same.
    assert set(after) == {r.name for r in ours.resources}
    if set(after) == set(before):
        # Ready once every managed resource is (function-auto-ready); core objects count through their
        # P&T readiness checks, since a ConfigMap or CronJob never reports a Ready condition.
        assert _condition(second.xr, "Ready").get("status") == "True", _condition(second.xr, "Ready")
    for name, obj in after.items():
        if name not in before:
            continue
        # The same objects, by name, with the same desired state: nothing is replaced or rewritten.
        assert obj["metadata"]["name"] == before[name]["metadata"]["name"]
        assert differences(desired_state(obj), desired_state(before[name])) == [], name
    for name, targets in to_composite_targets(case.composition_object()).items():
        if name not in after:
            continue  # skipped by P&T (a Required input this XR does not set for this Composition)
        for target in targets:
            value = get_path(second.xr, parse_field_path(target))
            assert value not in (None, ""), f"{name}: status patch to {target} produced nothing"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_aiplane_renderer_agrees_with_the_real_engine(
    engine: Engine, case: Case, renders: dict[str, tuple[Rendered, Rendered]]
) -> None:
    first, _ = first_and_second(engine, case, renders)
    # The XR as the engine saw it (XRD defaults applied), so defaulting is not what is compared here.
    ours = {r.name: r.obj for r in aiplane_render(first.xr, case.composition_object())}
    real = first.by_resource_name()
    assert set(ours) == set(real)
    found = [f"{name}: {d}" for name in sorted(real) for d in differences(desired_state(ours[name]), desired_state(real[name]))]
    assert found == [], "\n".join(found)


def test_core_objects_without_readiness_checks_would_keep_the_xr_unready(engine: Engine) -> None:
    """Why ModelEndpoint's ConfigMap, ServiceAccount and CronJob carry `readinessChecks: [{type: None}]`:
    without them P&T waits for a Ready condition those objects never report, and the XR never gets Ready."""
    case = next(c for c in CASES if "modelendpoint" in c.id)
    comp = copy.deepcopy(case.composition_object())
    stripped = 0
    for step in comp["spec"]["pipeline"]:
        for res in (step.get("input") or {}).get("resources") or []:
            if res.get("readinessChecks") == [{"type": "None"}]:
                del res["readinessChecks"]
                stripped += 1
    assert stripped >= 3
    first = engine.render(case.xr(), comp, case.xrd())
    second = engine.render(case.xr(), comp, case.xrd(), observed=observed_from(first.composed, crd_schemas()))
    ready = _condition(second.xr, "Ready")
    assert ready.get("status") == "False" and "monitor" in ready.get("message", ""), ready


def test_an_endpoint_applied_by_hand_without_data_capture_composes_every_resource(engine: Engine) -> None:
    """The XRD's `dataCapture: {default: {}}` lets the API server (here: the CLI's XRD defaulting) fill the
    nested defaults, so the execution role's Required `spec.dataCapture.prefix` is there."""
    case = next(c for c in CASES if "modelendpoint" in c.id)
    xr = case.xr()
    del xr["spec"]["dataCapture"]
    first = engine.render(xr, case.composition_object(), case.xrd())
    assert first.xr["spec"]["dataCapture"] == {"samplingPercent": 100, "prefix": "captures"}
    ours = render_composition(first.xr, case.composition_object())
    assert ours.skipped == []
    assert set(first.by_resource_name()) == {r.name for r in ours.resources}
