"""`aiplane plan`: what a change in Git will do to the live resources, before merge.

The old side is the committed `manifests/` at a git revision (what Flux applied: `--against`, default
`origin/main`, else `HEAD`); the new side is synthesized now. Every XR is rendered to its steady state on both
sides (aiplane.crossplane.plan) and each composed resource is classified: create, update (fields), replace
(create-before-destroy), delete, or refused (an in-place change of a ForceNew field, which the provider would
refuse). Exit 0: nothing refused; 1: something would be refused or a mandatory guardrail fails; 2: bad input.
"""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from typing import Any

import click

from aiplane.console import paint, progress
from aiplane.crossplane.plan import XRPlan, plan
from aiplane.policy import default_context, load_policy_config, run_rules
from aiplane.project import Settings, load_settings
from aiplane.revision import paths_at, texts_at
from aiplane.synthesis.pipeline import synthesize
from aiplane.yamlio import load_documents_from_text

JSON_FORMAT_VERSION = 1
COMMENT_MARKER = "<!-- aiplane-plan-comment -->"


def default_ref(settings: Settings) -> str:
    """`origin/main` when the repository has it, else `HEAD`."""
    probe = subprocess.run(
        ["git", "-C", str(settings.root), "rev-parse", "--verify", "--quiet", "origin/main"],
        capture_output=True, text=True, check=False,
    )
    return "origin/main" if probe.returncode == 0 else "HEAD"


def manifests_at(settings: Settings, ref: str) -> list[dict[str, Any]]:
    """Every object of the committed manifests/ at git revision `ref`, read as `check --manifests` reads files."""
    rel = settings.manifests.relative_to(settings.root).as_posix()
    paths = [
        p for p in paths_at(settings.root, ref, rel)
        if p.endswith(".yaml") and not p.endswith("/kustomization.yaml") and "/flux-system/" not in p
    ]
    objects: list[dict[str, Any]] = []
    for path, text in zip(paths, texts_at(settings.root, ref, paths), strict=True):
        objects += [d.obj for d in load_documents_from_text(text, f"{ref}:{path}") if isinstance(d.obj, dict)]
    return objects


def _in_envs(obj: dict[str, Any], label: str, envs: list[str]) -> bool:
    environment = ((obj.get("metadata") or {}).get("labels") or {}).get(label)
    return not envs or environment is None or environment in envs


def _money(value: float | None) -> str:
    return "—" if value is None else f"${value:,.2f}/h"


def as_json(plans: list[XRPlan], ref: str, guardrails_failed: int) -> str:
    return json.dumps(
        {
            "version": JSON_FORMAT_VERSION,
            "against": ref,
            "refused": sum(p.refused_count for p in plans),
            "guardrailViolations": guardrails_failed,
            "xrs": [
                {
                    "kind": p.kind,
                    "namespace": p.namespace,
                    "name": p.name,
                    "worstCaseUsdPerHour": {"before": p.worst_case_before, "after": p.worst_case_after},
                    "immutableChanged": list(p.immutable_changed),
                    "resources": [
                        {
                            "resource": c.resource,
                            "kind": c.kind,
                            "action": c.action,
                            "fields": list(c.fields),
                            **({"forceNew": list(c.forcenew)} if c.forcenew else {}),
                            **({"replaces": c.replaces} if c.replaces else {}),
                            **({"orphaned": True} if c.orphaned else {}),
                        }
                        for c in p.changes
                    ],
                }
                for p in plans
            ],
        },
        indent=2,
        sort_keys=True,
    )


def _line(change: Any) -> str:
    fields = f" ({', '.join(change.fields)})" if change.fields and change.action != "refused" else ""
    if change.action == "refused":
        return (f"  ✗ refused  {change.kind} {change.resource}: in-place change of ForceNew "
                f"{', '.join(change.forcenew) or 'external name'}")
    if change.action == "replace":
        return f"  ± replace  {change.kind} {change.resource} (create-before-destroy, replaces {change.replaces}){fields}"
    mark = {"create": "+", "delete": "-", "update": "~"}[change.action]
    orphan = " (orphaned: no Delete in its managementPolicies, the AWS resource stays)" if change.orphaned else ""
    return f"  {mark} {change.action:<8} {change.kind} {change.resource}{fields}{orphan}"


# On a terminal: refusals and deletions red, replacements yellow, creations green, updates cyan.
ACTION_COLOURS = {"✗": "red", "-": "red", "±": "yellow", "+": "green", "~": "cyan"}


def _painted(line: str) -> str:
    colour = ACTION_COLOURS.get(line[2:3]) if line.startswith("  ") else None
    return paint(line, fg=colour, bold=colour == "red") if colour else line


def as_text(plans: list[XRPlan], ref: str, coloured: bool = False) -> str:
    """The plan for people; `coloured` paints each action (only for the terminal, never inside markdown)."""
    if not plans:
        return f"no change to any composed resource against {ref}"
    lines = []
    for p in plans:
        lines.append(f"{p.kind} {p.namespace}/{p.name}  worst case {_money(p.worst_case_before)} → {_money(p.worst_case_after)}")
        lines += [f"  ✗ refused  {f}: immutable (the XRD says self == oldSelf; declare a new item instead)"
                  for f in p.immutable_changed]
        lines += [_line(c) for c in p.changes]
    refused = sum(p.refused_count for p in plans)
    lines.append(f"{len(plans)} XR(s) change against {ref}; {refused} change(s) would be refused")
    return "\n".join(_painted(line) for line in lines) if coloured else "\n".join(lines)


def as_markdown(plans: list[XRPlan], ref: str) -> str:
    refused = sum(p.refused_count for p in plans)
    counts = Counter(c.action for p in plans for c in p.changes)
    counts["refused"] += sum(len(p.immutable_changed) for p in plans)
    summary = ", ".join(f"{n} {a}" for a, n in sorted(counts.items()) if n) or "no change"
    head = "❌" if refused else "✅"
    # The hidden marker lets a CI job find and update its one plan comment (docs/ci.md).
    out = [COMMENT_MARKER, f"### {head} aiplane plan against `{ref}`: {summary}", ""]
    if plans:
        out += ["| XR | worst case before | after |", "|---|---|---|"]
        out += [f"| {p.kind} `{p.namespace}/{p.name}` | {_money(p.worst_case_before)} | {_money(p.worst_case_after)} |"
                for p in plans]
        out += ["", "<details><summary>Composed resources</summary>", "", "```", as_text(plans, ref), "```", "</details>"]
    return "\n".join(out)


def run(envs: list[str], against: str | None, fmt: str) -> int:
    settings = load_settings()
    ref = against or default_ref(settings)
    with progress(f"Planning against {ref}: rendering both sides and running the guardrails…"):
        old = manifests_at(settings, ref)
        synthesis = synthesize(settings, envs)
        new = synthesis.objects()
        label = settings.label("environment")
        old = [o for o in old if _in_envs(o, label, envs)]
        kinds = {(f"{settings.group}/{api.version}", kind) for kind, api in synthesis.project.apis.items()}
        plans = plan(old, new, kinds, settings.domain)
        ctx = default_context(settings, synthesis)
        # Open mandatory violations only: a waived finding does not block (aiplane.policy.waivers).
        violations = [v for v in run_rules(new, ctx, load_policy_config(settings)) if v.blocking]
    if fmt == "json":
        click.echo(as_json(plans, ref, len(violations)))
    elif fmt == "markdown":
        click.echo(as_markdown(plans, ref))
    else:
        click.echo(as_text(plans, ref, coloured=True))
        if violations:
            click.echo(f"{len(violations)} mandatory guardrail violation(s): run `aiplane check`", err=True)
    refused = any(p.refused for p in plans)
    return 1 if refused or violations else 0
