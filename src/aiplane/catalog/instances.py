"""Price and capacity catalog: EC2 accelerated and SageMaker hosting instance types (hardware), their prices
and availability per region, and the EC2 vCPU and SageMaker endpoint quota codes.

One catalog serves the cost policy, the cost report, the quota rule and the audit, so every $/h and quota
code has one source. The data lives in `aiplane/data/catalog/` (hardware and quotas) and
`aiplane/data/catalog/prices/<region>/<service>.yaml` (prices, aiplane.catalog.prices), each file with its own
`source:` block; a project's own price files (`aiplane catalog refresh`) replace the shipped ones for their
region and service. Prices are only ever read for a region (`Catalog.in_region`): never another region's.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, Field, ValidationError, model_validator

from aiplane import DATA
from aiplane.catalog.prices import (
    PRICES_FOLDER,
    SERVICES,
    Ec2Price,
    PriceFile,
    PriceFileError,
    SageMakerPrice,
    SpotSummary,
    parse_price_file,
    price_file_path,
)
from aiplane.catalog.sources import Frozen
from aiplane.catalog.sources import Source as SourceBlock

CATALOG_FOLDER = "data/catalog"
_CATALOG = DATA.parent / CATALOG_FOLDER
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
    """A shipped or project catalog file is missing, unreadable or does not match its schema."""


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


def refresh_command(region: str, service: str | None = None) -> str:
    """The command that fetches a region's prices from AWS, for messages that send the user there."""
    return f"aiplane catalog refresh --region {region}" + (f" --service {service}" if service else "")


class RegionNotCatalogued(KeyError, ValueError):
    """A region the catalog holds no prices for: costs there are refused, never taken from another region."""

    def __init__(self, region: str, catalogued: Iterable[str]) -> None:
        self.region = region
        self.catalogued = sorted(catalogued)
        super().__init__(region)

    def __str__(self) -> str:
        return (
            f"the price catalog has no data for region {self.region} (it has: "
            f"{', '.join(self.catalogued) or 'none'}); run `{refresh_command(self.region)}` to fetch its "
            "prices from AWS"
        )


class NotOfferedInRegion(KeyError, ValueError):
    """A catalogued instance type its region does not offer, or that the region's price data does not cover."""

    def __init__(self, kind: str, name: str, region: str, message: str) -> None:
        self.kind = kind
        self.name = name
        self.region = region
        self.message = message
        super().__init__(name)

    def __str__(self) -> str:
        return self.message


class UnknownQuota(KeyError, ValueError):
    """A quota class or purchase option the quota table does not have."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)

    def __str__(self) -> str:
        return self.message


class Ec2InstanceType(Frozen):
    """An EC2 accelerated instance type: its hardware and the quota it consumes (the same in every region)."""

    name: str = Field(pattern=r"^[a-z][a-z0-9-]*\.[a-z0-9]+$")
    vcpus: int = Field(gt=0)
    accelerator_count: int = Field(gt=0)
    accelerator_name: str
    accelerator_memory_gib: float = Field(gt=0)
    manufacturer: Manufacturer
    quota_class: QuotaClass
    architecture: Literal["x86_64"]
    default_ami_type: str

    @model_validator(mode="after")
    def _consistent(self) -> Ec2InstanceType:
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


class SageMakerInstanceType(Frozen):
    """A SageMaker real-time inference (`ml.*`) instance type's hardware; hosting has no spot price."""

    name: str = Field(pattern=r"^ml\.[a-z][a-z0-9-]*\.[a-z0-9]+$")
    ec2_equivalent: str | None = None
    vcpus: int = Field(gt=0)
    accelerator_count: int = Field(ge=0)
    accelerator_name: str | None = None

    @model_validator(mode="after")
    def _accelerator_named(self) -> SageMakerInstanceType:
        if (self.accelerator_count > 0) != (self.accelerator_name is not None):
            raise ValueError("accelerator_name is required exactly when accelerator_count > 0")
        return self


class PricedEc2Instance(Ec2InstanceType):
    """An EC2 type as one region offers it: its hardware and that region's Linux prices."""

    region: str
    on_demand_usd_per_hour: float = Field(gt=0)
    spot: SpotSummary | None = None
    uncertain: bool = False
    notes: str | None = None
    source: str = ""

    @property
    def spot_usd_per_hour_low(self) -> float | None:
        return self.spot.low if self.spot else None

    @property
    def spot_usd_per_hour_high(self) -> float | None:
        return self.spot.high if self.spot else None

    @property
    def expected_spot_discount(self) -> float | None:
        """1 - median spot / on-demand in this region; None when the catalog has no spot price here."""
        if self.spot is None:
            return None
        return 1 - self.spot.median / self.on_demand_usd_per_hour


class PricedSageMakerInstance(SageMakerInstanceType):
    """A SageMaker hosting type as one region prices it."""

    region: str
    on_demand_usd_per_hour: float = Field(gt=0)
    price_source: str
    uncertain: bool = False
    notes: str | None = None
    source: str = ""


class QuotaCode(Frozen):
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


class _QuotaClassEntry(Frozen):
    description: str
    on_demand: QuotaCode = Field(alias="onDemand")
    spot: QuotaCode


class _Ec2File(Frozen):
    source: SourceBlock
    units: dict[str, str]
    instances: list[Ec2InstanceType] = Field(min_length=1)


class _SageMakerFile(Frozen):
    source: SourceBlock
    units: dict[str, str]
    instances: list[SageMakerInstanceType] = Field(min_length=1)


class _QuotaFile(Frozen):
    source: SourceBlock
    service_code: Literal["ec2"]
    unit: Literal["vCPU"]
    classes: dict[QuotaClass, _QuotaClassEntry]


class _EndpointQuotaFile(Frozen):
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
class PriceFileInfo:
    """One loaded price file and where it was read from (the package's data or the project's folder)."""

    price_file: PriceFile
    origin: str


@dataclass(frozen=True)
class Catalog:
    """The loaded catalog: hardware and quotas for every type, prices per region. Look types up by name,
    never guess a price; prices only through `in_region`."""

    ec2_instances: Mapping[str, Ec2InstanceType]
    sagemaker_instances: Mapping[str, SageMakerInstanceType]
    quotas: Mapping[tuple[str, str], QuotaCode]
    source_blocks: Mapping[str, SourceBlock]
    # SageMaker "<type> for endpoint usage" quotas, by instance type: only codes a cited source states.
    endpoint_quotas: Mapping[str, QuotaCode] = field(default_factory=dict)
    # (service, region) -> the price file in force for it.
    price_files: Mapping[tuple[str, str], PriceFileInfo] = field(default_factory=dict)
    # Priced entries built so far, by (service, region, name): rules look the same types up for every XR.
    _priced: dict[tuple[str, str, str], Any] = field(default_factory=dict, compare=False, repr=False)

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

    def regions(self, service: str | None = None) -> list[str]:
        """Regions with price data (for one service, or any)."""
        return sorted({r for s, r in self.price_files if service is None or s == service})

    def in_region(self, region: str) -> RegionalCatalog:
        """The catalog as seen from one region; RegionNotCatalogued when it has no prices there at all."""
        if region not in self._priced_regions:
            raise RegionNotCatalogued(region, self.regions())
        return RegionalCatalog(self, region)

    @cached_property
    def _priced_regions(self) -> frozenset[str]:
        # Asked once per priced workload (every rule that prices one, every XR synth annotates).
        return frozenset(r for _, r in self.price_files)

    @property
    def sources(self) -> dict[str, str]:
        """File name -> one-line source summary with its retrieval date, for reports."""
        out = {
            file: f"{block.summary} (retrieved {block.retrieved.isoformat()})"
            for file, block in self.source_blocks.items()
        }
        for (service, region), info in self.price_files.items():
            source = info.price_file.source
            out[f"{PRICES_FOLDER}/{price_file_path(region, service)}"] = (
                f"{source.summary} (retrieved {source.retrieved.isoformat()})"
            )
        return dict(sorted(out.items()))

    def uncertain_entries(self) -> list[str]:
        """Human-readable list of every entry marked uncertain, for reports and reviews."""
        found: list[str] = []
        for (service, region), info in sorted(self.price_files.items()):
            kind = "EC2" if service == "ec2" else "SageMaker"
            for name, price in sorted(info.price_file.instances.items()):
                if price.uncertain:
                    found.append(f"{kind} {name} in {region}: {price.notes}")
                spot = price.spot if isinstance(price, Ec2Price) else None
                if spot is not None and spot.uncertain:
                    found.append(f"{kind} {name} spot in {region}: {spot.notes}")
        found += [
            f"quota {q.quota_class}/{q.purchase} {q.code}: {q.note}" for q in self.quotas.values() if q.uncertain
        ]
        return sorted(found)


@dataclass(frozen=True)
class RegionalCatalog:
    """The catalog seen from one region: the types that region offers, with its prices. Lookups of a type it
    does not offer or price raise NotOfferedInRegion; `recording()` gives a view that notes every uncertain
    on-demand price a computation used, so a cost resting on one can say so."""

    catalog: Catalog
    region: str
    _consulted: list[str] | None = field(default=None, compare=False, repr=False)

    def recording(self) -> RegionalCatalog:
        return RegionalCatalog(self.catalog, self.region, [])

    def uncertain_prices(self) -> list[str]:
        """Uncertain on-demand prices this view handed out (each once, in order), `recording()` views only."""
        return list(dict.fromkeys(self._consulted or []))

    def _file(self, service: str) -> PriceFileInfo | None:
        return self.catalog.price_files.get((service, self.region))

    def ec2_instance(self, name: str) -> PricedEc2Instance:
        priced: PricedEc2Instance = self._with_price(
            "ec2", "EC2", name, lambda: self.catalog.ec2_instance(name), Ec2Price, PricedEc2Instance,
            lambda price: {"spot": price.spot},
        )
        return priced

    def sagemaker_instance(self, name: str) -> PricedSageMakerInstance:
        priced: PricedSageMakerInstance = self._with_price(
            "sagemaker", "SageMaker", name, lambda: self.catalog.sagemaker_instance(name), SageMakerPrice,
            PricedSageMakerInstance, lambda price: {"price_source": price.price_source},
        )
        return priced

    def _with_price(
        self,
        service: str,
        label: str,
        name: str,
        hardware: Callable[[], BaseModel],
        price_type: type[Any],
        priced_type: type[Any],
        extra: Callable[[Any], dict[str, Any]],
    ) -> Any:
        """A type's hardware with this region's price (built once per catalog), noting an uncertain price;
        NotOfferedInRegion when the region's price file lacks it."""
        key = (service, self.region, name)
        priced = self.catalog._priced.get(key)
        if priced is None:
            spec = hardware()
            info = self._file(service)
            price = info.price_file.instances.get(name) if info else None
            if info is None or not isinstance(price, price_type):
                raise NotOfferedInRegion(label, name, self.region, self._refusal(service, name))
            priced = self.catalog._priced[key] = priced_type(
                **spec.model_dump(),
                region=self.region,
                on_demand_usd_per_hour=price.on_demand_usd_per_hour,
                uncertain=price.uncertain,
                notes=price.notes,
                source=info.origin,
                **extra(price),
            )
        self._note(priced.uncertain, f"{label} {name} in {self.region}: {priced.notes}")
        return priced

    def _note(self, uncertain: bool, text: str) -> None:
        if uncertain and self._consulted is not None:
            self._consulted.append(text)

    def _priced(self, service: str) -> list[str]:
        info = self._file(service)
        known = self.catalog.ec2_instances if service == "ec2" else self.catalog.sagemaker_instances
        return sorted(n for n in (info.price_file.instances if info else {}) if n in known)

    @property
    def ec2_instances(self) -> dict[str, PricedEc2Instance]:
        """The catalogued EC2 types this region offers and prices."""
        return {n: self.ec2_instance(n) for n in self._priced("ec2")}

    @property
    def sagemaker_instances(self) -> dict[str, PricedSageMakerInstance]:
        """The catalogued SageMaker types this region prices."""
        return {n: self.sagemaker_instance(n) for n in self._priced("sagemaker")}

    def offers(self, service: str, name: str) -> bool:
        return name in self._priced(service)

    def refusal(self, service: str, name: str) -> str | None:
        """Why `name` cannot be used here (not offered, or no price data), with what to do; None when it can."""
        return None if self.offers(service, name) else self._refusal(service, name)

    def _refusal(self, service: str, name: str) -> str:
        kind = "EC2" if service == "ec2" else "SageMaker"
        info = self._file(service)
        offered = ", ".join(self._priced(service)) or "none"
        if info is not None and name in info.price_file.not_offered:
            return f"{kind} instance type {name} is not offered in {self.region} (offered there: {offered})"
        return (
            f"the price catalog has no {kind} price for {name} in {self.region}; run "
            f"`{refresh_command(self.region, service)}` to fetch it from AWS"
        )

    # Quotas are the same in every region: the regional view answers for the catalog.
    def endpoint_quota(self, instance_type: str) -> QuotaCode | None:
        return self.catalog.endpoint_quota(instance_type)

    def quota(self, quota_class: str, purchase: str) -> QuotaCode:
        return self.catalog.quota(quota_class, purchase)

    def quota_for_instance(self, name: str, purchase: str) -> QuotaCode:
        return self.catalog.quota_for_instance(name, purchase)


_M = TypeVar("_M", bound=BaseModel)
_T = TypeVar("_T", Ec2InstanceType, SageMakerInstanceType)


def _read(file: str) -> Any:
    resource = _CATALOG / file
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


def _price_file(text: str, where: str, region: str, service: str) -> PriceFile:
    try:
        price_file = parse_price_file(text, where)
    except PriceFileError as err:
        raise CatalogError(str(err)) from None
    if (price_file.region, price_file.service) != (region, service):
        raise CatalogError(
            f"{where}: holds {price_file.service} prices for {price_file.region}, but its path says "
            f"{service} in {region}"
        )
    return price_file


def _shipped_price_files() -> dict[tuple[str, str], PriceFileInfo]:
    folder = _CATALOG / PRICES_FOLDER
    found: dict[tuple[str, str], PriceFileInfo] = {}
    if not folder.is_dir():
        return found
    for region_dir in sorted(folder.iterdir(), key=lambda p: p.name):
        for service in SERVICES:
            resource = region_dir.joinpath(f"{service}.yaml")
            if not resource.is_file():
                continue
            where = f"{CATALOG_FOLDER}/{PRICES_FOLDER}/{price_file_path(region_dir.name, service)}"
            text = resource.read_text(encoding="utf-8")
            found[(service, region_dir.name)] = PriceFileInfo(
                _price_file(text, where, region_dir.name, service), "shipped"
            )
    return found


def project_price_files(folder: Path, shown: str) -> dict[tuple[str, str], PriceFileInfo]:
    """The price files a project keeps (`aiplane catalog refresh` writes them): `<folder>/<region>/<service>.yaml`."""
    found: dict[tuple[str, str], PriceFileInfo] = {}
    if not folder.is_dir():
        return found
    for region_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
        for service in SERVICES:
            path = region_dir / f"{service}.yaml"
            if not path.is_file():
                continue
            where = f"{shown}/{price_file_path(region_dir.name, service)}"
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as err:
                raise CatalogError(f"{where}: cannot read: {err}") from None
            found[(service, region_dir.name)] = PriceFileInfo(
                _price_file(text, where, region_dir.name, service), where
            )
    return found


@functools.cache
def _shipped_catalog() -> Catalog:
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
        price_files=_shipped_price_files(),
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


def load_catalog(prices: Path | None = None, shown: str | None = None) -> Catalog:
    """The shipped catalog (validated once, cached per process), with a project's own price files from
    `prices` (`[tool.aiplane] prices`) replacing the shipped ones for their region and service."""
    shipped = _shipped_catalog()
    own = project_price_files(prices, shown or str(prices)) if prices is not None else {}
    if not own:
        return shipped
    return Catalog(
        ec2_instances=shipped.ec2_instances,
        sagemaker_instances=shipped.sagemaker_instances,
        quotas=shipped.quotas,
        source_blocks=shipped.source_blocks,
        endpoint_quotas=shipped.endpoint_quotas,
        price_files={**shipped.price_files, **own},
    )
