"""What every platform API shares: the PlatformAPI descriptor and the common spec blocks.

A platform API module in `xrds/` declares a pydantic spec model and a `PlatformAPI`; the XRD schema,
the environment file's item model and the validation of XRs all derive from that one model.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from aiplane.authoring.formats import LabelValue
from aiplane.catalog.instances import Catalog
from aiplane.docstrings import AttributeDocstrings

Tier = Literal["production-critical", "production", "batch", "experimental"]
TIERS: tuple[Tier, ...] = ("production-critical", "production", "batch", "experimental")


def most_critical(tiers: Iterable[str]) -> Tier:
    """The most critical of some tiers (TIERS is ordered from most to least critical)."""
    wanted = set(tiers)
    return next(t for t in TIERS if t in wanted)


# AWS region names (us-east-1, eu-central-2, ap-southeast-5, us-gov-west-1).
REGION_PATTERN = r"^[a-z]{2}(-[a-z]+)+-[0-9]$"
# EC2 subnet IDs: `subnet-` and 8 or 17 hex digits (AWS EC2 User Guide, "Resource IDs": longer IDs have 17).
SUBNET_ID_PATTERN = r"^subnet-([0-9a-f]{8}|[0-9a-f]{17})$"
# Environment names are part of AWS names; the APIs' item name bounds (PlatformAPI.max_name_length) assume this.
ENVIRONMENT_NAME_MAX = 20
# Kubernetes object names (RFC 1123 subdomain labels), used for item names.
NAME_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"


class Spec(AttributeDocstrings, BaseModel):
    """Base of every spec model: unknown keys are errors, attribute docstrings become descriptions."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class FinOps(Spec):
    """Cost ownership of a workload; patched into every composed resource's AWS tags and labels."""

    # Copied into Kubernetes labels (aiplane.io/cost-center, aiplane.io/owner): label-value rules, ≤ 63.
    costCenter: LabelValue = Field(min_length=1, max_length=63)
    """Cost center billed for this workload (AWS tag `cost-center`)."""
    owner: LabelValue = Field(min_length=1, max_length=63)
    """Team or person accountable for the workload (AWS tag `owner`)."""
    tier: Tier
    """Business criticality; decides whether spot capacity is allowed."""
    spotEligible: bool = False
    """The workload tolerates spot interruptions (2-minute notice)."""
    maxCostPerHour: float | None = Field(default=None, gt=0)
    """Ceiling of the worst-case cost in USD per hour; aiplane check refuses more."""


def labels_match(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    """Kubernetes `matchLabels` semantics: every selector label present with the same value."""
    return all(labels.get(key) == value for key, value in selector.items())


IMMUTABLE_RULE = "self == oldSelf"


def immutable(why: str) -> dict[str, Any]:
    """`json_schema_extra` of a field that may never change after creation (a CEL transition rule, which the
    API server checks on every update; an XR applied by hand gets the same refusal): what identifies a
    resource holding data or quota, whose change the provider would refuse as a replacement."""
    return {"x-kubernetes-validations": [{"rule": IMMUTABLE_RULE, "message": f"immutable: {why}"}]}


class ProviderConfigRef(Spec):
    """Which AWS ProviderConfig the composed managed resources use."""

    kind: Literal["ProviderConfig", "ClusterProviderConfig"] = "ProviderConfig"
    """ProviderConfig (namespaced: the one in the XR's own namespace, which synth writes per environment) or
    ClusterProviderConfig (cluster-wide, which you provide)."""
    name: str = Field(default="aiplane", min_length=1, max_length=253)
    """Name of the provider config."""


class CommonSpec(Spec):
    """Fields every aiplane platform API has."""

    region: str = Field(pattern=REGION_PATTERN, json_schema_extra=immutable("every composed AWS resource lives there"))
    """AWS region of the composed resources (immutable)."""
    providerConfigRef: ProviderConfigRef = Field(default_factory=ProviderConfigRef)
    """AWS provider config of the composed managed resources."""
    finops: FinOps
    """Cost center, owner, tier, spot eligibility and cost ceiling."""


@dataclass(frozen=True)
class PrinterColumn:
    """A `kubectl get` column of the XR kind."""

    name: str
    json_path: str
    type: Literal["string", "integer", "number", "boolean", "date"] = "string"
    description: str = ""


@dataclass(frozen=True)
class HourlyCost:
    """USD per hour of one workload: worst case (everything on-demand at max scale) and expected
    (spot capacity at the environment's expected discount)."""

    worst_case: float
    expected: float
    # The uncertain prices (with why) the figure rests on; filled by `priced_hourly_cost`, not by the hooks.
    uncertain: tuple[str, ...] = ()
    region: str = ""


@dataclass(frozen=True)
class QuotaAmount:
    """An amount of one Service Quotas quota in a region: EC2 vCPUs (class p|g|inf|trn, purchase
    onDemand|spot), or SageMaker endpoint instances (class: the ml.* instance type, purchase `endpoint`)."""

    region: str
    quota_class: str
    purchase: str
    amount: int
    service: Literal["ec2", "sagemaker"] = "ec2"

    @property
    def unit(self) -> str:
        return "vCPUs" if self.service == "ec2" else "instances"


@dataclass(frozen=True)
class PlatformAPI:
    """A platform API: one XR kind, its spec/status models and where environments declare it.

    The optional hooks keep the engine generic: it asks each API, never a hard-coded kind, how an
    environment completes an item, which Composition serves a spec, what it costs and which EC2
    accelerator quota it needs or supplies.
    """

    kind: str
    plural: str
    spec: type[CommonSpec]
    description: str
    environment_key: str
    status: type[BaseModel] | None = None
    printer_columns: tuple[PrinterColumn, ...] = ()
    categories: tuple[str, ...] = ("aiplane",)
    # Environment-specific completion of one item (dict in, dict out): resolve references, fill
    # values the environment supplies beyond the common ones (region, providerConfigRef, finops).
    complete: Callable[[dict[str, Any], Any], dict[str, Any]] | None = None
    # Required spec fields (dotted paths) an environment item may leave out because `complete` or the model
    # fills them (for an object: field by field, so nothing inside it is required either); the environment
    # file's JSON Schema (synthesis.environment_schema) does not require them.
    optional_in_environment: tuple[str, ...] = ()
    # Items derived when the environment says `auto` (e.g. quotas from node pools).
    derive_auto: Callable[[Any], list[dict[str, Any]]] | None = None
    # compositionSelector labels choosing the Composition variant that serves a spec.
    composition_labels: Callable[[Any], Mapping[str, str]] | None = None
    # (spec, regional catalog, spot discount) -> HourlyCost. The worst case (all on-demand at max scale) and the
    # prices consulted must not depend on the discount, only the expected figure may: the rules reuse a figure
    # priced at another discount for the worst case (RuleContext.worst_case_cost).
    hourly_cost: Callable[[Any, Any, float], HourlyCost] | None = None
    quota_demand: Callable[[Any, Any], list[QuotaAmount]] | None = None
    quota_supply: Callable[[Any], list[QuotaAmount]] | None = None
    # The AWS object an item manages (e.g. a bucket name): two items with the same identity would fight
    # over one object, so an environment may not declare both.
    identity: Callable[[Any], tuple[str, ...]] | None = None
    # The longest item name whose derived names all fit their limits, and which derived name decides it.
    # Default: the engine names composed resources `<xr name>-<12 hex>`, a Kubernetes name (≤ 63).
    max_name_length: int = 50
    name_limit: str = "composed resources are named <name>-<12 hex characters>, at most 63"

    @property
    def version(self) -> str:
        return "v1alpha1"


def priced_hourly_cost(api: PlatformAPI, spec: Any, catalog: Catalog, spot_discount: float) -> HourlyCost | None:
    """An item's cost at the prices of its own region (`spec.region`), noting every uncertain price it rests
    on; None for APIs that cost nothing by themselves. A region or type the catalog cannot price raises
    (RegionNotCatalogued, NotOfferedInRegion): never another region's price, never $0."""
    if api.hourly_cost is None:
        return None
    view = catalog.in_region(spec.region).recording()
    cost = api.hourly_cost(spec, view, spot_discount)
    # Built directly: dataclasses.replace re-inspects the fields on every call (per priced workload).
    return HourlyCost(cost.worst_case, cost.expected, tuple(view.uncertain_prices()), spec.region)
