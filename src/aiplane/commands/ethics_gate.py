"""`aiplane ethics gate`: judge a candidate model's predictions on an evaluation set against the fairness
thresholds an endpoint declares in Git, before it is deployed. Fails closed: a point estimate beyond a
critical bound fails, and so does an attribute with a group below minGroupSize ("insufficient data").
A pass writes the report `aiplane check` looks for (aiplane.ethics.gate: location and format).

The monitor's spec is the endpoint's `ethicsMonitor` in the environment file, or `--spec FILE` (YAML or JSON of
aiplane.ethics.spec.EthicsMonitorSpec) while the environment's ModelEndpoint schema does not embed it yet.
The image and model judged are the endpoint's, unless `--image` / `--model-data-url` name the candidate's.

Exit 0: passes; 1: a critical breach or insufficient data; 2: bad input.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import click
from pydantic import BaseModel, ValidationError

from aiplane import __version__
from aiplane.errors import InputError, Problem
from aiplane.ethics.decision import AttributeFairness, MetricVerdict, Verdict, judge_gate
from aiplane.ethics.evaluation_set import evaluation_set
from aiplane.ethics.fairness import demographic_parity, equalized_odds
from aiplane.ethics.gate import (
    GATE_REPORT_KIND,
    GATE_REPORT_VERSION,
    GATE_REPORTS,
    gate_report_path,
    remove_gate_report,
    write_gate_report,
)
from aiplane.ethics.report import attribute_json, settings_json
from aiplane.ethics.spec import EthicsMonitorSpec
from aiplane.policy.model import Rule, Violation
from aiplane.policy.report import as_json, as_markdown, as_sarif, as_text
from aiplane.project import Settings, display_path, load_settings
from aiplane.synthesis.discovery import discover
from aiplane.synthesis.environment import load_environments
from aiplane.yamlio import load_yaml

ENDPOINT_KIND = "ModelEndpoint"
BREACH_RULE = Rule(
    id="ethics-gate-fairness",
    title="The candidate model's fairness metrics are within the endpoint's bounds",
    severity="critical",
    enforcement="mandatory",
    kinds=(ENDPOINT_KIND,),
    fix="retrain or recalibrate the model, or change the bounds in Git through review",
)
INSUFFICIENT_RULE = Rule(
    id="ethics-gate-insufficient-data",
    title="Every group of every sensitive attribute has at least minGroupSize evaluation rows",
    severity="critical",
    enforcement="mandatory",
    kinds=(ENDPOINT_KIND,),
    fix="evaluate on a larger or more representative set (each group at least minGroupSize rows)",
)


@dataclass(frozen=True)
class Endpoint:
    """The endpoint under judgement, as the environment declares it."""

    environment: str
    namespace: str
    name: str
    image: str
    model_data_url: str
    monitor: EthicsMonitorSpec | None
    monitor_problem: str
    source: str


def _as_spec(monitor: Any) -> tuple[EthicsMonitorSpec | None, str]:
    if isinstance(monitor, EthicsMonitorSpec):
        return monitor, ""
    try:
        dumped = (
            monitor.model_dump(mode="json", exclude_none=True) if isinstance(monitor, BaseModel) else monitor
        )
        return EthicsMonitorSpec.model_validate(dumped, strict=True), ""
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        return None, f"{where}: {str(first['msg']).removeprefix('Value error, ')}"


def load_endpoint(settings: Settings, env_name: str, endpoint: str) -> Endpoint:
    (env,) = load_environments(settings.environments, discover(settings), [env_name], root=settings.root)
    items = [i for i in env.items if i.api.kind == ENDPOINT_KIND]
    item = next((i for i in items if i.name == endpoint), None)
    if item is None:
        names = ", ".join(sorted(i.name for i in items)) or "none"
        raise InputError.single(env.source, f"no endpoint named {endpoint!r} (has: {names})")
    spec: Any = item.spec
    monitor, problem = _as_spec(spec.ethicsMonitor)
    return Endpoint(
        environment=env_name,
        namespace=env.settings.namespace,
        name=endpoint,
        image=str(spec.image),
        model_data_url=str(spec.modelDataUrl),
        monitor=monitor,
        monitor_problem=problem,
        source=env.source,
    )


def load_spec_file(path: str) -> EthicsMonitorSpec:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise InputError.single(path, f"cannot read: {err}") from None
    try:
        return EthicsMonitorSpec.model_validate(load_yaml(text, path), strict=True)
    except ValidationError as err:
        raise InputError(
            [
                Problem(
                    path,
                    str(e["msg"]).removeprefix("Value error, "),
                    field=".".join(map(str, e["loc"])) or None,
                )
                for e in err.errors()
            ]
        ) from None


def _base(target: Endpoint) -> Violation:
    return Violation(
        rule="",
        message="",
        kind=ENDPOINT_KIND,
        name=target.name,
        namespace=target.namespace,
        environment=target.environment,
    )


def _breach(target: Endpoint, attribute: str, m: MetricVerdict) -> Violation:
    bound = dict(m.bounds)[m.severity or "critical"]
    direction = "below" if m.metric == "demographicParityRatio" else "above"
    return replace(
        _base(target),
        rule=BREACH_RULE.id,
        message=f"{attribute}: {m.metric} {m.value:.4f} is {direction} the {m.severity} bound {bound:g}",
        enforcement="mandatory" if m.severity == "critical" else "advisory",
        severity="critical" if m.severity == "critical" else "medium",
        fix=BREACH_RULE.fix,
        field=f"spec.ethicsMonitor.thresholds.{m.severity}.{m.metric}",
    )


def violations_of(target: Endpoint, verdict: Verdict) -> list[Violation]:
    """One violation per breached metric, and one per attribute and reason it cannot be judged."""
    found: list[Violation] = []
    for a in verdict.attributes:
        found += [_breach(target, a.attribute, m) for m in a.metrics if m.status == "breach"]
        reasons: dict[str, list[str]] = {}
        for m in a.metrics:
            if m.status == "insufficient-data":
                reasons.setdefault(m.reason, []).append(m.metric)
        found += [
            replace(
                _base(target),
                rule=INSUFFICIENT_RULE.id,
                message=f"{a.attribute}: insufficient data for {', '.join(metrics)}: {reason}",
                severity="critical",
                fix=INSUFFICIENT_RULE.fix,
                field=f"spec.ethicsMonitor.sensitiveAttributes[{a.attribute}]",
            )
            for reason, metrics in reasons.items()
        ]
    return found


def _metrics_lines(verdict: Verdict) -> list[str]:
    lines = []
    for a in verdict.attributes:
        values = ", ".join(
            f"{m.metric} {m.value:.4f}" if m.value is not None else f"{m.metric} {m.status}"
            for m in a.metrics
        )
        lines.append(f"{a.attribute}: {a.status} (smallest group {a.smallest_group} rows): {values}")
    return lines


def run(
    env: str,
    endpoint: str,
    data: str,
    prediction_column: str,
    label_column: str,
    fmt: str,
    report_dir: str | None,
    spec_file: str | None,
    image: str | None,
    model_data_url: str | None,
) -> int:
    settings = load_settings()
    target = load_endpoint(settings, env, endpoint)
    if spec_file is not None:
        spec = load_spec_file(spec_file)
    elif target.monitor is not None:
        spec = target.monitor
    else:
        raise InputError.single(
            target.source,
            f"endpoint {endpoint!r}: its ethicsMonitor is not the evaluator's spec ({target.monitor_problem}); "
            "pass the monitor's spec with --spec FILE",
        )
    judged_image = image or target.image
    judged_model = model_data_url or target.model_data_url
    table = evaluation_set(Path(data), spec, prediction_column, label_column)
    results = [
        AttributeFairness(
            name,
            demographic_parity(groups, table.predictions),
            equalized_odds(groups, table.labels, table.predictions),
        )
        for name, groups in table.groups.items()
    ]
    verdict = judge_gate(results, spec.thresholds, spec.minGroupSize)
    violations = violations_of(target, verdict)
    passed = not any(v.blocking for v in violations)
    reports = Path(report_dir) if report_dir else settings.root / GATE_REPORTS
    path = gate_report_path(reports, env, endpoint, judged_image, judged_model)
    report_path: Path | None = None
    # A failing rerun withdraws an earlier pass of the same image and model.
    withdrawn = not passed and remove_gate_report(path)
    if passed:
        report_path = path
        write_gate_report(
            report_path,
            {
                "kind": GATE_REPORT_KIND,
                "version": GATE_REPORT_VERSION,
                "passed": True,
                "environment": env,
                "endpoint": endpoint,
                "image": judged_image,
                "modelDataUrl": judged_model,
                "generatedBy": f"aiplane {__version__}",
                "data": {"file": data, "sha256": table.sha256, "rows": table.rows},
                "settings": {
                    k: v for k, v in settings_json(spec).items() if k in ("minGroupSize", "thresholds")
                },
                "attributes": [attribute_json(a) for a in verdict.attributes],
            },
        )
    rules = [BREACH_RULE, INSUFFICIENT_RULE]
    judged = f"{judged_image} with {judged_model}"
    if fmt == "json":
        document = json.loads(as_json(violations, []))
        document["gate"] = {
            "environment": env,
            "endpoint": endpoint,
            "image": judged_image,
            "modelDataUrl": judged_model,
            "rows": table.rows,
            "report": None if report_path is None else display_path(report_path),
            "attributes": [attribute_json(a) for a in verdict.attributes],
        }
        click.echo(json.dumps(document, indent=2, sort_keys=True))
    elif fmt == "sarif":
        click.echo(as_sarif(violations, [], rules, settings.manifests.relative_to(settings.root).as_posix()))
    elif fmt == "markdown":
        lines = [
            as_markdown(violations, [], title=f"aiplane ethics gate {env}/{endpoint}"),
            "",
            f"Judged: `{judged}`",
            "",
        ]
        lines += [f"- {line}" for line in _metrics_lines(verdict)]
        if report_path is not None:
            lines += ["", f"Report: `{display_path(report_path)}`"]
        click.echo("\n".join(lines))
    else:
        click.echo(f"ethics gate {env}/{endpoint}: {judged}, {table.rows} rows")
        for line in _metrics_lines(verdict):
            click.echo(f"  {line}")
        click.echo(as_text(violations, []))
        click.echo(f"passed: report {display_path(report_path)}" if report_path else "failed: no report written")
    if withdrawn:
        click.echo(f"removed the earlier passing report {display_path(path)}", err=True)
    return 0 if passed else 1
