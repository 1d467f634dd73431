"""`aiplane cost`: worst-case and expected USD per hour by environment, cost-center and workload, at each
environment's region's prices; with `--diff REF`, what a change does to them compared with the environments
at a git revision. A figure that rests on an uncertain price says so in every format."""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from aiplane.errors import InputError
from aiplane.finops.costing import HOURS_PER_MONTH, EnvironmentCost, environment_costs
from aiplane.project import Settings, load_settings
from aiplane.synthesis.discovery import discover
from aiplane.synthesis.environment import ENVIRONMENT_SUFFIXES, load_environments

UNCERTAIN_MARK = " (uncertain price)"


def _as_json(cost: EnvironmentCost) -> dict[str, Any]:
    return {
        "environment": cost.environment,
        "region": cost.region,
        "budgetPerHour": cost.budget_per_hour,
        "worstCase": round(cost.worst_case, 4),
        "expected": round(cost.expected, 4),
        "costCenters": {
            k: {"worstCase": round(v[0], 4), "expected": round(v[1], 4)}
            for k, v in cost.by_cost_center().items()
        },
        "workloads": [
            {
                "kind": w.kind,
                "name": w.name,
                "costCenter": w.cost_center,
                "tier": w.tier,
                "worstCase": round(w.worst_case, 4),
                "expected": round(w.expected, 4),
                "uncertainPrices": list(w.uncertain),
            }
            for w in cost.workloads
        ],
        "uncertainPrices": cost.uncertain,
    }


def _print_uncertain(uncertain: list[str]) -> None:
    if uncertain:
        click.echo("  uncertain prices (`aiplane catalog status` lists every source and date):")
        for note in uncertain:
            click.echo(f"    {note}")


def _print_text(costs: list[EnvironmentCost]) -> None:
    for env in costs:
        click.echo(
            f"{env.environment} ({env.region} prices): worst case ${env.worst_case:.2f}/h, expected "
            f"${env.expected:.2f}/h, budget ${env.budget_per_hour:.2f}/h (worst case ≈ "
            f"${env.worst_case * HOURS_PER_MONTH:,.0f}/month)" + (UNCERTAIN_MARK if env.uncertain else "")
        )
        for center, (worst, expected) in env.by_cost_center().items():
            click.echo(f"  cost-center {center}: ${worst:.2f}/h worst, ${expected:.2f}/h expected")
        for w in env.workloads:
            click.echo(
                f"    {w.kind}/{w.name} [{w.tier}]: ${w.worst_case:.2f}/h worst, ${w.expected:.2f}/h expected"
                + (UNCERTAIN_MARK if w.uncertain else "")
            )
        _print_uncertain(env.uncertain)


@contextmanager
def environments_at(settings: Settings, ref: str) -> Iterator[Path]:
    """A temporary folder holding the environment files as they were at git revision `ref`."""
    rel = settings.environments.relative_to(settings.root).as_posix()
    git = ["git", "-C", str(settings.root)]
    listing = subprocess.run([*git, "ls-tree", "--name-only", f"{ref}:{rel}"], capture_output=True, text=True)
    if listing.returncode != 0:
        raise InputError.single(ref, f"cannot read {rel}/ at this git revision: {listing.stderr.strip()}")
    with tempfile.TemporaryDirectory(prefix="aiplane-cost-") as tmp:
        folder = Path(tmp)
        for name in listing.stdout.split():
            if name.endswith(ENVIRONMENT_SUFFIXES):
                shown = subprocess.run([*git, "show", f"{ref}:{rel}/{name}"], capture_output=True, check=True)
                (folder / name).write_bytes(shown.stdout)
        yield folder


def _diff(before: list[EnvironmentCost], after: list[EnvironmentCost]) -> list[dict[str, Any]]:
    old = {c.environment: c for c in before}
    new = {c.environment: c for c in after}
    out = []
    for name in sorted(old.keys() | new.keys()):
        was, now = old.get(name), new.get(name)
        was_w = {(w.kind, w.name): w for w in (was.workloads if was else [])}
        now_w = {(w.kind, w.name): w for w in (now.workloads if now else [])}
        changes: list[dict[str, Any]] = []
        for key in sorted(was_w.keys() | now_w.keys()):
            a, b = was_w.get(key), now_w.get(key)
            before_cost = a.worst_case if a else 0.0
            after_cost = b.worst_case if b else 0.0
            if abs(after_cost - before_cost) > 1e-9:
                changes.append(
                    {
                        "kind": key[0],
                        "name": key[1],
                        "worstCaseBefore": round(before_cost, 4),
                        "worstCaseAfter": round(after_cost, 4),
                        "delta": round(after_cost - before_cost, 4),
                        "uncertainPrices": list(
                            dict.fromkeys([*(a.uncertain if a else ()), *(b.uncertain if b else ())])
                        ),
                    }
                )
        out.append(
            {
                "environment": name,
                "region": now.region if now else (was.region if was else ""),
                "worstCaseBefore": round(was.worst_case, 4) if was else 0.0,
                "worstCaseAfter": round(now.worst_case, 4) if now else 0.0,
                "budgetPerHour": now.budget_per_hour if now else (was.budget_per_hour if was else 0.0),
                "changes": changes,
                "uncertainPrices": list(dict.fromkeys(u for c in changes for u in c["uncertainPrices"])),
            }
        )
    return out


def run(envs: list[str], fmt: str, diff: str | None = None) -> int:
    settings = load_settings()
    project = discover(settings)
    catalog = project.catalog
    after = environment_costs(
        load_environments(settings.environments, project, envs, root=settings.root), catalog
    )
    if diff is None:
        if fmt == "json":
            click.echo(
                json.dumps(
                    {"version": 1, "unit": "USD/h", "environments": [_as_json(c) for c in after]}, indent=2
                )
            )
        else:
            _print_text(after)
        return 0
    with environments_at(settings, diff) as folder:
        wanted = [e for e in envs if (folder / f"{e}.yaml").exists()]
        # With --env, environments that did not exist at REF count as new (nothing before).
        before = (
            []
            if envs and not wanted
            else environment_costs(load_environments(folder, project, wanted, allow_empty=True), catalog)
        )
    changes = _diff(before, after)
    if fmt == "json":
        click.echo(
            json.dumps({"version": 1, "unit": "USD/h", "base": diff, "environments": changes}, indent=2)
        )
        return 0
    for env in changes:
        delta = env["worstCaseAfter"] - env["worstCaseBefore"]
        click.echo(
            f"{env['environment']}: worst case ${env['worstCaseBefore']:.2f}/h → ${env['worstCaseAfter']:.2f}/h "
            f"({delta:+.2f}/h, {delta * HOURS_PER_MONTH:+,.0f}/month; budget ${env['budgetPerHour']:.2f}/h)"
            + (UNCERTAIN_MARK if env["uncertainPrices"] else "")
        )
        for c in env["changes"]:
            click.echo(
                f"  {c['kind']}/{c['name']}: ${c['worstCaseBefore']:.2f}/h → ${c['worstCaseAfter']:.2f}/h "
                f"({c['delta']:+.2f}/h)" + (UNCERTAIN_MARK if c["uncertainPrices"] else "")
            )
        _print_uncertain(env["uncertainPrices"])
    return 0
