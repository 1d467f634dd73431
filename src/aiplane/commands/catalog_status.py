"""`aiplane catalog status`: the price files in force per region and service (shipped or the project's own),
their sources and dates, every entry still marked uncertain, and a warning for each file older than
`[tool.aiplane] price-max-age-days`."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import click

from aiplane.catalog.instances import refresh_command
from aiplane.catalog.sources import Reference
from aiplane.project import load_settings
from aiplane.synthesis.discovery import project_catalog


def _where(reference: Reference) -> str:
    if reference.url:
        return reference.url
    if reference.repository:
        return f"{reference.repository} {reference.path or ''}".strip()
    return reference.path or reference.title


def run(fmt: str = "text", today: date | None = None) -> int:
    """Exit 0 when every price file is younger than the configured age, 1 when one is older; `today` for tests."""
    settings = load_settings()
    catalog = project_catalog(settings)
    day = today or date.today()
    rows: list[dict[str, Any]] = []
    for (service, region), info in sorted(catalog.price_files.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        source = info.price_file.source
        age = (day - source.retrieved).days
        rows.append(
            {
                "region": region,
                "service": service,
                "origin": info.origin,
                "retrieved": source.retrieved.isoformat(),
                "ageDays": age,
                "stale": age > settings.price_max_age_days,
                "summary": source.summary,
                "references": [_where(r) for r in source.references],
                "priced": len(info.price_file.instances),
                "notOffered": len(info.price_file.not_offered),
            }
        )
    stale = [r for r in rows if r["stale"]]
    uncertain = catalog.uncertain_entries()
    if fmt == "json":
        document = {
            "version": 1,
            "maxAgeDays": settings.price_max_age_days,
            "priceFiles": rows,
            "uncertain": uncertain,
        }
        click.echo(json.dumps(document, indent=2))
    else:
        click.echo(
            f"price files (warn past {settings.price_max_age_days} days, [tool.aiplane] price-max-age-days):"
        )
        for r in rows:
            click.echo(
                f"  {r['region']} {r['service']}: {r['priced']} priced, {r['notOffered']} not offered; "
                f"retrieved {r['retrieved']} ({r['ageDays']} days ago), {r['origin']}"
            )
            click.echo(f"    {r['summary']}")
            for reference in r["references"]:
                click.echo(f"    - {reference}")
        click.echo(f"uncertain entries ({len(uncertain)}):")
        for entry in uncertain:
            click.echo(f"  {entry}")
    for r in stale:
        click.echo(
            f"warning: {r['region']} {r['service']} prices are {r['ageDays']} days old (more than "
            f"{settings.price_max_age_days}); run `{refresh_command(str(r['region']), str(r['service']))}`",
            err=True,
        )
    return 1 if stale else 0
