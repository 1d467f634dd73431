"""gpu-ami-supported: no Amazon Linux 2 AMIs (end of support 2025-11-26); NVIDIA AMIs for p/g
instances, Neuron AMIs for inf/trn (reference finops-and-ethics.md §7)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from aiplane.catalog.eks_amis import ami_problem, is_al2
from aiplane.crossplane.composed import composed_resources
from aiplane.policy.context import Manifest, RuleContext
from aiplane.policy.model import Finding, Rule


def ami_problem_for(ami: Any, instance_types: list[str], ctx: RuleContext) -> str | None:
    if not isinstance(ami, str):
        return None
    types = [ctx.catalog.ec2_instance(t) for t in instance_types]
    return ami_problem(ami, {t.manufacturer for t in types}, {t.architecture for t in types})


def check(obj: Manifest, ctx: RuleContext) -> Iterator[Finding]:
    if ctx.api_of(obj) is not None and obj.get("kind") == "GPUNodePool":
        spec = obj.get("spec") or {}
        problem = ami_problem_for(spec.get("amiType"), list(spec.get("instanceTypes") or []), ctx)
        if problem:
            yield Finding(obj, problem, "spec.amiType")
    elif obj.get("kind") == "NodeGroup":
        for_provider = (obj.get("spec") or {}).get("forProvider") or {}
        ami = for_provider.get("amiType")
        if isinstance(ami, str) and is_al2(ami):
            yield Finding(obj, ami_problem(ami, set()) or "", "spec.forProvider.amiType")
    elif obj.get("kind") == "Composition":
        for res in composed_resources(obj):
            ami = res.base_value("spec.forProvider.amiType")
            if res.kind == "NodeGroup" and isinstance(ami, str) and is_al2(ami):
                yield Finding(
                    obj,
                    f"composed NodeGroup {res.name!r}: {ami_problem(ami, set())}",
                    f"{res.field_prefix}.base.spec.forProvider.amiType",
                )


RULE = Rule(
    id="gpu-ami-supported",
    title="Supported GPU/accelerator AMI types",
    severity="high",
    enforcement="mandatory",
    kinds=("GPUNodePool", "NodeGroup", "Composition"),
    fix="AL2023_x86_64_NVIDIA for p/g instances, AL2023_x86_64_NEURON for inf/trn",
    check=check,
)
