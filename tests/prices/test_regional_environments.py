"""Costs use the environment's region, never another region's: a shipped second region is priced with its own
figures (those of the source rows), and an uncatalogued region or a type the region does not offer is refused
at its line in the environment file, with exit status 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import skypilot_rows
from project_copy import copy_project, run_aiplane

from aiplane.catalog.instances import load_catalog
from aiplane.catalog.prices import dump_price_file


def _environment(region: str, pools: str, extra: str = "") -> str:
    return f"""name: regional
accountId: "111122223333"
region: {region}
clusterName: ai-regional
namespace: ai-regional
subnetSelector:
  networking.aiplane.io/tier: private
subnets:
  - id: subnet-0a1b2c3d4e5f60718
finops:
  costCenter: ml-research
  owner: ml-platform
  budgetPerHour: 500
nodePools:
{pools}{extra}"""


TRAINING = """  - name: training
    instanceTypes: [p4d.24xlarge]
    capacity: onDemand
    scaling: {minSize: 0, maxSize: 2, desiredSize: 0}
    finops: {tier: batch, maxCostPerHour: 100}
"""
SERVING = """  - name: serving
    instanceTypes: [g5.xlarge]
    capacity: onDemand
    scaling: {minSize: 1, maxSize: 3, desiredSize: 1}
    finops: {tier: production, maxCostPerHour: 10}
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_project(tmp_path)


def _write(project: Path, text: str) -> Path:
    path = project / "environments/regional.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _cost(project: Path) -> dict[str, object]:
    done = run_aiplane(project, "cost", "--env", "regional", "--format", "json")
    assert done.returncode == 0, done.stderr
    environment: dict[str, object] = json.loads(done.stdout)["environments"][0]
    return environment


def test_an_environment_in_a_second_shipped_region_is_priced_with_that_regions_source_rows(
    project: Path,
) -> None:
    _write(project, _environment("us-west-2", TRAINING + SERVING))
    cost = _cost(project)
    p4d = skypilot_rows.on_demand("p4d.24xlarge", "us-west-2")
    g5 = skypilot_rows.on_demand("g5.xlarge", "us-west-2")
    workloads = {w["name"]: w for w in cost["workloads"]}  # type: ignore[attr-defined]
    assert cost["region"] == "us-west-2"
    assert workloads["training"]["worstCase"] == pytest.approx(2 * p4d, abs=1e-4)
    assert workloads["serving"]["worstCase"] == pytest.approx(3 * g5, abs=1e-4)
    assert cost["worstCase"] == pytest.approx(2 * p4d + 3 * g5, abs=1e-3)
    assert cost["uncertainPrices"] == []


def test_the_same_pool_costs_what_ireland_charges_in_eu_west_1(project: Path) -> None:
    _write(project, _environment("eu-west-1", SERVING))
    g5_ireland = skypilot_rows.on_demand("g5.xlarge", "eu-west-1")
    assert (
        g5_ireland != load_catalog().in_region("us-east-1").ec2_instance("g5.xlarge").on_demand_usd_per_hour
    )
    assert _cost(project)["worstCase"] == pytest.approx(3 * g5_ireland, abs=1e-4)


def test_a_region_without_catalog_data_is_refused_at_its_line_with_the_refresh_command(project: Path) -> None:
    _write(project, _environment("ap-south-1", SERVING))
    done = run_aiplane(project, "cost", "--env", "regional")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "environments/regional.yaml:3:1: region: the price catalog has no data for region ap-south-1 (it has: "
        "eu-west-1, us-east-1, us-west-2); run `aiplane catalog refresh --region ap-south-1` to fetch its prices "
        "from AWS"
    ]
    assert run_aiplane(project, "check", "--env", "regional").returncode == 2


def test_an_instance_type_the_region_does_not_offer_is_refused_at_its_line(project: Path) -> None:
    pool = SERVING.replace("[g5.xlarge]", "[g5.xlarge, p5.48xlarge]")
    _write(project, _environment("eu-west-1", pool))
    done = run_aiplane(project, "cost", "--env", "regional")
    assert done.returncode == 2
    line = next(i for i, t in enumerate(pool.splitlines(), start=15) if "instanceTypes" in t)
    column = pool.splitlines()[line - 15].index("p5.48xlarge") + 1
    assert done.stderr.splitlines() == [
        f"environments/regional.yaml:{line}:{column}: nodePools[0].instanceTypes[1]: EC2 instance type "
        "p5.48xlarge is not offered in eu-west-1 (offered there: g5.12xlarge, g5.2xlarge, g5.48xlarge, g5.xlarge, "
        "inf2.48xlarge, inf2.xlarge, p4d.24xlarge)"
    ]
    assert run_aiplane(project, "synth", "--env", "regional").returncode == 2


def test_an_item_in_another_region_than_its_environment_is_checked_in_its_own_region(project: Path) -> None:
    pool = SERVING.replace("    capacity:", "    region: eu-west-1\n    capacity:").replace(
        "g5.xlarge", "g6.xlarge"
    )
    _write(project, _environment("us-east-1", pool))
    done = run_aiplane(project, "cost", "--env", "regional")
    assert done.returncode == 2
    assert (
        "nodePools[0].instanceTypes[0]: EC2 instance type g6.xlarge is not offered in eu-west-1"
        in done.stderr
    )


def test_an_endpoint_where_the_catalog_has_no_sagemaker_price_is_refused_with_the_refresh_command(
    project: Path,
) -> None:
    dev = (project / "environments/dev.yaml").read_text()
    endpoints = dev[dev.index("ethics:") : dev.index("nodePools:")] + dev[dev.index("buckets:") :]
    _write(project, _environment("us-west-2", SERVING, "\n" + endpoints))
    done = run_aiplane(project, "cost", "--env", "regional")
    assert done.returncode == 2
    assert (
        "endpoints[0].instanceType: the price catalog has no SageMaker price for ml.g5.xlarge in us-west-2; run "
        "`aiplane catalog refresh --region us-west-2 --service sagemaker` to fetch it from AWS"
    ) in done.stderr


def test_a_projects_own_price_file_prices_a_region_aiplane_does_not_ship(project: Path) -> None:
    shipped = load_catalog().price_files[("ec2", "us-west-2")].price_file
    # Test data, not a real price: the figure only has to come back out of the cost report.
    own = shipped.model_copy(
        update={
            "region": "ap-south-1",
            "instances": {
                "g5.xlarge": shipped.instances["g5.xlarge"].model_copy(
                    update={"on_demand_usd_per_hour": 9.5, "spot": None}
                )
            },
            "not_offered": [],
        }
    )
    (project / "prices/ap-south-1").mkdir(parents=True)
    (project / "prices/ap-south-1/ec2.yaml").write_text(dump_price_file(own, "test"), encoding="utf-8")
    _write(project, _environment("ap-south-1", SERVING))
    assert _cost(project)["worstCase"] == pytest.approx(3 * 9.5)
