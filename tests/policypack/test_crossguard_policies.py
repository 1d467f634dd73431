"""The CrossGuard policies in process, with the args the runtime builds (props behind pulumi_policy's
unknown-checking proxy): pulumi-aws resources, the resource → manifest mapping and the config schema."""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Mapping
from typing import Any

import pytest
from pulumi_policy import (
    Policy,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError, unknown_checking_proxy

from aiplane.policy import all_rules
from aiplane.policy.crossguard import build_policies, config_schema, rule_params, to_manifest
from aiplane.project import Settings
from aiplane.synthesis.pipeline import Synthesis

OPTS = PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])
BUDGET = "aws:budgets/budget:Budget"
FOUNDATION_TAGS = {
    "cost-center": "ml-research",
    "owner": "ml-platform",
    "environment": "dev",
    "tier": "production",
    "managed-by": "aiplane",
}
RULES = {r.id: r for r in all_rules()}


@pytest.fixture(scope="module")
def policies(settings: Settings) -> dict[str, Policy]:
    return {p.name: p for p in build_policies(settings)}


def resource_args(
    type_: str, props: dict[str, Any], name: str = "r", config: Mapping[str, Any] | None = None
) -> ResourceValidationArgs:
    return ResourceValidationArgs(
        type_,
        unknown_checking_proxy(props),
        f"urn:pulumi:dev::aiplane::{type_}::{name}",
        name,
        OPTS,
        None,
        dict(config or {}),
    )


def run_policy(policy: Policy, args: Any) -> list[tuple[str, str | None]]:
    """What a policy reports for `args`, awaiting the validation if it is asynchronous."""
    assert isinstance(policy, (ResourceValidationPolicy, StackValidationPolicy))
    found: list[tuple[str, str | None]] = []

    def report(message: str, urn: str | None = None) -> None:
        found.append((message, urn))

    result = policy.validate(args, report)
    if inspect.isawaitable(result):
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(result)
        finally:
            loop.close()
    return found


def budget(tags: dict[str, Any] | None) -> dict[str, Any]:
    props: dict[str, Any] = {
        "budgetType": "COST",
        "limitAmount": "2920",
        "limitUnit": "USD",
        "timeUnit": "MONTHLY",
    }
    return props if tags is None else {**props, "tags": tags}


def test_a_budget_without_finops_tags_is_refused(policies: dict[str, Policy]) -> None:
    args = resource_args(BUDGET, budget(None), "dev-ml-research")
    [(message, urn)] = run_policy(policies["finops-required-tags"], args)
    assert message.startswith(
        "properties.tags: missing FinOps tag(s) cost-center, owner, environment, tier, managed-by"
    )
    assert "(fix: " in message
    assert urn == args.urn


def test_a_budget_with_the_finops_tags_passes(policies: dict[str, Policy]) -> None:
    assert run_policy(policies["finops-required-tags"], resource_args(BUDGET, budget(FOUNDATION_TAGS))) == []


def test_a_budget_tag_outside_the_vocabulary_is_refused(policies: dict[str, Policy]) -> None:
    reports = run_policy(
        policies["finops-required-tags"], resource_args(BUDGET, budget({**FOUNDATION_TAGS, "tier": "Gold"}))
    )
    assert [m.split(":")[0] for m, _ in reports] == ["properties.tags[tier]", "properties.tags[tier]"]


def test_other_tagged_aws_resources_are_judged_by_their_tags_untagged_ones_are_not(
    policies: dict[str, Policy],
) -> None:
    policy = policies["finops-required-tags"]
    partly = {k: v for k, v in FOUNDATION_TAGS.items() if k != "owner"}
    [(message, _)] = run_policy(
        policy, resource_args("aws:kms/key:Key", {"description": "k", "tags": partly})
    )
    assert "missing FinOps tag(s) owner" in message
    assert run_policy(policy, resource_args("aws:iam/rolePolicy:RolePolicy", {"policy": "{}"})) == []


def test_the_policy_config_overrides_the_rule_defaults(policies: dict[str, Policy]) -> None:
    config = {"allowedValues": {"tier": ["production"]}, "tagKeys": ["cost-center"]}
    tags = {"cost-center": "ml-research", "tier": "batch"}
    reports = run_policy(policies["finops-required-tags"], resource_args(BUDGET, budget(tags), config=config))
    assert [m.split(":")[0] for m, _ in reports] == ["properties.tags[tier]"]


def test_reading_an_unknown_tag_at_preview_raises_for_the_servicer_to_report(
    policies: dict[str, Policy],
) -> None:
    args = resource_args(BUDGET, budget({**FOUNDATION_TAGS, "owner": UNKNOWN_STRING_VALUE}))
    with pytest.raises(UnknownValueError) as raised:
        run_policy(policies["finops-required-tags"], args)
    assert raised.value.message == "string value at .tags.owner can't be known during preview"


def test_an_unknown_value_only_matters_to_the_rules_that_judge_the_object(
    policies: dict[str, Policy],
) -> None:
    props = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "ai-dev", "uid": UNKNOWN_STRING_VALUE},
    }
    args = resource_args("kubernetes:core/v1:Namespace", props)
    assert run_policy(policies["gpu-ami-supported"], args) == []
    with pytest.raises(UnknownValueError):
        run_policy(policies["finops-required-tags"], args)  # applies to every kind


def test_a_stack_finding_is_reported_on_the_resource_it_concerns(
    policies: dict[str, Policy], synthesis: Synthesis
) -> None:
    """A spot pool registered without its environment record: spot-eligibility cannot tell whether the
    environment allows the tier, and says so on the pool."""
    pool = next(
        m.obj
        for m in synthesis.for_environment("dev")
        if m.obj["kind"] == "GPUNodePool" and m.obj["spec"]["capacity"] != "onDemand"
    )
    token = f"kubernetes:{pool['apiVersion']}:GPUNodePool"
    urn = f"urn:pulumi:dev::aiplane::{token}::pool"
    props = json.loads(json.dumps(pool))
    resource = PolicyResource(token, unknown_checking_proxy(props), urn, "pool", OPTS, None, None, [], {})
    reports = run_policy(policies["spot-eligibility-environment"], StackValidationArgs([resource], {}))
    assert [(m.split(":")[0], u) for m, u in reports] == [("metadata.namespace", urn)]


@pytest.mark.parametrize(
    ("token", "props", "expected"),
    [
        (
            "kubernetes:core/v1:ConfigMap",
            {"metadata": {"name": "c"}, "data": {"a": "1"}},
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1"}},
        ),
        (
            "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole",
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "r"}},
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "r"}},
        ),
        (
            "crossplane:s3.aws.m.upbound.io/v1beta1:Bucket",
            {
                "apiVersion": "s3.aws.m.upbound.io/v1beta1",
                "kind": "Bucket",
                "metadata": {"name": "b"},
                "spec": {"forProvider": {"region": "us-east-1"}, "replicas": 3.0, "ratio": 0.5},
            },
            {
                "apiVersion": "s3.aws.m.upbound.io/v1beta1",
                "kind": "Bucket",
                "metadata": {"name": "b"},
                "spec": {"forProvider": {"region": "us-east-1"}, "replicas": 3, "ratio": 0.5},
            },
        ),
        ("crossplane:s3.aws.m.upbound.io/v1beta1:Bucket", {"metadata": {"name": "b"}}, None),
        ("kubernetes:yaml/v2:ConfigGroup", {"objs": [{"apiVersion": "v1", "kind": "Namespace"}]}, None),
        ("kubernetes:helm.sh/v4:Chart", {"chart": "x"}, None),
        ("pulumi:providers:kubernetes", {"context": "dev"}, None),
        ("random:index/randomId:RandomId", {"byteLength": 8.0}, None),
        (
            BUDGET,
            {"tags": {"owner": "x"}, "limitAmount": "1"},
            {
                "pulumiType": BUDGET,
                "kind": BUDGET,
                "metadata": {"name": "r"},
                "properties": {"tags": {"owner": "x"}, "limitAmount": "1"},
            },
        ),
    ],
)
def test_pulumi_resources_map_to_the_objects_rules_judge(
    token: str, props: dict[str, Any], expected: dict[str, Any] | None
) -> None:
    assert to_manifest(token, unknown_checking_proxy(props), "r") == expected


def test_the_config_schema_types_and_defaults_come_from_the_rule_parameters() -> None:
    schema = config_schema(RULES["spot-eligibility"])
    waiving = {
        "waivable": {"type": "boolean", "default": True},
        "maxWaiverDays": {"type": "integer", "minimum": 0, "maximum": 36500, "default": 365},
    }
    assert schema.properties == {
        "minOnDemandBase": {"type": "integer", "minimum": 0, "default": 1},
        "minSpotNodes": {"type": "integer", "minimum": 0, "default": 2},
        **waiving,
    }
    tags = config_schema(RULES["finops-required-tags"])
    assert tags.properties["tagKeys"]["items"] == {"type": "string"}
    assert tags.properties["allowedValues"]["type"] == "object"
    assert tags.properties["allowedValues"]["additionalProperties"]["items"] == {"type": "string"}
    ethics = config_schema(RULES["ethics-monitor-attached"])
    assert ethics.properties["minDisparateImpactRatio"] == {
        "type": "number", "minimum": 0, "maximum": 1, "default": 0.8}
    # A rule without parameters still takes the waiver settings (aiplane.policy.waivers).
    assert config_schema(RULES["gpu-ami-supported"]).properties == waiving


def test_rule_parameters_from_the_servicer_are_the_defaults_overridden_by_the_config() -> None:
    rule = RULES["spot-eligibility"]
    assert rule_params(rule, None) == {"minOnDemandBase": 1, "minSpotNodes": 2}
    # Struct numbers arrive as floats; counts are ints again, as in the YAML the gate reads.
    params = rule_params(rule, {"minOnDemandBase": 3.0})
    assert params == {"minOnDemandBase": 3, "minSpotNodes": 2}
    assert isinstance(params["minOnDemandBase"], int)
