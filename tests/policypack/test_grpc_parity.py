"""The policy pack, driven through the interface the Pulumi CLI uses (a `python -m pulumi.policy` process
serving pulumirpc.Analyzer over gRPC), refuses exactly what `aiplane check` refuses."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from google.protobuf import empty_pb2
from pack_client import (
    REPO,
    Pack,
    Reported,
    analyze_all,
    analyze_request,
    analyze_stack_request,
    cli_policy_config,
    configure_request,
    object_key,
    urn_of,
)
from pulumi.runtime import proto
from pulumi_policy.proxy import UNKNOWN_ARRAY_VALUE, UNKNOWN_NUMBER_VALUE, UNKNOWN_STRING_VALUE

from aiplane.policy import all_rules, default_context, run_rules
from aiplane.policy.context import RuleContext
from aiplane.policy.crossguard import PACK_NAME, policy_rules, stack_policy_name
from aiplane.project import Settings
from aiplane.synthesis.pipeline import Synthesis

FIXTURES = REPO / "tests" / "policy" / "fixtures"
FIXTURE_FILES = sorted(FIXTURES.glob("*/*.yaml"))
SHIPPED_CONFIG = json.loads((REPO / "policypacks" / "aiplane-guardrails" / "policy-config.json").read_text())
SHIPPED_ENVIRONMENTS = sorted(p.stem for p in (REPO / "environments").glob("*.yaml"))
RULES = {r.id: r for r in all_rules()}
POLICY_RULES = policy_rules()

Comparable = tuple[str, str, tuple[str, str, str] | None, str]


@pytest.fixture(scope="module")
def pack() -> Iterator[Pack]:
    running = Pack()
    yield running
    assert running.stop() == 0, f"the pack did not stop cleanly:\n{running.stderr()}"


@pytest.fixture(scope="module")
def info(pack: Pack) -> Any:
    return pack.stub.GetAnalyzerInfo(empty_pb2.Empty())


@pytest.fixture(scope="module")
def ctx(settings: Settings) -> RuleContext:
    return default_context(settings)


def configure(pack: Pack, info: Any, config_file: Mapping[str, Any]) -> None:
    config, errors = cli_policy_config(info, config_file)
    assert errors == [], "the CLI would refuse this --policy-pack-config"
    pack.stub.Configure(configure_request(config))


def load_objects(path: Path) -> list[dict[str, Any]]:
    return [o for o in yaml.safe_load_all(path.read_text(encoding="utf-8")) if isinstance(o, dict)]


def as_rules(reports: Sequence[Reported]) -> list[Comparable]:
    """Pack diagnostics as (rule, level, object, message): the policy name mapped to its rule."""
    return sorted((POLICY_RULES[r.policy], r.level, r.obj, r.message) for r in reports)


def gate(
    objects: Sequence[Mapping[str, Any]], ctx: RuleContext, config: Mapping[str, Any]
) -> list[Comparable]:
    """What `aiplane check` reports for the same objects and config, in the pack's message format
    (`<policy description>\\n<field>: <message> (fix: <fix>)`)."""
    keys = {object_key(o) for o in objects}
    out = []
    for v in run_rules(objects, ctx, config):
        if v.status != "open":  # waived findings and unused waivers: CrossGuard has no such states
            continue
        text = f"{v.field}: {v.message}" if v.field else v.message
        message = f"{RULES[v.rule].title}\n{text}" + (f" (fix: {v.fix})" if v.fix else "")
        key = (v.kind, v.namespace, v.name)
        out.append((v.rule, v.enforcement, key if key in keys else None, message))
    return sorted(out)


def test_the_pack_lists_one_policy_per_rule_check_with_the_rules_metadata(info: Any) -> None:
    assert info.name == PACK_NAME
    policies = {p.name: p for p in info.policies}
    expected = {rule.id: proto.PolicyType.POLICY_TYPE_RESOURCE for rule in RULES.values() if rule.check}
    expected |= {
        stack_policy_name(rule): proto.PolicyType.POLICY_TYPE_STACK
        for rule in RULES.values()
        if rule.stack_check
    }
    assert {name: p.policy_type for name, p in policies.items()} == expected
    assert set(POLICY_RULES.values()) == set(RULES), "every rule is enforced by some policy"
    for name, policy in policies.items():
        rule = RULES[POLICY_RULES[name]]
        assert policy.description == rule.title
        assert policy.remediation_steps == rule.fix
        assert (
            policy.enforcementLevel
            == {"mandatory": proto.MANDATORY, "advisory": proto.ADVISORY}[rule.enforcement]
        )
        # The rule's parameters, and the waiver settings every rule takes (aiplane.policy.waivers).
        assert set(policy.configSchema.properties) == set(rule.params) | {"waivable", "maxWaiverDays"}
    assert (
        policies["max-cost-per-hour-environment"].configSchema.properties["defaultSpotDiscount"]["type"]
        == "number"
    )


def test_the_shipped_policy_config_validates_against_the_policies_schemas(info: Any) -> None:
    config, errors = cli_policy_config(info, SHIPPED_CONFIG)
    assert errors == []
    assert config["spot-eligibility"]["properties"]["minOnDemandBase"] == 1
    assert config["spot-savings-opportunity"]["level"] == "advisory"


def test_a_policy_config_of_the_wrong_type_is_refused_as_the_cli_would(info: Any) -> None:
    _, errors = cli_policy_config(info, {"spot-eligibility": {"minOnDemandBase": "one"}})
    assert len(errors) == 1 and errors[0].startswith("spot-eligibility: ")


def stack_objects(synthesis: Synthesis, env: str) -> list[dict[str, Any]]:
    """What the platform stack of `env` registers: the platform and that environment's objects."""
    return [m.obj for m in synthesis.for_environment(env)]


@pytest.mark.parametrize("env", SHIPPED_ENVIRONMENTS)
def test_the_shipped_environments_pass_the_pack_as_they_pass_the_gate(
    env: str, pack: Pack, info: Any, synthesis: Synthesis, ctx: RuleContext
) -> None:
    objects = stack_objects(synthesis, env)
    assert len({urn_of(o) for o in objects}) == len(objects)
    assert any(o["kind"] == "GPUNodePool" for o in objects)
    configure(pack, info, SHIPPED_CONFIG)
    reports = analyze_all(pack.stub, objects)
    assert [r for r in reports if r.level == "mandatory"] == []
    assert as_rules(reports) == gate(objects, ctx, SHIPPED_CONFIG)


def test_every_rule_has_a_failing_fixture_for_the_parity_test() -> None:
    failing = {path.parent.name for path in FIXTURE_FILES if path.name.startswith("fail")}
    assert failing == set(RULES)


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_the_pack_reports_what_the_gate_reports_for_every_fixture(
    path: Path, pack: Pack, info: Any, ctx: RuleContext
) -> None:
    objects = load_objects(path)
    configure(pack, info, SHIPPED_CONFIG)
    reports = as_rules(analyze_all(pack.stub, objects))
    assert reports == gate(objects, ctx, SHIPPED_CONFIG)
    for rule_id, count in re.findall(r"^# expect: (\S+) (\d+)", path.read_text(encoding="utf-8"), re.M):
        assert sum(r[0] == rule_id for r in reports) == int(count)
    if path.name.startswith("pass"):
        assert reports == []


CONFIG_CASES: dict[str, tuple[dict[str, Any], list[str]]] = {
    "all-advisory": (
        {"all": "advisory"},
        [
            "max-cost-per-hour/fail-environment-budget.yaml",
            "spot-eligibility/fail.yaml",
            "bucket-security/fail.yaml",
        ],
    ),
    "stricter-ethics-bounds": (
        {
            "ethics-monitor-attached": {
                "maxDemographicParityDifference": 0.01,
                "minDisparateImpactRatio": 0.95,
            }
        },
        ["ethics-monitor-attached/pass.yaml"],
    ),
    "levels-per-rule": (
        {
            "spot-eligibility": "disabled",
            "max-cost-per-hour": {"enforcementLevel": "advisory"},
            "spot-savings-opportunity": "mandatory",
        },
        ["spot-eligibility/fail.yaml", "max-cost-per-hour/fail.yaml", "spot-savings-opportunity/fail.yaml"],
    ),
    "rule-parameters": (
        {"spot-eligibility": {"minOnDemandBase": 3}, "max-cost-per-hour": {"requireMaxCostPerHour": True}},
        ["spot-eligibility/pass.yaml"],
    ),
}


@pytest.mark.parametrize("case", sorted(CONFIG_CASES))
def test_levels_and_parameters_from_the_policy_config_reach_the_pack_as_they_reach_the_gate(
    case: str, pack: Pack, info: Any, ctx: RuleContext
) -> None:
    config, files = CONFIG_CASES[case]
    configure(pack, info, config)
    try:
        for name in files:
            objects = load_objects(FIXTURES / name)
            reports = as_rules(analyze_all(pack.stub, objects))
            assert reports == gate(objects, ctx, config), name
            assert reports != gate(objects, ctx, SHIPPED_CONFIG), f"{name}: the config changes nothing"
    finally:
        configure(pack, info, SHIPPED_CONFIG)


def test_the_environment_part_of_a_rule_is_configured_under_its_own_policy_name(
    pack: Pack, info: Any
) -> None:
    """A rule with both checks is two policies; --policy-pack-config addresses them by name."""
    objects = load_objects(FIXTURES / "max-cost-per-hour" / "fail-environment-budget.yaml")
    configure(pack, info, {"max-cost-per-hour": "advisory"})
    try:
        assert {(r.policy, r.level) for r in analyze_all(pack.stub, objects)} == {
            ("max-cost-per-hour-environment", "mandatory")
        }
        configure(pack, info, {"max-cost-per-hour-environment": "advisory"})
        assert {(r.policy, r.level) for r in analyze_all(pack.stub, objects)} == {
            ("max-cost-per-hour-environment", "advisory")
        }
    finally:
        configure(pack, info, SHIPPED_CONFIG)


def _shipped_pool(synthesis: Synthesis) -> dict[str, Any]:
    pools = [o for o in stack_objects(synthesis, "dev") if o["kind"] == "GPUNodePool"]
    return copy.deepcopy(sorted(pools, key=object_key)[0])


def test_an_unknown_value_at_preview_is_an_advisory_never_a_false_mandatory_violation(
    pack: Pack, info: Any, synthesis: Synthesis
) -> None:
    configure(pack, info, SHIPPED_CONFIG)
    pool = _shipped_pool(synthesis)
    pool["spec"]["finops"]["costCenter"] = UNKNOWN_STRING_VALUE
    pool["spec"]["scaling"]["maxSize"] = UNKNOWN_NUMBER_VALUE
    pool["spec"]["instanceTypes"] = UNKNOWN_ARRAY_VALUE
    diagnostics = pack.stub.Analyze(analyze_request(pool)).diagnostics
    applying = {r.id for r in RULES.values() if r.check is not None and r.applies_to(pool)}
    assert {d.policyName for d in diagnostics} == applying
    for d in diagnostics:
        assert d.enforcementLevel == proto.ADVISORY
        assert d.message.startswith(f"can't run policy '{d.policyName}' from policy pack '{PACK_NAME}")
        assert "can't be known during preview" in d.message


def test_an_unknown_value_hides_a_known_violation_only_until_the_update(pack: Pack, info: Any) -> None:
    configure(pack, info, SHIPPED_CONFIG)
    [nodegroup] = load_objects(FIXTURES / "gpu-ami-supported" / "fail-al2.yaml")
    known = pack.stub.Analyze(analyze_request(nodegroup)).diagnostics
    assert [(d.policyName, d.enforcementLevel) for d in known] == [("gpu-ami-supported", proto.MANDATORY)]
    previewed = copy.deepcopy(nodegroup)
    previewed["spec"]["forProvider"]["tags"]["owner"] = UNKNOWN_STRING_VALUE
    diagnostics = pack.stub.Analyze(analyze_request(previewed)).diagnostics
    assert {(d.policyName, d.enforcementLevel) for d in diagnostics} == {
        ("gpu-ami-supported", proto.ADVISORY),
        ("finops-required-tags", proto.ADVISORY),
        ("max-cost-per-hour", proto.ADVISORY),
    }


def test_an_unknown_value_in_the_stack_makes_the_stack_policies_advisory(
    pack: Pack, info: Any, synthesis: Synthesis
) -> None:
    configure(pack, info, SHIPPED_CONFIG)
    objects = copy.deepcopy(stack_objects(synthesis, "dev"))
    record = next(
        o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "aiplane-environment"
    )
    record["data"]["budgetPerHour"] = UNKNOWN_STRING_VALUE
    diagnostics = pack.stub.AnalyzeStack(analyze_stack_request(objects)).diagnostics
    stack_policies = {stack_policy_name(r) for r in RULES.values() if r.stack_check is not None}
    assert {d.policyName for d in diagnostics} == stack_policies
    assert {d.enforcementLevel for d in diagnostics} == {proto.ADVISORY}


def _waived(objects: list[dict[str, Any]], waivers: list[dict[str, str]]) -> list[dict[str, Any]]:
    """The objects with `waivers` on the GPUNodePool, as synth writes them (aiplane.synthesis.waivers)."""
    out = copy.deepcopy(objects)
    (pool,) = [o for o in out if o["kind"] == "GPUNodePool"]
    pool["metadata"].setdefault("annotations", {})["aiplane.io/waivers"] = json.dumps(waivers)
    return out


def _in_days(days: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=days)).isoformat()


WAIVER_CASES: dict[str, tuple[list[dict[str, str]], dict[str, Any], int]] = {
    # (waivers, policy config, max-cost-per-hour reports expected from both adapters)
    "valid": ([{"rule": "max-cost-per-hour", "reason": "approved burst", "expires": _in_days(30)}], {}, 0),
    "expired": ([{"rule": "max-cost-per-hour", "reason": "approved burst", "expires": _in_days(-1)}], {}, 2),
    "no-reason": ([{"rule": "max-cost-per-hour", "reason": " ", "expires": _in_days(30)}], {}, 2),
    "too-long": ([{"rule": "max-cost-per-hour", "reason": "approved burst", "expires": _in_days(400)}], {}, 2),
    "shorter-maximum": (
        [{"rule": "max-cost-per-hour", "reason": "approved burst", "expires": _in_days(30)}],
        {"max-cost-per-hour": {"maxWaiverDays": 7}},
        2,
    ),
    "not-waivable": (
        [{"rule": "max-cost-per-hour", "reason": "approved burst", "expires": _in_days(30)}],
        {"max-cost-per-hour": {"waivable": False}},
        2,
    ),
    "other-rule": ([{"rule": "bucket-security", "reason": "not this rule", "expires": _in_days(30)}], {}, 1),
}


@pytest.mark.parametrize("case", sorted(WAIVER_CASES))
def test_waivers_are_honoured_by_the_pack_as_by_the_gate(case: str, pack: Pack, info: Any, ctx: RuleContext) -> None:
    waivers, overrides, expected = WAIVER_CASES[case]
    config = {**SHIPPED_CONFIG, **overrides}
    objects = _waived(load_objects(FIXTURES / "max-cost-per-hour" / "fail.yaml"), waivers)
    configure(pack, info, config)
    try:
        reports = as_rules(analyze_all(pack.stub, objects))
        assert reports == gate(objects, ctx, config)
        assert sum(r[0] == "max-cost-per-hour" for r in reports) == expected
        # A faulty waiver is reported beside the finding it meant to waive, which stands.
        assert sum("waiver" in r[3] for r in reports) == (1 if expected == 2 else 0)
    finally:
        configure(pack, info, SHIPPED_CONFIG)
