"""One region's prices from AWS's own APIs, as a price file (aiplane.catalog.prices) for `aiplane catalog refresh`.

EC2: on-demand Linux prices from the Price List API (`pricing.get_products`, service code AmazonEC2, filters
regionCode, instanceType, operatingSystem=Linux, tenancy=Shared, preInstalledSw=NA, capacitystatus=Used: the
selection the SkyPilot fetcher makes over the same Price List, skypilot-org/skypilot
`sky/catalog/data_fetchers/fetch_aws.py`, and the Pulumi/Terraform `aws.pricing.getProduct` example; the
on-demand figure is `terms.OnDemand.*.priceDimensions.*.pricePerUnit.USD` of unit `Hrs`), availability from
`ec2.describe_instance_type_offerings` by availability zone, spot from `ec2.describe_spot_price_history`
(Linux/UNIX) over a stated window, summarized per AZ ID (`ec2.describe_availability_zones`) as low/median/high.
SageMaker: real-time inference prices from the same Price List (service code AmazonSageMaker, filters
regionCode, instanceName, productFamily "ML Instance", component "Hosting": attribute names as public code that
queries the Price List uses them; `pricing.describe_services(ServiceCode="AmazonSageMaker")` lists them).

The Price List API is served from us-east-1 for every region. The clients are passed in, so the same code runs
against AWS, moto and botocore's Stubber; the same answers give the same file.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiplane.catalog.prices import (
    DIGITS,
    Ec2Price,
    PriceFile,
    SageMakerPrice,
    summarize_spot,
)
from aiplane.catalog.sources import Reference
from aiplane.catalog.sources import Source as PriceSource

PRICING_REGION = "us-east-1"
DEFAULT_SPOT_WINDOW = timedelta(days=7)
SPOT_PRODUCT = "Linux/UNIX"
EC2_PRODUCT_FILTERS: tuple[tuple[str, str], ...] = (
    ("operatingSystem", "Linux"),
    ("tenancy", "Shared"),
    ("preInstalledSw", "NA"),
    ("capacitystatus", "Used"),
)
SAGEMAKER_PRODUCT_FILTERS: tuple[tuple[str, str], ...] = (
    ("productFamily", "ML Instance"),
    ("component", "Hosting"),
)
HOURLY_UNITS = ("Hrs", "Hr", "Hours")
_DESCRIBE = "pricing.describe_services(ServiceCode=...) and pricing.get_attribute_values list the attributes"


class RefreshError(Exception):
    """AWS answered something a price file cannot be made from; nothing is written."""


@dataclass(frozen=True)
class RefreshClients:
    """boto3 clients: `ec2` in the region being refreshed, `pricing` in us-east-1 (the Price List endpoint)."""

    ec2: Any
    pricing: Any


def _filters(pairs: Iterable[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"Type": "TERM_MATCH", "Field": field, "Value": value} for field, value in pairs]


def on_demand_prices(price_list: Iterable[str]) -> list[float]:
    """Every positive hourly USD on-demand price in Price List products (the API's JSON strings)."""
    prices: set[float] = set()
    for raw in price_list:
        product = json.loads(raw) if isinstance(raw, str) else raw
        for term in (product.get("terms", {}).get("OnDemand") or {}).values():
            for dimension in (term.get("priceDimensions") or {}).values():
                usd = (dimension.get("pricePerUnit") or {}).get("USD")
                if usd is None or dimension.get("unit") not in HOURLY_UNITS:
                    continue
                value = round(float(usd), DIGITS)
                if value > 0:
                    prices.add(value)
    return sorted(prices)


def _products(pricing: Any, service_code: str, filters: list[dict[str, str]]) -> list[str]:
    pages = pricing.get_paginator("get_products").paginate(
        ServiceCode=service_code, Filters=filters, FormatVersion="aws_v1"
    )
    return [item for page in pages for item in page.get("PriceList", [])]


def _priced(prices: list[float], where: str) -> tuple[float, bool, str | None]:
    """(price, uncertain, notes): several distinct prices for one selection are reported, the highest used."""
    if len(prices) == 1:
        return prices[0], False, None
    listed = ", ".join(f"{p:g}" for p in prices)
    return (
        prices[-1],
        True,
        f"the Price List gave several on-demand prices for {where} ({listed}); the highest is used",
    )


def _spot_points(
    ec2: Any, types: list[str], start: datetime, end: datetime, zone_ids: Mapping[str, str]
) -> dict[str, dict[str, list[float]]]:
    points: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    pages = ec2.get_paginator("describe_spot_price_history").paginate(
        InstanceTypes=types, ProductDescriptions=[SPOT_PRODUCT], StartTime=start, EndTime=end
    )
    for page in pages:
        for entry in page.get("SpotPriceHistory", []):
            zone = zone_ids.get(entry["AvailabilityZone"], entry["AvailabilityZone"])
            points[entry["InstanceType"]][zone].append(float(entry["SpotPrice"]))
    return points


def refresh_ec2(
    region: str,
    clients: RefreshClients,
    types: Iterable[str],
    now: datetime,
    window: timedelta = DEFAULT_SPOT_WINDOW,
) -> PriceFile:
    """The EC2 price file of `region` for the catalogued `types`, as AWS answers now."""
    wanted = sorted(set(types))
    zones = clients.ec2.describe_availability_zones()["AvailabilityZones"]
    zone_ids = {z["ZoneName"]: z["ZoneId"] for z in zones}
    regular = {z["ZoneId"] for z in zones if z.get("ZoneType", "availability-zone") == "availability-zone"}
    offered: dict[str, set[str]] = defaultdict(set)
    pages = clients.ec2.get_paginator("describe_instance_type_offerings").paginate(
        LocationType="availability-zone", Filters=[{"Name": "instance-type", "Values": wanted}]
    )
    for page in pages:
        for offering in page.get("InstanceTypeOfferings", []):
            offered[offering["InstanceType"]].add(zone_ids.get(offering["Location"], offering["Location"]))
    start = now - window
    spot = _spot_points(clients.ec2, sorted(offered), start, now, zone_ids) if offered else {}
    instances: dict[str, Ec2Price | SageMakerPrice] = {}
    for name in sorted(offered):
        filters = _filters([("regionCode", region), ("instanceType", name), *EC2_PRODUCT_FILTERS])
        prices = on_demand_prices(_products(clients.pricing, "AmazonEC2", filters))
        if not prices:
            continue  # offered, but no Linux on-demand price: no data, so refused where used, never $0
        price, uncertain, notes = _priced(prices, f"{name} in {region}")
        # Spot for the AZs that offer the type: history can outlive an offering.
        points = {z: p for z, p in spot.get(name, {}).items() if z in offered[name]}
        instances[name] = Ec2Price(
            on_demand_usd_per_hour=price,
            spot=summarize_spot(points, price, regular),
            uncertain=uncertain,
            notes=notes,
        )
    day = now.date().isoformat()
    return PriceFile(
        service="ec2",
        region=region,
        source=PriceSource(
            summary=f"AWS Price List API, DescribeSpotPriceHistory and DescribeInstanceTypeOfferings ({region}, {day})",
            retrieved=now.date(),
            references=[
                Reference(
                    title=f"AWS Price List API get_products, service code AmazonEC2 (endpoint {PRICING_REGION}); "
                    "filters " + ", ".join(f"{k}={v}" for k, v in EC2_PRODUCT_FILTERS),
                    url="https://docs.aws.amazon.com/goto/aws-cli/pricing-2017-10-15/GetProducts",
                    note=_DESCRIBE,
                ),
                Reference(
                    title=f"EC2 DescribeSpotPriceHistory ({SPOT_PRODUCT}), window {start.isoformat()} to {now.isoformat()}",
                    url="https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeSpotPriceHistory.html",
                ),
                Reference(
                    title="EC2 DescribeInstanceTypeOfferings (LocationType availability-zone)",
                    url="https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstanceTypeOfferings.html",
                ),
            ],
            uncertain="Spot prices move hourly: the summary covers the stated window only; use it for expected "
            "cost, never for the worst case, which is always on-demand.",
        ),
        method={
            "on_demand": "terms.OnDemand priceDimensions pricePerUnit USD per Hrs of the one Linux, shared-tenancy, "
            "no-pre-installed-software, capacity-Used product of the type in the region",
            "spot": f"low/median/high of every {SPOT_PRODUCT} spot price point in the window over the region's "
            "availability zones that offer the type (Local and Wavelength Zones and AZs quoted at on-demand are "
            "listed under `excluded`); zones keyed by AZ ID",
            "availability": "offered in the region when DescribeInstanceTypeOfferings lists it in one of its AZs",
            "written_by": "aiplane catalog refresh",
        },
        units={
            "on_demand_usd_per_hour": "USD per instance-hour, Linux, shared tenancy, on-demand",
            "spot": "USD per instance-hour; zones keyed by AZ ID",
        },
        instances=instances,
        not_offered=sorted(set(wanted) - set(offered)),
    )


def refresh_sagemaker(region: str, clients: RefreshClients, types: Iterable[str], now: datetime) -> PriceFile:
    """The SageMaker hosting price file of `region` for the catalogued `types`, as the Price List answers now."""
    wanted = sorted(set(types))
    instances: dict[str, Ec2Price | SageMakerPrice] = {}
    for name in wanted:
        filters = _filters([("regionCode", region), ("instanceName", name), *SAGEMAKER_PRODUCT_FILTERS])
        prices = on_demand_prices(_products(clients.pricing, "AmazonSageMaker", filters))
        if not prices:
            continue
        price, uncertain, notes = _priced(prices, f"{name} hosting in {region}")
        instances[name] = SageMakerPrice(
            on_demand_usd_per_hour=price,
            price_source=f"AWS Price List API, AmazonSageMaker, {region}, {now.date().isoformat()}",
            uncertain=uncertain,
            notes=notes,
        )
    return PriceFile(
        service="sagemaker",
        region=region,
        source=PriceSource(
            summary=f"AWS Price List API, SageMaker real-time inference ({region}, {now.date().isoformat()})",
            retrieved=now.date(),
            references=[
                Reference(
                    title=f"AWS Price List API get_products, service code AmazonSageMaker (endpoint {PRICING_REGION}); "
                    "filters "
                    + ", ".join(f"{k}={v}" for k, v in SAGEMAKER_PRODUCT_FILTERS)
                    + ", instanceName",
                    url="https://docs.aws.amazon.com/goto/aws-cli/pricing-2017-10-15/GetProducts",
                    note=_DESCRIBE,
                ),
            ],
        ),
        method={
            "on_demand": "terms.OnDemand priceDimensions pricePerUnit USD per Hrs of the type's hosting product",
            "availability": "a catalogued type without a hosting price in the region is listed under not_offered",
            "written_by": "aiplane catalog refresh",
        },
        units={"on_demand_usd_per_hour": "USD per instance-hour, real-time inference (hosting), on-demand"},
        instances=instances,
        not_offered=sorted(set(wanted) - set(instances)),
    )
