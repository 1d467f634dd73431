"""Audit output: text grouped by resource for people, versioned JSON for tools (docs/audit.md)."""

from __future__ import annotations

import json
from itertools import groupby
from typing import Any

from aiplane.audit.findings import AuditReport, Finding
from aiplane.console import paint

JSON_VERSION = 2  # 2: camelCase keys (byKind, costLeakUsdPerHour, usdPerHour), as every aiplane JSON


def to_json(report: AuditReport) -> dict[str, Any]:
    return {
        "version": JSON_VERSION,
        "environment": report.environment,
        "account": report.account,
        "region": report.region,
        "findings": [_finding(f) for f in report.sorted_findings()],
        "unchecked": [
            {
                "resource": {"type": u.resource.type, "name": u.resource.name},
                "field": u.field,
                "reason": u.reason,
            }
            for u in sorted(report.unchecked, key=lambda u: u.resource)
        ],
        "summary": {
            "findings": len(report.findings),
            "byKind": report.counts(),
            "costLeakUsdPerHour": report.leaked_usd_per_hour(),
            "unchecked": len(report.unchecked),
        },
    }


def _finding(f: Finding) -> dict[str, Any]:
    return {
        "kind": f.kind,
        "resource": {"type": f.resource.type, "name": f.resource.name},
        "field": f.field,
        "declared": f.declared,
        "live": f.live,
        "message": f.message,
        "usdPerHour": f.usd_per_hour,
    }


def render_json(report: AuditReport) -> str:
    return json.dumps(to_json(report), indent=2, sort_keys=False)


def render_text(report: AuditReport) -> str:
    lines = [f"audit of environment {report.environment}: account {report.account}, region {report.region}"]
    for resource, group in groupby(report.sorted_findings(), key=lambda f: f.resource):
        lines.append("")
        lines.append(str(resource))
        lines += [f"  {paint(f'{f.kind:<12}', fg='yellow', bold=True)} {f.message}" for f in group]
    if report.unchecked:
        lines.append("")
        lines.append("not checked:")
        lines += [
            f"  {u.resource} {u.field}: {u.reason}"
            for u in sorted(report.unchecked, key=lambda u: u.resource)
        ]
    lines.append("")
    counts = ", ".join(f"{n} {kind}" for kind, n in report.counts().items() if n)
    if report.findings:
        summary = f"{len(report.findings)} finding(s): {counts}"
        leaked = report.leaked_usd_per_hour()
        unpriced = any(f.kind == "cost-leak" and f.usd_per_hour is None for f in report.findings)
        if leaked or unpriced:
            summary += f"; untagged capacity costs {'at least ' if unpriced else ''}${leaked:.2f}/h"
    else:
        summary = paint("no findings: the account matches Git", fg="green")
    if report.unchecked:
        summary += f" ({len(report.unchecked)} check(s) could not be made)"
    lines.append(summary)
    return "\n".join(lines)
