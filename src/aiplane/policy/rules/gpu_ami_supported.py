"""gpu-ami-supported: no Amazon Linux 2 AMIs (end of support 2025-11-26); NVIDIA AMIs for p/g
instances, Neuron AMIs for inf/trn (reference finops-and-ethics.md §7)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from aiplane.policy.compositions import composed_resources
from aiplane.policy.context import RuleContext, plain
from aiplane.policy.model import Finding, Manifest, Rule

NVIDIA = (
    "AL2023_x86_64_NVIDIA",
    "AL2023_ARM_64_NVIDIA",
    "BOTTLEROCKET_x86_64_NVIDIA",
    "BOTTLEROCKET_ARM_64_NVIDIA",
)
NEURON = ("AL2023_x86_64_NEURON",)


def ami_problem(ami: Any, instance_types: list[str], ctx: RuleContext) -> str | None:
    if not isinstance(ami, str):
        return None
    if ami.startswith("AL2_"):
        return f"amiType {ami} is Amazon Linux 2 (EKS AL2 AMIs reached end of support on 2025-11-26)"
    makers = {ctx.catalog.ec2_instance(t).manufacturer for t in instance_types}
    if makers == {"aws"} and ami not in NEURON:
        return f"amiType {ami} has no Neuron driver for {', '.join(instance_types)}"
    if makers == {"nvidia"} and ami not in NVIDIA:
        return f"amiType {ami} has no NVIDIA driver for {', '.join(instance_types)}"
    return None


def check(obj: Manifest, ctx: RuleContext) -> Iterator[Finding]:
    obj = plain(obj)
    if ctx.api_of(obj) is not None and obj.get("kind") == "GPUNodePool":
        spec = obj.get("spec") or {}
        problem = ami_problem(spec.get("amiType"), list(spec.get("instanceTypes") or []), ctx)
        if problem:
            yield Finding(obj, problem, "spec.amiType")
    elif obj.get("kind") == "NodeGroup":
        for_provider = (obj.get("spec") or {}).get("forProvider") or {}
        ami = for_provider.get("amiType")
        if isinstance(ami, str) and ami.startswith("AL2_"):
            yield Finding(obj, ami_problem(ami, [], ctx) or "", "spec.forProvider.amiType")
    elif obj.get("kind") == "Composition":
        for res in composed_resources(obj):
            ami = res.base_value("spec.forProvider.amiType")
            if res.kind == "NodeGroup" and isinstance(ami, str) and ami.startswith("AL2_"):
                yield Finding(
                    obj,
                    f"composed NodeGroup {res.name!r}: {ami_problem(ami, [], ctx)}",
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
