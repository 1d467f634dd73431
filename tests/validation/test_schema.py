"""Schema validation with Kubernetes semantics: what `aiplane validate` accepts and rejects."""

from __future__ import annotations

import copy
import datetime
from pathlib import Path

import pytest
import yaml
from validation_fixtures import VALID, all_valid_objects, failing, fixture, widget, widget_crd

from aiplane.validation import Location, SchemaRegistry, Severity, validate_documents, validate_object
from aiplane.yamlio import load_paths


@pytest.fixture(scope="module")
def reg() -> SchemaRegistry:
    return SchemaRegistry.default()


def test_valid_examples_pass_with_nothing_left_unchecked() -> None:
    # Every fixture object has a schema; the only unchecked rules are transition rules (oldSelf).
    docs = load_paths([VALID])
    assert {Path(d.path).name for d in docs} == {p.name for p in VALID.glob("*.yaml")}
    report = validate_documents(docs, SchemaRegistry.default())
    assert report.ok
    assert [f for f in report.findings if f.severity is not Severity.SKIPPED] == []
    assert all("oldSelf" in f.message for f in report.findings)


def test_unknown_field_in_for_provider_is_an_error(reg: SchemaRegistry) -> None:
    ng = fixture("nodegroup.yaml")
    ng["spec"]["forProvider"]["instanceTypez"] = ["g5.xlarge"]
    assert failing(validate_object(ng, reg)) == [("spec.forProvider.instanceTypez", "unknown field")]


def test_management_policy_outside_the_enum_is_an_error(reg: SchemaRegistry) -> None:
    ng = fixture("nodegroup.yaml")
    ng["spec"]["managementPolicies"] = ["Destroy"]
    [(field, message)] = failing(validate_object(ng, reg))
    assert field == "spec.managementPolicies[0]"
    assert "'Destroy' is not one of" in message and "LateInitialize" in message


def test_string_where_an_integer_belongs_is_an_error(reg: SchemaRegistry) -> None:
    fn = fixture("packages.yaml", 0)
    fn["spec"]["revisionHistoryLimit"] = "3"
    assert failing(validate_object(fn, reg)) == [
        ("spec.revisionHistoryLimit", "expected integer, got string")
    ]


def test_string_where_a_number_belongs_in_a_builtin_kind(reg: SchemaRegistry) -> None:
    cron = fixture("builtin.yaml", 3)
    cron["spec"]["jobTemplate"]["spec"]["backoffLimit"] = "two"
    assert failing(validate_object(cron, reg)) == [
        ("spec.jobTemplate.spec.backoffLimit", "expected integer, got string")
    ]


def test_missing_required_field_names_the_field(reg: SchemaRegistry) -> None:
    bucket = fixture("storage.yaml")
    del bucket["spec"]["forProvider"]["region"]
    assert failing(validate_object(bucket, reg)) == [("spec.forProvider.region", "required field is missing")]


def test_label_values_must_be_strings_and_keys_use_brackets(reg: SchemaRegistry) -> None:
    ns = fixture("builtin.yaml", 0)
    ns["metadata"]["labels"]["aiplane.io/gpu"] = True
    assert failing(validate_object(ns, reg)) == [
        ("metadata.labels[aiplane.io/gpu]", "expected string, got boolean")
    ]


def test_custom_resource_names_must_be_dns_subdomains_builtin_names_need_not(reg: SchemaRegistry) -> None:
    bucket = fixture("storage.yaml")
    bucket["metadata"]["name"] = "Model_Artifacts"
    [(field, _)] = failing(validate_object(bucket, reg))
    assert field == "metadata.name"
    cluster_role = fixture("builtin.yaml", 2)
    assert ":" in cluster_role["metadata"]["name"]
    assert failing(validate_object(cluster_role, reg)) == []


def test_kind_without_schema_is_reported_not_failed(reg: SchemaRegistry) -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {}}
    [finding] = validate_object(pod, reg, Location("pods.yaml", 2, 7))
    assert finding.severity is Severity.NO_SCHEMA
    assert (finding.path, finding.index, finding.line, finding.kind, finding.name) == (
        "pods.yaml",
        2,
        7,
        "Pod",
        "p",
    )
    assert validate_documents([pod], reg).ok
    assert not validate_documents([pod], reg, strict=True).ok


def test_version_the_crd_does_not_serve_is_an_error(reg: SchemaRegistry) -> None:
    ng = fixture("nodegroup.yaml")
    ng["apiVersion"] = "eks.aws.m.upbound.io/v1beta2"
    [(field, message)] = failing(validate_object(ng, reg))
    assert field == "apiVersion" and "served: v1beta1" in message


def test_deprecated_version_is_a_warning(reg: SchemaRegistry) -> None:
    legacy = {
        "apiVersion": "s3.aws.upbound.io/v1beta1",
        "kind": "Bucket",
        "metadata": {"name": "b"},
        "spec": {"forProvider": {"region": "us-east-1"}},
    }
    findings = validate_object(legacy, reg)
    assert [(f.severity, f.field) for f in findings] == [(Severity.WARNING, "apiVersion")]
    assert "deprecated" in findings[0].message


def test_objects_missing_api_version_or_kind(reg: SchemaRegistry) -> None:
    assert failing(validate_object({"kind": "Bucket"}, reg)) == [
        ("apiVersion", "required field is missing or not a string")
    ]
    assert failing(validate_object(["not", "a", "mapping"], reg))[0][1].startswith(
        "a Kubernetes object must be"
    )


def test_validation_does_not_modify_the_object(reg: SchemaRegistry) -> None:
    for obj in all_valid_objects():
        before = copy.deepcopy(obj)
        validate_object(obj, reg)
        assert obj == before


def test_yaml_timestamp_is_reported_where_it_is(reg: SchemaRegistry) -> None:
    cm = fixture("builtin.yaml", 1)
    cm["data"]["since"] = datetime.date(2026, 1, 1)
    [(field, message)] = failing(validate_object(cm, reg))
    assert field == "data.since" and "date" in message


def test_kubernetes_schema_extensions() -> None:
    reg = SchemaRegistry(shipped=True)
    reg.add_crd(
        widget_crd(
            {
                "type": "object",
                "properties": {
                    "port": {"x-kubernetes-int-or-string": True},
                    "note": {"type": "string", "nullable": True},
                    "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                    "template": {
                        "type": "object",
                        "x-kubernetes-embedded-resource": True,
                        "properties": {
                            "spec": {"type": "object", "properties": {"size": {"type": "integer"}}}
                        },
                    },
                    "env": {"type": "object", "additionalProperties": {"type": "string"}},
                    "ratio": {"type": "number", "maximum": 1, "exclusiveMaximum": True},
                    "size": {"type": "integer", "format": "int32"},
                    "data": {"type": "string", "format": "byte"},
                    "at": {"type": "string", "format": "date-time"},
                    "empty": {"type": "object"},
                },
            }
        )
    )
    ok = widget(
        {
            "port": "http",
            "note": None,
            "free": {"anything": [1, {"x": 2}]},
            "template": {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "c"},
                "spec": {"size": 1},
            },
            "env": {"A": "1"},
            "ratio": 0.5,
            "size": 10,
            "data": "aGk=",
            "at": "2026-11-27T10:00:00Z",
            "empty": {},
        }
    )
    assert validate_object(ok, reg) == []
    assert failing(validate_object(widget({"port": 8080}), reg)) == []
    bad = widget(
        {
            "port": 1.5,
            "template": {"apiVersion": "v1", "spec": {"size": 1}, "extra": 1},
            "env": {"A": 1},
            "ratio": 1,
            "at": "yesterday",
            "empty": {"x": 1},
        }
    )
    fields = sorted(field for field, _ in failing(validate_object(bad, reg)))
    assert fields == [
        "spec.at",
        "spec.empty.x",
        "spec.env.A",
        "spec.port",
        "spec.ratio",
        "spec.template.extra",
    ]


def test_defaults_are_applied_before_schema_validation() -> None:
    reg = SchemaRegistry()
    reg.add_crd(
        widget_crd(
            {
                "type": "object",
                "required": ["mode"],
                "properties": {"mode": {"type": "string", "enum": ["Fast", "Safe"], "default": "Safe"}},
            }
        )
    )
    assert validate_object(widget({}), reg) == []


def test_duplicate_list_map_keys_are_errors(reg: SchemaRegistry) -> None:
    comp = fixture("composition.yaml")
    comp["spec"]["pipeline"][1]["step"] = "patch-and-transform"
    assert ("spec.pipeline[1]", "duplicate entry (step='patch-and-transform'); first at index 0") in failing(
        validate_object(comp, reg)
    )


def test_cluster_scoped_kind_with_a_namespace_is_a_warning(reg: SchemaRegistry) -> None:
    fn = fixture("packages.yaml", 0)
    fn["metadata"]["namespace"] = "crossplane-system"
    [finding] = validate_object(fn, reg)
    assert (finding.severity, finding.field) == (Severity.WARNING, "metadata.namespace")


def test_crds_and_xrds_among_the_documents_are_registered_first(reg: SchemaRegistry) -> None:
    xrd, xr = (fixture("platform-api.yaml", i) for i in (0, 1))
    xr["spec"]["parameters"]["maxSize"] = 0
    xr["spec"]["crossplane"]["compositionUpdatePolicy"] = "Sometimes"
    report = validate_documents([xr, xrd], SchemaRegistry.default())
    assert sorted(f.field for f in report.findings if f.severity is Severity.ERROR) == [
        "spec.crossplane.compositionUpdatePolicy",
        "spec.parameters.maxSize",
    ]
    crd = widget_crd({"type": "object", "properties": {"size": {"type": "integer"}}})
    report = validate_documents([widget({"size": "big"}), crd], SchemaRegistry.default())
    assert [(f.field, f.message) for f in report.findings if f.severity is Severity.ERROR] == [
        ("spec.size", "expected integer, got string")
    ]
    # aiplane ships no schema for CustomResourceDefinition itself, and says so.
    assert [f.kind for f in report.findings if f.severity is Severity.NO_SCHEMA] == [
        "CustomResourceDefinition"
    ]


def test_xr_schema_adds_crossplane_machinery_and_scope() -> None:
    reg = SchemaRegistry()
    xrd = fixture("platform-api.yaml", 0)
    reg.add_xrd(xrd)
    ks = reg.lookup("ai.aiplane.io/v1alpha1", "GPUNodePool")
    assert ks is not None and ks.namespaced
    assert set(ks.schema["properties"]["spec"]["properties"]["crossplane"]["properties"]) == {
        "compositionRef",
        "compositionSelector",
        "compositionRevisionRef",
        "compositionRevisionSelector",
        "compositionUpdatePolicy",
        "resourceRefs",
    }
    xr = fixture("platform-api.yaml", 1)
    xr["spec"]["crossplane"]["resourceRefs"] = [{"apiVersion": "v1", "kind": "ConfigMap", "name": "x"}]
    xr["status"] = {
        "conditions": [
            {
                "type": "Ready",
                "status": "True",
                "reason": "Available",
                "lastTransitionTime": "2026-11-27T10:00:00Z",
            }
        ]
    }
    assert validate_object(xr, reg) == []
    xr["spec"]["compositionRef"] = {"name": "legacy-place"}
    assert failing(validate_object(xr, reg)) == [("spec.compositionRef", "unknown field")]

    legacy = copy.deepcopy(xrd)
    legacy["apiVersion"] = "apiextensions.crossplane.io/v1"
    del legacy["spec"]["scope"]
    reg.add_xrd(legacy)
    ks = reg.lookup("ai.aiplane.io/v1alpha1", "GPUNodePool")
    assert ks is not None and not ks.namespaced
    cluster_xr = {
        "apiVersion": "ai.aiplane.io/v1alpha1",
        "kind": "GPUNodePool",
        "metadata": {"name": "x"},
        "spec": {"compositionRef": {"name": "c"}, "parameters": {"instanceType": "g5.xlarge", "maxSize": 2}},
    }
    assert validate_object(cluster_xr, reg) == []


def test_registry_default_is_cached_and_extra_folders_override(tmp_path: Path) -> None:
    first, second = SchemaRegistry.default(), SchemaRegistry.default()
    assert first.lookup("s3.aws.m.upbound.io/v1beta1", "Bucket") is second.lookup(
        "s3.aws.m.upbound.io/v1beta1", "Bucket"
    )
    override = widget_crd(
        {"type": "object", "properties": {"forProvider": {"type": "object"}}},
        group="s3.aws.m.upbound.io",
        kind="Bucket",
    )
    override["spec"]["versions"][0]["name"] = "v1beta1"
    (tmp_path / "crds").mkdir()
    (tmp_path / "crds" / "bucket.yaml").write_text(yaml.safe_dump(override))
    (tmp_path / "crds" / "kustomization.yaml").write_text("resources: [bucket.yaml]\n")
    reg = SchemaRegistry.default(extra=[tmp_path / "crds"])
    ks = reg.lookup("s3.aws.m.upbound.io/v1beta1", "Bucket")
    assert ks is not None and ks.source.endswith("bucket.yaml")
    # The override's `forProvider` declares no fields, so every field the shipped CRD knows is now unknown.
    assert sorted(failing(validate_object(fixture("storage.yaml"), reg))) == [
        ("spec.forProvider.forceDestroy", "unknown field"),
        ("spec.forProvider.region", "unknown field"),
        ("spec.forProvider.tags", "unknown field"),
        ("spec.providerConfigRef", "unknown field"),
    ]


def test_report_orders_counts_and_serialises() -> None:
    reg = SchemaRegistry.default()
    bad = fixture("storage.yaml")
    bad["spec"]["forProvider"]["colour"] = "red"
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}
    report = validate_documents([pod, bad], reg)
    assert [f.index for f in report.findings] == [0, 1]
    assert report.counts == {"error": 1, "warning": 0, "no-schema": 1, "skipped": 0, "not-evaluated": 0}
    data = report.as_json()
    assert (data["version"], data["objects"], data["ok"]) == (2, 2, False)
    assert set(data["findings"][0]) == {
        "severity",
        "check",
        "message",
        "path",
        "index",
        "line",
        "apiVersion",
        "kind",
        "name",
        "namespace",
        "field",
    }
    assert (
        report.as_text().splitlines()[-1]
        == "2 objects, 1 errors, 0 warnings, 0 skipped, 0 not evaluated, 1 no schema"
    )
