"""`aiplane catalog refresh`: one region's prices from AWS's own APIs — spot history and offerings from moto,
which implements them, the Price List from botocore's Stubber with answers in the documented format (moto has
no pricing service) — written as a dated, sourced price file, byte for byte the same for the same answers."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws
from project_copy import copy_project, run_aiplane

from aiplane.catalog.instances import load_catalog
from aiplane.catalog.prices import parse_price_file
from aiplane.catalog.refresh import RefreshClients, on_demand_prices
from aiplane.commands import catalog_refresh

NOW = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)


def price_list_item(service_code: str, attributes: dict[str, str], usd: str, sku: str = "SKU1") -> str:
    """One PriceList entry as GetProducts returns it: a JSON string with product.attributes and
    terms.OnDemand.<sku.term>.priceDimensions.<rate>.pricePerUnit.USD (AWS CLI reference, get-products)."""
    term = f"{sku}.JRTCKXETXF"
    return json.dumps(
        {
            "product": {"productFamily": "Compute Instance", "attributes": attributes, "sku": sku},
            "serviceCode": service_code,
            "terms": {
                "OnDemand": {
                    term: {
                        "priceDimensions": {
                            f"{term}.6YS6EN2CT7": {
                                "unit": "Hrs",
                                "endRange": "Inf",
                                "description": f"${usd} per On Demand Linux instance hour",
                                "appliesTo": [],
                                "rateCode": f"{term}.6YS6EN2CT7",
                                "beginRange": "0",
                                "pricePerUnit": {"USD": usd},
                            }
                        },
                        "sku": sku,
                        "effectiveDate": "2026-11-01T00:00:00Z",
                        "offerTermCode": "JRTCKXETXF",
                        "termAttributes": {},
                    }
                }
            },
            "version": "20261101000000",
            "publicationDate": "2026-11-01T00:00:00Z",
        }
    )


def ec2_filters(region: str, instance_type: str) -> list[dict[str, str]]:
    pairs = [
        ("regionCode", region),
        ("instanceType", instance_type),
        ("operatingSystem", "Linux"),
        ("tenancy", "Shared"),
        ("preInstalledSw", "NA"),
        ("capacitystatus", "Used"),
    ]
    return [{"Type": "TERM_MATCH", "Field": f, "Value": v} for f, v in pairs]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = copy_project(tmp_path)
    monkeypatch.chdir(root)
    return root


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield


def offered_by_moto(region: str) -> list[str]:
    ec2 = boto3.client("ec2", region_name=region)
    types = load_catalog().ec2_instance_names()
    offerings = ec2.describe_instance_type_offerings(
        LocationType="availability-zone", Filters=[{"Name": "instance-type", "Values": types}]
    )["InstanceTypeOfferings"]
    return sorted({o["InstanceType"] for o in offerings})


def stubbed_pricing(answers: list[tuple[str, list[dict[str, str]], list[str]]]) -> tuple[Any, Stubber]:
    pricing = boto3.client("pricing", region_name="us-east-1")
    stubber = Stubber(pricing)
    for service_code, filters, items in answers:
        stubber.add_response(
            "get_products",
            {"FormatVersion": "aws_v1", "PriceList": items},
            {"ServiceCode": service_code, "Filters": filters, "FormatVersion": "aws_v1"},
        )
    stubber.activate()
    return pricing, stubber


def ec2_answers(region: str, types: list[str]) -> list[tuple[str, list[dict[str, str]], list[str]]]:
    west = load_catalog().in_region("us-west-2")
    return [
        (
            "AmazonEC2",
            ec2_filters(region, name),
            [
                price_list_item(
                    "AmazonEC2",
                    {"instanceType": name, "regionCode": region},
                    f"{west.ec2_instance(name).on_demand_usd_per_hour:.10f}",
                )
            ],
        )
        for name in types
    ]


def test_refresh_writes_the_expected_ec2_file_twice_byte_identically(project: Path, aws: None) -> None:
    region = "us-west-2"
    offered = offered_by_moto(region)
    assert offered, "moto offers some catalogued types in us-west-2"
    written = []
    for _ in range(2):
        pricing, stubber = stubbed_pricing(ec2_answers(region, offered))
        clients = RefreshClients(ec2=boto3.client("ec2", region_name=region), pricing=pricing)
        assert catalog_refresh.run(region, ["ec2"], 7, clients=clients, now=NOW) == 0
        stubber.assert_no_pending_responses()
        written.append((project / "prices/us-west-2/ec2.yaml").read_bytes())
    assert written[0] == written[1]
    price_file = parse_price_file(written[0].decode(), "us-west-2/ec2.yaml")
    assert written[0].startswith(
        b"# EC2 prices and availability in us-west-2, written by `aiplane catalog refresh`"
    )
    west = load_catalog().in_region("us-west-2")
    assert sorted(price_file.instances) == offered
    for name, entry in price_file.instances.items():
        assert entry.on_demand_usd_per_hour == west.ec2_instance(name).on_demand_usd_per_hour
        # moto answers every spot history request with 0.00001 per offered AZ, keyed here by AZ ID.
        assert entry.spot is not None and entry.spot.median == 0.00001
        assert all(zone.startswith("usw2-az") for zone in entry.spot.zones)
    assert price_file.not_offered == sorted(set(load_catalog().ec2_instance_names()) - set(offered))
    assert price_file.source.retrieved == NOW.date()
    assert (
        "window 2026-11-25T09:30:00+00:00 to 2026-12-02T09:30:00+00:00"
        in price_file.source.references[1].title
    )


SAGEMAKER_EXPECTED = """\
# SAGEMAKER prices and availability in eu-west-1, written by `aiplane catalog refresh` from AWS's own APIs
# on 2026-12-02. Re-run the command to update it; do not edit by hand. Schema: aiplane.catalog.prices.
service: sagemaker
region: eu-west-1
source:
  summary: AWS Price List API, SageMaker real-time inference (eu-west-1, 2026-12-02)
  retrieved: 2026-12-02
  references:
  - title: AWS Price List API get_products, service code AmazonSageMaker (endpoint us-east-1); filters productFamily=ML
      Instance, component=Hosting, instanceName
    url: https://docs.aws.amazon.com/goto/aws-cli/pricing-2017-10-15/GetProducts
    note: pricing.describe_services(ServiceCode=...) and pricing.get_attribute_values list the attributes
method:
  on_demand: terms.OnDemand priceDimensions pricePerUnit USD per Hrs of the type's hosting product
  availability: a catalogued type without a hosting price in the region is listed under not_offered
  written_by: aiplane catalog refresh
units:
  on_demand_usd_per_hour: USD per instance-hour, real-time inference (hosting), on-demand
instances:
  ml.g5.2xlarge:
    on_demand_usd_per_hour: 1.7
    price_source: AWS Price List API, AmazonSageMaker, eu-west-1, 2026-12-02
    uncertain: true
    notes: the Price List gave several on-demand prices for ml.g5.2xlarge hosting in eu-west-1 (1.6, 1.7); the highest
      is used
  ml.g5.xlarge:
    on_demand_usd_per_hour: 1.5
    price_source: AWS Price List API, AmazonSageMaker, eu-west-1, 2026-12-02
not_offered:
- ml.inf2.xlarge
- ml.m5.xlarge
- ml.p4d.24xlarge
"""


def sagemaker_answers(region: str) -> list[tuple[str, list[dict[str, str]], list[str]]]:
    """Test answers (not real prices): one hosting price for ml.g5.xlarge, two for ml.g5.2xlarge, none else."""
    answers = []
    for name in load_catalog().sagemaker_instance_names():
        filters = [
            {"Type": "TERM_MATCH", "Field": "regionCode", "Value": region},
            {"Type": "TERM_MATCH", "Field": "instanceName", "Value": name},
            {"Type": "TERM_MATCH", "Field": "productFamily", "Value": "ML Instance"},
            {"Type": "TERM_MATCH", "Field": "component", "Value": "Hosting"},
        ]
        attributes = {"instanceName": name, "regionCode": region, "component": "Hosting"}
        items = {
            "ml.g5.xlarge": [price_list_item("AmazonSageMaker", attributes, "1.5000000000")],
            "ml.g5.2xlarge": [
                price_list_item("AmazonSageMaker", attributes, "1.6000000000", "SKU1"),
                price_list_item("AmazonSageMaker", attributes, "1.7000000000", "SKU2"),
            ],
        }.get(name, [])
        answers.append(("AmazonSageMaker", filters, items))
    return answers


def test_refresh_writes_the_expected_sagemaker_file_twice_byte_identically(project: Path, aws: None) -> None:
    for _ in range(2):
        pricing, stubber = stubbed_pricing(sagemaker_answers("eu-west-1"))
        clients = RefreshClients(ec2=boto3.client("ec2", region_name="eu-west-1"), pricing=pricing)
        assert catalog_refresh.run("eu-west-1", ["sagemaker"], clients=clients, now=NOW) == 0
        stubber.assert_no_pending_responses()
        assert (project / "prices/eu-west-1/sagemaker.yaml").read_text() == SAGEMAKER_EXPECTED


def test_refreshed_prices_replace_the_shipped_ones_for_their_region(project: Path, aws: None) -> None:
    pricing, _ = stubbed_pricing(sagemaker_answers("eu-west-1"))
    clients = RefreshClients(ec2=boto3.client("ec2", region_name="eu-west-1"), pricing=pricing)
    catalog_refresh.run("eu-west-1", ["sagemaker"], clients=clients, now=NOW)
    dev = (project / "environments/dev.yaml").read_text().replace("region: us-east-1", "region: eu-west-1")
    (project / "environments/dev.yaml").write_text(dev.replace("[g5.2xlarge, g6.xlarge]", "[g5.2xlarge]"))
    done = run_aiplane(project, "cost", "--env", "dev", "--format", "json")
    assert done.returncode == 0, done.stderr
    endpoint = next(
        w for w in json.loads(done.stdout)["environments"][0]["workloads"] if w["name"] == "sentiment"
    )
    assert endpoint["worstCase"] == 1.5  # ml.g5.xlarge at the refreshed eu-west-1 price, firm
    assert endpoint["uncertainPrices"] == []


def test_on_demand_prices_read_only_hourly_usd_dimensions() -> None:
    hourly = price_list_item("AmazonEC2", {}, "2.5000000000")
    monthly = hourly.replace('"unit": "Hrs"', '"unit": "GB-Mo"')
    assert on_demand_prices([hourly, monthly]) == [2.5]
    assert on_demand_prices([]) == []


def test_an_unknown_region_or_missing_credentials_is_one_line_and_exit_2(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    done = run_aiplane(project, "catalog", "refresh", "--region", "mars-north-1")
    assert (done.returncode, done.stderr) == (2, "--region: unknown AWS region 'mars-north-1'\n")
    env = {
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    old = dict(os.environ)
    try:
        os.environ.clear()
        os.environ.update({**clean, **env})
        done = run_aiplane(project, "catalog", "refresh", "--region", "eu-west-1", "--service", "sagemaker")
    finally:
        os.environ.clear()
        os.environ.update(old)
    assert done.returncode == 2
    assert done.stderr.startswith("AWS: no AWS credentials found")
    assert not (project / "prices").exists()
