"""function-aiplane behind the real Crossplane core: the XR's spec alone decides what is composed, and an
AcceleratorQuota files its request only when the observed quota is short, once. The function is served from
src/aiplane/function by the SDK (.tools/function-aiplane), between the real P&T and auto-ready; aiplane's
renderer, given the same observed state, must agree."""

from __future__ import annotations

import copy
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from compare import desired_state, differences
from realengine import ROOT, Engine, Rendered, Tools
from shipped import Case, cases

from aiplane.crossplane.render import render_composition
from aiplane.function.acceleratorquota import FILE_ONCE, OBSERVE_ONLY, QUOTA, request_name
from aiplane.function.model import FUNCTION_NAME

CASES = cases()


def _case(kind: str) -> Case:
    return next(c for c in CASES if c.xr()["kind"] == kind)


def _agree(rendered: Rendered, case: Case, observed: list[dict[str, Any]] = ()) -> None:  # type: ignore[assignment]
    by_name = {o["metadata"]["annotations"]["crossplane.io/composition-resource-name"]: o for o in observed}
    ours = render_composition(rendered.xr, case.composition_object(), observed=by_name)
    real = rendered.by_resource_name()
    assert {r.name for r in ours.resources} == set(real)
    for r in ours.resources:
        assert differences(desired_state(r.obj), desired_state(real[r.name])) == [], r.name
    for key, value in ours.status.items():
        assert rendered.xr["status"].get(key) == value, (key, rendered.xr["status"])
    real_conditions = {c["type"]: c for c in rendered.xr["status"].get("conditions") or []}
    for condition in ours.conditions:
        real = real_conditions.get(condition["type"])
        assert real is not None, (condition, sorted(real_conditions))
        assert {k: real.get(k) for k in ("status", "reason", "message")} == {
            k: condition.get(k) for k in ("status", "reason", "message")}, (condition, real)


@pytest.mark.parametrize(("capacity", "types"), [("onDemand", ["ON_DEMAND"]), ("spot", ["SPOT"]), ("mixed", ["ON_DEMAND", "SPOT"])])
def test_a_hand_applied_pool_gets_the_capacity_its_spec_names(engine: Engine, capacity: str, types: list[str]) -> None:
    case = _case("GPUNodePool")
    xr = case.xr()
    # Applied by hand: no compositionRef chosen by aiplane's synth, only the spec.
    xr["spec"].pop("crossplane", None)
    xr["spec"]["capacity"] = capacity
    xr["spec"].pop("onDemandBaseSize", None)
    if capacity == "mixed":
        xr["spec"]["onDemandBaseSize"] = 1
    rendered = engine.render(xr, case.composition_object(), case.xrd())
    groups = [c for c in rendered.composed if c["kind"] == "NodeGroup"]
    assert sorted(g["spec"]["forProvider"]["capacityType"] for g in groups) == types
    if capacity == "mixed":
        base = next(g for g in groups if g["spec"]["forProvider"]["capacityType"] == "ON_DEMAND")
        assert base["spec"]["forProvider"]["scalingConfig"] == {"minSize": 1, "maxSize": 1}
    _agree(rendered, case)


@pytest.mark.parametrize("mode", ["managed", "external"])
def test_the_kms_mode_decides_whose_key_encrypts_the_bucket(engine: Engine, mode: str) -> None:
    case = _case("ModelBucket")
    xr = case.xr()
    xr["spec"].pop("crossplane", None)
    arn = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    xr["spec"]["kmsKey"] = {"mode": mode, **({"keyArn": arn} if mode == "external" else {})}
    rendered = engine.render(xr, case.composition_object(), case.xrd())
    kinds = [c["kind"] for c in rendered.composed]
    assert ("Key" in kinds) is (mode == "managed")
    encryption = next(c for c in rendered.composed if c["kind"] == "BucketServerSideEncryptionConfiguration")
    by_default = encryption["spec"]["forProvider"]["rule"][0]["applyServerSideEncryptionByDefault"]
    assert (by_default.get("kmsMasterKeyId") == arn) is (mode == "external")
    _agree(rendered, case)


@pytest.mark.parametrize("action", ["alert", "rollback"])
def test_every_action_deploys_with_the_same_rollback_alarms(engine: Engine, action: str) -> None:
    """The Endpoint's rollback alarm list is ForceNew: the same fixed names whatever the action."""
    case = _case("ModelEndpoint")
    xr = case.xr()
    xr["spec"].pop("crossplane", None)
    xr["spec"]["ethicsMonitor"]["action"] = action
    rendered = engine.render(xr, case.composition_object(), case.xrd())
    for _ in range(2):  # the Endpoint comes once its Model and configuration are Ready
        observed = _ready(rendered)
        rendered = engine.render(xr, case.composition_object(), case.xrd(), observed=observed)
    endpoint = next(c for c in rendered.composed if c["kind"] == "Endpoint")
    alarms = endpoint["spec"]["forProvider"]["deploymentConfig"]["autoRollbackConfiguration"]["alarms"]
    name = endpoint["metadata"]["annotations"]["crossplane.io/external-name"]
    assert [a["alarmName"] for a in alarms] == [
        f"{name}-invocation-5xx", f"{name}-model-latency", f"{name}-fairness-rollback"]
    _agree(rendered, case, observed)


def _with_status(obj: dict[str, Any], at_provider: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(obj)
    out["status"] = {
        "atProvider": at_provider,
        "conditions": [
            {"type": "Ready", "status": "True", "reason": "Available", "lastTransitionTime": "2024-01-01T00:00:00Z"},
            {"type": "Synced", "status": "True", "reason": "ReconcileSuccess", "lastTransitionTime": "2024-01-01T00:00:00Z"},
        ],
    }
    return out


def test_a_quota_is_observed_requested_once_and_never_refiled_after_a_denial(engine: Engine) -> None:
    case = next(c for c in CASES if c.xr()["kind"] == "AcceleratorQuota" and c.xr()["spec"].get("service") == "ec2")
    xr, comp, xrd = case.xr(), case.composition_object(), case.xrd()
    wanted = xr["spec"]["vcpus"]
    name = request_name(wanted)

    first = engine.render(xr, comp, xrd)
    assert set(first.by_resource_name()) == {QUOTA}, "nothing is requested before the quota is observed"
    assert first.by_resource_name()[QUOTA]["spec"]["managementPolicies"] == OBSERVE_ONLY
    assert first.xr["status"]["state"] == "Observing"
    quota = first.by_resource_name()[QUOTA]
    # The Terraform ID, which upjet derives from forProvider (FormattedIdentifierFromProvider).
    assert quota["metadata"]["annotations"]["crossplane.io/external-name"] == f"ec2/{quota['spec']['forProvider']['quotaCode']}"
    _agree(first, case)

    enough = [_with_status(quota, {"value": wanted * 2})]
    sufficient = engine.render(xr, comp, xrd, observed=enough)
    assert set(sufficient.by_resource_name()) == {QUOTA}
    assert sufficient.xr["status"]["state"] == "Sufficient"
    _agree(sufficient, case, enough)

    short = [_with_status(quota, {"value": 8})]
    filing = engine.render(xr, comp, xrd, observed=short)
    assert set(filing.by_resource_name()) == {QUOTA, name}
    request = filing.by_resource_name()[name]
    assert request["spec"]["managementPolicies"] == FILE_ONCE
    assert request["spec"]["forProvider"]["value"] == wanted
    assert filing.xr["status"]["state"] == "Requesting"
    _agree(filing, case, short)

    for request_status, state in (("PENDING", "Pending"), ("DENIED", "Denied"), ("DENIED", "Denied")):
        observed = [*short, _with_status(request, {"value": 8, "requestStatus": request_status})]
        later = engine.render(xr, comp, xrd, observed=observed)
        assert later.by_resource_name()[name]["spec"]["managementPolicies"] == OBSERVE_ONLY
        assert later.xr["status"]["state"] == state
        assert later.xr["status"]["requestStatus"] == request_status
        _agree(later, case, observed)


def test_a_sagemaker_endpoint_quota_is_observed_and_requested_in_instances(engine: Engine) -> None:
    case = next(c for c in CASES if c.xr()["kind"] == "AcceleratorQuota" and c.xr()["spec"].get("service") == "sagemaker")
    xr, comp, xrd = case.xr(), case.composition_object(), case.xrd()
    first = engine.render(xr, comp, xrd)
    quota = first.by_resource_name()[QUOTA]
    assert quota["spec"]["forProvider"]["serviceCode"] == "sagemaker"
    assert quota["metadata"]["annotations"]["crossplane.io/external-name"] == f"sagemaker/{quota['spec']['forProvider']['quotaCode']}"
    short = [_with_status(quota, {"value": 0})]
    filing = engine.render(xr, comp, xrd, observed=short)
    request = filing.by_resource_name()[request_name(xr["spec"]["instances"])]
    assert request["spec"]["forProvider"]["value"] == xr["spec"]["instances"]
    assert filing.xr["status"]["state"] == "Requesting"
    _agree(filing, case, short)


def _ready(rendered: Rendered, serving: str | None = None) -> list[dict[str, Any]]:
    out = []
    for name, obj in rendered.by_resource_name().items():
        at_provider = {"endpointConfigName": serving} if name == "endpoint" and serving else {}
        out.append(_with_status(obj, at_provider))
    return out


def test_a_new_model_rolls_out_create_before_destroy_behind_the_real_core(engine: Engine) -> None:
    """The reconcile sequence of a model change, each step rendered by the real engine with the previous
    step's resources observed: first apply (model, then configuration, then endpoint), then a new image
    (new model, new configuration, endpoint switched, old revisions kept until SageMaker has switched)."""
    case = _case("ModelEndpoint")
    xr, comp, xrd = case.xr(), case.composition_object(), case.xrd()

    def step(observed: list[dict[str, Any]]) -> Rendered:
        rendered = engine.render(xr, comp, xrd, observed=observed)
        _agree(rendered, case, observed)
        return rendered

    def served(rendered: Rendered) -> str | None:
        endpoint = rendered.by_resource_name().get("endpoint")
        return None if endpoint is None else endpoint["spec"]["forProvider"]["endpointConfigName"]

    first = step([])
    assert served(first) is None and not any(n.startswith("endpoint-config") for n in first.by_resource_name())
    second = step(_ready(first))
    third = step(_ready(second))
    old = served(third)
    assert old is not None
    steady = step(_ready(third, serving=old))
    assert set(steady.by_resource_name()) == set(third.by_resource_name())

    xr["spec"]["image"] = xr["spec"]["image"].rsplit(":", 1)[0] + ":2.0.0"
    observed = _ready(steady, serving=old)
    for _ in range(3):
        rendered = step(observed)
        names = rendered.by_resource_name()
        configs = {o["metadata"]["annotations"]["crossplane.io/external-name"] for n, o in names.items() if n.startswith("endpoint-config")}
        assert served(rendered) in configs, "the endpoint always names a configuration that exists"
        observed = _ready(rendered, serving=old)
    new = served(rendered)
    assert new != old
    final = step(_ready(rendered, serving=new))
    assert len([n for n in final.by_resource_name() if n.startswith("model-")]) == 1
    assert len([n for n in final.by_resource_name() if n.startswith("endpoint-config-")]) == 1


def test_new_instance_types_replace_a_node_group_create_before_destroy_behind_the_real_core(engine: Engine) -> None:
    case = next(c for c in CASES if c.xr()["kind"] == "GPUNodePool" and c.xr()["spec"]["capacity"] == "spot")
    xr, comp, xrd = case.xr(), case.composition_object(), case.xrd()

    def spot(rendered: Rendered) -> list[str]:
        return sorted(n for n in rendered.by_resource_name() if n.startswith("nodegroup-spot"))

    first = engine.render(xr, comp, xrd)
    observed = _ready(first)
    steady = engine.render(xr, comp, xrd, observed=observed)
    _agree(steady, case, observed)
    [old] = spot(steady)
    xr["spec"]["instanceTypes"] = ["p5.48xlarge"]
    observed = _ready(steady)
    rolling = engine.render(xr, comp, xrd, observed=observed)
    _agree(rolling, case, observed)
    [new] = [n for n in spot(rolling) if n != old]
    assert spot(rolling) == sorted([old, new])
    assert rolling.by_resource_name()[old]["spec"]["forProvider"]["instanceTypes"] != ["p5.48xlarge"]
    observed = _ready(rolling)
    done = engine.render(xr, comp, xrd, observed=observed)
    _agree(done, case, observed)
    assert spot(done) == [new]


def test_a_capacity_change_keeps_the_old_node_groups_until_the_new_ones_are_ready(engine: Engine) -> None:
    """spot → onDemand: the spot node group keeps its nodes until the on-demand one is Ready."""
    case = next(c for c in CASES if c.xr()["kind"] == "GPUNodePool" and c.xr()["spec"]["capacity"] == "spot")
    xr, comp, xrd = case.xr(), case.composition_object(), case.xrd()

    def groups(rendered: Rendered) -> list[str]:
        return sorted(n for n in rendered.by_resource_name() if n.startswith("nodegroup-"))

    observed = _ready(engine.render(xr, comp, xrd))
    steady = engine.render(xr, comp, xrd, observed=observed)
    [spot] = groups(steady)
    xr["spec"]["capacity"] = "onDemand"
    observed = _ready(steady)
    rolling = engine.render(xr, comp, xrd, observed=observed)
    _agree(rolling, case, observed)
    [on_demand] = [n for n in groups(rolling) if n != spot]
    assert on_demand.startswith("nodegroup-on-demand") and groups(rolling) == sorted([spot, on_demand])
    observed = _ready(rolling)
    done = engine.render(xr, comp, xrd, observed=observed)
    _agree(done, case, observed)
    assert groups(done) == [on_demand]


def test_the_monitor_reports_whether_it_has_evaluated_and_its_alarms_fit_its_schedule(engine: Engine) -> None:
    """MonitorReported, a custom XR condition, follows the CronJob's last successful run; the fairness alarms'
    period is the schedule's longest gap (one datapoint per run), 2 of 3."""
    case = _case("ModelEndpoint")
    xr, comp, xrd = case.xr(), case.composition_object(), case.xrd()
    xr["spec"]["ethicsMonitor"]["schedule"] = "*/30 * * * *"
    first = engine.render(xr, comp, xrd)
    _agree(first, case)
    condition = {c["type"]: c for c in first.xr["status"]["conditions"]}["MonitorReported"]
    assert (condition["status"], condition["reason"]) == ("False", "NotYetEvaluated")
    critical = first.by_resource_name()["fairness-critical"]["spec"]["forProvider"]
    assert (critical["period"], critical["evaluationPeriods"], critical["datapointsToAlarm"]) == (1800, 3, 2)
    observed = _ready(first)
    for obj in observed:
        if obj["kind"] == "CronJob":
            obj["status"]["lastSuccessfulTime"] = "2026-12-02T03:30:12Z"
    again = engine.render(xr, comp, xrd, observed=observed)
    _agree(again, case, observed)
    condition = {c["type"]: c for c in again.xr["status"]["conditions"]}["MonitorReported"]
    assert (condition["status"], condition["reason"]) == ("True", "Evaluated")


def test_the_function_package_metadata_builds_with_the_real_cli(tmp_path: Path) -> None:
    """function/package/crossplane.yaml is what `make function-package` wraps the runtime image in; the real
    CLI's `xpkg build` parses and lints it (without Docker no runtime image is embedded here)."""
    out = tmp_path / "function-aiplane.xpkg"
    done = subprocess.run(
        [*Tools.load().argv("crossplane"), "xpkg", "build", "-f", str(ROOT / "function/package"), "-o", str(out)],
        capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert out.stat().st_size > 0
    meta = yaml.safe_load((ROOT / "function/package/crossplane.yaml").read_text())
    assert meta["kind"] == "Function" and meta["metadata"]["name"] == FUNCTION_NAME
