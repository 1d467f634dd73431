"""Adapter 2: the guardrail rules as Pulumi CrossGuard policies, built from the same registry and run by
the same engine functions as `aiplane check`, so a rule is written once and judged alike in both places.

    from aiplane.policy.crossguard import build_policies
    PolicyPack("aiplane-guardrails", policies=build_policies(settings))   # policypacks/aiplane-guardrails

Rule → policy: a rule with a resource `check` becomes the ResourceValidationPolicy `<rule.id>`; a rule with
a `stack_check` becomes the StackValidationPolicy `<rule.id>`, or `<rule.id>-environment` when the rule
also has a resource check (policy names are unique in a pack). See docs/crossguard.md.

Pulumi resource → manifest (what rules judge):
- `kubernetes:<group>/<version>:<Kind>` (CustomResource, typed kinds; `core/v1` is apiVersion `v1`) and
  CRD provider extensions `<ext>:<group>/<version>:<Kind>` whose props carry `apiVersion` and `kind`:
  the props are the manifest;
- `aws:<module>/<resource>:<Type>` (pulumi-aws): `{"pulumiType", "kind", "metadata": {"name"}, "properties"}`;
- anything else (providers, components such as `kubernetes:yaml/v2:ConfigGroup`): not judged.

Unknown values (preview): a rule judges a fully read, plain copy of the props. Reading an unknown raises
pulumi_policy's UnknownValueError, which is left to propagate: the policy servicer turns it into its standard
ADVISORY "can't run policy ... during preview" diagnostic for that policy and resource, and no finding is
invented from a value nobody knows yet. `pulumi up` judges the same resource again with known inputs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidation,
    StackValidationArgs,
    StackValidationPolicy,
)

from aiplane.errors import InputError
from aiplane.policy import default_context
from aiplane.policy.config import WAIVER_PARAMS, RuleConfig, config_key, param_json_schema, resolve
from aiplane.policy.context import Manifest, RuleContext, plain
from aiplane.policy.engine import check_resource, check_stack
from aiplane.policy.model import Finding, Rule
from aiplane.policy.registry import all_rules
from aiplane.policy.waivers import faulty_waivers, today_utc, valid_waiver, waiver_field
from aiplane.project import Settings

PACK_NAME = "aiplane-guardrails"
# `<package>:<module>:<Type>`; Kubernetes modules are `<group>/<version>` (`core/v1` for the core group).
_TOKEN = re.compile(r"^(?P<package>[A-Za-z0-9_.-]+):(?P<module>[^:]+):(?P<type>[A-Za-z0-9_]+)$")
# pulumi-kubernetes modules whose resources are components or helpers, not one Kubernetes object.
_NON_OBJECT_MODULES = ("yaml", "helm.sh/", "kustomize")


def resource_policy_name(rule: Rule) -> str:
    """Policy names are the config keys, since the Pulumi CLI configures policies by name."""
    return config_key(rule, stack=False)


def stack_policy_name(rule: Rule) -> str:
    return config_key(rule, stack=True)


def policy_rules(rules: Sequence[Rule] | None = None) -> dict[str, str]:
    """Policy name → rule id, for every policy the pack defines."""
    out: dict[str, str] = {}
    for rule in rules if rules is not None else all_rules():
        if rule.check is not None:
            out[resource_policy_name(rule)] = rule.id
        if rule.stack_check is not None:
            out[stack_policy_name(rule)] = rule.id
    return out


def config_schema(rule: Rule) -> PolicyConfigSchema:
    """The rule's parameters, and the waiver parameters every rule takes, as the policy's config schema —
    the same types `aiplane check` validates with (aiplane.policy.config) — with their defaults."""
    defaults = {**rule.params, **WAIVER_PARAMS}
    return PolicyConfigSchema(
        properties={
            name: {**param_json_schema(rule, name), "default": plain(default, integral_floats=True)}
            for name, default in defaults.items()
        }
    )


def _kubernetes_type(token: str) -> tuple[str, str] | None:
    """(apiVersion, kind) named by a Kubernetes type token, or None when it names no single object."""
    match = _TOKEN.match(token)
    if match is None or "/" not in match["module"] or match["package"] == "aws":
        return None
    module = match["module"]
    if match["package"] == "kubernetes" and module.startswith(_NON_OBJECT_MODULES):
        return None
    return (module.removeprefix("core/"), match["type"])


def _header(resource_type: str, props: Mapping[str, Any], name: str) -> dict[str, Any] | None:
    """What selects rules (apiVersion, kind) — read before the rest, so an unknown elsewhere in the props
    only matters to the rules that judge this object."""
    if resource_type.startswith("aws:"):
        return {"pulumiType": resource_type, "kind": resource_type, "metadata": {"name": name}}
    named = _kubernetes_type(resource_type)
    if named is None:
        return None
    api_version, kind = props.get("apiVersion"), props.get("kind")
    carries_identity = isinstance(api_version, str) and isinstance(kind, str)
    if not resource_type.startswith("kubernetes:") and not carries_identity:
        return None  # a provider extension's resource is only judged when it carries its manifest identity
    return {
        "apiVersion": api_version if isinstance(api_version, str) else named[0],
        "kind": kind if isinstance(kind, str) else named[1],
    }


def to_manifest(resource_type: str, props: Mapping[str, Any], name: str) -> dict[str, Any] | None:
    """The object rules judge for a Pulumi resource (None: not judged). May raise UnknownValueError."""
    header = _header(resource_type, props, name)
    if header is None:
        return None
    if "pulumiType" in header:
        return {**header, "properties": plain(props, integral_floats=True)}
    return {**plain(props, integral_floats=True), **header}


def rule_config(rule: Rule, config: Mapping[str, Any] | None) -> RuleConfig:
    """The rule's parameters and waiver settings: its defaults overridden by the policy's config, as
    aiplane check resolves them (the servicer has already taken the enforcement level out of the config)."""
    entry = {k: v for k, v in plain(config or {}, integral_floats=True).items() if k != "enforcementLevel"}
    return resolve(rule, {rule.id: entry})


def rule_params(rule: Rule, config: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """The rule's parameters (rule_config without the waiver settings)."""
    return rule_config(rule, config).params


def _judge(
    rule: Rule, part: RuleConfig, findings: list[Finding], judged: Sequence[Manifest], ctx: RuleContext
) -> list[tuple[Manifest, str]]:
    """What a policy reports, waivers honoured as `aiplane check` honours them (aiplane.policy.waivers): a
    waived finding is not reported (CrossGuard has no "accepted" state); a faulty waiver on a judged object
    is reported, and the finding it meant to waive stands."""
    today = today_utc()
    out = [
        (f.obj, violation_message(rule, f))
        for f in findings
        if valid_waiver(f.obj, rule.id, part, ctx, today) is None
    ]
    for obj in judged:
        for index, problem in faulty_waivers(obj, rule.id, part, ctx, today):
            finding = Finding(
                obj, f"waiver {problem}", waiver_field(index), fix="correct or remove the waiver"
            )
            out.append((obj, violation_message(rule, finding)))
    return out


def config_message(err: InputError) -> str:
    """What the pack reports, instead of running the policy, when its config has a wrong value."""
    problems = "; ".join(p.message for p in err.problems)
    return f"invalid policy config: {problems}; the policy was not run (fix: correct --policy-pack-config)"


def violation_message(rule: Rule, finding: Finding) -> str:
    """`<field>: <message> (fix: <fix>)`; the servicer puts the policy description (the rule title) first."""
    text = f"{finding.field}: {finding.message}" if finding.field else finding.message
    fix = finding.fix or rule.fix
    return f"{text} (fix: {fix})" if fix else text


def _identity(obj: Manifest) -> tuple[str, str, str, str]:
    meta = obj.get("metadata") or {}
    return (
        str(obj.get("apiVersion", "")),
        str(obj.get("kind", "")),
        str(meta.get("namespace", "")),
        str(meta.get("name", "")),
    )


def _resource_validation(rule: Rule, ctx: RuleContext) -> ResourceValidation:
    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        header = _header(args.resource_type, args.props, args.name)
        if header is None or not rule.applies_to(header):
            return
        obj = to_manifest(args.resource_type, args.props, args.name)
        if obj is None:
            return
        try:
            part = rule_config(rule, args.get_config())
        except InputError as err:
            report(config_message(err), args.urn)  # fail closed: a wrong config is no pass
            return
        rule_ctx = replace(ctx, params=part.params)
        for _, message in _judge(rule, part, check_resource(rule, obj, rule_ctx), [obj], rule_ctx):
            report(message, args.urn)

    return validate


def _stack_validation(rule: Rule, ctx: RuleContext) -> StackValidation:
    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        objects: list[dict[str, Any]] = []
        urns: dict[tuple[str, str, str, str], str] = {}
        for resource in args.resources:
            obj = to_manifest(resource.resource_type, resource.props, resource.name)
            if obj is not None:
                objects.append(obj)
                urns.setdefault(_identity(obj), resource.urn)
        try:
            part = rule_config(rule, args.get_config())
        except InputError as err:
            report(config_message(err), None)
            return
        rule_ctx = replace(ctx, params=part.params)
        # Faulty waivers are reported by the resource policy when the rule has one (once, not twice).
        judged = objects if rule.check is None else []
        for about, message in _judge(rule, part, check_stack(rule, objects, rule_ctx), judged, rule_ctx):
            # A finding about no particular resource (or one that raised) is reported on the stack.
            report(message, urns.get(_identity(about)))

    return validate


def build_policies(
    settings: Settings, ctx: RuleContext | None = None, rules: Sequence[Rule] | None = None
) -> list[Policy]:
    """One policy per rule check, in registry order: resource policies for `check`, stack policies for
    `stack_check`, each with the rule's title, severity, fix, default enforcement and parameters."""
    if ctx is None:
        ctx = default_context(settings)
    policies: list[Policy] = []
    for rule in rules if rules is not None else all_rules():
        common: dict[str, Any] = {
            "description": rule.title,
            "enforcement_level": EnforcementLevel(rule.enforcement),
            "severity": Severity(rule.severity),
            "remediation_steps": rule.fix,
            "config_schema": config_schema(rule),
            "tags": ["aiplane", *sorted({k for k in rule.kinds if k != "*"})],
        }
        if rule.check is not None:
            policies.append(
                ResourceValidationPolicy(
                    resource_policy_name(rule), validate=_resource_validation(rule, ctx), **common
                )
            )
        if rule.stack_check is not None:
            policies.append(
                StackValidationPolicy(
                    stack_policy_name(rule), validate=_stack_validation(rule, ctx), **common
                )
            )
    return policies
