"""The offline patch-and-transform renderer: what prod's XRs compose, straight from the Compositions."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from aiplane.authoring.composing import FINOPS_TAG_KEYS
from aiplane.crossplane.render import (
    RenderedResource,
    RenderError,
    SkippedResource,
    apply_transform,
    render,
    render_composition,
    select_composition,
    settle,
)
from aiplane.project import load_settings
from aiplane.synthesis.pipeline import synthesize
from aiplane.validation import SchemaRegistry
from aiplane.validation.fieldpath import resolve_schema

Obj = dict[str, Any]
Prod = tuple[list[Obj], list[Obj]]


@pytest.fixture(scope="module")
def prod() -> Prod:
    """(prod's XRs, every Composition) from one in-memory synthesis."""
    settings = load_settings()
    synthesis = synthesize(settings, ["prod"])
    objects = synthesis.objects()
    xrs = [o for o in objects if o["apiVersion"].startswith(f"{settings.group}/")
           and o["metadata"].get("namespace") == "ai-prod"]
    compositions = [o for o in objects if o["kind"] == "Composition"]
    return xrs, compositions


def xr(prod: Prod, kind: str, name: str) -> Obj:
    return copy.deepcopy(next(o for o in prod[0] if o["kind"] == kind and o["metadata"]["name"] == name))


def rendered(prod: Prod, obj: Obj) -> dict[str, RenderedResource]:
    """By composition resource name, node groups by their base name (without the revision hash)."""
    out = {}
    for r in settle(obj, select_composition(obj, prod[1])).resources:
        out[r.name.rsplit("-", 1)[0] if r.name.startswith("nodegroup-") else r.name] = r
    return out


def test_mixed_node_pool_renders_an_on_demand_base_and_a_spot_group(prod: Prod) -> None:
    out = rendered(prod, xr(prod, "GPUNodePool", "llm-inference"))
    groups = sorted((r for r in out.values() if r.obj["kind"] == "NodeGroup"), key=lambda r: r.name)
    assert [(g.external_name[:-5], g.for_provider["capacityType"]) for g in groups] == [
        ("prod-llm-inference-ondemand", "ON_DEMAND"), ("prod-llm-inference-spot", "SPOT")]
    # Each node group is a revision: `-<4 hex>` of what EKS cannot change in place.
    assert all(g.external_name[-5] == "-" and g.external_name[-4:] == g.name[-4:] for g in groups)
    base, spot = groups
    # The base is pinned at onDemandBaseSize; the spot group scales between the pool's min and max.
    assert base.for_provider["scalingConfig"] == {"minSize": 2, "maxSize": 2}
    assert spot.for_provider["scalingConfig"] == {"minSize": 2, "maxSize": 6}
    assert spot.for_provider["instanceTypes"] == ["g5.12xlarge", "g6.12xlarge"]
    assert spot.for_provider["clusterName"] == "ai-prod"
    assert spot.obj["spec"]["initProvider"] == {"scalingConfig": {"desiredSize": 2}}


def test_every_taggable_managed_resource_carries_the_finops_tags(prod: Prod) -> None:
    registry = SchemaRegistry.default()
    checked = 0
    for obj in prod[0]:
        finops = obj["spec"]["finops"]
        for resource in settle(obj, select_composition(obj, prod[1])).resources:
            kind = registry.lookup(resource.obj["apiVersion"], resource.obj["kind"])
            if kind is None or resolve_schema(kind.schema, ["spec", "forProvider", "tags"]) is None:
                continue
            checked += 1
            assert resource.for_provider["tags"] == {
                "cost-center": finops["costCenter"], "owner": finops["owner"], "environment": "prod",
                "tier": finops["tier"], "managed-by": "aiplane", "xr-name": obj["metadata"]["name"],
            }, f"{obj['kind']}/{obj['metadata']['name']} {resource.name}"
            assert set(resource.for_provider["tags"]) == set(FINOPS_TAG_KEYS)
    # Node roles, node groups, KMS keys, buckets, roles, models, endpoint configs, endpoints, alarms.
    assert checked >= 20


def test_endpoint_captures_to_the_capture_bucket_under_its_prefix(prod: Prod) -> None:
    out = rendered(prod, xr(prod, "ModelEndpoint", "fraud-scoring"))
    [config_name] = [n for n in out if n.startswith("endpoint-config-")]
    out["endpoint-config"] = out[config_name]
    capture = out["endpoint-config"].for_provider["dataCaptureConfig"]
    assert capture["destinationS3Uri"] == "s3://prod-captures-777788889999/fraud-scoring"
    assert capture["enableCapture"] is True
    assert capture["initialSamplingPercentage"] == 20
    assert out["endpoint"].external_name == "prod-fraud-scoring"
    assert out["endpoint-config"].for_provider["productionVariants"][0]["instanceType"] == "ml.m5.xlarge"
    # The endpoint serves its content-addressed configuration by name.
    assert out["endpoint"].for_provider["endpointConfigName"] == out["endpoint-config"].external_name
    assert out["endpoint-config"].external_name == f"prod-fraud-scoring-{config_name[-4:]}"


def test_transforms_of_the_real_compositions(prod: Prod) -> None:
    out = rendered(prod, xr(prod, "ModelEndpoint", "fraud-scoring"))
    config = out["ethics-monitor-config"].obj
    assert config["metadata"]["name"] == "fraud-scoring-ethics-monitor"
    # ToJson of the whole spec.ethicsMonitor: what the evaluator reads (AIPLANE_MONITOR_SPEC).
    monitor = json.loads(config["data"]["AIPLANE_MONITOR_SPEC"])
    assert [a["name"] for a in monitor["sensitiveAttributes"]] == ["age_band", "gender", "postcode_region"]
    assert monitor["thresholds"]["critical"]["demographicParityDifference"] == 0.08
    assert config["data"]["AIPLANE_CAPTURE_S3_URI"] == "s3://prod-captures-777788889999/fraud-scoring"
    assert out["ethics-monitor"].obj["spec"]["suspend"] is False  # convert bool → string, then map
    # TrimPrefix then Format into a JSON policy document.
    policy = json.loads(out["execution-role"].for_provider["inlinePolicy"][0]["policy"])
    assert policy["Statement"][0]["Resource"] == [
        "arn:aws:s3:::prod-artifacts-777788889999/models/fraud-scoring/1.12.0/model.tar.gz"]
    alarms = out["endpoint"].for_provider["deploymentConfig"]["autoRollbackConfiguration"]["alarms"]
    assert alarms == [{"alarmName": f"prod-fraud-scoring-{suffix}"}
                      for suffix in ("invocation-5xx", "model-latency", "fairness-rollback")]
    # ToCompositeFieldPath needs observed state: nothing is written back into the XR or the resource.
    assert "status" not in out["endpoint"].obj


def test_quota_code_comes_from_the_compositions_map(prod: Prod) -> None:
    quota = xr(prod, "AcceleratorQuota", "g-spot-us-east-1")
    out = rendered(prod, quota)
    # First apply: only the observer (nothing is requested before the account's value is known).
    assert set(out) == {"quota"}
    assert out["quota"].for_provider == {"serviceCode": "ec2", "region": "us-east-1", "quotaCode": "L-3819A6DF"}
    assert out["quota"].external_name == "ec2/L-3819A6DF"
    observed = {"quota": {**out["quota"].obj, "status": {"atProvider": {"value": 32}}}}
    short = render_composition(quota, select_composition(quota, prod[1]), observed=observed)
    request = next(r for r in short.resources if r.name == "quota-request-288")
    assert request.for_provider == {"serviceCode": "ec2", "region": "us-east-1", "quotaCode": "L-3819A6DF", "value": 288}
    assert short.status == {"requested": 288, "value": 32, "state": "Requesting"}


def test_bucket_versioning_maps_a_boolean_through_convert_and_map(prod: Prod) -> None:
    bucket = xr(prod, "ModelBucket", "captures")
    bucket["spec"]["versioning"] = False
    out = rendered(prod, bucket)
    assert out["versioning"].for_provider["versioningConfiguration"] == {"status": "Suspended"}
    assert out["bucket"].external_name == "prod-captures-777788889999"
    assert out["lifecycle"].for_provider["rule"][0]["expiration"] == [{"days": 365}]


def test_optional_inputs_that_are_missing_are_skipped(prod: Prod) -> None:
    pool = xr(prod, "GPUNodePool", "fine-tuning")  # no desiredSize: minSize is the creation size
    assert "desiredSize" not in pool["spec"]["scaling"]
    out = rendered(prod, pool)
    assert out["nodegroup-spot"].obj["spec"]["initProvider"] == {"scalingConfig": {"desiredSize": 0}}
    del pool["spec"]["diskSizeGiB"]
    assert "diskSize" not in rendered(prod, pool)["nodegroup-spot"].for_provider


def test_a_missing_required_input_skips_only_that_resource_until_it_exists(prod: Prod) -> None:
    """P&T v0.10.7 fn.go: a new resource with a missing Required input is left out of the desired state
    (the XR is then not Ready); for an existing one the patch is skipped and the resource kept."""
    pool = xr(prod, "GPUNodePool", "fine-tuning")
    del pool["spec"]["instanceTypes"]
    comp = select_composition(pool, prod[1])
    first = render_composition(pool, comp)
    # P&T skips both node groups it composes (function-aiplane would then drop the on-demand one anyway).
    assert first.skipped == [SkippedResource("nodegroup-on-demand", "spec.instanceTypes"),
                             SkippedResource("nodegroup-spot", "spec.instanceTypes")]
    assert "nodegroup-spot" not in {r.name for r in first.resources}
    assert "node-role" in {r.name for r in first.resources}
    later = render_composition(pool, comp, existing={"nodegroup-spot"})
    assert later.skipped == [SkippedResource("nodegroup-on-demand", "spec.instanceTypes")]
    spot = next(r for r in later.resources if r.name.startswith("nodegroup-spot"))
    assert "instanceTypes" not in spot.for_provider and spot.for_provider["capacityType"] == "SPOT"


def test_selection_needs_exactly_one_composition(prod: Prod) -> None:
    pool = xr(prod, "GPUNodePool", "fine-tuning")
    assert select_composition(pool, prod[1])["metadata"]["name"] == "gpunodepools-eks"
    del pool["spec"]["crossplane"]
    assert select_composition(pool, prod[1])["metadata"]["name"] == "gpunodepools-eks"
    twin = {**select_composition(pool, prod[1]), "metadata": {"name": "gpunodepools-other"}}
    with pytest.raises(ValueError, match="found gpunodepools-eks, gpunodepools-other"):
        select_composition(pool, [*prod[1], twin])
    pool["spec"]["crossplane"] = {"compositionRef": {"name": "gpunodepools-other"}}
    assert select_composition(pool, [*prod[1], twin])["metadata"]["name"] == "gpunodepools-other"
    pool["kind"] = "Unknown"
    with pytest.raises(ValueError, match="found none"):
        select_composition(pool, prod[1])


def composition(*patches: Obj, base: Obj | None = None, patch_sets: list[Obj] | None = None) -> Obj:
    return {"spec": {"pipeline": [{"step": "pt", "input": {
        "apiVersion": "pt.fn.crossplane.io/v1beta1", "kind": "Resources", "patchSets": patch_sets or [],
        "resources": [{"name": "r", "base": base or {"kind": "ConfigMap"}, "patches": list(patches)}]}}]}}


def test_patch_sets_expand_in_place_and_later_patches_win() -> None:
    comp = composition({"type": "PatchSet", "patchSetName": "names"},
                       {"fromFieldPath": "spec.b", "toFieldPath": "data.x"},
                       patch_sets=[{"name": "names", "patches": [
                           {"type": "FromCompositeFieldPath", "fromFieldPath": "spec.a",
                            "toFieldPath": "data.x"},
                           {"type": "FromCompositeFieldPath", "fromFieldPath": "spec.a"}]}])
    [out] = render({"spec": {"a": "first", "b": "second"}}, comp)
    assert out.obj == {"kind": "ConfigMap", "data": {"x": "second"}, "spec": {"a": "first"}}
    with pytest.raises(RenderError, match="unknown patch set 'missing'"):
        render({}, composition({"type": "PatchSet", "patchSetName": "missing"}))


def test_combine_is_skipped_when_optional_and_skips_the_resource_when_required() -> None:
    patch = {"type": "CombineFromComposite", "toFieldPath": "data.name",
             "combine": {"strategy": "string", "variables": [{"fromFieldPath": "spec.a"},
                                                            {"fromFieldPath": "spec.n"}],
                         "string": {"fmt": "%s-%v"}}}
    [out] = render({"spec": {"a": "x", "n": 3}}, composition(patch))
    assert out.obj["data"] == {"name": "x-3"}
    [out] = render({"spec": {"a": "x"}}, composition(patch))
    assert "data" not in out.obj
    required = render_composition({"spec": {"a": "x"}}, composition({**patch, "policy": {"fromFieldPath": "Required"}}))
    assert required.resources == [] and required.skipped == [SkippedResource("r", "spec.n")]


def test_patching_never_changes_the_composite_resource() -> None:
    source: Obj = {"spec": {"labels": {"a": "1"}, "extra": "2"}}
    comp = composition({"fromFieldPath": "spec.labels", "toFieldPath": "metadata.labels"},
                       {"fromFieldPath": "spec.extra", "toFieldPath": "metadata.labels[b]"})
    [out] = render(source, comp)
    assert out.obj["metadata"]["labels"] == {"a": "1", "b": "2"}
    assert source["spec"]["labels"] == {"a": "1"}


@pytest.mark.parametrize(("transform", "value", "expected"), [
    ({"type": "map", "map": {"a": {"nested": 1}}}, "a", {"nested": 1}),
    ({"type": "convert", "convert": {"toType": "int64"}}, "42", 42),
    ({"type": "convert", "convert": {"toType": "int"}}, 2.9, 2),
    ({"type": "convert", "convert": {"toType": "float64"}}, "0.5", 0.5),
    ({"type": "convert", "convert": {"toType": "bool"}}, "True", True),
    ({"type": "convert", "convert": {"toType": "string"}}, 2.0, "2"),
    ({"type": "convert", "convert": {"toType": "string"}}, True, "true"),
    ({"type": "string", "string": {"type": "Format", "fmt": "%v%%"}}, 10, "10%"),
    ({"type": "string", "string": {"type": "TrimPrefix", "trim": "s3://"}}, "s3://b/k", "b/k"),
    ({"type": "string", "string": {"type": "TrimSuffix", "trim": ".tar.gz"}}, "m.tar.gz", "m"),
    ({"type": "string", "string": {"type": "Convert", "convert": "ToUpper"}}, "gpu", "GPU"),
    ({"type": "string", "string": {"type": "Convert", "convert": "ToLower"}}, "SPOT", "spot"),
    ({"type": "string", "string": {"type": "Convert", "convert": "ToJson"}}, {"b": [1], "a": "x"},
     '{"a":"x","b":[1]}'),
    ({"type": "math", "math": {"type": "Multiply", "multiply": 4}}, 24, 96),
])
def test_transforms(transform: Obj, value: Any, expected: Any) -> None:
    assert apply_transform(transform, value) == expected


@pytest.mark.parametrize(("transform", "value", "message"), [
    ({"type": "map", "map": {"a": 1}}, "b", "not in the map"),
    ({"type": "convert", "convert": {"toType": "int64"}}, "4.5", r'ParseInt: parsing "4.5": invalid syntax'),
    ({"type": "convert", "convert": {"toType": "bool"}}, "yes", "ParseBool"),
    ({"type": "convert", "convert": {"toType": "float64"}}, " 1.5 ", "ParseFloat"),
    ({"type": "convert", "convert": {"toType": "string"}}, ["a"], r"input type \[\]interface \{\} is not supported"),
    ({"type": "math", "math": {"type": "Multiply", "multiply": 2}}, "3", "required to be a number"),
    ({"type": "string", "string": {"type": "Join", "join": {"separator": ","}}}, "x", "unsupported"),
    ({"type": "match", "match": {}}, "x", "unsupported transform type"),
])
def test_transforms_that_do_not_apply_are_errors(transform: Obj, value: Any, message: str) -> None:
    with pytest.raises(RenderError, match=message):
        apply_transform(transform, value)


@pytest.mark.parametrize(("patch_transforms", "xr_value", "expected"), [
    # XR numbers are float64 in P&T (function-sdk-go resource.AsObject): %v prints Go's %g.
    ([{"type": "string", "string": {"type": "Format", "fmt": "%v"}}], 1000000, "1e+06"),
    ([{"type": "string", "string": {"type": "Format", "fmt": "%d"}}], 4, "%!d(float64=4)"),
    ([{"type": "string", "string": {"type": "Format", "fmt": "%s"}}], 4, "%!s(float64=4)"),
    ([{"type": "convert", "convert": {"toType": "string"}}], 0.00005, "0.00005"),
    ([{"type": "convert", "convert": {"toType": "bool"}}], 2, False),
    ([{"type": "convert", "convert": {"toType": "bool"}}], 1, True),
    ([{"type": "convert", "convert": {"toType": "int64"}}, {"type": "string", "string": {"type": "Format", "fmt": "%d"}}], 7, "7"),
    ([{"type": "string", "string": {"type": "Convert", "convert": "ToJson"}}], {"k": "<é&>\u2028", "n": 1.5e-7},
     '{"k":"\\u003cé\\u0026\\u003e\\u2028","n":1.5e-7}'),
    ([{"type": "math", "math": {"type": "ClampMin", "clampMin": 3}}], 2.5, 3),
    ([{"type": "math", "math": {"type": "ClampMin", "clampMin": 3}}], 3.5, 3.5),
    ([{"type": "string", "string": {"type": "Regexp", "regexp": {"match": "^[^/]+/([^:@]+)", "group": 1}}}],
     "1.dkr.ecr.us-east-1.amazonaws.com/team/model:1.0", "team/model"),
    ([{"type": "string", "string": {"type": "Regexp", "regexp": {"match": "a(x)?b"}}}], "zab", "ab"),
    ([{"type": "string", "string": {"type": "Regexp", "regexp": {"match": "a(x)?b", "group": 1}}}], "ab", ""),
])
def test_patches_see_xr_values_as_p_and_t_does(patch_transforms: list[Obj], xr_value: Any, expected: Any) -> None:
    patch = {"fromFieldPath": "spec.v", "toFieldPath": "data.v", "transforms": patch_transforms}
    [out] = render({"spec": {"v": xr_value}}, composition(patch))
    assert out.obj["data"]["v"] == expected
    assert type(out.obj["data"]["v"]) is type(expected)


def test_a_regexp_without_a_match_fails_as_in_p_and_t() -> None:
    patch = {"fromFieldPath": "spec.v", "toFieldPath": "data.v", "transforms": [
        {"type": "string", "string": {"type": "Regexp", "regexp": {"match": "^x(y)", "group": 1}}}]}
    with pytest.raises(RenderError, match="had no matches for group 1"):
        render({"spec": {"v": "zzz"}}, composition(patch))
    dollar = {**patch, "transforms": [{"type": "string", "string": {"type": "Regexp", "regexp": {"match": "y$"}}}]}
    with pytest.raises(RenderError, match="not rendered offline"):
        render({"spec": {"v": "xy"}}, composition(dollar))


def test_what_p_and_t_does_differently_is_refused_not_approximated() -> None:
    merge = {"fromFieldPath": "spec.v", "toFieldPath": "data", "policy": {"toFieldPath": "MergeObjects"}}
    with pytest.raises(RenderError, match=r"policy\.toFieldPath MergeObjects"):
        render({"spec": {"v": {"a": "b"}}}, composition(merge))
    wildcard = {"fromFieldPath": "spec.v", "toFieldPath": "data.items[*].name"}
    with pytest.raises(RenderError, match="wildcard"):
        render({"spec": {"v": "x"}}, composition(wildcard))
