"""accelerator-quota-coverage: per region, accelerator class and purchase option, the requested EC2
vCPU quota covers Σ maxSize × vCPUs of the node pools that need it (otherwise scale-out fails)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from aiplane.policy.context import RuleContext
from aiplane.policy.model import Finding, Manifest, Rule


def stack_check(objects: list[Manifest], ctx: RuleContext) -> Iterator[Finding]:
    need: dict[tuple[str, str, str, str], int] = defaultdict(int)
    consumers: dict[tuple[str, str, str, str], list[Manifest]] = defaultdict(list)
    have: dict[tuple[str, str, str, str], int] = defaultdict(int)
    for obj in ctx.xrs():
        api = ctx.api_of(obj)
        namespace = str(obj["metadata"].get("namespace", ""))
        if api is None:
            continue
        if api.quota_demand is not None:
            for amount in api.quota_demand(ctx.spec_of(obj), ctx.catalog):
                key = (namespace, amount.region, amount.quota_class, amount.purchase)
                need[key] += amount.vcpus
                consumers[key].append(obj)
        if api.quota_supply is not None:
            for amount in api.quota_supply(ctx.spec_of(obj)):
                have[(namespace, amount.region, amount.quota_class, amount.purchase)] += amount.vcpus
    for key, vcpus in sorted(need.items()):
        namespace, region, quota_class, purchase = key
        if have[key] < vcpus:
            code = ctx.catalog.quota(quota_class, purchase).code
            names = ", ".join(sorted(str(o["metadata"]["name"]) for o in consumers[key]))
            yield Finding(
                consumers[key][0],
                f"{region} {quota_class}-class {purchase} quota ({code}) requested {have[key]} vCPUs, "
                f"node pools need {vcpus} at max scale ({names})",
                "spec.scaling.maxSize",
                fix="set the environment's quotas to auto, or raise the AcceleratorQuota vcpus",
            )


RULE = Rule(
    id="accelerator-quota-coverage",
    title="Accelerator quotas cover the node pools' maximum scale",
    severity="high",
    enforcement="mandatory",
    kinds=(),
    fix="quotas: auto, or raise the quota",
    stack_check=stack_check,
)
