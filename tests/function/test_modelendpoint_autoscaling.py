"""Application Auto Scaling of a ModelEndpoint, reconcile by reconcile, through the shipped Composition rendered
in process (P&T, then function-aiplane): the scalable target is registered only once the endpoint serves,
scheduled actions follow `autoscaling.schedule`, and an instance type change deregisters the target before the
Endpoint moves to the new configuration and registers it again after — the order SageMaker demands (it refuses
to change the instance type of a registered variant)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from aiplane.crossplane.render import Rendering, render_composition, settle
from aiplane.function.modelendpoint import AUTOSCALING_POLICY, AUTOSCALING_TARGET, ENDPOINT
from aiplane.project import load_settings

MANIFESTS = load_settings(Path(__file__).resolve().parents[2]).manifests
XR_FILE = MANIFESTS / "environments/prod/modelendpoint-chat-assistant.yaml"
COMPOSITION = MANIFESTS / "platform/apis/composition-modelendpoints-sagemaker.yaml"
SCHEDULE = [
    {"schedule": "cron(45 7 ? * MON-FRI *)", "minInstances": 4, "maxInstances": 5},
    {"schedule": "cron(0 19 ? * MON-FRI *)", "minInstances": 1},
]


def _xr(**autoscaling: Any) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(XR_FILE.read_text())
    doc["spec"]["autoscaling"].update({"schedule": [], **autoscaling})
    return doc


def _comp() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(COMPOSITION.read_text())
    return doc


def _by_name(rendering: Rendering) -> dict[str, dict[str, Any]]:
    return {r.name: r.obj for r in rendering.resources}


def _observe(rendering: Rendering, before: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The next observed state: what existed is Ready with its new spec applied; what is new exists, not Ready
    yet; what the rendering left out is gone (Crossplane deleted it). The Endpoint reports the configuration
    it was pointed at once it existed before (the update finished)."""
    out = {}
    for name, obj in _by_name(rendering).items():
        obj = copy.deepcopy(obj)
        spec = obj.get("spec") or {}
        obj["status"] = {"conditions": [{"type": "Ready", "status": "True" if name in before else "False"}],
                         "atProvider": {**(spec.get("initProvider") or {}), **(spec.get("forProvider") or {})}}
        out[name] = obj
    return out


def _served_type(rendering: Rendering, observed: dict[str, dict[str, Any]]) -> str:
    """The instance type of the configuration the rendered Endpoint points at."""
    name = _by_name(rendering)[ENDPOINT]["spec"]["forProvider"]["endpointConfigName"]
    config = next(o for n, o in {**observed, **_by_name(rendering)}.items() if n.startswith("endpoint-config")
                  and o["metadata"]["annotations"]["crossplane.io/external-name"] == name)
    instance_type: str = config["spec"]["forProvider"]["productionVariants"][0]["instanceType"]
    return instance_type


def test_the_target_is_registered_only_once_the_endpoint_serves() -> None:
    xr, comp = _xr(), _comp()
    observed: dict[str, dict[str, Any]] = {}
    registered_before_ready = []
    for _ in range(8):
        rendering = render_composition(xr, comp, observed=observed or None)
        endpoint_ready = ENDPOINT in observed and observed[ENDPOINT]["status"]["conditions"][0]["status"] == "True"
        if AUTOSCALING_TARGET in _by_name(rendering) and not endpoint_ready:
            registered_before_ready.append(sorted(observed))
        following = _observe(rendering, observed)
        if following == observed:
            break
        observed = following
    assert registered_before_ready == []
    target = _by_name(rendering)[AUTOSCALING_TARGET]["spec"]["forProvider"]
    assert target["resourceId"] == "endpoint/prod-chat-assistant/variant/primary"
    assert (target["serviceNamespace"], target["scalableDimension"]) == (
        "sagemaker", "sagemaker:variant:DesiredInstanceCount")
    assert (target["minCapacity"], target["maxCapacity"]) == (1, 6)
    tracking = _by_name(rendering)[AUTOSCALING_POLICY]["spec"]["forProvider"]
    assert tracking["targetTrackingScalingPolicyConfiguration"]["targetValue"] == 100
    assert tracking["targetTrackingScalingPolicyConfiguration"]["predefinedMetricSpecification"] == {
        "predefinedMetricType": "SageMakerVariantInvocationsPerInstance"}


def test_one_scheduled_action_per_entry_and_the_schedule_owns_the_bounds() -> None:
    final = _by_name(settle(_xr(schedule=SCHEDULE), _comp()))
    actions = {n: o for n, o in final.items() if o["kind"] == "ScheduledAction"}
    assert sorted(actions) == ["autoscaling-schedule-0", "autoscaling-schedule-1"]
    first = actions["autoscaling-schedule-0"]["spec"]["forProvider"]
    assert first["name"] == "prod-chat-assistant-schedule-0"
    assert first["schedule"] == "cron(45 7 ? * MON-FRI *)"
    assert first["scalableTargetAction"] == {"minCapacity": "4", "maxCapacity": "5"}
    assert first["resourceIdSelector"]["matchControllerRef"] is True
    assert actions["autoscaling-schedule-1"]["spec"]["forProvider"]["scalableTargetAction"] == {"minCapacity": "1"}
    # Scheduled actions move the bounds: the target sets them only at registration, so reconciling keeps them.
    target = final[AUTOSCALING_TARGET]["spec"]
    assert "minCapacity" not in target["forProvider"] and target["initProvider"]["minCapacity"] == 1
    assert actions["autoscaling-schedule-0"]["spec"]["providerConfigRef"] == final[AUTOSCALING_TARGET]["spec"][
        "providerConfigRef"]


def test_no_autoscaling_composes_no_target() -> None:
    xr = _xr()
    del xr["spec"]["autoscaling"]
    final = _by_name(settle(xr, _comp()))
    assert not [n for n in final if n.startswith("autoscaling")]


def test_an_instance_type_change_deregisters_first_and_registers_again_after() -> None:
    comp = _comp()
    old = settle(_xr(schedule=SCHEDULE), comp)
    observed = _observe(old, _by_name(old))
    assert AUTOSCALING_TARGET in observed
    new_xr = _xr(schedule=SCHEDULE)
    new_xr["spec"]["instanceType"] = "ml.g5.xlarge"
    steps = []
    for _ in range(12):
        rendering = render_composition(new_xr, comp, observed=observed)
        desired = _by_name(rendering)
        steps.append((AUTOSCALING_TARGET in observed, AUTOSCALING_TARGET in desired,
                      _served_type(rendering, observed)))
        following = _observe(rendering, observed)
        if following == observed:
            break
        observed = following
    else:
        raise AssertionError("the rollout does not finish")
    moved = next(i for i, s in enumerate(steps) if s[2] == "ml.g5.xlarge")
    # The Endpoint moves to the new type only once the target is gone (deregistered) ...
    assert steps[moved][0] is False, steps
    # ... which the function asked for by leaving it out while the Endpoint stayed on the old type ...
    assert any(observed_before and not desired and served == "ml.g5.2xlarge"
               for observed_before, desired, served in steps[:moved]), steps
    # ... and registers again after the move, with its policy and scheduled actions.
    assert steps[-1][:2] == (True, True)
    assert {n for n in _by_name(rendering) if n.startswith("autoscaling")} == {
        AUTOSCALING_TARGET, AUTOSCALING_POLICY, "autoscaling-schedule-0", "autoscaling-schedule-1"}


def test_a_model_change_keeps_the_target_registered() -> None:
    comp = _comp()
    old = settle(_xr(), comp)
    observed = _observe(old, _by_name(old))
    new_xr = _xr()
    new_xr["spec"]["image"] = "777788889999.dkr.ecr.us-east-1.amazonaws.com/chat-assistant:2.3.0"
    for _ in range(12):
        rendering = render_composition(new_xr, comp, observed=observed)
        assert AUTOSCALING_TARGET in _by_name(rendering), "SageMaker allows a model change on a registered variant"
        following = _observe(rendering, observed)
        if following == observed:
            break
        observed = following
