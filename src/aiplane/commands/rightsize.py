"""`aiplane rightsize`: recommendations for each node pool and endpoint of one environment from its real
utilization history (CloudWatch, Prometheus or an export file), with the guardrails re-run on the result;
`--write` puts them into environments/<env>.yaml. Exit 0 (with or without recommendations), 1 `--write`
refused by a guardrail, 2 bad input, credentials, an unreachable source or another account's credentials.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from aiplane.audit.declared import DeclaredState, from_synthesis
from aiplane.audit.live import Clients, access_problem
from aiplane.audit.run import AccountMismatch, check_account, one_line
from aiplane.commands.audit import check_endpoint_urls, check_region
from aiplane.crossplane.render import RenderError
from aiplane.errors import InputError, Problem
from aiplane.finops.costing import environment_costs
from aiplane.policy import Violation, default_context, load_policy_config, run_rules
from aiplane.project import Settings, display_path, load_settings
from aiplane.rightsizing.cloudwatch import read_cloudwatch
from aiplane.rightsizing.envfile import apply
from aiplane.rightsizing.export import read_export
from aiplane.rightsizing.history import INVOCATIONS, History, Window, Workload, window_ending
from aiplane.rightsizing.prometheus import PrometheusError, read_prometheus
from aiplane.rightsizing.recommend import recommend
from aiplane.rightsizing.report import Cost, Outcome, as_json, as_text
from aiplane.synthesis.environment import ENVIRONMENT_SUFFIXES
from aiplane.synthesis.pipeline import Synthesis, synthesize


def run(
    env: str,
    days: int,
    source: str,
    prometheus_url: str | None,
    prometheus_label: str,
    fmt: str,
    write: bool,
    now: datetime | None = None,
    backtest: bool = False,
    plot: str | None = None,
) -> int:
    settings = load_settings()
    path = environment_file(settings, env)
    synthesis = synthesize(settings, [env])
    environment = next(e for e in synthesis.environments if e.settings.name == env)
    if backtest:
        return run_backtests(synthesis, settings, env, days, source, prometheus_url, prometheus_label, fmt, plot, now)
    window = window_ending(now or datetime.now(UTC), days)
    history = read_history(synthesis, settings, env, source, prometheus_url, prometheus_label, window)
    recommendations = recommend(environment, history, synthesis.project.catalog)
    text = path.read_text(encoding="utf-8")
    recommended = apply(text, recommendations, environment.source)
    after, violations = judge(settings, env, path.name, recommended)
    costs: dict[str, Cost] = {}
    if after is not None:
        before_costs = environment_costs(synthesis.environments, synthesis.project.catalog)
        after_costs = environment_costs(after.environments, after.project.catalog)
        old = {f"{w.kind}/{w.name}": w for c in before_costs for w in c.workloads}
        for c in after_costs:
            for w in c.workloads:
                key = f"{w.kind}/{w.name}"
                if key in old:
                    costs[key] = Cost(old[key].worst_case, w.worst_case, old[key].expected, w.expected)
    outcome = Outcome(env, history, recommendations, costs, violations)
    if write and not outcome.refused and recommended != text:
        write_atomically(path, recommended)
        outcome = replace(outcome, written=True)
    click.echo(as_json(outcome) if fmt == "json" else as_text(outcome, markdown=fmt == "markdown"))
    if write and outcome.refused:
        click.echo(f"{environment.source}: not written: a guardrail fails on the recommended environment", err=True)
        return 1
    return 0


def run_backtests(synthesis: Synthesis, settings: Settings, env: str, days: int, source: str, url: str | None,
                  label: str, fmt: str, plot: str | None, now: datetime | None) -> int:
    """Backtest every autoscaled endpoint of the environment on its invocation history (rightsizing.backtest).
    A file's history is taken as it is, its window ending at its last sample; a live source's ends now."""
    from aiplane.rightsizing.backtest import as_table, run_backtest
    from aiplane.rightsizing.backtest import plot as draw
    from aiplane.rightsizing.forecast import TooLittleHistory

    environment = next(e for e in synthesis.environments if e.settings.name == env)
    end = now or datetime.now(UTC)
    if source not in ("cloudwatch", "prometheus"):
        end = _last_sample(Path(source)) or end
    history = read_history(synthesis, settings, env, source, url, label, window_ending(end, days))
    results, said = [], []
    for item in sorted(environment.items, key=lambda i: i.name):
        if item.api.kind != "ModelEndpoint":
            continue
        spec: Any = item.spec
        if spec.autoscaling is None:
            said.append(f"ModelEndpoint/{item.name}: not backtested: no autoscaling declared")
            continue
        series = history.get(Workload("ModelEndpoint", item.name), INVOCATIONS)
        price = synthesis.project.catalog.in_region(spec.region).sagemaker_instance(spec.instanceType)
        try:
            results.append(run_backtest(
                item.name, series.samples if series else (), spec.instanceCount, spec.autoscaling.minInstances,
                spec.autoscaling.maxInstances, spec.autoscaling.targetInvocationsPerInstance,
                price.on_demand_usd_per_hour))
        except TooLittleHistory as err:
            said.append(f"ModelEndpoint/{item.name}: not backtested: too little data: {err}")
    if fmt == "json":
        click.echo(json.dumps({"version": 1, "environment": env, "source": history.source, "notes": said, "backtests": [
            {"endpoint": r.endpoint, "start": r.start.isoformat(), "mape": r.errors,
             "underForecastHours": r.under_forecast_hours, "schedule": r.plan.entries,
             "strategies": [{"strategy": o.strategy, "costUsd": round(o.cost_usd, 2),
                             "instanceHours": round(o.instance_hours, 2),
                             "underProvisionedHours": o.under_provisioned_hours, "sloMissHours": o.slo_miss_hours,
                             "sloMissMinutes": o.slo_miss_minutes} for o in r.outcomes]} for r in results]},
                              indent=2))
    else:
        click.echo("\n\n".join([*(as_table(r, markdown=fmt == "markdown") for r in results), *said]))
    if plot:
        if len(results) != 1:
            raise InputError.single("--plot", f"--plot draws one endpoint's backtest; {len(results)} were backtested")
        draw(results[0], Path(plot))
    return 0


def _last_sample(path: Path) -> datetime | None:
    """The hour after a history file's last sample (the window then ends there), or None if it has none."""
    from aiplane.rightsizing.history import hour_of

    wide = Window(datetime(1970, 1, 1, tzinfo=UTC), datetime(9999, 1, 1, tzinfo=UTC))
    history = read_export(path, wide)
    last = max((s.samples[-1].at for s in history.series.values() if s.samples), default=None)
    return None if last is None else hour_of(last) + timedelta(hours=1)


def environment_file(settings: Settings, env: str) -> Path:
    for suffix in ENVIRONMENT_SUFFIXES:
        candidate = settings.environments / f"{env}{suffix}"
        if candidate.is_file():
            return candidate
    raise InputError.single(display_path(settings.environments), f"no environment file {env}.yaml")


def read_history(
    synthesis: Synthesis, settings: Settings, env: str, source: str, url: str | None, label: str, window: Window
) -> History:
    if source not in ("cloudwatch", "prometheus"):
        return read_export(Path(source), window)
    declared = _declared(synthesis, settings, env)
    if source == "prometheus":
        if not url:
            raise InputError.single("--prometheus-url", "--source prometheus needs --prometheus-url URL")
        try:
            return read_prometheus(declared, url, window, label)
        except PrometheusError as err:
            raise InputError.single("Prometheus", str(err)) from None
    check_endpoint_urls()
    check_region(declared)
    clients = Clients()
    try:
        check_account(declared, clients)
        return read_cloudwatch(declared, clients, synthesis.project.catalog, window)
    except AccountMismatch as err:
        raise InputError([Problem(declared.source, str(err), field="accountId")]) from None
    except Exception as err:  # credentials, endpoint, permissions: one line, exit 2
        problem = access_problem(err)
        if problem is None and type(err).__module__.startswith("botocore"):
            problem = one_line(f"AWS error: {err}")
        if problem is None:
            raise
        raise InputError.single("AWS", problem) from None


def _declared(synthesis: Synthesis, settings: Settings, env: str) -> DeclaredState:
    try:
        return from_synthesis(synthesis, env, settings.group)
    except (RenderError, ValueError) as err:
        raise InputError.single(f"environments/{env}", f"cannot render what Git declares: {err}") from None


def judge(settings: Settings, env: str, file_name: str, text: str) -> tuple[Synthesis | None, list[Violation]]:
    """Synthesize the environment as recommended (in a copy of environments/) and run every guardrail on it.
    An environment the recommendation would make invalid is reported as a violation, never written."""
    with tempfile.TemporaryDirectory(prefix="aiplane-rightsize-", dir=settings.root) as tmp:
        folder = Path(tmp) / "environments"
        shutil.copytree(settings.environments, folder)
        (folder / file_name).write_text(text, encoding="utf-8")
        try:
            after = synthesize(replace(settings, environments=folder), [env])
        except InputError as err:
            return None, [Violation("environment-valid", str(p).replace(str(folder), "environments"), kind="Environment",
                                    name=env, environment=env) for p in err.problems]
        violations = run_rules(after.objects(), default_context(settings, after), load_policy_config(settings))
    return after, violations


def write_atomically(path: Path, text: str) -> None:
    """Write beside the file, then rename over it: a reader sees the old file or the new, never half."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
