"""Per-region price files: `<region>/<service>.yaml` with the on-demand price, spot summary and availability
of every catalogued instance type in one region, and where those figures come from.

One schema for every writer and reader: `scripts/extract_skypilot_catalog.py` (from a SkyPilot checkout)
and `aiplane catalog refresh` (from AWS's own APIs) build a `PriceFile` and write it with `dump_price_file`;
the catalog loader reads it back with `parse_price_file`. The same answers always give the same bytes.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import yaml
from pydantic import Field, ValidationError, model_validator

from aiplane.catalog.sources import Frozen
from aiplane.catalog.sources import Source as PriceSource

Service = Literal["ec2", "sagemaker"]
SERVICES: tuple[Service, ...] = ("ec2", "sagemaker")
PRICES_FOLDER = "prices"
# Regular AZ IDs are `<region code>-az<n>` (use1-az4); Local Zones and Wavelength Zones carry an extra
# segment (use1-atl2-az1, usw2-lax1-az1) and are priced and supplied apart from the region's AZs.
REGULAR_AZ_ID = re.compile(r"^[a-z]+[0-9]+-az[0-9]+$")
# Spot prices come rounded to 4 decimals (SkyPilot's SpotPrice column, EC2's SpotPrice strings): a spot
# price within this of on-demand is no discount at all.
PRICE_TOLERANCE = 0.0001
DIGITS = 6

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class PriceFileError(ValueError):
    """A price file that does not parse or does not match the schema."""


class SpotSummary(Frozen):
    """Spot USD/h over the region's regular AZs: low, median and high of the price points in the source
    (one per AZ in a snapshot, every change in a history window); `zones`: each AZ's median; `excluded`:
    AZs left out of the summary and why."""

    low: float = Field(gt=0)
    median: float = Field(gt=0)
    high: float = Field(gt=0)
    zones: dict[str, float] = Field(min_length=1)
    excluded: dict[str, str] = Field(default_factory=dict)
    uncertain: bool = False
    notes: str | None = None

    @model_validator(mode="after")
    def _ordered(self) -> SpotSummary:
        if not self.low <= self.median <= self.high:
            raise ValueError("spot summary must satisfy low <= median <= high")
        if self.uncertain and not self.notes:
            raise ValueError("an uncertain spot summary must say why in `notes`")
        return self


class Ec2Price(Frozen):
    """One EC2 instance type in one region: Linux, shared tenancy, on-demand USD per instance-hour."""

    on_demand_usd_per_hour: float = Field(gt=0)
    spot: SpotSummary | None = None
    uncertain: bool = False
    notes: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Ec2Price:
        if self.uncertain and not self.notes:
            raise ValueError("an entry marked uncertain must say why in `notes`")
        if self.spot is not None and self.spot.high > self.on_demand_usd_per_hour + PRICE_TOLERANCE:
            raise ValueError("spot high must not exceed the on-demand price")
        return self


class SageMakerPrice(Frozen):
    """One SageMaker real-time inference (hosting) instance type in one region; no spot for endpoints."""

    on_demand_usd_per_hour: float = Field(gt=0)
    price_source: str
    uncertain: bool = False
    notes: str | None = None

    @model_validator(mode="after")
    def _explained(self) -> SageMakerPrice:
        if self.uncertain and not self.notes:
            raise ValueError("an entry marked uncertain must say why in `notes`")
        return self


class PriceFile(Frozen):
    """`<region>/<service>.yaml`: prices of one service in one region, and the catalogued types the source
    says are not offered there (absent from both lists = the source said nothing: no data)."""

    service: Service
    region: str = Field(pattern=r"^[a-z]{2}(-[a-z]+)+-[0-9]$")
    source: PriceSource
    method: dict[str, str] = Field(default_factory=dict)
    units: dict[str, str] = Field(default_factory=dict)
    instances: dict[str, Ec2Price | SageMakerPrice] = Field(default_factory=dict)
    # `lambda: []`, not `list`: pydantic reads a default factory's signature, and a builtin's text signature
    # costs every command the tokenizer's regex compile (7 ms; docs/performance.md).
    not_offered: list[str] = Field(default_factory=lambda: [])

    @model_validator(mode="after")
    def _disjoint(self) -> PriceFile:
        model = Ec2Price if self.service == "ec2" else SageMakerPrice
        wrong = sorted(name for name, entry in self.instances.items() if not isinstance(entry, model))
        if wrong:
            raise ValueError(f"entries that are not {self.service} prices: {', '.join(wrong)}")
        both = sorted(set(self.instances) & set(self.not_offered))
        if both:
            raise ValueError(f"listed both as priced and as not offered: {', '.join(both)}")
        if self.not_offered != sorted(set(self.not_offered)):
            raise ValueError("not_offered must be sorted and without duplicates")
        return self


def median(values: Iterable[float]) -> float:
    return round(statistics.median(list(values)), DIGITS)


def summarize_spot(
    points: Mapping[str, list[float]], on_demand: float, regular_zones: set[str] | None = None
) -> SpotSummary | None:
    """Spot summary of one type from its price points per AZ ID. Left out, and named: Local/Wavelength
    Zones (not `regular_zones`, or not shaped like a regular AZ ID when that set is not given) and AZs whose
    every point is at the on-demand price (no discount: no spot capacity there). None when no AZ is left.
    Marked uncertain when a single AZ remains (a point, not a range)."""
    zones: dict[str, float] = {}
    excluded: dict[str, str] = {}
    used: list[float] = []
    for zone in sorted(points):
        prices = [p for p in points[zone] if p > 0]
        regular = zone in regular_zones if regular_zones is not None else bool(REGULAR_AZ_ID.match(zone))
        if not prices:
            excluded[zone] = "no spot price in the source"
        elif not regular:
            excluded[zone] = f"Local or Wavelength Zone (spot {median(prices)}), priced apart from the region"
        elif min(prices) >= on_demand - PRICE_TOLERANCE:
            excluded[zone] = "spot quoted at the on-demand price: no discount or no spot capacity"
        else:
            zones[zone] = median(prices)
            used += prices
    if not zones:
        return None
    single = len(zones) == 1
    return SpotSummary(
        low=round(min(used), DIGITS),
        median=median(used),
        high=round(max(used), DIGITS),
        zones=zones,
        excluded=excluded,
        uncertain=single,
        notes=f"spot from a single AZ ({next(iter(zones))}): a point, not a range" if single else None,
    )


def parse_price_file(text: str, where: str) -> PriceFile:
    """A price file's text as a validated PriceFile; PriceFileError names `where` and the fields."""
    try:
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as err:
        raise PriceFileError(f"{where}: YAML error: {err}") from None
    try:
        return PriceFile.model_validate(data)
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}" for e in err.errors()
        )
        raise PriceFileError(f"{where}: {problems}") from None


def price_file_path(region: str, service: str) -> str:
    """Where a price file lives under a prices folder (shipped or the project's)."""
    return f"{region}/{service}.yaml"


def dump_price_file(price_file: PriceFile, header: str) -> str:
    """Deterministic YAML: keys in schema order, instances and zones sorted, no timestamps but the data's."""
    data = price_file.model_dump(mode="python", exclude_none=True)
    data["instances"] = {name: _drop_empty(data["instances"][name]) for name in sorted(data["instances"])}
    comment = "".join(f"# {line}\n".replace("# \n", "#\n") for line in header.splitlines())
    return comment + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=110)


def _drop_empty(entry: dict[str, Any]) -> dict[str, Any]:
    # Defaults say nothing a reader needs (uncertain: false, excluded: {}); keep the files short.
    out = {k: v for k, v in entry.items() if v not in (False, {}, None)}
    if isinstance(out.get("spot"), dict):
        out["spot"] = {k: v for k, v in out["spot"].items() if v not in (False, {}, None)}
    return out
