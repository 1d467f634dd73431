"""AcceleratorQuota: one EC2 vCPU quota for an accelerator class and purchase option in a region.

One XR per quota (not a list in one XR): function-patch-and-transform composes a fixed set of
resources and cannot iterate a list, so each quota entry of an environment becomes its own XR.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Literal

from pydantic import BaseModel, Field

from aiplane.authoring.api import CommonSpec, PlatformAPI, PrinterColumn, QuotaAmount, most_critical

QuotaClass = Literal["p", "g", "inf", "trn"]
Purchase = Literal["onDemand", "spot"]


class AcceleratorQuotaSpec(CommonSpec):
    """The vCPU quota to request for one accelerator class and purchase option."""

    quotaClass: QuotaClass = Field(alias="class")
    """Instance class the quota covers: p, g (G and VT), inf or trn."""
    purchase: Purchase
    """onDemand (Running On-Demand instances) or spot (Spot Instance Requests)."""
    vcpus: int = Field(ge=1, le=100000)
    """Quota value to request, in vCPUs; a quota is never lowered by aiplane."""


class AcceleratorQuotaStatus(BaseModel):
    """What Service Quotas reports, and where the request stands (aiplane.function.acceleratorquota)."""

    quotaCode: str | None = None
    value: float | None = None
    """The value the account has now (applied, else AWS's default)."""
    requested: float | None = None
    """spec.vcpus, the value this XR asks for."""
    requestStatus: str | None = None
    """Status of the increase request aiplane filed, if it filed one (PENDING, CASE_OPENED, APPROVED, DENIED...)."""
    state: Literal["Observing", "Sufficient", "Requesting", "Pending", "Denied"] | None = None
    """Observing (value not known yet), Sufficient (value ≥ requested: nothing filed), Requesting (one
    request being filed), Pending (filed, open), Denied (closed without the value; not filed again)."""


def quota_supply(spec: AcceleratorQuotaSpec) -> list[QuotaAmount]:
    return [QuotaAmount(spec.region, spec.quotaClass, spec.purchase, spec.vcpus)]


def derive_auto(env: Any) -> list[dict[str, Any]]:
    """`quotas: auto`: Σ maxSize × vCPUs of the environment's node pools, per region, class, purchase."""
    need: dict[tuple[str, str, str], int] = defaultdict(int)
    tiers: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for demand, tier in env.quota_demand():
        key = (demand.region, demand.quota_class, demand.purchase)
        need[key] += demand.vcpus
        tiers[key].append(tier)
    items = []
    for (region, quota_class, purchase), vcpus in sorted(need.items()):
        items.append(
            {
                "name": f"{quota_class}-{'on-demand' if purchase == 'onDemand' else 'spot'}-{region}",
                "region": region,
                "class": quota_class,
                "purchase": purchase,
                "vcpus": vcpus,
                # A quota serves its most critical consumer.
                "finops": {"tier": most_critical(tiers[(region, quota_class, purchase)])},
            }
        )
    return items


API = PlatformAPI(
    kind="AcceleratorQuota",
    plural="acceleratorquotas",
    spec=AcceleratorQuotaSpec,
    status=AcceleratorQuotaStatus,
    description="An EC2 vCPU quota for GPU/accelerator instances: observed, and raised by one Service Quotas "
    "request only when the account has less; never lowered when deleted.",
    environment_key="quotas",
    printer_columns=(
        PrinterColumn("CLASS", ".spec.class"),
        PrinterColumn("PURCHASE", ".spec.purchase"),
        PrinterColumn("VCPUS", ".spec.vcpus", "integer"),
        PrinterColumn("CURRENT", ".status.value", "number"),
        PrinterColumn("STATE", ".status.state"),
    ),
    derive_auto=derive_auto,
    quota_supply=quota_supply,
    # A ServiceQuota value is absolute: two requests for one quota would overwrite each other.
    identity=lambda spec: (spec.region, spec.quotaClass, spec.purchase),
)
