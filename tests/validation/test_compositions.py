"""Pipeline Compositions: the fixture pair is valid, and each single fault in it is caught and located."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from aiplane.validation import SchemaRegistry, validate_documents
from aiplane.validation.compositions import check_composition
from aiplane.validation.findings import Finding, Location, Severity
from aiplane.yamlio import load_documents, load_paths

Obj = dict[str, Any]
FIXTURES = Path(__file__).parent.parent / "fixtures" / "compositions"
PT = "spec.pipeline[0].input"
BUCKET = f"{PT}.resources[0]"
NODEGROUP = f"{PT}.resources[1]"


@pytest.fixture(scope="module")
def xrd() -> dict[str, Any]:
    obj: dict[str, Any] = load_documents(FIXTURES / "xrd.yaml")[0].obj
    return obj


@pytest.fixture
def comp() -> dict[str, Any]:
    obj: dict[str, Any] = load_documents(FIXTURES / "composition.yaml")[0].obj
    return copy.deepcopy(obj)


@pytest.fixture
def reg(xrd: dict[str, Any]) -> SchemaRegistry:
    registry = SchemaRegistry.default()
    registry.add_xrd(xrd)
    return registry


def _check(comp: Obj, reg: SchemaRegistry) -> list[Finding]:
    return check_composition(comp, reg, Location("composition.yaml", 0, 3))


def _errors(findings: list[Finding]) -> list[tuple[str, str]]:
    return [(f.field, f.message) for f in findings if f.severity is Severity.ERROR]


def _nodegroup(comp: Obj) -> dict[str, Any]:
    resource: dict[str, Any] = comp["spec"]["pipeline"][0]["input"]["resources"][1]
    assert resource["name"] == "nodegroup"
    return resource


def _patch(resource: dict[str, Any], to_field_path: str) -> dict[str, Any]:
    patch: dict[str, Any] = next(p for p in resource["patches"] if p.get("toFieldPath") == to_field_path)
    return patch


def test_the_fixture_pair_validates_without_findings_that_fail() -> None:
    report = validate_documents(load_paths([FIXTURES]), SchemaRegistry.default())
    assert [f for f in report.findings if f.severity.fails] == []
    # Nothing from the Crossplane checks at all: every path resolved, every type fit.
    assert [f for f in report.findings if f.check in ("composition", "patch", "xrd")] == []


def test_the_fixture_composition_alone_has_no_findings(comp: Obj, reg: SchemaRegistry) -> None:
    assert _check(comp, reg) == []


def test_misspelt_patch_type_is_caught(comp: Obj, reg: SchemaRegistry) -> None:
    _nodegroup(comp)["patches"][1]["type"] = "FromCompositeFieldPth"
    errors = _errors(_check(comp, reg))
    fields = {f for f, _ in errors}
    assert fields == {f"{NODEGROUP}.patches[1].type"}
    assert any("did you mean 'FromCompositeFieldPath'" in m for _, m in errors)
    assert any(m.startswith("input of step 'patch-and-transform': ") for _, m in errors)  # and its CRD enum


def test_from_field_path_not_in_the_xrd_is_caught(comp: Obj, reg: SchemaRegistry) -> None:
    _patch(_nodegroup(comp), "spec.forProvider.instanceTypes[0]")["fromFieldPath"] = \
        "spec.parameters.instanceTyp"
    assert _errors(_check(comp, reg)) == [(
        f"{NODEGROUP}.patches[1].fromFieldPath",
        "fromFieldPath 'spec.parameters.instanceTyp' does not exist in the XR schema of "
        "ai.aiplane.io/v1alpha1 GPUNodePool")]


def test_to_field_path_not_in_the_mr_is_caught(comp: Obj, reg: SchemaRegistry) -> None:
    _patch(_nodegroup(comp), "spec.forProvider.capacityType")["toFieldPath"] = "spec.forProvider.capacity"
    assert _errors(_check(comp, reg)) == [(
        f"{NODEGROUP}.patches[2].toFieldPath",
        "toFieldPath 'spec.forProvider.capacity' does not exist in the schema of "
        "eks.aws.m.upbound.io/v1beta1 NodeGroup")]


def _drop_scaling_patches(comp: Obj) -> dict[str, Any]:
    nodegroup = _nodegroup(comp)
    nodegroup["patches"] = [p for p in nodegroup["patches"]
                            if "scalingConfig" not in p.get("toFieldPath", "")]
    return nodegroup


def test_nodegroup_without_scaling_config_fails(comp: Obj, reg: SchemaRegistry) -> None:
    _drop_scaling_patches(comp)
    findings = _check(comp, reg)
    assert _errors(findings) == [(f"{NODEGROUP}.base.spec",
                                  "base of resource 'nodegroup': spec.forProvider.scalingConfig is a "
                                  "required parameter")]
    assert [f.check for f in findings] == ["cel"]
    # Attributed to the Composition document, so the user finds it.
    assert (findings[0].kind, findings[0].name, findings[0].path, findings[0].line) == \
        ("Composition", "gpunodepool-aws", "composition.yaml", 3)


def test_nodegroup_with_a_patch_writing_scaling_config_passes(comp: Obj, reg: SchemaRegistry) -> None:
    _drop_scaling_patches(comp)["patches"].append(
        {"type": "FromCompositeFieldPath", "fromFieldPath": "spec.parameters.scaling",
         "toFieldPath": "spec.forProvider.scalingConfig"})
    assert _check(comp, reg) == []


def test_base_missing_a_schema_required_field_no_patch_supplies_fails(comp: Obj, reg: SchemaRegistry) -> None:
    patch_sets = comp["spec"]["pipeline"][0]["input"]["patchSets"]
    patch_sets[0]["patches"] = [p for p in patch_sets[0]["patches"]
                                if p["toFieldPath"] != "spec.forProvider.region"]
    errors = _errors(_check(comp, reg))
    assert (f"{BUCKET}.base.spec.forProvider.region",
            "base of resource 'scratch-bucket': required field is missing") in errors
    assert (f"{NODEGROUP}.base.spec.forProvider.region",
            "base of resource 'nodegroup': required field is missing") in errors


def test_auto_ready_not_last_is_caught(comp: Obj, reg: SchemaRegistry) -> None:
    comp["spec"]["pipeline"].reverse()
    errors = _errors(_check(comp, reg))
    assert errors == [("spec.pipeline[0]",
                       "function-auto-ready step 'auto-ready' must be the last step (it is step 1 of 2); "
                       "resources composed after it are never marked ready")]


def test_auto_ready_is_recognised_by_its_input_too(comp: Obj, reg: SchemaRegistry) -> None:
    auto_ready = comp["spec"]["pipeline"].pop()
    auto_ready["functionRef"]["name"] = "readiness"
    auto_ready["input"] = {"apiVersion": "autoready.fn.crossplane.io/v1beta1", "kind": "Input"}
    comp["spec"]["pipeline"].insert(0, auto_ready)
    assert [f for f, _ in _errors(_check(comp, reg))] == ["spec.pipeline[0]"]


def test_duplicate_resource_names_are_caught(comp: Obj, reg: SchemaRegistry) -> None:
    _nodegroup(comp)["name"] = "scratch-bucket"
    errors = _errors(_check(comp, reg))
    assert (f"{NODEGROUP}.name", "resource name 'scratch-bucket' is also used by resources[0]; resource "
                                 "names must be unique") in errors


def test_a_later_step_may_not_compose_the_same_name_again(comp: Obj,
                                                          reg: SchemaRegistry) -> None:
    second = copy.deepcopy(comp["spec"]["pipeline"][0])
    second["step"] = "more"
    second["input"]["resources"] = [second["input"]["resources"][0]]
    comp["spec"]["pipeline"].insert(1, second)
    assert _errors(_check(comp, reg)) == [(
        "spec.pipeline[1].input.resources[0].name",
        "resource 'scratch-bucket' is already composed by step 'patch-and-transform'; omit base to patch "
        "it, or give it another name")]


def test_resource_without_base_patches_an_earlier_steps_resource(comp: Obj,
                                                                 reg: SchemaRegistry) -> None:
    later = {"step": "tag-nodegroup",
             "functionRef": {"name": "crossplane-contrib-function-patch-and-transform"},
             "input": {"apiVersion": "pt.fn.crossplane.io/v1beta1", "kind": "Resources", "resources": [
                 {"name": "nodegroup", "patches": [
                     {"fromFieldPath": "metadata.labels[team]", "toFieldPath": "spec.forProvider.tags[team]"},
                     {"fromFieldPath": "spec.parameters.region",
                      "toFieldPath": "spec.forProvider.regoin"}]}]}}
    comp["spec"]["pipeline"].insert(1, later)
    # No base to validate, but the paths still resolve against the earlier step's NodeGroup.
    assert [f for f, _ in _errors(_check(comp, reg))] == [
        "spec.pipeline[1].input.resources[0].patches[1].toFieldPath"]


def test_resource_without_base_and_no_earlier_resource_is_caught(comp: Obj,
                                                                 reg: SchemaRegistry) -> None:
    del _nodegroup(comp)["base"]
    assert _errors(_check(comp, reg)) == [
        (f"{NODEGROUP}.base", "resource 'nodegroup' has no base and no earlier step composes it")]


def test_missing_patch_set_is_caught(comp: Obj, reg: SchemaRegistry) -> None:
    _nodegroup(comp)["patches"][0]["patchSetName"] = "commons"
    errors = _errors(_check(comp, reg))
    assert (f"{NODEGROUP}.patches[0].patchSetName",
            "PatchSet 'commons' is not defined in patchSets (defined: common)") in errors


def test_patch_sets_cannot_nest(comp: Obj, reg: SchemaRegistry) -> None:
    patch_sets = comp["spec"]["pipeline"][0]["input"]["patchSets"]
    patch_sets.append({"name": "outer", "patches": [{"type": "PatchSet", "patchSetName": "common"}]})
    errors = _errors(_check(comp, reg))
    assert (f"{PT}.patchSets[1].patches[0].type",
            "patches inside patchSets cannot be of type PatchSet") in errors


def test_patch_set_problems_name_the_resource_they_hit(comp: Obj, reg: SchemaRegistry) -> None:
    patch_sets = comp["spec"]["pipeline"][0]["input"]["patchSets"]
    patch_sets[0]["patches"].append({"fromFieldPath": "spec.parameters.clusterName",
                                     "toFieldPath": "spec.forProvider.clusterName"})
    errors = _errors(_check(comp, reg))
    # Bucket has no clusterName; NodeGroup does.
    assert errors == [(f"{PT}.patchSets[0].patches[3].toFieldPath",
                       "toFieldPath 'spec.forProvider.clusterName' does not exist in the schema of "
                       "s3.aws.m.upbound.io/v1beta1 Bucket (PatchSet 'common' applied to resource "
                       "'scratch-bucket')")]


def test_string_into_integer_without_convert_is_caught(comp: Obj, reg: SchemaRegistry) -> None:
    _nodegroup(comp)["patches"].append({"type": "ToCompositeFieldPath",
                                        "fromFieldPath": "status.atProvider.status",
                                        "toFieldPath": "status.readyNodes"})
    assert _errors(_check(comp, reg)) == [(
        f"{NODEGROUP}.patches[8].toFieldPath",
        "patch writes a string into 'status.readyNodes', which is an integer in the XR schema of "
        "ai.aiplane.io/v1alpha1 GPUNodePool; add a convert transform (toType: int64)")]


def test_dropping_a_convert_transform_is_caught(comp: Obj, reg: SchemaRegistry) -> None:
    del _patch(_nodegroup(comp), "spec.forProvider.diskSize")["transforms"]
    assert [f for f, _ in _errors(_check(comp, reg))] == [f"{NODEGROUP}.patches[6].toFieldPath"]


def test_missing_xrd_is_one_clear_not_evaluated_finding(comp: Obj) -> None:
    findings = _check(comp, SchemaRegistry.default())
    assert [(f.severity, f.field, f.message) for f in findings] == [(
        Severity.NOT_EVALUATED, "spec.compositeTypeRef",
        "XRD for ai.aiplane.io/v1alpha1 GPUNodePool not found among the inputs or --crds folders; patch "
        "paths into the XR are not checked")]


def test_step_input_is_validated_against_the_function_input_crd(comp: Obj,
                                                                 reg: SchemaRegistry) -> None:
    del _nodegroup(comp)["name"]
    comp["spec"]["pipeline"][0]["input"]["resources"][0]["readinessChecks"] = [{"type": "Sometimes"}]
    errors = _errors(_check(comp, reg))
    fields = [f for f, m in errors if m.startswith("input of step 'patch-and-transform'")]
    assert f"{NODEGROUP}.name" in fields
    assert f"{BUCKET}.readinessChecks[0].type" in fields


def test_unknown_function_input_is_reported_as_not_validated(comp: Obj,
                                                             reg: SchemaRegistry) -> None:
    comp["spec"]["pipeline"].insert(1, {"step": "kcl", "functionRef": {"name": "function-kcl"},
                                         "input": {"apiVersion": "krm.kcl.dev/v1alpha1",
                                                   "kind": "KCLInput"}})
    findings = _check(comp, reg)
    assert [(f.severity, f.field) for f in findings] == [(Severity.NO_SCHEMA, "spec.pipeline[1].input")]


def test_readiness_check_field_path_must_exist(comp: Obj, reg: SchemaRegistry) -> None:
    _nodegroup(comp)["readinessChecks"][0]["fieldPath"] = "status.atProvider.state"
    assert _errors(_check(comp, reg)) == [(
        f"{NODEGROUP}.readinessChecks[0].fieldPath",
        "'status.atProvider.state' does not exist in the schema of eks.aws.m.upbound.io/v1beta1 NodeGroup")]


def test_environment_patches_are_not_resolved_statically(comp: Obj, reg: SchemaRegistry) -> None:
    _nodegroup(comp)["patches"].append({"type": "FromEnvironmentFieldPath", "fromFieldPath": "gpu.ami",
                                        "toFieldPath": "spec.forProvider.amiType"})
    assert _check(comp, reg) == []


def test_resources_mode_is_rejected(comp: Obj, reg: SchemaRegistry) -> None:
    comp["spec"]["mode"] = "Resources"
    assert ("spec.mode", "mode 'Resources' is not supported: Crossplane v2 only runs mode: Pipeline "
                         "(function pipelines)") in _errors(_check(comp, reg))
