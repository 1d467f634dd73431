"""`aiplane cost`: worst-case and expected USD per hour by environment, cost-center and workload,
from the same catalog and API cost hooks the max-cost-per-hour guardrail uses."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import click

from aiplane.catalog import load_catalog
from aiplane.discovery import discover
from aiplane.environment import load_environments
from aiplane.project import load_settings
from aiplane.xr import item_cost

HOURS_PER_MONTH = 730  # the Infracost convention (reference finops-and-ethics.md §1)


def run(envs: list[str], fmt: str) -> int:
    settings = load_settings()
    catalog = load_catalog()
    environments = load_environments(settings.environments, discover(settings), envs)
    report: list[dict[str, Any]] = []
    for env in environments:
        workloads: list[dict[str, Any]] = []
        by_cost_center: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
        for item in sorted(env.items, key=lambda i: (i.api.kind, i.name)):
            cost = item_cost(item, env, catalog)
            if cost is None:
                continue
            workloads.append(
                {
                    "kind": item.api.kind,
                    "name": item.name,
                    "costCenter": item.spec.finops.costCenter,
                    "tier": item.spec.finops.tier,
                    "worstCase": round(cost[0], 4),
                    "expected": round(cost[1], 4),
                }
            )
            by_cost_center[item.spec.finops.costCenter][0] += cost[0]
            by_cost_center[item.spec.finops.costCenter][1] += cost[1]
        worst = sum(float(w["worstCase"]) for w in workloads)
        expected = sum(float(w["expected"]) for w in workloads)
        report.append(
            {
                "environment": env.settings.name,
                "budgetPerHour": env.settings.finops.budgetPerHour,
                "worstCase": round(worst, 4),
                "expected": round(expected, 4),
                "costCenters": {
                    k: {"worstCase": round(v[0], 4), "expected": round(v[1], 4)}
                    for k, v in sorted(by_cost_center.items())
                },
                "workloads": workloads,
            }
        )
    if fmt == "json":
        click.echo(json.dumps({"version": 1, "unit": "USD/h", "environments": report}, indent=2))
        return 0
    for env_report in report:
        click.echo(
            f"{env_report['environment']}: worst case ${env_report['worstCase']:.2f}/h, expected "
            f"${env_report['expected']:.2f}/h, budget ${env_report['budgetPerHour']:.2f}/h "
            f"(worst case ≈ ${env_report['worstCase'] * HOURS_PER_MONTH:,.0f}/month)"
        )
        for center, cost in env_report["costCenters"].items():
            click.echo(
                f"  cost-center {center}: ${cost['worstCase']:.2f}/h worst, ${cost['expected']:.2f}/h expected"
            )
        for w in env_report["workloads"]:
            click.echo(
                f"    {w['kind']}/{w['name']} [{w['tier']}]: ${w['worstCase']:.2f}/h worst, "
                f"${w['expected']:.2f}/h expected"
            )
    return 0
