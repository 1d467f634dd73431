"""ethics-gate-passed: an endpoint whose monitor's action is `block-promotion` deploys only an image and model
that passed the pre-deployment gate: `aiplane ethics gate` wrote a passing report for exactly that `image` and
`modelDataUrl` pair in this environment (ethics-reports/<env>/<endpoint>/<sha256>.json, committed with the
change). A new model version without its report is refused before it reaches Git."""

from __future__ import annotations

from collections.abc import Iterator

from aiplane.ethics.gate import GATE_REPORTS, gate_report_path, passing_report_for
from aiplane.policy.context import Manifest, RuleContext
from aiplane.policy.model import Finding, Rule

ENDPOINT_KIND = "ModelEndpoint"
BLOCK_PROMOTION = "block-promotion"


def check(obj: Manifest, ctx: RuleContext) -> Iterator[Finding]:
    if ctx.api_of(obj) is None or obj.get("kind") != ENDPOINT_KIND:
        return
    spec = obj.get("spec") or {}
    monitor = spec.get("ethicsMonitor") or {}
    if not isinstance(monitor, dict) or monitor.get("action") != BLOCK_PROMOTION:
        return
    image, model = spec.get("image"), spec.get("modelDataUrl")
    if not isinstance(image, str) or not isinstance(model, str):
        return  # the schema reports it
    env, name = ctx.environment_name(obj), str((obj.get("metadata") or {}).get("name", ""))
    if passing_report_for(ctx.settings.root, env, name, image, model) is None:
        where = gate_report_path(ctx.settings.root / GATE_REPORTS, env, name, image, model)
        yield Finding(
            obj,
            f"action block-promotion: no passing ethics gate report for image {image} with model {model} "
            f"(expected {where.relative_to(ctx.settings.root)})",
            "spec.image",
            fix=f"run `aiplane ethics gate --env {env} --endpoint {name} --data <evaluation set>` and commit "
            "the report it writes",
        )


RULE = Rule(
    id="ethics-gate-passed",
    title="A block-promotion endpoint deploys only a model that passed the fairness gate",
    severity="high",
    enforcement="mandatory",
    kinds=(ENDPOINT_KIND,),
    fix="run aiplane ethics gate on the candidate's evaluation set and commit its passing report",
    check=check,
)
