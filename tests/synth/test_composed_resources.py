"""What the Compositions compose: FinOps tags everywhere, the right node groups, the ethics monitor."""

from __future__ import annotations

from typing import Any

from aiplane.authoring.composing import FINOPS_TAG_KEYS
from aiplane.crossplane.composed import composed_resources, composite_kind
from aiplane.crossplane.render import render, select_composition, settle
from aiplane.synthesis.pipeline import Synthesis
from aiplane.validation import SchemaRegistry, validate_documents


def compositions(synthesis: Synthesis) -> list[dict[str, Any]]:
    return [o for o in synthesis.objects() if o["kind"] == "Composition"]


def taggable(registry: SchemaRegistry, api_version: str, kind: str) -> bool:
    found = registry.lookup(api_version, kind)
    assert found is not None, f"no CRD for {api_version} {kind}"
    return "tags" in found.schema["properties"]["spec"]["properties"]["forProvider"]["properties"]


def test_finops_tags_reach_every_taggable_managed_resource(synthesis: Synthesis) -> None:
    registry = SchemaRegistry.default()
    seen = 0
    for comp in compositions(synthesis):
        for res in composed_resources(comp):
            if not res.api_version.endswith(".aws.m.upbound.io/v1beta1") or not taggable(
                registry, res.api_version, res.kind
            ):
                continue
            seen += 1
            base_tags = res.base_value("spec.forProvider.tags") or {}
            for key in FINOPS_TAG_KEYS:
                assert key in base_tags or res.writes(f"spec.forProvider.tags[{key}]"), (
                    f"{comp['metadata']['name']}/{res.name} never gets tag {key}"
                )
            assert base_tags.get("managed-by") == "aiplane"
    assert seen >= 10


def test_every_composed_object_gets_finops_labels_and_provider_config(synthesis: Synthesis) -> None:
    for comp in compositions(synthesis):
        for res in composed_resources(comp):
            assert res.writes("metadata.labels[aiplane.io/cost-center]"), res.name
            if ".upbound.io/" in res.api_version:
                assert res.writes("spec.providerConfigRef"), res.name
                assert "deletionPolicy" not in res.base["spec"]
            assert "namespace" not in res.base.get("metadata", {}), (
                "namespaced XRs compose into their namespace"
            )


def test_pipelines_run_patch_and_transform_then_auto_ready_last(synthesis: Synthesis) -> None:
    for comp in compositions(synthesis):
        steps = comp["spec"]["pipeline"]
        assert comp["spec"]["mode"] == "Pipeline"
        assert [s["functionRef"]["name"] for s in steps] == [
            "crossplane-contrib-function-patch-and-transform",
            "function-aiplane",
            "crossplane-contrib-function-auto-ready",
        ]


def test_a_mixed_pool_composes_an_on_demand_base_and_a_spot_node_group(synthesis: Synthesis) -> None:
    pool = next(
        o for o in synthesis.objects() if o["kind"] == "GPUNodePool" and o["spec"]["capacity"] == "mixed"
    )
    assert pool["spec"]["crossplane"] == {"compositionRef": {"name": "gpunodepools-eks"}}
    chosen = next(c for c in compositions(synthesis) if c["metadata"]["name"] == "gpunodepools-eks")
    groups = [r.obj for r in render(pool, chosen) if r.obj["kind"] == "NodeGroup"]
    assert sorted(g["spec"]["forProvider"]["capacityType"] for g in groups) == ["ON_DEMAND", "SPOT"]
    on_demand = next(g for g in groups if g["spec"]["forProvider"]["capacityType"] == "ON_DEMAND")
    base = pool["spec"]["onDemandBaseSize"]
    assert on_demand["spec"]["forProvider"]["scalingConfig"] == {"minSize": base, "maxSize": base}
    assert on_demand["spec"]["initProvider"]["scalingConfig"] == {"desiredSize": base}
    for group in groups:
        assert "desiredSize" not in group["spec"]["forProvider"]["scalingConfig"], "autoscalers own desiredSize"


def test_every_shipped_xr_renders_to_objects_that_validate_strictly(synthesis: Synthesis) -> None:
    """Each XR through the Composition it names, rendered offline: what Crossplane would create."""
    registry = SchemaRegistry.default()
    comps = compositions(synthesis)
    rendered: list[dict[str, Any]] = []
    for xr in (o for o in synthesis.objects() if o["kind"] in synthesis.project.apis):
        rendered += [r.obj for r in settle(xr, select_composition(xr, comps)).resources]
    report = validate_documents(rendered, registry, strict=True)
    assert [f"{f.kind}/{f.name} {f.field}: {f.message}" for f in report.findings if f.fails(strict=True)] == []
    assert len(rendered) > 100
    # prod chat-assistant's autoscaling, the scheduled actions function-aiplane adds included.
    assert {"Target", "Policy", "ScheduledAction"} <= {o["kind"] for o in rendered}


def test_every_composed_kubernetes_object_declares_its_readiness(synthesis: Synthesis) -> None:
    """function-auto-ready waits for Ready=True, which CronJobs, ConfigMaps and ServiceAccounts never
    report: without an explicit readiness check the XR and Flux's health check never become ready."""
    for comp in compositions(synthesis):
        step = comp["spec"]["pipeline"][0]["input"]
        for resource in step["resources"]:
            if ".upbound.io/" not in resource["base"]["apiVersion"]:
                assert resource.get("readinessChecks") == [{"type": "None"}], resource["name"]


def test_buckets_and_keys_survive_their_xr(synthesis: Synthesis) -> None:
    for comp in compositions(synthesis):
        if composite_kind(comp) != "ModelBucket":
            continue
        for res in composed_resources(comp):
            policies = res.base["spec"]["managementPolicies"]
            assert "Delete" not in policies and "*" not in policies, res.name


def test_one_composition_per_api_whose_pipeline_lets_the_spec_decide(synthesis: Synthesis) -> None:
    by_kind: dict[str, list[str]] = {}
    for c in compositions(synthesis):
        by_kind.setdefault(composite_kind(c), []).append(c["metadata"]["name"])
    assert all(len(names) == 1 for names in by_kind.values()), by_kind
    pool_comp = next(c for c in compositions(synthesis) if composite_kind(c) == "GPUNodePool")
    pool = next(o for o in synthesis.objects() if o["kind"] == "GPUNodePool")
    counts = {}
    for capacity in ("onDemand", "spot"):
        xr = {**pool, "spec": {**pool["spec"], "capacity": capacity}}
        xr["spec"].pop("onDemandBaseSize", None)
        counts[capacity] = sorted(r.obj["spec"]["forProvider"]["capacityType"] for r in render(xr, pool_comp)
                                  if r.obj["kind"] == "NodeGroup")
    assert counts == {"onDemand": ["ON_DEMAND"], "spot": ["SPOT"]}


def test_model_endpoint_compositions_compose_the_ethics_monitor_and_data_capture(
    synthesis: Synthesis,
) -> None:
    endpoint_comps = [c for c in compositions(synthesis) if composite_kind(c) == "ModelEndpoint"]
    assert len(endpoint_comps) == 1
    for comp in endpoint_comps:
        kinds = {r.kind: r for r in composed_resources(comp)
                 if not r.name.startswith(("rollback-", "fairness-warning"))}
        assert {"ConfigMap", "CronJob", "MetricAlarm", "ServiceAccount", "EndpointConfiguration"} <= set(
            kinds
        )
        capture = kinds["EndpointConfiguration"].base["spec"]["forProvider"]["dataCaptureConfig"]
        assert capture["enableCapture"] is True
        assert {o["captureMode"] for o in capture["captureOptions"]} == {"Input", "Output"}
        assert kinds["EndpointConfiguration"].writes("spec.forProvider.dataCaptureConfig.destinationS3Uri")
        assert kinds["CronJob"].writes("spec.schedule")
        assert kinds["MetricAlarm"].writes("spec.forProvider.alarmActions[0]")
    endpoint = next(r for r in composed_resources(endpoint_comps[0]) if r.kind == "Endpoint")
    for index in range(3):  # the fixed rollback alarms: 5xx, latency, fairness
        assert endpoint.writes(f"spec.forProvider.deploymentConfig.autoRollbackConfiguration.alarms[{index}].alarmName")


def test_quota_requests_are_never_deleted(synthesis: Synthesis) -> None:
    comp = next(c for c in compositions(synthesis) if composite_kind(c) == "AcceleratorQuota")
    for quota in composed_resources(comp):
        assert "Delete" not in quota.base["spec"]["managementPolicies"]
        assert "*" not in quota.base["spec"]["managementPolicies"]


def test_platform_packages_are_pinned_and_fully_qualified(synthesis: Synthesis) -> None:
    packages = [o for o in synthesis.objects() if o["kind"] in ("Provider", "Function")]
    refs = {o["metadata"]["name"]: o["spec"]["package"] for o in packages}
    assert refs["crossplane-contrib-function-patch-and-transform"].endswith(
        "function-patch-and-transform:v0.10.7"
    )
    assert {n for n in refs if "provider-aws" in n} == {
        f"crossplane-contrib-provider-aws-{s}"
        for s in ("appautoscaling", "cloudwatch", "ec2", "eks", "iam", "kms", "s3", "sagemaker", "servicequotas")
    }
    # function-aiplane is the team's own package, pinned to this aiplane's version.
    assert refs.pop("function-aiplane") == "ghcr.io/aiplane/function-aiplane:v0.1.0"
    assert all(ref.startswith("xpkg.crossplane.io/") and ":v" in ref for ref in refs.values())
    role = next(o for o in synthesis.objects() if o["kind"] == "ClusterRole")
    assert role["metadata"]["labels"]["rbac.crossplane.io/aggregate-to-crossplane"] == "true"
    granted = {(r["apiGroups"][0], res) for r in role["rules"] for res in r["resources"]}
    assert {("", "configmaps"), ("batch", "cronjobs"), ("", "serviceaccounts")} <= granted
