"""Price and capacity catalog: EC2 accelerated instances, SageMaker hosting instances, EC2 vCPU quotas.

One catalog serves the cost policy, the cost report and the quota rule, so every $/h and quota code
has one source. The data lives in `aiplane/data/catalog/*.yaml`, each file with its own `source:` block.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

CATALOG_PACKAGE = "aiplane"
CATALOG_FOLDER = "data/catalog"
EC2_INSTANCES_FILE = "ec2-accelerated-instances.yaml"
SAGEMAKER_INSTANCES_FILE = "sagemaker-hosting-instances.yaml"
QUOTAS_FILE = "ec2-vcpu-quotas.yaml"
ENDPOINT_QUOTAS_FILE = "sagemaker-endpoint-quotas.yaml"

Manufacturer = Literal["nvidia", "aws"]
QuotaClass = Literal["p", "g", "inf", "trn", "standard"]
PurchaseOption = Literal["onDemand", "spot"]

# The EKS node group amiType each accelerator maker needs (reference section 7): AL2 GPU AMIs are end of life.
DEFAULT_AMI_TYPE: dict[str, str] = {"nvidia": "AL2023_x86_64_NVIDIA", "aws": "AL2023_x86_64_NEURON"}

# Instance family prefix -> EC2 vCPU quota class; "g" covers the shared "G and VT" quota.
_FAMILY_QUOTA_CLASS: tuple[tuple[str, str], ...] = (("inf", "inf"), ("trn", "trn"), ("p", "p"), ("g", "g"))

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class CatalogError(Exception):
    """A shipped catalog file is missing, unreadable or does not match its schema: a packaging bug."""


class UnknownInstanceType(KeyError, ValueError):
    """An instance type the catalog does not know; never priced as zero.

    Also a ValueError so a pydantic validator that looks a name up reports it as a field error.
    """

    def __init__(self, kind: str, name: str, known: Iterable[str]) -> None:
        self.kind = kind
        self.name = name
        self.known = sorted(known)
        self.suggestions = difflib.get_close_matches(name, self.known, n=3, cutoff=0.6)
        super().__init__(name)

    def __str__(self) -> str:
        message = f"unknown {self.kind} instance type {self.name!r}"
        if self.suggestions:
            return f"{message}; did you mean {', '.join(self.suggestions)}?"
        return f"{message}; known types: {', '.join(self.known)}"


class UnknownQuota(KeyError, ValueError):
    """A quota class or purchase option the quota table does not have."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)

    def __str__(self) -> str:
        return self.message


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Reference(_Frozen):
    """One place a file's numbers come from."""

    title: str
    url: str | None = None
    repository: str | None = None
    commit: str | None = None
    path: str | None = None
    note: str | None = None


class SourceBlock(_Frozen):
    """The top-level `source:` of a catalog file: where its numbers come from and when they were read."""

    summary: str
    retrieved: date
    references: list[Reference] = Field(min_length=1)
    uncertain: str | None = None


class _Uncertainty(_Frozen):
    uncertain: bool = False
    notes: str | None = None

    @model_validator(mode="after")
    def _uncertain_needs_a_note(self) -> _Uncertainty:
        if self.uncertain and not self.notes:
            raise ValueError("an entry marked uncertain must say why in `notes`")
        return self


class Ec2InstanceType(_Uncertainty):
    """An EC2 accelerated instance type with its us-east-1 Linux prices and the quota it consumes."""

    name: str = Field(pattern=r"^[a-z][a-z0-9-]*\.[a-z0-9]+$")
    vcpus: int = Field(gt=0)
    accelerator_count: int = Field(gt=0)
    accelerator_name: str
    accelerator_memory_gib: float = Field(gt=0)
    manufacturer: Manufacturer
    on_demand_usd_per_hour: float = Field(gt=0)
    spot_usd_per_hour_low: float | None = Field(default=None, gt=0)
    spot_usd_per_hour_high: float | None = Field(default=None, gt=0)
    quota_class: QuotaClass
    architecture: Literal["x86_64"]
    default_ami_type: str

    @model_validator(mode="after")
    def _consistent(self) -> Ec2InstanceType:
        low, high = self.spot_usd_per_hour_low, self.spot_usd_per_hour_high
        if (low is None) != (high is None):
            raise ValueError("give both spot_usd_per_hour_low and spot_usd_per_hour_high, or neither")
        if low is not None and high is not None and not low <= high <= self.on_demand_usd_per_hour:
            raise ValueError("spot range must satisfy low <= high <= on_demand_usd_per_hour")
        if self.default_ami_type != DEFAULT_AMI_TYPE[self.manufacturer]:
            raise ValueError(
                f"default_ami_type for {self.manufacturer} accelerators must be "
                f"{DEFAULT_AMI_TYPE[self.manufacturer]}, not {self.default_ami_type}"
            )
        expected_class = quota_class_for_family(self.family)
        if expected_class != self.quota_class:
            raise ValueError(
                f"family {self.family} belongs to quota class {expected_class}, not {self.quota_class}"
            )
        return self

    @property
    def family(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def expected_spot_discount(self) -> float | None:
        """1 - midpoint(spot range) / on-demand; None when the catalog has no spot price for the type."""
        if self.spot_usd_per_hour_low is None or self.spot_usd_per_hour_high is None:
            return None
        midpoint = (self.spot_usd_per_hour_low + self.spot_usd_per_hour_high) / 2
        return 1 - midpoint / self.on_demand_usd_per_hour


class SageMakerInstanceType(_Uncertainty):
    """A SageMaker real-time inference (`ml.*`) instance type; hosting has no spot price."""

    name: str = Field(pattern=r"^ml\.[a-z][a-z0-9-]*\.[a-z0-9]+$")
    ec2_equivalent: str | None = None
    vcpus: int = Field(gt=0)
    accelerator_count: int = Field(ge=0)
    accelerator_name: str | None = None
    on_demand_usd_per_hour: float = Field(gt=0)
    price_source: str

    @model_validator(mode="after")
    def _accelerator_named(self) -> SageMakerInstanceType:
        if (self.accelerator_count > 0) != (self.accelerator_name is not None):
            raise ValueError("accelerator_name is required exactly when accelerator_count > 0")
        return self


class QuotaCode(_Frozen):
    """One Service Quotas entry: EC2 (vCPUs, per quota class and purchase option) or SageMaker (instances of
    one type for endpoint usage: `quota_class` is the instance type, `purchase` is `endpoint`)."""

    code: str = Field(pattern=r"^L-[0-9A-F]{8}$")
    name: str
    source: str
    uncertain: bool = False
    note: str | None = None
    service_code: str = "ec2"
    quota_class: str = ""
    purchase: str = ""


class _QuotaClassEntry(_Frozen):
    description: str
    on_demand: QuotaCode = Field(alias="onDemand")
    spot: QuotaCode


class _Ec2File(_Frozen):
    source: SourceBlock
    units: dict[str, str]
    region: Literal["us-east-1"]
    operating_system: Literal["Linux"]
    instances: list[Ec2InstanceType] = Field(min_length=1)


class _SageMakerFile(_Frozen):
    source: SourceBlock
    units: dict[str, str]
    region: Literal["us-east-1"]
    instances: list[SageMakerInstanceType] = Field(min_length=1)


class _QuotaFile(_Frozen):
    source: SourceBlock
    service_code: Literal["ec2"]
    unit: Literal["vCPU"]
    classes: dict[QuotaClass, _QuotaClassEntry]


class _EndpointQuotaFile(_Frozen):
    source: SourceBlock
    service_code: Literal["sagemaker"]
    unit: Literal["instances"]
    instances: dict[str, QuotaCode]


def quota_class_for_family(family: str) -> str:
    """EC2 vCPU quota class of an instance family: p, g (G and VT), inf, trn, else standard."""
    for prefix, quota_class in _FAMILY_QUOTA_CLASS:
        if family.startswith(prefix):
            return quota_class
    return "standard"


def _normalise_purchase(purchase: str) -> str | None:
    # Accept the spellings callers already hold: EKS capacityType ON_DEMAND/SPOT, Karpenter on-demand/spot.
    key = purchase.replace("_", "").replace("-", "").lower()
    return {"ondemand": "onDemand", "spot": "spot"}.get(key)


@dataclass(frozen=True)
class Catalog:
    """The loaded catalog; look types up by name, never guess a price."""

    ec2_instances: Mapping[str, Ec2InstanceType]
    sagemaker_instances: Mapping[str, SageMakerInstanceType]
    quotas: Mapping[tuple[str, str], QuotaCode]
    source_blocks: Mapping[str, SourceBlock]
    # SageMaker "<type> for endpoint usage" quotas, by instance type: only codes a cited source states.
    endpoint_quotas: Mapping[str, QuotaCode] = field(default_factory=dict)

    def endpoint_quota(self, instance_type: str) -> QuotaCode | None:
        """The confirmed SageMaker endpoint quota of an instance type, or None (unmanaged)."""
        return self.endpoint_quotas.get(instance_type)

    def endpoint_quota_types(self) -> list[str]:
        return sorted(self.endpoint_quotas)

    def ec2_instance(self, name: str) -> Ec2InstanceType:
        try:
            return self.ec2_instances[name]
        except KeyError:
            raise UnknownInstanceType("EC2", name, self.ec2_instances) from None

    def ec2_instance_names(self) -> list[str]:
        return sorted(self.ec2_instances)

    def sagemaker_instance(self, name: str) -> SageMakerInstanceType:
        try:
            return self.sagemaker_instances[name]
        except KeyError:
            raise UnknownInstanceType("SageMaker", name, self.sagemaker_instances) from None

    def sagemaker_instance_names(self) -> list[str]:
        return sorted(self.sagemaker_instances)

    def quota(self, quota_class: str, purchase: str) -> QuotaCode:
        """Quota code for a class (p, g, inf, trn, standard) and purchase option (onDemand or spot)."""
        classes = sorted({c for c, _ in self.quotas})
        if quota_class not in classes:
            raise UnknownQuota(
                f"unknown EC2 quota class {quota_class!r}; known classes: {', '.join(classes)}"
            )
        option = _normalise_purchase(purchase)
        if option is None:
            raise UnknownQuota(f"unknown purchase option {purchase!r}; use onDemand or spot")
        return self.quotas[(quota_class, option)]

    def quota_for_instance(self, name: str, purchase: str) -> QuotaCode:
        return self.quota(self.ec2_instance(name).quota_class, purchase)

    @property
    def sources(self) -> dict[str, str]:
        """File name -> one-line source summary with its retrieval date, for reports."""
        return {
            file: f"{block.summary} (retrieved {block.retrieved.isoformat()})"
            for file, block in sorted(self.source_blocks.items())
        }

    def uncertain_entries(self) -> list[str]:
        """Human-readable list of every entry marked uncertain, for reports and reviews."""
        found = [f"EC2 {i.name}: {i.notes}" for i in self.ec2_instances.values() if i.uncertain]
        found += [f"SageMaker {i.name}: {i.notes}" for i in self.sagemaker_instances.values() if i.uncertain]
        found += [
            f"quota {q.quota_class}/{q.purchase} {q.code}: {q.note}"
            for q in self.quotas.values()
            if q.uncertain
        ]
        return sorted(found)


_M = TypeVar("_M", bound=BaseModel)
_T = TypeVar("_T", Ec2InstanceType, SageMakerInstanceType)


def _read(file: str) -> Any:
    resource = resources.files(CATALOG_PACKAGE).joinpath(CATALOG_FOLDER).joinpath(file)
    try:
        text = resource.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise CatalogError(f"{CATALOG_FOLDER}/{file}: cannot read: {err}") from None
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as err:
        raise CatalogError(f"{CATALOG_FOLDER}/{file}: YAML error: {err}") from None


def _parse(model: type[_M], file: str) -> _M:
    try:
        return model.model_validate(_read(file))
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}" for e in err.errors()
        )
        raise CatalogError(f"{CATALOG_FOLDER}/{file}: {problems}") from None


def _unique(items: list[_T], file: str) -> dict[str, _T]:
    by_name: dict[str, _T] = {}
    for item in items:
        if item.name in by_name:
            raise CatalogError(f"{CATALOG_FOLDER}/{file}: instance type {item.name} is listed twice")
        by_name[item.name] = item
    return by_name


def _quota_table(quota_file: _QuotaFile) -> dict[tuple[str, str], QuotaCode]:
    table: dict[tuple[str, str], QuotaCode] = {}
    for quota_class, entry in quota_file.classes.items():
        for purchase, code in (("onDemand", entry.on_demand), ("spot", entry.spot)):
            table[(quota_class, purchase)] = code.model_copy(
                update={
                    "service_code": quota_file.service_code,
                    "quota_class": quota_class,
                    "purchase": purchase,
                }
            )
    return table


@functools.cache
def load_catalog() -> Catalog:
    """Load and validate the shipped catalog once per process."""
    ec2 = _parse(_Ec2File, EC2_INSTANCES_FILE)
    sagemaker = _parse(_SageMakerFile, SAGEMAKER_INSTANCES_FILE)
    quotas = _parse(_QuotaFile, QUOTAS_FILE)
    endpoint_quotas = _parse(_EndpointQuotaFile, ENDPOINT_QUOTAS_FILE)
    catalog = Catalog(
        ec2_instances=_unique(ec2.instances, EC2_INSTANCES_FILE),
        sagemaker_instances=_unique(sagemaker.instances, SAGEMAKER_INSTANCES_FILE),
        quotas=_quota_table(quotas),
        source_blocks={
            EC2_INSTANCES_FILE: ec2.source,
            SAGEMAKER_INSTANCES_FILE: sagemaker.source,
            QUOTAS_FILE: quotas.source,
            ENDPOINT_QUOTAS_FILE: endpoint_quotas.source,
        },
        endpoint_quotas={
            name: code.model_copy(update={"service_code": "sagemaker", "quota_class": name, "purchase": "endpoint"})
            for name, code in endpoint_quotas.instances.items()
        },
    )
    unpriced = sorted(set(catalog.endpoint_quotas) - set(catalog.sagemaker_instances))
    if unpriced:
        raise CatalogError(
            f"{CATALOG_FOLDER}/{ENDPOINT_QUOTAS_FILE}: quota codes for types the catalog does not have: "
            f"{', '.join(unpriced)}"
        )
    missing = sorted({i.quota_class for i in catalog.ec2_instances.values()} - {c for c, _ in catalog.quotas})
    if missing:
        raise CatalogError(
            f"{CATALOG_FOLDER}/{QUOTAS_FILE}: no quota codes for class(es) {', '.join(missing)}"
        )
    return catalog
