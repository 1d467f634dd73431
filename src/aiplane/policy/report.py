"""Presenting violations: text for people, JSON for tools, SARIF 2.1.0 for code-scanning UIs and
markdown for pull-request comments. Every format carries the same facts."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from aiplane import __version__
from aiplane.policy.model import Rule, Violation
from aiplane.validation import Finding as ValidationFinding

JSON_VERSION = 1


def summary(violations: Sequence[Violation], invalid: Sequence[ValidationFinding]) -> dict[str, int]:
    return {
        "mandatory": sum(v.enforcement == "mandatory" for v in violations),
        "advisory": sum(v.enforcement == "advisory" for v in violations),
        "invalid": len(invalid),
    }


def _object(v: Violation) -> str:
    where = f"{v.namespace}/" if v.namespace else ""
    return f"{v.kind}/{where}{v.name}" if v.kind else "(stack)"


def as_text(violations: Sequence[Violation], invalid: Sequence[ValidationFinding]) -> str:
    lines: list[str] = []
    for f in invalid:
        lines.append(f"invalid {f.kind}/{f.name} {f.field}: {f.message}")
    groups: dict[str, dict[str, list[Violation]]] = defaultdict(lambda: defaultdict(list))
    for v in violations:
        groups[v.environment or "(platform)"][_object(v)].append(v)
    for env in sorted(groups):
        lines.append(f"{env}:")
        for obj in sorted(groups[env]):
            lines.append(f"  {obj}")
            for v in groups[env][obj]:
                mark = "✗" if v.blocking else "!"
                lines.append(
                    f"    {mark} {v.rule} [{v.enforcement}] {v.field + ': ' if v.field else ''}{v.message}"
                )
                if v.fix:
                    lines.append(f"      fix: {v.fix}")
    s = summary(violations, invalid)
    lines.append(
        f"{s['mandatory']} mandatory violations, {s['advisory']} advisories, {s['invalid']} invalid objects"
    )
    return "\n".join(lines)


def as_json(violations: Sequence[Violation], invalid: Sequence[ValidationFinding]) -> str:
    return json.dumps(
        {
            "version": JSON_VERSION,
            "ok": not any(v.blocking for v in violations) and not invalid,
            "summary": summary(violations, invalid),
            "violations": [v.as_json() for v in violations],
            "invalid": [f.as_json() for f in invalid],
        },
        indent=2,
        sort_keys=True,
    )


def as_markdown(
    violations: Sequence[Violation], invalid: Sequence[ValidationFinding], title: str = "aiplane check"
) -> str:
    s = summary(violations, invalid)
    status = "❌ blocked" if s["mandatory"] or s["invalid"] else "✅ passes"
    lines = [
        f"### {title}: {status}",
        "",
        f"{s['mandatory']} mandatory violations, {s['advisory']} advisories, {s['invalid']} invalid objects",
        "",
    ]
    if violations or invalid:
        lines += [
            "| | rule | environment | object | field | message | fix |",
            "|---|---|---|---|---|---|---|",
        ]
        for f in invalid:
            lines.append(f"| ✗ | validation | | {f.kind}/{f.name} | `{f.field}` | {_md(f.message)} | |")
        for v in violations:
            lines.append(
                f"| {'✗' if v.blocking else '⚠'} | `{v.rule}` | {v.environment} | {_object(v)} | "
                f"`{v.field}` | {_md(v.message)} | {_md(v.fix)} |"
            )
    return "\n".join(lines)


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def as_sarif(
    violations: Sequence[Violation],
    invalid: Sequence[ValidationFinding],
    rules: Sequence[Rule],
    manifests_root: str,
) -> str:
    """SARIF 2.1.0: one result per violation, located at the object's file under manifests/."""

    def location(kind: str, name: str, namespace: str, env: str) -> dict[str, Any]:
        folder = f"{manifests_root}/environments/{env}" if env and namespace else f"{manifests_root}/platform"
        fname = "".join(c if c.isalnum() or c in ".-" else "-" for c in f"{kind}-{name}".lower()) + ".yaml"
        return {
            "physicalLocation": {"artifactLocation": {"uri": f"{folder}/{fname}"}},
            "logicalLocations": [{"name": f"{kind}/{name}", "kind": "object"}],
        }

    results = [
        {
            "ruleId": v.rule,
            "level": "error" if v.blocking else "warning",
            "message": {
                "text": f"{v.field + ': ' if v.field else ''}{v.message}"
                + (f" Fix: {v.fix}" if v.fix else "")
            },
            "locations": [location(v.kind, v.name, v.namespace, v.environment)],
        }
        for v in violations
    ]
    results += [
        {
            "ruleId": "validation",
            "level": "error",
            "message": {"text": f"{f.field}: {f.message}"},
            "locations": [location(f.kind, f.name, f.namespace, "")],
        }
        for f in invalid
    ]
    driver_rules = [
        {
            "id": r.id,
            "name": r.id,
            "shortDescription": {"text": r.title},
            "help": {"text": r.fix},
            "defaultConfiguration": {"level": "error" if r.enforcement == "mandatory" else "warning"},
            "properties": {"severity": r.severity},
        }
        for r in rules
    ]
    driver_rules.append(
        {
            "id": "validation",
            "name": "validation",
            "shortDescription": {"text": "Manifest validates against its CRD"},
            "help": {"text": "run aiplane validate"},
            "defaultConfiguration": {"level": "error"},
            "properties": {"severity": "high"},
        }
    )
    return json.dumps(
        {
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [
                {
                    "tool": {"driver": {"name": "aiplane", "version": __version__, "rules": driver_rules}},
                    "results": results,
                }
            ],
        },
        indent=2,
        sort_keys=True,
    )
