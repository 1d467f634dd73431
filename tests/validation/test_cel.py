"""CEL `x-kubernetes-validations`: evaluated after defaults, where the schema puts them; rules that cannot
be checked are reported, never passed."""

from __future__ import annotations

from typing import Any

import pytest
from validation_fixtures import failing, fixture, widget, widget_crd

from aiplane.validation import SchemaRegistry, Severity, apply_defaults, validate_documents, validate_object
from aiplane.validation.celrules import _compile


@pytest.fixture(scope="module")
def reg() -> SchemaRegistry:
    return SchemaRegistry.default()


def nodegroup_without_scaling_config() -> dict[str, Any]:
    ng = fixture("nodegroup.yaml")
    del ng["spec"]["forProvider"]["scalingConfig"]
    del ng["spec"]["initProvider"]
    del ng["spec"]["managementPolicies"]  # only the default ["*"] makes the provider's rule apply
    return ng


def test_nodegroup_without_scaling_config_fails_once_defaults_are_applied(reg: SchemaRegistry) -> None:
    ng = nodegroup_without_scaling_config()
    ks = reg.lookup(ng["apiVersion"], ng["kind"])
    assert ks is not None
    assert apply_defaults(ng, ks)["spec"]["managementPolicies"] == ["*"]
    assert "managementPolicies" not in ng["spec"]
    findings = validate_object(ng, reg)
    assert [(f.check, f.field, f.message) for f in findings] == [
        ("cel", "spec", "spec.forProvider.scalingConfig is a required parameter")
    ]


def test_required_parameter_may_come_from_init_provider_or_be_waived_by_observe_only(
    reg: SchemaRegistry,
) -> None:
    ng = nodegroup_without_scaling_config()
    ng["spec"]["initProvider"] = {"scalingConfig": {"desiredSize": 1}}
    assert validate_object(ng, reg) == []
    observe = nodegroup_without_scaling_config()
    observe["spec"]["managementPolicies"] = ["Observe"]
    assert validate_object(observe, reg) == []


def test_service_quota_needs_its_value(reg: SchemaRegistry) -> None:
    quota = fixture("quota-and-role.yaml", 0)
    del quota["spec"]["forProvider"]["value"]
    assert failing(validate_object(quota, reg)) == [
        ("spec", "spec.forProvider.value is a required parameter")
    ]


def test_a_property_named_by_a_cel_keyword_is_reached_by_its_escaped_name(reg: SchemaRegistry) -> None:
    """Kubernetes escapes such properties (`namespace` → `__namespace__`): the provider's rule
    `has(self.forProvider.__namespace__)` holds when forProvider.namespace is set, and only then."""
    association: dict[str, Any] = {
        "apiVersion": "eks.aws.m.upbound.io/v1beta1",
        "kind": "PodIdentityAssociation",
        "metadata": {"name": "monitor", "namespace": "ai-dev"},
        "spec": {"forProvider": {"region": "us-east-1", "clusterName": "ai-dev", "namespace": "ai-dev",
                                 "serviceAccount": "sentiment-ethics-monitor",
                                 "roleArn": "arn:aws:iam::111122223333:role/monitor"}},
    }
    assert validate_object(association, reg) == []
    del association["spec"]["forProvider"]["namespace"]
    assert failing(validate_object(association, reg)) == [
        ("spec", "spec.forProvider.namespace is a required parameter")
    ]


def test_package_reference_must_be_fully_qualified(reg: SchemaRegistry) -> None:
    fn = fixture("packages.yaml", 0)
    fn["spec"]["package"] = "function-patch-and-transform:v0.10.8"
    [(field, message)] = failing(validate_object(fn, reg))
    assert field == "spec.package" and message.startswith("must be a fully qualified image name")


def test_xrd_v2_rules(reg: SchemaRegistry) -> None:
    xrd = fixture("platform-api.yaml", 0)
    xrd["spec"]["claimNames"] = {"kind": "GPUNodePoolClaim", "plural": "gpunodepoolclaims"}
    xrd["spec"]["names"]["plural"] = "GPUNodePools"
    assert sorted(failing(validate_object(xrd, reg))) == [
        ("spec", "Claims aren't supported in apiextensions.crossplane.io/v2"),
        ("spec.names", "Plural name must be lowercase"),
    ]


def test_transition_rules_are_reported_as_skipped(reg: SchemaRegistry) -> None:
    xrd = fixture("platform-api.yaml", 0)
    skipped = [f for f in validate_object(xrd, reg) if f.severity is Severity.SKIPPED]
    assert {f.field for f in skipped} == {"spec.group", "spec.names", "spec.scope"}
    assert all(f.check == "cel-transition" and "oldSelf" in f.message for f in skipped)
    # Kubernetes evaluates transition rules only on update, so a new object passes them even strictly.
    assert validate_documents([xrd], reg).ok
    assert validate_documents([xrd], reg, strict=True).ok


def test_duration_rules(reg: SchemaRegistry) -> None:
    pc = fixture("packages.yaml", 2)
    limiter = {"baseDelay": "500ms", "maxDelay": "2m"}
    pc["spec"]["reconciliationPolicy"] = {"exponentialFailureRateLimiter": limiter}
    assert failing(validate_object(pc, reg)) == [
        ("spec.reconciliationPolicy.exponentialFailureRateLimiter.baseDelay", "baseDelay must be at least 1s")
    ]
    limiter["baseDelay"] = "5s"
    assert validate_object(pc, reg) == []


def test_rule_that_cannot_be_evaluated_is_reported_not_passed(reg: SchemaRegistry) -> None:
    pc = fixture("packages.yaml", 2)
    pc["spec"]["reconciliationPolicy"] = {"exponentialFailureRateLimiter": {"baseDelay": "soon"}}
    findings = [f for f in validate_object(pc, reg) if f.field.endswith("baseDelay")]
    assert findings and all(f.severity is Severity.NOT_EVALUATED for f in findings)
    assert "duration(self) >= duration('1s')" in findings[0].message
    report = validate_documents([pc], reg)
    assert report.ok and report.counts["not-evaluated"] >= 1
    assert not validate_documents([pc], reg, strict=True).ok


def custom(rules: list[dict[str, Any]], **spec_schema: Any) -> SchemaRegistry:
    reg = SchemaRegistry(shipped=False)
    schema: dict[str, Any] = {
        "type": "object",
        "x-kubernetes-validations": rules,
        "properties": {
            "name": {"type": "string"},
            "size": {"type": "integer"},
            "items": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"n": {"type": "integer"}},
                    "x-kubernetes-validations": [{"rule": "self.n > 0", "message": "n > 0"}],
                },
            },
            "limits": {
                "type": "object",
                "additionalProperties": {
                    "type": "integer",
                    "x-kubernetes-validations": [{"rule": "self <= 10", "message": "at most 10"}],
                },
            },
        },
        **spec_schema,
    }
    reg.add_crd(widget_crd(schema))
    return reg


def test_message_expression_message_and_default_message() -> None:
    reg = custom(
        [
            {"rule": "self.size < 5", "messageExpression": "'size ' + string(self.size) + ' is too big'"},
            {"rule": "self.name != 'x'", "message": "name must not be x", "fieldPath": ".name"},
            {"rule": "self.size != 7"},
        ]
    )
    assert failing(validate_object(widget({"name": "x", "size": 7}), reg)) == [
        ("spec", "size 7 is too big"),
        ("spec.name", "name must not be x"),
        ("spec", "failed rule: self.size != 7"),
    ]
    assert validate_object(widget({"name": "y", "size": 1}), reg) == []


def test_rules_run_per_array_item_and_per_map_value() -> None:
    reg = custom([])
    obj = widget({"items": [{"n": 1}, {"n": 0}], "limits": {"gpu": 11, "cpu": 2}})
    assert failing(validate_object(obj, reg)) == [
        ("spec.items[1]", "n > 0"),
        ("spec.limits.gpu", "at most 10"),
    ]


def test_uncompilable_rule_and_unknown_function_are_not_evaluated() -> None:
    reg = custom(
        [
            {"rule": "self.(", "message": "broken"},
            {"rule": "self.name.isSorted()", "message": "odd"},
            {"rule": "self.size", "message": "not a bool"},
        ]
    )
    findings = validate_object(widget({"name": "a", "size": 1}), reg)
    assert [f.severity for f in findings] == [Severity.NOT_EVALUATED] * 3
    assert "cannot be compiled" in findings[0].message
    assert "cannot be evaluated" in findings[1].message
    assert "not a bool" in findings[2].message


def test_rules_do_not_run_on_absent_values() -> None:
    reg = custom([])
    assert validate_object(widget({"name": "a"}), reg) == []


def test_each_rule_compiles_once_per_process(reg: SchemaRegistry) -> None:
    ng = nodegroup_without_scaling_config()
    validate_object(ng, reg)
    misses = _compile.cache_info().misses
    for _ in range(3):
        validate_object(nodegroup_without_scaling_config(), SchemaRegistry.default())
    assert _compile.cache_info().misses == misses
