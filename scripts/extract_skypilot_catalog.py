"""Extract aiplane's per-region EC2 price files from a checkout of the SkyPilot catalog.

    .venv/bin/python scripts/extract_skypilot_catalog.py --checkout ../skypilot-catalog \
        [--region us-east-1 --region us-west-2 --region eu-west-1] [--output src/aiplane/data/catalog/prices]

Reads `catalogs/v8/aws/vms.csv` (one row per instance type and availability zone: `Price` = on-demand Linux
USD/h from the AWS Price List, `SpotPrice` = the AZ's current spot price from DescribeSpotPriceHistory, rows
only where DescribeInstanceTypeOfferings offers the type in that AZ — skypilot-org/skypilot
`sky/catalog/data_fetchers/fetch_aws.py`) and writes `<output>/<region>/ec2.yaml` for every catalogued EC2
type (`aiplane.catalog.instances`): its on-demand price, its spot summary (aiplane.catalog.prices), or that
the region does not offer it. The commit and date come from the checkout's git metadata, or from `--commit`
and `--date` when the checkout is not a git repository; the same checkout always gives the same bytes.
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
from collections import defaultdict
from datetime import date
from pathlib import Path

from aiplane.catalog.instances import load_catalog
from aiplane.catalog.prices import (
    Ec2Price,
    PriceFile,
    SageMakerPrice,
    dump_price_file,
    price_file_path,
    summarize_spot,
)
from aiplane.catalog.sources import Reference
from aiplane.catalog.sources import Source as PriceSource

VMS_CSV = "catalogs/v8/aws/vms.csv"
REPOSITORY = "skypilot-org/skypilot-catalog"
DEFAULT_REGIONS = ("us-east-1", "us-west-2", "eu-west-1")
DEFAULT_OUTPUT = Path(__file__).resolve().parent.parent / "src/aiplane/data/catalog/prices"


class ExtractError(Exception):
    """The checkout cannot give a trustworthy price file: say what and stop, writing nothing."""


def _git(checkout: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(checkout), *args], capture_output=True, text=True, check=False
        )
    except OSError:
        return None
    return done.stdout.strip() if done.returncode == 0 and done.stdout.strip() else None


def _rows(checkout: Path) -> list[dict[str, str]]:
    path = checkout / VMS_CSV
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            return list(csv.DictReader(handle))
    except OSError as err:
        raise ExtractError(f"{path}: cannot read: {err.strerror or err}") from None


def extract(
    rows: list[dict[str, str]], region: str, commit: str, retrieved: date, note: str | None = None
) -> PriceFile:
    """The EC2 price file of `region` from the vms.csv rows of one SkyPilot catalog commit."""
    catalog = load_catalog()
    on_demand: dict[str, set[float]] = defaultdict(set)
    spot: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    offered: set[str] = set()
    for row in rows:
        name = row["InstanceType"]
        if row["Region"] != region or name not in catalog.ec2_instances:
            continue
        hardware = catalog.ec2_instances[name]
        if (
            float(row["vCPUs"]) != hardware.vcpus
            or float(row["AcceleratorCount"]) != hardware.accelerator_count
        ):
            raise ExtractError(
                f"{name} in {region}: vCPUs {row['vCPUs']} / accelerators {row['AcceleratorCount']} differ "
                f"from the catalog's {hardware.vcpus} / {hardware.accelerator_count}"
            )
        offered.add(name)
        if row["Price"]:
            on_demand[name].add(float(row["Price"]))
        spot[name][row["AvailabilityZone"]] += [float(row["SpotPrice"])] if row["SpotPrice"] else []
    instances: dict[str, Ec2Price | SageMakerPrice] = {}
    for name in sorted(offered):
        prices = sorted(on_demand[name])
        if not prices:
            continue  # offered but unpriced in the source: no data, so refused where used, never $0
        worst = prices[-1]
        instances[name] = Ec2Price(
            on_demand_usd_per_hour=worst,
            spot=summarize_spot(spot[name], worst),
            uncertain=len(prices) > 1,
            notes=f"the source lists several on-demand prices in {region} ({', '.join(map(str, prices))}); "
            "the highest is used"
            if len(prices) > 1
            else None,
        )
    short = commit[:8]
    return PriceFile(
        service="ec2",
        region=region,
        source=PriceSource(
            summary=f"SkyPilot catalog vms.csv @ {short} ({region}: on-demand Linux price, per-AZ spot, offerings)",
            retrieved=retrieved,
            references=[
                Reference(
                    title="SkyPilot AWS catalog (Price = on-demand, SpotPrice = per-AZ spot, one row per offered AZ)",
                    url=f"https://github.com/{REPOSITORY}/blob/{commit}/{VMS_CSV}",
                    repository=REPOSITORY,
                    commit=commit,
                    path=VMS_CSV,
                    note=note,
                ),
                Reference(
                    title="How SkyPilot builds those rows (Price List CSV: OnDemand, Linux, no pre-installed "
                    "software, capacity Used; DescribeSpotPriceHistory Linux/UNIX; DescribeInstanceTypeOfferings "
                    "by availability zone)",
                    repository="skypilot-org/skypilot",
                    path="sky/catalog/data_fetchers/fetch_aws.py",
                ),
            ],
            uncertain="Spot prices are one snapshot and move hourly: use them for expected cost only; the "
            "worst case is always on-demand. `retrieved` is when the snapshot was read for aiplane; the commit "
            "itself may be older.",
        ),
        method={
            "on_demand": "the row's Price (USD per instance-hour, Linux, shared tenancy, on-demand)",
            "spot": "low/median/high of the per-AZ SpotPrice over the region's regular AZs; Local Zones and "
            "AZs quoted at the on-demand price are listed under `excluded`",
            "availability": "a type is offered when the region has a row for it; `not_offered` lists the "
            "catalogued types it has none for",
            "extracted_by": "scripts/extract_skypilot_catalog.py",
        },
        units={
            "on_demand_usd_per_hour": "USD per instance-hour, Linux, shared tenancy, on-demand",
            "spot": "USD per instance-hour; zones keyed by AZ ID",
        },
        instances=instances,
        not_offered=sorted(set(catalog.ec2_instances) - offered),
    )


HEADER = (
    "EC2 prices and availability in {region}, generated by scripts/extract_skypilot_catalog.py from\n"
    "{repository} @ {commit}. Do not edit by hand: re-run the script on a checkout.\n"
    "Read by aiplane.catalog.instances; schema in aiplane.catalog.prices."
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--checkout", required=True, type=Path, help="a checkout of skypilot-org/skypilot-catalog"
    )
    parser.add_argument(
        "--region", action="append", help=f"region to extract (repeatable; default: {DEFAULT_REGIONS})"
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="prices folder to write into")
    parser.add_argument("--commit", help="the checkout's commit, when it is not a git repository")
    parser.add_argument(
        "--date", type=date.fromisoformat, help="the snapshot's date, when it is not a git repository"
    )
    parser.add_argument(
        "--source-note", help="how the checkout was obtained, recorded with the source reference"
    )
    args = parser.parse_args(argv)
    try:
        commit = args.commit or _git(args.checkout, "rev-parse", "HEAD")
        committed = _git(args.checkout, "log", "-1", "--format=%cs")
        day = args.date or (date.fromisoformat(committed) if committed else None)
        if not commit or day is None:
            raise ExtractError(f"{args.checkout}: not a git checkout; give --commit and --date")
        rows = _rows(args.checkout)
        files = {
            region: extract(rows, region, commit, day, args.source_note)
            for region in args.region or DEFAULT_REGIONS
        }
    except ExtractError as err:
        print(err, file=sys.stderr)
        return 2
    for region, price_file in files.items():
        if not price_file.instances:
            print(
                f"{region}: the checkout has no rows for any catalogued type; nothing written",
                file=sys.stderr,
            )
            return 2
        path = args.output / price_file_path(region, "ec2")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            dump_price_file(price_file, HEADER.format(region=region, repository=REPOSITORY, commit=commit)),
            encoding="utf-8",
        )
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
