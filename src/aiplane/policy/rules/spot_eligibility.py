"""spot-eligibility: spot capacity only for workloads that tolerate interruption, in tiers the
environment allows on spot; production-critical pools on spot need an on-demand base."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from aiplane.policy.context import Manifest, RuleContext
from aiplane.policy.model import Finding, Rule


def check(obj: Manifest, ctx: RuleContext) -> Iterator[Finding]:
    if ctx.api_of(obj) is None:
        return
    spec: Any = ctx.spec_of(obj)  # a GPUNodePool's (kinds below)
    capacity, finops = spec.capacity, spec.finops
    if capacity == "onDemand":
        return
    if not finops.spotEligible:
        yield Finding(
            obj,
            f"capacity {capacity} but spec.finops.spotEligible is false",
            "spec.capacity",
            fix="use capacity onDemand, or mark the workload spotEligible once it tolerates "
            "2-minute interruptions",
        )
    if finops.tier == "production-critical":
        base = spec.onDemandBaseSize or 0
        min_base, min_spot = ctx.params["minOnDemandBase"], ctx.params["minSpotNodes"]
        if capacity != "mixed" or base < min_base or spec.scaling.minSize < min_spot:
            yield Finding(
                obj,
                f"production-critical on spot needs capacity mixed with onDemandBaseSize >= "
                f"{min_base} and minSize >= {min_spot} (has capacity {capacity}, "
                f"onDemandBaseSize {base}, minSize {spec.scaling.minSize})",
                "spec.capacity",
                fix=f"capacity: mixed, onDemandBaseSize: {min_base}+, scaling.minSize: {min_spot}+",
            )


def stack_check(objects: list[Manifest], ctx: RuleContext) -> Iterator[Finding]:
    """The environment decides which tiers may run on spot at all."""
    records = ctx.environment_records()
    for obj in ctx.xrs("GPUNodePool"):
        spec: Any = ctx.spec_of(obj)
        if spec.capacity == "onDemand":
            continue
        record = records.get(str(obj["metadata"].get("namespace", "")))
        tier = spec.finops.tier
        if record is None:
            yield Finding(
                obj,
                "no aiplane-environment record in this namespace: cannot tell whether the "
                "environment allows this tier on spot",
                "metadata.namespace",
            )
        elif tier not in record.spot_allowed_tiers:
            yield Finding(
                obj,
                f"environment {record.name} does not allow tier {tier} on spot "
                f"(allowed: {', '.join(record.spot_allowed_tiers) or 'none'})",
                "spec.finops.tier",
                fix="run it on-demand, or allow the tier in the environment's finops.spot.allowedTiers",
            )


RULE = Rule(
    id="spot-eligibility",
    title="Spot capacity only where interruptions are acceptable",
    severity="high",
    enforcement="mandatory",
    kinds=("GPUNodePool",),
    fix="use on-demand capacity or make the workload spot-eligible",
    check=check,
    stack_check=stack_check,
    params={"minOnDemandBase": 1, "minSpotNodes": 2},
)
