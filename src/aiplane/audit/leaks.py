"""Cost leaks: GPU/accelerator capacity and SageMaker endpoints created around Git without FinOps tags.

Nobody can be charged for capacity nobody owns. An EC2 instance of an accelerated family (catalog
quota classes p, g, inf, trn) is unmanaged unless it belongs to a declared EKS node group (EKS tags its
instances with `eks:cluster-name` and `eks:nodegroup-name`); an endpoint is unmanaged unless Git
declares it. Each leak carries the catalog's on-demand $/h; an unknown price is said, never zero.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from aiplane.audit.findings import ENDPOINT, INSTANCE, Finding, ResourceRef
from aiplane.audit.live import LiveEndpoint, LiveInstance
from aiplane.authoring.composing import COST_ALLOCATION_TAG_KEYS
from aiplane.catalog.instances import RegionalCatalog, quota_class_for_family

ACCELERATED_CLASSES = frozenset({"p", "g", "inf", "trn"})
# The cost-allocation keys; managed-by and xr-name are aiplane's own bookkeeping, not ownership.


def missing_cost_tags(tags: Mapping[str, str]) -> list[str]:
    return [key for key in COST_ALLOCATION_TAG_KEYS if not tags.get(key)]


def is_accelerated(instance_type: str) -> bool:
    return quota_class_for_family(instance_type.split(".", 1)[0]) in ACCELERATED_CLASSES


def _price_text(usd: float | None, unknown: Iterable[str] = ()) -> str:
    names = ", ".join(sorted(set(unknown)))
    if usd is None:
        return f"price unknown ({names} not in the catalog)" if names else "price unknown"
    return f"${usd:.2f}/h on demand"


def unmanaged_instances(
    instances: Iterable[LiveInstance],
    tags_by_arn: Mapping[str, Mapping[str, str]],
    managed_node_groups: set[tuple[str, str]],
    catalog: RegionalCatalog | None,
) -> list[Finding]:
    """Accelerated instances outside declared node groups that lack a cost-allocation tag, priced at their
    region's catalog (`catalog`: None when the catalog has no prices for that region)."""
    found: list[Finding] = []
    priced = catalog.ec2_instances if catalog is not None else {}
    for instance in instances:
        if not is_accelerated(instance.instance_type):
            continue
        tags = {**instance.tags, **tags_by_arn.get(instance.arn, {})}
        if (tags.get("eks:cluster-name", ""), tags.get("eks:nodegroup-name", "")) in managed_node_groups:
            continue
        missing = missing_cost_tags(tags)
        if not missing:
            continue
        known = priced.get(instance.instance_type)
        usd = known.on_demand_usd_per_hour if known else None
        price = _price_text(usd, [] if known else [instance.instance_type])
        found.append(
            _untagged(
                ResourceRef(INSTANCE, instance.arn),
                missing,
                f"{instance.state} {instance.lifecycle} {instance.instance_type} outside any declared node "
                f"group, missing tags {', '.join(missing)}: {price}",
                usd,
            )
        )
    return found


def unmanaged_endpoints(
    endpoints: Iterable[LiveEndpoint], declared: set[str], catalog: RegionalCatalog | None
) -> list[Finding]:
    """Endpoints Git does not declare that lack a cost-allocation tag, priced by their variants at their
    region's catalog (None when it has no prices for that region)."""
    found: list[Finding] = []
    priced = catalog.sagemaker_instances if catalog is not None else {}
    for endpoint in endpoints:
        if endpoint.name in declared:
            continue
        missing = missing_cost_tags(endpoint.tags)
        if not missing:
            continue
        unknown = [
            v.instance_type or "?"
            for v in endpoint.variants
            if v.instance_type not in priced
        ]
        usd: float | None = None
        if endpoint.variants and not unknown:
            usd = round(
                sum(
                    priced[str(v.instance_type)].on_demand_usd_per_hour
                    * (v.instance_count or 1)
                    for v in endpoint.variants
                ),
                4,
            )
        shape = ", ".join(f"{v.instance_count or 1} x {v.instance_type}" for v in endpoint.variants)
        found.append(
            _untagged(
                ResourceRef(ENDPOINT, endpoint.name),
                missing,
                f"{endpoint.status} endpoint ({shape or 'no variants'}) not declared in Git, "
                f"missing tags {', '.join(missing)}: {_price_text(usd, unknown)}",
                usd,
            )
        )
    return found


def _untagged(ref: ResourceRef, missing: list[str], message: str, usd: float | None) -> Finding:
    """A cost leak: capacity nobody can be charged for, with the FinOps tag keys it lacks."""
    return Finding(
        "cost-leak",
        ref,
        "tags",
        list(COST_ALLOCATION_TAG_KEYS),
        sorted(k for k in COST_ALLOCATION_TAG_KEYS if k not in missing),
        message,
        usd,
    )
