"""Day 2, field by field: every user-facing spec field of every API changes on a shipped XR, and

- the plan has no `refused` change (an identity field is refused by design instead: immutable in the XRD);
- reconcile after reconcile (new resources first not Ready, then Ready), the workload always has capacity:
  a Ready node group of the pool, an Endpoint on an EndpointConfiguration that exists and is Ready;
- the sequence ends where `settle` ends (the rollout completes, superseded revisions are gone).

A field of an API that this table does not change fails the coverage test, so a new field comes with its
day-2 behaviour."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from aiplane.authoring.xrd import openapi_schema
from aiplane.crossplane.plan import plan
from aiplane.crossplane.render import Rendering, render_composition, select_composition, settle
from aiplane.function.modelendpoint import ENDPOINT
from aiplane.function.revisions import ready
from aiplane.project import load_settings
from aiplane.synthesis.discovery import discover

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = load_settings(ROOT)
MANIFESTS = SETTINGS.manifests
PROJECT = discover(SETTINGS)

# The shipped XR each API's fields are changed on.
SHIPPED = {
    "GPUNodePool": "prod/gpunodepool-fine-tuning.yaml",
    "ModelBucket": "prod/modelbucket-captures.yaml",
    "ModelEndpoint": "prod/modelendpoint-chat-assistant.yaml",
    "AcceleratorQuota": "prod/acceleratorquota-g-spot-us-east-1.yaml",
}
SAGEMAKER_QUOTA = "prod/acceleratorquota-endpoint-ml-g5-2xlarge-us-east-1.yaml"
FINOPS = {
    "finops.costCenter": {"finops.costCenter": "research"},
    "finops.owner": {"finops.owner": "ml-research"},
    "finops.tier": {"finops.tier": "batch"},
    "finops.spotEligible": {"finops.spotEligible": True},
    "finops.maxCostPerHour": {"finops.maxCostPerHour": 99},
    "providerConfigRef.name": {"providerConfigRef.name": "aiplane-shared"},
    "providerConfigRef.kind": {"providerConfigRef.kind": "ClusterProviderConfig"},
}
# Per API: field → the change (spec paths and their new values) that exercises it, on its shipped XR.
CHANGES: dict[str, dict[str, dict[str, Any]]] = {
    "GPUNodePool": {
        **FINOPS,
        "region": {"region": "us-west-2"},
        "clusterName": {"clusterName": "ai-prod-blue"},
        "instanceTypes": {"instanceTypes": ["p5.48xlarge"]},
        "capacity": {"capacity": "onDemand"},
        "onDemandBaseSize": {"capacity": "mixed", "onDemandBaseSize": 1},
        "scaling.maxSize": {"scaling.maxSize": 3},
        "scaling.minSize": {"scaling.minSize": 1},
        "scaling.desiredSize": {"scaling.desiredSize": 1},
        "amiType": {"amiType": "BOTTLEROCKET_x86_64_NVIDIA"},
        "labels": {"labels": {"nvidia.com/gpu.present": "true", "team": "research"}},
        "taints": {"taints": [{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_EXECUTE"}]},
        "diskSizeGiB": {"diskSizeGiB": 800},
        "kubernetesVersion": {"kubernetesVersion": "1.33"},
        "releaseVersion": {"releaseVersion": "1.33.4-20250904"},
        "subnetIds": {"subnetSelector": None, "subnetIds": ["subnet-0a1b2c3d4e5f60718"]},
        "subnetSelector": {"subnetSelector": {"networking.aiplane.io/tier": "gpu"}},
    },
    "ModelBucket": {
        **FINOPS,
        "region": {"region": "us-west-2"},
        "bucketName": {"bucketName": "prod-captures-777788889999-b"},
        "purpose": {"purpose": "artifacts"},
        "kmsKey.mode": {"kmsKey.mode": "external",
                        "kmsKey.keyArn": "arn:aws:kms:us-east-1:777788889999:key/1234abcd-12ab-34cd-56ef-1234567890ab"},
        "kmsKey.keyArn": {"kmsKey.mode": "external",
                          "kmsKey.keyArn": "arn:aws:kms:us-east-1:777788889999:key/1234abcd-12ab-34cd-56ef-1234567890ab"},
        "versioning": {"versioning": False},
        "lifecycle.expireAfterDays": {"lifecycle.expireAfterDays": 400},
        "lifecycle.noncurrentExpireAfterDays": {"lifecycle.noncurrentExpireAfterDays": 60},
    },
    "ModelEndpoint": {
        **FINOPS,
        "region": {"region": "us-west-2"},
        "image": {"image": "777788889999.dkr.ecr.us-east-1.amazonaws.com/chat-assistant:2.3.0"},
        "modelDataUrl": {"modelDataUrl": "s3://prod-artifacts-777788889999/models/chat-assistant/2.3.0/model.tar.gz"},
        "instanceType": {"instanceType": "ml.g5.xlarge"},
        "instanceCount": {"instanceCount": 3},
        "bucketRef.name": {"bucketRef.name": "captures-b", "bucketRef.bucketName": "prod-captures-b-777788889999"},
        "bucketRef.bucketName": {"bucketRef.bucketName": "prod-captures-b-777788889999"},
        "dataCapture.samplingPercent": {"dataCapture.samplingPercent": 50},
        "dataCapture.prefix": {"dataCapture.prefix": "chat-assistant-v2"},
        "ethicsMonitor.enabled": {"ethicsMonitor.enabled": False},
        "ethicsMonitor.sensitiveAttributes": {"ethicsMonitor.sensitiveAttributes": [
            {"name": "language", "jsonPath": "metadata.language"}]},
        "ethicsMonitor.prediction.csvColumn": {"ethicsMonitor.prediction.jsonPath": None,
                                               "ethicsMonitor.prediction.csvColumn": 0},
        "ethicsMonitor.prediction.jsonPath": {"ethicsMonitor.prediction.jsonPath": "moderation.flagged"},
        "ethicsMonitor.prediction.source": {"ethicsMonitor.prediction.source": "input"},
        "ethicsMonitor.prediction.scoreThreshold": {"ethicsMonitor.prediction.jsonPath": "score",
                                                    "ethicsMonitor.prediction.scoreThreshold": 0.7},
        "ethicsMonitor.prediction.positiveLabel": {"ethicsMonitor.prediction.positiveLabel": "yes"},
        "ethicsMonitor.groundTruth.prefix": {"ethicsMonitor.groundTruth.prefix": "ground-truth/chat"},
        "ethicsMonitor.groundTruth.jsonPath": {"ethicsMonitor.groundTruth.prefix": "ground-truth/chat",
                                               "ethicsMonitor.groundTruth.jsonPath": "label"},
        "ethicsMonitor.groundTruth.labelDelayMinutes": {"ethicsMonitor.groundTruth.prefix": "ground-truth/chat",
                                                        "ethicsMonitor.groundTruth.labelDelayMinutes": 720},
        "ethicsMonitor.thresholds.critical.demographicParityDifference": {
            "ethicsMonitor.thresholds.critical.demographicParityDifference": 0.045},
        "ethicsMonitor.thresholds.critical.demographicParityRatio": {
            "ethicsMonitor.thresholds.critical.demographicParityRatio": 0.82},
        "ethicsMonitor.thresholds.critical.equalizedOddsDifference": {
            "ethicsMonitor.thresholds.critical.equalizedOddsDifference": 0.09},
        "ethicsMonitor.thresholds.warning.demographicParityDifference": {
            "ethicsMonitor.thresholds.warning.demographicParityDifference": 0.03},
        "ethicsMonitor.thresholds.warning.demographicParityRatio": {
            "ethicsMonitor.thresholds.warning.demographicParityRatio": 0.9},
        "ethicsMonitor.thresholds.warning.equalizedOddsDifference": {
            "ethicsMonitor.thresholds.warning.equalizedOddsDifference": 0.05},
        "ethicsMonitor.minGroupSize": {"ethicsMonitor.minGroupSize": 50},
        "ethicsMonitor.confidence": {"ethicsMonitor.confidence": 0.9},
        "ethicsMonitor.bootstrapSamples": {"ethicsMonitor.bootstrapSamples": 2000},
        "ethicsMonitor.windowMinutes": {"ethicsMonitor.windowMinutes": 120},
        "ethicsMonitor.warningTarget": {"ethicsMonitor.warningTarget": "arn:aws:sns:us-east-1:777788889999:ml-fyi"},
        "clusterName": {"clusterName": "ai-prod-blue"},
        "ethicsMonitor.schedule": {"ethicsMonitor.schedule": "*/30 * * * *"},
        "ethicsMonitor.action": {"ethicsMonitor.action": "rollback", "ethicsMonitor.schedule": "*/5 * * * *"},
        "ethicsMonitor.alertTarget": {"ethicsMonitor.alertTarget": "arn:aws:sns:us-east-1:777788889999:ml-oncall"},
        "rollout.bakeSeconds": {"rollout.bakeSeconds": 1200},
        "rollout.maxModelLatencyMs": {"rollout.maxModelLatencyMs": 400},
        "rollout.maxErrorsPerMinute": {"rollout.maxErrorsPerMinute": 5},
        "autoscaling.minInstances": {"autoscaling.minInstances": 2, "autoscaling.schedule": None},
        "autoscaling.maxInstances": {"autoscaling.maxInstances": 5},
        "autoscaling.targetInvocationsPerInstance": {"autoscaling.targetInvocationsPerInstance": 150},
        "autoscaling.schedule": {"autoscaling.schedule": [
            {"schedule": "cron(45 7 ? * MON-FRI *)", "minInstances": 3, "maxInstances": 5},
            {"schedule": "cron(0 18 ? * MON-FRI *)", "minInstances": 1}]},
    },
    "AcceleratorQuota": {
        **FINOPS,
        "region": {"region": "us-west-2"},
        "service": {"service": "sagemaker", "class": None, "purchase": None, "vcpus": None,
                    "instanceType": "ml.g5.2xlarge", "instances": 2},
        "class": {"class": "p"},
        "purchase": {"purchase": "onDemand"},
        "vcpus": {"vcpus": 384},
        "instanceType": {"instanceType": "ml.g5.xlarge"},
        "instances": {"instances": 4},
    },
}
# Fields the XRD makes immutable: `plan` reports their change as refused by design (immutableChanged).
IMMUTABLE = {
    "GPUNodePool": {"region", "clusterName"},
    "ModelBucket": {"region", "bucketName"},
    "ModelEndpoint": {"region", "clusterName"},
    "AcceleratorQuota": {"region", "service", "class", "purchase", "instanceType"},
}
# Fields of the sagemaker quota form, changed on the shipped SageMaker quota instead.
ON_SAGEMAKER_QUOTA = {"instanceType", "instances"}


def _leaves(schema: Mapping[str, Any], prefix: str = "") -> list[str]:
    props = schema.get("properties")
    if schema.get("type") == "object" and props:
        return [leaf for key, sub in props.items() for leaf in _leaves(sub, f"{prefix}.{key}" if prefix else key)]
    return [prefix]


def _load(relative: str) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((MANIFESTS / "environments" / relative).read_text())
    return doc


def _platform() -> list[dict[str, Any]]:
    return [yaml.safe_load(p.read_text()) for p in sorted((MANIFESTS / "platform/apis").glob("*.yaml"))]


PLATFORM = _platform()
COMPOSITIONS = [o for o in PLATFORM if o["kind"] == "Composition"]


def _changed(xr: Mapping[str, Any], change: Mapping[str, Any]) -> dict[str, Any]:
    new = copy.deepcopy(dict(xr))
    for path, value in change.items():
        *parents, leaf = path.split(".")
        node = new["spec"]
        for key in parents:
            node = node.setdefault(key, {})
        if value is None:
            node.pop(leaf, None)
        else:
            node[leaf] = value
    return new


def _validate(kind: str, xr: Mapping[str, Any]) -> None:
    """The changed spec is one the API accepts (the test exercises real changes, not invalid ones)."""
    spec = {k: v for k, v in xr["spec"].items() if k != "crossplane"}
    PROJECT.apis[kind].spec.model_validate(spec)


def _cases() -> list[tuple[str, str]]:
    return [(kind, field) for kind, fields in CHANGES.items() for field in fields]


def test_the_table_changes_every_user_facing_field_of_every_api() -> None:
    for kind, api in PROJECT.apis.items():
        assert set(_leaves(openapi_schema(api.spec))) == set(CHANGES[kind]), kind


def _serving(kind: str, rendering: Rendering, observed: Mapping[str, Mapping[str, Any]]) -> bool:
    """The workload has what it runs on at this step: a Ready node group (a pool), or an Endpoint on a
    configuration that exists and is Ready (an endpoint)."""
    desired = {r.name: r.obj for r in rendering.resources}
    if kind == "GPUNodePool":
        return any(name.startswith("nodegroup-") and ready(observed.get(name)) for name in desired)
    if kind == "ModelEndpoint":
        endpoint = desired.get(ENDPOINT)
        if endpoint is None:
            return False
        config = endpoint["spec"]["forProvider"]["endpointConfigName"]
        by_name = {o["metadata"]["annotations"]["crossplane.io/external-name"]: n
                   for n, o in desired.items() if n.startswith("endpoint-config")}
        return config in by_name and ready(observed.get(by_name[config]))
    return True


def _observe(rendering: Rendering, before: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """The next observed state: what existed stays Ready with its new desired spec (the provider applied
    the update); what is new exists but is not Ready yet; what the rendering left out is gone. The Endpoint
    reports the configuration it was pointed at once it was Ready before (a finished deployment)."""
    out: dict[str, dict[str, Any]] = {}
    for r in rendering.resources:
        obj = copy.deepcopy(r.obj)
        existed = r.name in before
        spec = obj.get("spec") or {}
        at_provider = {**(spec.get("initProvider") or {}), **(spec.get("forProvider") or {})}
        obj["status"] = {
            "conditions": [{"type": "Ready", "status": "True" if existed else "False"}],
            "atProvider": at_provider,
        }
        out[r.name] = obj
    return out


@pytest.mark.parametrize(("kind", "field"), _cases(), ids=[f"{k}.{f}" for k, f in _cases()])
def test_changing_the_field_is_never_refused_and_never_leaves_the_workload_without_capacity(
    kind: str, field: str
) -> None:
    shipped = SAGEMAKER_QUOTA if kind == "AcceleratorQuota" and field in ON_SAGEMAKER_QUOTA else SHIPPED[kind]
    old_xr = _load(shipped)
    new_xr = _changed(old_xr, CHANGES[kind][field])
    _validate(kind, new_xr)
    xr_kinds = {(f"{SETTINGS.group}/{api.version}", k) for k, api in PROJECT.apis.items()}
    [xr_plan] = plan([old_xr, *PLATFORM], [new_xr, *PLATFORM], xr_kinds, SETTINGS.domain) or [None]
    if field in IMMUTABLE[kind]:
        assert xr_plan is not None and xr_plan.immutable_changed, "an identity field must be immutable"
        return
    assert xr_plan is None or not xr_plan.immutable_changed
    refused = [c for c in (xr_plan.changes if xr_plan else []) if c.action == "refused"]
    assert refused == [], [(c.resource, c.forcenew) for c in refused]

    composition = select_composition(new_xr, COMPOSITIONS)
    old_steady = settle(old_xr, select_composition(old_xr, COMPOSITIONS))
    observed = _observe(old_steady, {r.name: r.obj for r in old_steady.resources})
    final = settle(new_xr, composition, live={r.name: r.obj for r in old_steady.resources})
    for _ in range(12):
        rendering = render_composition(new_xr, composition, observed=observed)
        assert _serving(kind, rendering, observed), f"{kind} {field}: no capacity at this step"
        following = _observe(rendering, observed)
        if following == observed:
            break
        observed = following
    else:
        raise AssertionError(f"{kind} {field}: the rollout does not finish")
    assert sorted(r.name for r in rendering.resources) == sorted(r.name for r in final.resources)
