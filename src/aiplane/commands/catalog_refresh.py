"""`aiplane catalog refresh --region R [--service ec2|sagemaker]...`: fetch one region's prices and availability
from AWS's own APIs (aiplane.catalog.refresh) and write them, dated and sourced, as the project's price files
`<[tool.aiplane] prices>/<region>/<service>.yaml`, which then replace the shipped prices for that region."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from aiplane.audit.live import RETRY_CONFIG, access_problem
from aiplane.catalog.instances import load_catalog
from aiplane.catalog.prices import SERVICES, dump_price_file, price_file_path
from aiplane.catalog.refresh import (
    PRICING_REGION,
    RefreshClients,
    RefreshError,
    refresh_ec2,
    refresh_sagemaker,
)
from aiplane.errors import InputError, SystemFailure
from aiplane.project import load_settings
from aiplane.synthesis.environment import aws_regions

HEADER = (
    "{service} prices and availability in {region}, written by `aiplane catalog refresh` from AWS's own APIs\n"
    "on {day}. Re-run the command to update it; do not edit by hand. Schema: aiplane.catalog.prices."
)


def aws_clients(region: str) -> RefreshClients:
    import boto3  # the AWS SDK is only needed by the commands that call AWS

    session = boto3.Session()
    return RefreshClients(
        ec2=session.client("ec2", region_name=region, config=RETRY_CONFIG),
        pricing=session.client("pricing", region_name=PRICING_REGION, config=RETRY_CONFIG),
    )


def _write(path: Path, text: str) -> None:
    """Atomically: a reader sees the old file or the new one, never half of one."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=path.parent, delete=False, suffix=".tmp"
        ) as f:
            f.write(text)
        os.replace(f.name, path)
    except OSError as err:
        raise SystemFailure.from_os_error(str(path), "cannot write the price file", err) from None


def run(
    region: str,
    services: Sequence[str] = (),
    window_days: float = 7.0,
    output: str | None = None,
    clients: RefreshClients | None = None,
    now: datetime | None = None,
) -> int:
    """`clients` and `now` are for tests (moto, botocore's Stubber, a fixed clock)."""
    if region not in aws_regions():
        raise InputError.single("--region", f"unknown AWS region {region!r}")
    if not 0 < window_days <= 90:
        # DescribeSpotPriceHistory keeps 90 days of history.
        raise InputError.single("--window-days", f"must be more than 0 and at most 90, not {window_days!r}")
    settings = load_settings()
    folder = Path(output) if output else settings.prices
    moment = now or datetime.now(UTC).replace(microsecond=0)
    catalog = load_catalog()
    wanted = list(dict.fromkeys(services)) or list(SERVICES)
    try:
        aws = clients or aws_clients(region)
        files = [
            refresh_ec2(region, aws, catalog.ec2_instance_names(), moment, timedelta(days=window_days))
            if service == "ec2"
            else refresh_sagemaker(region, aws, catalog.sagemaker_instance_names(), moment)
            for service in wanted
        ]
    except RefreshError as err:
        raise InputError.single("AWS", str(err)) from None
    except Exception as err:  # credentials, endpoint, throttling: one line, exit 2
        problem = access_problem(err)
        if problem is None:
            raise
        raise InputError.single("AWS", problem) from None
    for price_file in files:
        path = folder / price_file_path(region, price_file.service)
        header = HEADER.format(
            service=price_file.service.upper(), region=region, day=moment.date().isoformat()
        )
        _write(path, dump_price_file(price_file, header))
        shown = os.path.relpath(path, settings.root) if path.is_relative_to(settings.root) else str(path)
        click.echo(
            f"wrote {shown}: {len(price_file.instances)} priced, {len(price_file.not_offered)} not offered "
            f"(retrieved {price_file.source.retrieved.isoformat()})"
        )
    return 0
