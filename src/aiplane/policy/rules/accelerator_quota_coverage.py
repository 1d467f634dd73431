"""accelerator-quota-coverage: per account and region, the quotas the AcceleratorQuotas ask for cover what
the workloads need at max scale (otherwise scale-out, or the endpoint's creation, fails): each EC2 vCPU quota
(accelerator class × purchase option) Σ maxSize × vCPUs of the node pools, and each SageMaker endpoint quota
with a confirmed code (instance type) Σ instanceCount of the endpoints.

Quotas belong to the AWS account, not to a namespace: pools of every environment in one account add up,
and a ServiceQuota value is absolute, so two AcceleratorQuotas for the same quota overwrite each other
(reported, and the smaller one is what may end up applied)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from aiplane.policy.context import Manifest, RuleContext
from aiplane.policy.model import Finding, Rule

QuotaKey = tuple[str, str, str, str, str]  # account (or namespace when unknown), service, region, class, purchase


def stack_check(objects: list[Manifest], ctx: RuleContext) -> Iterator[Finding]:
    accounts = {
        ns: record.account_id for ns, record in ctx.environment_records().items() if record.account_id
    }
    need: dict[QuotaKey, int] = defaultdict(int)
    consumers: dict[QuotaKey, list[Manifest]] = defaultdict(list)
    suppliers: dict[QuotaKey, list[tuple[Manifest, int]]] = defaultdict(list)
    for obj in ctx.xrs():
        api = ctx.api_of(obj)
        if api is None:
            continue
        namespace = str(obj["metadata"].get("namespace", ""))
        owner = accounts.get(namespace, f"namespace {namespace}")
        if api.quota_demand is not None:
            for amount in api.quota_demand(ctx.spec_of(obj), ctx.catalog):
                key: QuotaKey = (owner, amount.service, amount.region, amount.quota_class, amount.purchase)
                need[key] += amount.amount
                consumers[key].append(obj)
        if api.quota_supply is not None:
            for amount in api.quota_supply(ctx.spec_of(obj)):
                suppliers[(owner, amount.service, amount.region, amount.quota_class, amount.purchase)].append(
                    (obj, amount.amount)
                )
    for key, supplied in sorted(suppliers.items()):
        if len(supplied) > 1:
            names = ", ".join(
                f"{o['metadata'].get('namespace')}/{o['metadata']['name']} ({v})" for o, v in supplied
            )
            yield Finding(
                supplied[0][0],
                f"{len(supplied)} AcceleratorQuotas set the same quota in {key[0]} "
                f"{key[2]} ({names}); each overwrites the other",
                "spec.vcpus" if key[1] == "ec2" else "spec.instances",
                fix="declare each quota once per account and region (one environment owns it)",
            )
    for key, needed in sorted(need.items()):
        owner, service, region, quota_class, purchase = key
        # Overwriting requests: only the smallest is sure to hold.
        have = min((v for _, v in suppliers.get(key, [])), default=0)
        if have >= needed:
            continue
        names = ", ".join(
            sorted(f"{o['metadata'].get('namespace')}/{o['metadata']['name']}" for o in consumers[key])
        )
        if service == "ec2":
            code = ctx.catalog.quota(quota_class, purchase).code
            yield Finding(
                consumers[key][0],
                f"{owner} {region} {quota_class}-class {purchase} quota ({code}) requested {have} vCPUs, "
                f"node pools need {needed} at max scale ({names})",
                "spec.scaling.maxSize",
                fix="set the environment's quotas to auto, or raise the AcceleratorQuota vcpus",
            )
        else:
            endpoint_quota = ctx.catalog.endpoint_quota(quota_class)
            code = endpoint_quota.code if endpoint_quota else "no confirmed code"
            yield Finding(
                consumers[key][0],
                f"{owner} {region} SageMaker {quota_class} for endpoint usage quota ({code}) requested {have} "
                f"instances, endpoints need {needed} ({names})",
                "spec.instanceCount",
                fix="set the environment's quotas to auto, or raise the AcceleratorQuota instances",
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
