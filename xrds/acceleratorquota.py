"""AcceleratorQuota: one Service Quotas quota that accelerated capacity needs, in a region: the EC2 vCPU quota of
an accelerator class and purchase option (node pools), or the SageMaker "<type> for endpoint usage" instance
quota (endpoints).

One XR per quota (not a list in one XR): function-patch-and-transform composes a fixed set of
resources and cannot iterate a list, so each quota entry of an environment becomes its own XR. What is
composed and when a request is filed: aiplane.function.acceleratorquota.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from aiplane.authoring.api import (
    CommonSpec,
    PlatformAPI,
    PrinterColumn,
    QuotaAmount,
    immutable,
    most_critical,
)
from aiplane.catalog.fields import EndpointQuotaInstanceTypeName

QuotaClass = Literal["p", "g", "inf", "trn"]
Purchase = Literal["onDemand", "spot"]
Service = Literal["ec2", "sagemaker"]
EC2_FIELDS = ("class", "purchase", "vcpus")
SAGEMAKER_FIELDS = ("instanceType", "instances")


def _xrd_rules(schema: dict[str, Any]) -> None:
    """The XRD's half of `_fields_match_the_service`: an XR applied by hand gets the same refusal."""
    ec2 = " && ".join(f"has(self.{f})" for f in EC2_FIELDS)
    sagemaker = " && ".join(f"has(self.{f})" for f in SAGEMAKER_FIELDS)
    schema["x-kubernetes-validations"] = [
        {
            "rule": f"self.service != 'ec2' || ({ec2} && !has(self.instanceType) && !has(self.instances))",
            "message": "service ec2 takes class, purchase and vcpus (not instanceType or instances)",
        },
        {
            "rule": f"self.service != 'sagemaker' || ({sagemaker} && !has(self.purchase) && !has(self.vcpus))",
            "message": "service sagemaker takes instanceType and instances (not class, purchase or vcpus)",
        },
    ]


class AcceleratorQuotaSpec(CommonSpec):
    """The quota to have: EC2 vCPUs of an accelerator class and purchase option, or SageMaker endpoint
    instances of one type."""

    service: Service = Field(default="ec2", json_schema_extra=immutable("another service is another quota"))
    """ec2 (vCPUs of running instances per class) or sagemaker (instances of a type for endpoint usage)."""
    quotaClass: QuotaClass | None = Field(
        default=None, alias="class", json_schema_extra=immutable("another class is another quota")
    )
    """ec2: instance class the quota covers: p, g (G and VT), inf or trn."""
    purchase: Purchase | None = Field(default=None, json_schema_extra=immutable("another purchase option is another quota"))
    """ec2: onDemand (Running On-Demand instances) or spot (Spot Instance Requests)."""
    vcpus: int | None = Field(default=None, ge=1, le=100000)
    """ec2: quota value to have, in vCPUs; a quota is never lowered by aiplane."""
    instanceType: EndpointQuotaInstanceTypeName | None = Field(
        default=None, json_schema_extra=immutable("another instance type is another quota")
    )
    """sagemaker: the ml.* instance type (only types whose quota code the catalog has from a cited source)."""
    instances: int | None = Field(default=None, ge=1, le=10000)
    """sagemaker: quota value to have, in instances."""

    model_config = CommonSpec.model_config | {"json_schema_extra": _xrd_rules}

    @model_validator(mode="after")
    def _fields_match_the_service(self) -> AcceleratorQuotaSpec:
        values = {"class": self.quotaClass, "purchase": self.purchase, "vcpus": self.vcpus,
                  "instanceType": self.instanceType, "instances": self.instances}
        wanted, other = (EC2_FIELDS, SAGEMAKER_FIELDS) if self.service == "ec2" else (SAGEMAKER_FIELDS, EC2_FIELDS)
        missing = [f for f in wanted if values[f] is None]
        extra = [f for f in other if values[f] is not None]
        if missing or extra:
            raise ValueError(
                f"service {self.service} takes {', '.join(wanted)}"
                + (f"; missing {', '.join(missing)}" if missing else "")
                + (f"; not {', '.join(extra)}" if extra else "")
            )
        return self

    @property
    def requested(self) -> int:
        return int(self.vcpus if self.service == "ec2" else self.instances)  # type: ignore[arg-type]


class AcceleratorQuotaStatus(BaseModel):
    """What Service Quotas reports, and where the request stands (aiplane.function.acceleratorquota)."""

    quotaCode: str | None = None
    value: float | None = None
    """The value the account has now (applied, else AWS's default)."""
    requested: float | None = None
    """spec.vcpus or spec.instances: the value this XR asks for."""
    requestStatus: str | None = None
    """Status of the increase request aiplane filed, if it filed one (PENDING, CASE_OPENED, APPROVED, DENIED...)."""
    state: Literal["Observing", "Sufficient", "Requesting", "Pending", "Denied"] | None = None
    """Observing (value not known yet), Sufficient (value ≥ requested: nothing filed), Requesting (one
    request being filed), Pending (filed, open), Denied (closed without the value; not filed again)."""


def quota_supply(spec: AcceleratorQuotaSpec) -> list[QuotaAmount]:
    if spec.service == "sagemaker":
        return [QuotaAmount(spec.region, str(spec.instanceType), "endpoint", spec.requested, service="sagemaker")]
    return [QuotaAmount(spec.region, str(spec.quotaClass), str(spec.purchase), spec.requested)]


def _item(amount: QuotaAmount, total: int) -> dict[str, Any]:
    if amount.service == "sagemaker":
        return {
            "name": f"endpoint-{amount.quota_class.replace('.', '-')}-{amount.region}",
            "service": "sagemaker",
            "instanceType": amount.quota_class,
            "instances": total,
        }
    return {
        "name": f"{amount.quota_class}-{'on-demand' if amount.purchase == 'onDemand' else 'spot'}-{amount.region}",
        "class": amount.quota_class,
        "purchase": amount.purchase,
        "vcpus": total,
    }


def derive_auto(env: Any) -> list[dict[str, Any]]:
    """`quotas: auto`: per region and quota, Σ of what the environment's items need at max scale — node
    pools' vCPUs (maxSize × vCPUs) and endpoints' instances (where the quota code is confirmed)."""
    need: dict[tuple[str, str, str, str], int] = defaultdict(int)
    first: dict[tuple[str, str, str, str], QuotaAmount] = {}
    tiers: dict[tuple[str, str, str, str], list[str]] = defaultdict(list)
    for demand, tier in env.quota_demand():
        key = (demand.service, demand.region, demand.quota_class, demand.purchase)
        need[key] += demand.amount
        first.setdefault(key, demand)
        tiers[key].append(tier)
    items = []
    for key, total in sorted(need.items()):
        item = _item(first[key], total)
        # A quota serves its most critical consumer.
        items.append({**item, "region": key[1], "finops": {"tier": most_critical(tiers[key])}})
    return items


def identity(spec: AcceleratorQuotaSpec) -> tuple[str, ...]:
    # A ServiceQuota value is absolute: two requests for one quota would overwrite each other.
    if spec.service == "sagemaker":
        return (spec.region, "sagemaker", str(spec.instanceType))
    return (spec.region, "ec2", str(spec.quotaClass), str(spec.purchase))


API = PlatformAPI(
    kind="AcceleratorQuota",
    plural="acceleratorquotas",
    spec=AcceleratorQuotaSpec,
    status=AcceleratorQuotaStatus,
    description="A Service Quotas quota for accelerated capacity (EC2 vCPUs per accelerator class, or "
    "SageMaker endpoint instances per type): observed, and raised by one request only when the account "
    "has less; never lowered when deleted.",
    environment_key="quotas",
    printer_columns=(
        PrinterColumn("SERVICE", ".spec.service"),
        PrinterColumn("CLASS", ".spec.class"),
        PrinterColumn("TYPE", ".spec.instanceType"),
        PrinterColumn("REQUESTED", ".status.requested", "number"),
        PrinterColumn("CURRENT", ".status.value", "number"),
        PrinterColumn("STATE", ".status.state"),
    ),
    derive_auto=derive_auto,
    quota_supply=quota_supply,
    identity=identity,
)
