"""finops-required-tags: every workload names its cost center, owner and tier, and every taggable AWS
resource carries the FinOps tags, with values in the organisation's vocabulary."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from aiplane.authoring.api import TIERS
from aiplane.authoring.composing import COST_ALLOCATION_TAG_KEYS, FINOPS_TAG_KEYS
from aiplane.crossplane.composed import composed_resources
from aiplane.policy.config import NonEmptyStrings, RegularExpression, StrictStr
from aiplane.policy.context import Manifest, RuleContext
from aiplane.policy.model import Finding, Rule

REQUIRED_XR_FIELDS = ("costCenter", "owner", "tier")
# pulumi-aws resources judged by this rule: FinOps spend objects and the foundation's resources.
PULUMI_TAGGED_PREFIXES = ("aws:",)


def _value_problems(ctx: RuleContext, key: str, value: Any) -> list[str]:
    pattern = ctx.params["valuePattern"]
    allowed = ctx.params.get("allowedValues", {}).get(key)
    if isinstance(value, str) and (allowed is None or isinstance(allowed, (list, tuple))):
        # Judged once per distinct value: thousands of XRs share a few cost centers, owners and tiers.
        return list(_string_problems(key, value, pattern, None if allowed is None else tuple(allowed)))
    return _problems(key, value, pattern, allowed)


@lru_cache(maxsize=4096)
def _string_problems(key: str, value: str, pattern: str, allowed: tuple[Any, ...] | None) -> tuple[str, ...]:
    return tuple(_problems(key, value, pattern, allowed))


def _problems(key: str, value: Any, pattern: str, allowed: Any) -> list[str]:
    problems = []
    if not isinstance(value, str) or not re.fullmatch(pattern, value):
        problems.append(f"{key} {value!r} does not match {pattern}")
    # Exact membership in a list: a string here would make `in` a substring test.
    if allowed is not None and (isinstance(allowed, str) or value not in list(allowed)):
        problems.append(f"{key} {value!r} is not one of {', '.join(allowed)}")
    return problems


def _check_xr(obj: Manifest, ctx: RuleContext) -> Iterator[Finding]:
    finops = ((obj.get("spec") or {}).get("finops")) or {}
    for key in REQUIRED_XR_FIELDS:
        if not finops.get(key):
            yield Finding(obj, f"spec.finops.{key} is missing", f"spec.finops.{key}")
            continue
        for problem in _value_problems(ctx, key, finops[key]):
            yield Finding(obj, problem, f"spec.finops.{key}")


def _check_composition(obj: Manifest, ctx: RuleContext) -> Iterator[Finding]:
    tag_keys = ctx.params["tagKeys"]
    for res in composed_resources(obj):
        if not ctx.taggable(res.api_version, res.kind):
            continue
        base_tags = res.base_value("spec.forProvider.tags") or {}
        missing = [
            k for k in tag_keys if k not in base_tags and not res.writes(f"spec.forProvider.tags[{k}]")
        ]
        if missing:
            yield Finding(
                obj,
                f"composed {res.kind} {res.name!r} does not get tag(s) {', '.join(missing)}",
                f"{res.field_prefix}.base.spec.forProvider.tags",
                fix="apply the finops-tags patch set (CompositionContext.aws_resource does)",
            )


def _check_managed(obj: Manifest, ctx: RuleContext) -> Iterator[Finding]:
    """A managed resource or pulumi-aws resource outside a Composition: its own tags."""
    if "pulumiType" in obj:
        tags = (obj.get("properties") or {}).get("tags") or {}
        keys = [k for k in ctx.params["tagKeys"] if k != "xr-name"]
    else:
        if not ctx.taggable(str(obj.get("apiVersion", "")), str(obj.get("kind", ""))):
            return
        if (obj.get("spec") or {}).get("managementPolicies") == ["Observe"]:
            # Observed, never written (e.g. an environment's existing subnets): aiplane creates no cost
            # there and could not tag it; an observe-only MR's forProvider tags would never be applied.
            return
        tags = ((obj.get("spec") or {}).get("forProvider") or {}).get("tags") or {}
        keys = list(ctx.params["tagKeys"])
    field = "properties.tags" if "pulumiType" in obj else "spec.forProvider.tags"
    missing = [k for k in keys if k not in tags]
    if missing:
        yield Finding(obj, f"missing FinOps tag(s) {', '.join(missing)}", field)
    for key in COST_ALLOCATION_TAG_KEYS:
        if key in tags:
            for problem in _value_problems(ctx, key, tags[key]):
                yield Finding(obj, problem, f"{field}[{key}]")


def check(obj: Manifest, ctx: RuleContext) -> Iterator[Finding]:
    if ctx.api_of(obj) is not None:
        yield from _check_xr(obj, ctx)
    elif obj.get("kind") == "Composition":
        yield from _check_composition(obj, ctx)
    elif "pulumiType" in obj:
        if (
            str(obj["pulumiType"]).startswith(PULUMI_TAGGED_PREFIXES)
            and "tags" in (obj.get("properties") or {})
        ) or str(obj["pulumiType"]) in ctx.params["pulumiTypesRequiringTags"]:
            yield from _check_managed(obj, ctx)
    elif ".aws.m.upbound.io/" in str(obj.get("apiVersion", "")):
        yield from _check_managed(obj, ctx)


RULE = Rule(
    id="finops-required-tags",
    title="FinOps tags on every workload and AWS resource",
    severity="high",
    enforcement="mandatory",
    kinds=("*",),
    fix="set spec.finops.costCenter/owner/tier (the environment fills costCenter and owner), and tag "
    "AWS resources with cost-center, owner, environment, tier, managed-by",
    check=check,
    params={
        "tagKeys": list(FINOPS_TAG_KEYS),
        # Lowercase kebab-case, portable to GCP labels and AWS cost allocation (reference §4).
        "valuePattern": r"^[a-z0-9]+(-[a-z0-9]+)*$",
        "allowedValues": {"tier": list(TIERS)},
        "pulumiTypesRequiringTags": ["aws:budgets/budget:Budget"],
    },
    param_types={"valuePattern": RegularExpression, "allowedValues": dict[StrictStr, NonEmptyStrings]},
)
