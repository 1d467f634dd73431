"""A new model or serving configuration rolls out create-before-destroy, reconcile after reconcile, through
the shipped ModelEndpoint Composition rendered in process (P&T, then function-aiplane). At every step the
endpoint serves a configuration that exists, and superseded revisions go only once SageMaker reports the
endpoint on the new one."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import yaml

from aiplane.crossplane.render import Rendering, render_composition, settle
from aiplane.function.modelendpoint import ENDPOINT
from aiplane.function.revisions import content_hash
from aiplane.project import load_settings

MANIFESTS = load_settings(Path(__file__).resolve().parents[2]).manifests
XR_FILE = MANIFESTS / "environments/prod/modelendpoint-chat-assistant.yaml"
COMPOSITION = MANIFESTS / "platform/apis/composition-modelendpoints-sagemaker.yaml"


def _xr() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(XR_FILE.read_text())
    return doc


def _comp() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(COMPOSITION.read_text())
    return doc


def _observe(rendering: Rendering, ready: set[str], serving: str | None = None,
             before: dict[str, dict[str, Any]] | None = None) -> dict[str, dict[str, Any]]:
    """The rendering as it exists in the cluster: `ready` names are Ready; the Endpoint reports `serving`."""
    out = dict(before or {})
    for r in rendering.resources:
        obj = copy.deepcopy(r.obj)
        conditions = [{"type": "Ready", "status": "True" if r.name in ready else "False"}]
        at_provider = {"endpointConfigName": serving} if r.name == ENDPOINT and serving else {}
        obj["status"] = {"conditions": conditions, "atProvider": at_provider}
        out[r.name] = obj
    return {k: v for k, v in out.items() if k in {r.name for r in rendering.resources} or k in (before or {})}


def _names(rendering: Rendering, prefix: str) -> list[str]:
    return sorted(r.name for r in rendering.resources if r.name.startswith(prefix))


def _served(rendering: Rendering) -> str | None:
    endpoint = next((r for r in rendering.resources if r.name == ENDPOINT), None)
    return None if endpoint is None else endpoint.obj["spec"]["forProvider"]["endpointConfigName"]


def _config_names(rendering: Rendering) -> dict[str, str]:
    return {r.obj["metadata"]["annotations"]["crossplane.io/external-name"]: r.name
            for r in rendering.resources if r.name.startswith("endpoint-config")}


def test_first_apply_creates_model_then_configuration_then_endpoint() -> None:
    xr, comp = _xr(), _comp()
    first = render_composition(xr, comp)
    [model] = _names(first, "model-")
    assert _names(first, "endpoint-config") == [] and _served(first) is None
    second = render_composition(xr, comp, observed=_observe(first, ready={model}))
    [config] = _names(second, "endpoint-config-")
    assert _served(second) is None, "no endpoint before its configuration exists"
    third = render_composition(xr, comp, observed=_observe(second, ready={model, config}))
    assert _config_names(third)[_served(third)] == config
    model_obj = next(r.obj for r in third.resources if r.name == model)
    config_obj = next(r.obj for r in third.resources if r.name == config)
    endpoint_name = next(r for r in third.resources if r.name == ENDPOINT).external_name
    # SageMaker names: `<endpoint>-<content hash>`, at most 63 characters.
    assert model_obj["metadata"]["annotations"]["crossplane.io/external-name"] == f"{endpoint_name}-{model[-4:]}"
    assert config_obj["spec"]["forProvider"]["productionVariants"][0]["modelName"] == f"{endpoint_name}-{model[-4:]}"
    assert config_obj["spec"]["forProvider"]["productionVariants"][0]["variantName"] == "primary"
    # Then only the scalable target follows, once the endpoint serves (test_modelendpoint_autoscaling.py).
    settled = [r for r in settle(xr, comp).resources if not r.name.startswith("autoscaling-")]
    assert settled == third.resources


def test_a_new_image_rolls_out_create_before_destroy_without_a_moment_without_configuration() -> None:
    xr, comp = _xr(), _comp()
    steady = settle(xr, comp)
    [old_model], [old_config] = _names(steady, "model-"), _names(steady, "endpoint-config-")
    old_name = _served(steady)
    everything = {r.name for r in steady.resources}
    observed = _observe(steady, ready=everything, serving=old_name)

    xr["spec"]["image"] = xr["spec"]["image"].rsplit(":", 1)[0] + ":2.0.0"
    steps = []
    step = render_composition(xr, comp, observed=observed)
    steps.append(step)
    [new_model] = [n for n in _names(step, "model-") if n != old_model]
    assert old_model in _names(step, "model-") and old_config in _names(step, "endpoint-config-")
    assert _served(step) == old_name, "the endpoint keeps its configuration while the new model is created"

    observed = _observe(step, ready=everything | {new_model}, serving=old_name, before=observed)
    step = render_composition(xr, comp, observed=observed)
    steps.append(step)
    [new_config] = [n for n in _names(step, "endpoint-config-") if n != old_config]
    assert _served(step) == old_name, "and while the new configuration is created"

    observed = _observe(step, ready=everything | {new_model, new_config}, serving=old_name, before=observed)
    step = render_composition(xr, comp, observed=observed)
    steps.append(step)
    new_name = _served(step)
    assert _config_names(step)[new_name] == new_config, "the update of the endpoint is the deployment"
    assert old_model in _names(step, "model-"), "the old revision stays until SageMaker has switched"

    observed = _observe(step, ready=everything | {new_model, new_config}, serving=new_name, before=observed)
    step = render_composition(xr, comp, observed=observed)
    steps.append(step)
    assert _names(step, "model-") == [new_model] and _names(step, "endpoint-config-") == [new_config]
    for s in steps:
        # Never a moment without a configuration: the endpoint always names one that is composed.
        assert _served(s) in _config_names(s)


def test_the_hash_covers_what_is_replaced_and_not_the_tags() -> None:
    base = {"spec": {"forProvider": {"primaryContainer": {"image": "a:1"}, "tags": {"owner": "x"}}}}
    retagged = copy.deepcopy(base)
    retagged["spec"]["forProvider"]["tags"]["owner"] = "y"
    assert content_hash(base) == content_hash(retagged)
    other = copy.deepcopy(base)
    other["spec"]["forProvider"]["primaryContainer"]["image"] = "a:2"
    assert content_hash(base) != content_hash(other)


def test_a_release_before_rollouts_hands_over_its_single_model_and_configuration() -> None:
    """Upgrading from the Composition that composed one `model` and one `endpoint-config`: they are kept while
    the endpoint still runs on them, and removed once it serves the content-addressed revision."""
    xr, comp = _xr(), _comp()
    steady = settle(xr, comp)
    legacy: dict[str, dict[str, Any]] = {}
    for r in steady.resources:
        name = {"model-": "model", "endpoint-config-": "endpoint-config"}.get(r.name[: -4], r.name)
        obj = copy.deepcopy(r.obj)
        obj["status"] = {"conditions": [{"type": "Ready", "status": "True"}],
                         "atProvider": {"endpointConfigName": "old-config"} if r.name == ENDPOINT else {}}
        if r.name == ENDPOINT:
            obj["spec"]["forProvider"]["endpointConfigName"] = "old-config"
        legacy[name] = obj
    step = render_composition(xr, comp, observed=legacy)
    assert {"model", "endpoint-config"} <= {r.name for r in step.resources}
    assert _served(step) == "old-config"


def test_the_hash_is_the_same_for_the_numbers_grpc_and_the_renderer_see() -> None:
    as_ints = {"spec": {"forProvider": {"productionVariants": [{"initialInstanceCount": 2, "weight": 1}]}}}
    as_floats = {"spec": {"forProvider": {"productionVariants": [{"initialInstanceCount": 2.0, "weight": 1.0}]}}}
    assert content_hash(as_ints) == content_hash(as_floats)


ROLLBACK_ALARMS = ("invocation-5xx", "model-latency", "fairness-rollback")


def _endpoint(rendering: Rendering) -> dict[str, Any]:
    return next(r.obj for r in rendering.resources if r.name == ENDPOINT)


def _rollback_alarm_names(endpoint: dict[str, Any]) -> list[str] | None:
    config = endpoint["spec"]["forProvider"]["deploymentConfig"].get("autoRollbackConfiguration")
    return None if config is None else [alarm["alarmName"] for alarm in config["alarms"]]


def test_every_action_watches_the_same_fixed_rollback_alarms_which_all_exist() -> None:
    """The alarm list is ForceNew: it must not depend on the spec, so a change of action is never refused;
    every alarm it names is composed (SageMaker cannot watch an alarm that does not exist)."""
    comp = _comp()
    lists = set()
    for action in ("alert", "rollback", "block-promotion"):
        xr = _xr()
        xr["spec"]["ethicsMonitor"]["action"] = action
        steady = settle(xr, comp)
        names = _rollback_alarm_names(_endpoint(steady))
        assert names is not None
        lists.add(tuple(names))
        alarm_names = {r.obj["metadata"]["annotations"]["crossplane.io/external-name"]
                       for r in steady.resources if r.obj["kind"] == "MetricAlarm"}
        assert set(names) <= alarm_names
    assert lists == {tuple(f"prod-chat-assistant-{suffix}" for suffix in ROLLBACK_ALARMS)}


def test_the_bake_window_fits_the_alarms_and_the_role_can_describe_them() -> None:
    xr, comp = _xr(), _comp()
    steady = settle(xr, comp)
    policy = _endpoint(steady)["spec"]["forProvider"]["deploymentConfig"]["blueGreenUpdatePolicy"]
    bake = policy["trafficRoutingConfiguration"]["waitIntervalInSeconds"]
    assert bake == xr["spec"]["rollout"]["bakeSeconds"]
    for r in steady.resources:
        if r.name.startswith("rollback-") and r.name != "rollback-fairness-rollback":
            alarm = r.obj["spec"]["forProvider"]
            assert alarm["period"] * alarm["evaluationPeriods"] * 2 <= bake
            assert alarm["dimensions"] == {"EndpointName": "prod-chat-assistant", "VariantName": "primary"}
    latency = next(r.obj for r in steady.resources if r.name == "rollback-model-latency")["spec"]["forProvider"]
    assert latency["threshold"] == xr["spec"]["rollout"]["maxModelLatencyMs"] * 1000  # microseconds
    role = next(r.obj for r in steady.resources if r.name == "execution-role")["spec"]["forProvider"]
    grant = next(p for p in role["inlinePolicy"] if p["name"] == "describe-rollback-alarms")
    statement = json.loads(grant["policy"])["Statement"][0]
    assert statement["Action"] == ["cloudwatch:DescribeAlarms"]
    assert statement["Resource"] == ["arn:aws:cloudwatch:us-east-1:*:alarm:prod-chat-assistant-*"]


def test_an_endpoint_created_with_other_rollback_alarms_keeps_them_and_says_so() -> None:
    """An Endpoint created before the fixed alarm list (none under action alert) keeps what it has: the
    provider would refuse the change; the XR reports it until the endpoint is recreated."""
    xr, comp = _xr(), _comp()
    steady = settle(xr, comp)
    observed = _observe(steady, {r.name for r in steady.resources}, serving=_served(steady))
    live = observed[ENDPOINT]["spec"]["forProvider"]["deploymentConfig"]
    del live["autoRollbackConfiguration"]
    again = render_composition(xr, comp, observed=observed)
    assert _rollback_alarm_names(_endpoint(again)) is None
    assert again.status["rollout"]["rollbackAlarms"] == "kept"
    assert any("ForceNew" in w for w in again.warnings)
    live["autoRollbackConfiguration"] = {"alarms": [{"alarmName": "prod-chat-assistant-fairness"}]}
    again = render_composition(xr, comp, observed=observed)
    assert _rollback_alarm_names(_endpoint(again)) == ["prod-chat-assistant-fairness"]
