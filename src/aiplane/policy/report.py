"""Presenting findings: text for people, JSON for tools, SARIF 2.1.0 for code scanning and markdown for
pull-request comments. Every format carries the same facts, each finding at the line a person edits (the
environment file item, the compositions/ module) with the generated file as a related location; input
errors (the run could not judge anything) are findings too, in every format. docs/findings.md documents
the JSON schema and the SARIF mapping."""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiplane import __version__
from aiplane.errors import Problem
from aiplane.policy.model import Rule, Violation
from aiplane.synthesis.sources import SourceLocation, SourceMap, relative_to_root
from aiplane.validation import Finding as ValidationFinding

JSON_VERSION = 2
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
# The SARIF base every URI is relative to: the repository's checkout (GitHub resolves it there).
SOURCE_ROOT = "%SRCROOT%"
# GitHub's security-severity scale (0.1-10); code scanning buckets it back into these four names.
SECURITY_SEVERITY = {"low": "3.0", "medium": "5.5", "high": "8.0", "critical": "9.5"}
VALIDATION_RULE = "validation"
INPUT_RULE = "input-error"
# The project file: where a finding about no file in particular (a whole stack) is placed in SARIF.
PROJECT_FILE = "pyproject.toml"


@dataclass(frozen=True)
class Invalid:
    """An object that fails its schema, at its source location."""

    finding: ValidationFinding
    location: SourceLocation | None = None
    generated: SourceLocation | None = None

    def as_json(self) -> dict[str, Any]:
        f = self.finding
        return {
            "check": f.check,
            "severity": str(f.severity),
            "message": f.message,
            "apiVersion": f.api_version,
            "kind": f.kind,
            "name": f.name,
            "namespace": f.namespace,
            "field": f.field,
            "location": self.location.as_json() if self.location else None,
            "generated": self.generated.as_json() if self.generated else None,
        }


def locate_invalid(findings: Sequence[ValidationFinding], sources: SourceMap) -> list[Invalid]:
    out = []
    for f in findings:
        obj = {"kind": f.kind, "metadata": {"name": f.name, "namespace": f.namespace}}
        out.append(Invalid(f, sources.locate(obj, f.field), sources.generated(obj)))
    return out


@dataclass(frozen=True)
class Results:
    """Everything one `aiplane check` run reports."""

    violations: Sequence[Violation] = ()
    invalid: Sequence[Invalid] = ()
    input_errors: Sequence[Problem] = ()
    rules: Sequence[Rule] = ()
    root: Path = field(default_factory=Path.cwd)

    @property
    def open(self) -> list[Violation]:
        return [v for v in self.violations if v.status == "open"]

    def summary(self) -> dict[str, int]:
        return {
            "mandatory": sum(v.enforcement == "mandatory" for v in self.open),
            "advisory": sum(v.enforcement == "advisory" for v in self.open),
            "waived": sum(v.status == "waived" for v in self.violations),
            "unusedWaivers": sum(v.status == "unused-waiver" for v in self.violations),
            "invalid": len(self.invalid),
            "inputErrors": len(self.input_errors),
        }

    @property
    def ok(self) -> bool:
        return not self.input_errors and not self.invalid and not any(v.blocking for v in self.violations)

    def problem_location(self, p: Problem) -> SourceLocation:
        return problem_location(p, self.root)


def problem_location(problem: Problem, root: Path) -> SourceLocation:
    """An input error's place, its file relative to the project root like every other finding's."""
    return SourceLocation(relative_to_root(problem.path, root), problem.line, problem.column)


def input_error_json(problem: Problem, root: Path) -> dict[str, Any]:
    """One input error as `aiplane check` and `aiplane validate` print it in JSON."""
    where = problem_location(problem, root)
    return {"message": problem.message, "field": problem.field, "location": where.as_json()}


def _object(v: Violation) -> str:
    where = f"{v.namespace}/" if v.namespace else ""
    return f"{v.kind}/{where}{v.name}" if v.kind else "(stack)"


def _where(location: SourceLocation | None, generated: SourceLocation | None) -> str:
    return str(location or generated or "(no file)")


def _status(v: Violation) -> str:
    return v.enforcement if v.status == "open" else v.status


_MARKS = {"open": "✗", "waived": "~", "unused-waiver": "?"}


def _mark(v: Violation) -> str:
    if v.status != "open":
        return _MARKS[v.status]
    return "✗" if v.blocking else "!"


def _waiver_text(v: Violation) -> str:
    w = v.waiver
    if w is None:
        return ""
    by = f", approved by {w.approvedBy}" if w.approvedBy else ""
    return f"{w.reason} (until {w.expires.isoformat()}{by})"


def _order(v: Violation) -> tuple[str, int, int, str, str]:
    loc = v.location or v.generated
    return (
        loc.file if loc else "~",
        (loc.line or 0) if loc else 0,
        (loc.column or 0) if loc else 0,
        v.rule,
        v.field,
    )


def summary_line(results: Results) -> str:
    s = results.summary()
    text = (
        f"{s['mandatory']} mandatory violations, {s['advisory']} advisories, {s['invalid']} invalid objects"
    )
    if s["waived"] or s["unusedWaivers"]:
        text += f", {s['waived']} waived, {s['unusedWaivers']} unused waivers"
    if s["inputErrors"]:
        text = f"{s['inputErrors']} input errors: nothing was judged"
    return text


def as_text(results: Results) -> str:
    """One line per finding, `file:line:column: mark rule [level] field: message`, then what it concerns."""
    lines: list[str] = []
    for p in results.input_errors:
        lines.append(
            f"{results.problem_location(p)}: ✗ {INPUT_RULE} {p.field + ': ' if p.field else ''}{p.message}"
        )
    for inv in results.invalid:
        f = inv.finding
        lines.append(
            f"{_where(inv.location, inv.generated)}: ✗ {VALIDATION_RULE} {f.field + ': ' if f.field else ''}"
            f"{f.message}"
        )
        lines.append(f"    {f.kind}/{f.name}" + (f" ({inv.generated})" if inv.generated else ""))
    for v in sorted(results.violations, key=_order):
        lines.append(
            f"{_where(v.location, v.generated)}: {_mark(v)} {v.rule} [{_status(v)}] "
            f"{v.field + ': ' if v.field else ''}{v.message}"
        )
        lines.append(f"    {_object(v)}" + (f" ({v.generated})" if v.generated else ""))
        if v.status == "waived":
            lines.append(f"    waived: {_waiver_text(v)}")
        elif v.fix:
            lines.append(f"    fix: {v.fix}")
    lines.append(summary_line(results))
    return "\n".join(lines)


def as_json(results: Results) -> str:
    """The `--format json` document (docs/findings.md#json-output)."""
    return json.dumps(
        {
            "version": JSON_VERSION,
            "ok": results.ok,
            "summary": results.summary(),
            "violations": [v.as_json() for v in sorted(results.violations, key=_order)],
            "invalid": [i.as_json() for i in results.invalid],
            "inputErrors": [input_error_json(p, results.root) for p in results.input_errors],
        },
        indent=2,
    )


def as_markdown(results: Results, title: str = "aiplane check") -> str:
    status = "✅ passes" if results.ok else "❌ blocked"
    lines = [f"### {title}: {status}", "", summary_line(results), ""]
    rows: list[str] = []
    for p in results.input_errors:
        rows.append(
            f"| ✗ | `{INPUT_RULE}` | `{results.problem_location(p)}` | | `{p.field or ''}` | {_md(p.message)} | |"
        )
    for inv in results.invalid:
        f = inv.finding
        rows.append(
            f"| ✗ | `{VALIDATION_RULE}` | `{_where(inv.location, inv.generated)}` | {f.kind}/{f.name} | "
            f"`{f.field}` | {_md(f.message)} | |"
        )
    for v in sorted(results.violations, key=_order):
        note = f"waived: {_waiver_text(v)}" if v.status == "waived" else v.fix
        rows.append(
            f"| {'✗' if v.blocking else {'waived': '〰', 'unused-waiver': '❔'}.get(v.status, '⚠')} | `{v.rule}` | "
            f"`{_where(v.location, v.generated)}` | {_object(v)} | `{v.field}` | {_md(v.message)} | {_md(note)} |"
        )
    if rows:
        lines += [
            "| | rule | where | object | field | message | fix / waiver |",
            "|---|---|---|---|---|---|---|",
        ]
        lines += rows
    return "\n".join(lines)


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


# --- SARIF ---------------------------------------------------------------------------------------------


def _repository_prefix(root: Path) -> str:
    """The project's folder inside its Git checkout (`""` at the top), so URIs resolve from the checkout."""
    here = root.resolve()
    for folder in (here, *here.parents):
        if (folder / ".git").exists():
            prefix = here.relative_to(folder).as_posix()
            return "" if prefix == "." else prefix + "/"
    return ""


def _help_uri(page: str, anchor: str) -> str | None:
    """The rule's documentation on GitHub, in the commit being scanned (GitHub Actions names it); None
    elsewhere, since no other place of the docs is known."""
    server, repo, sha = (os.environ.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_SHA"))
    if not (server and repo and sha):
        return None
    return f"{server}/{repo}/blob/{sha}/{os.environ.get('AIPLANE_DOCS_PREFIX', '')}docs/{page}#{anchor}"


def _physical(location: SourceLocation, root: Path, prefix: str) -> dict[str, Any] | None:
    """A SARIF physicalLocation, only for a file that exists."""
    if not (root / location.file).is_file():
        return None
    physical: dict[str, Any] = {"artifactLocation": {"uri": prefix + location.file, "uriBaseId": SOURCE_ROOT}}
    if location.line is not None:
        region: dict[str, int] = {"startLine": location.line}
        if location.column is not None:
            region["startColumn"] = location.column
        physical["region"] = region
    return physical


def _fingerprint(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def as_sarif(results: Results) -> str:
    """SARIF 2.1.0 for GitHub code scanning (docs/findings.md#sarif)."""
    root, prefix = results.root, _repository_prefix(results.root)
    rule_ids = [r.id for r in results.rules] + [VALIDATION_RULE, INPUT_RULE]
    seen: Counter[str] = Counter()

    def result(
        rule: str,
        level: str,
        message: str,
        location: SourceLocation | None,
        generated: SourceLocation | None,
        identity: tuple[str, ...],
        logical: str,
        properties: dict[str, Any],
    ) -> dict[str, Any]:
        primary = (location and _physical(location, root, prefix)) or (
            generated and _physical(generated, root, prefix)
        )
        primary = primary or _physical(SourceLocation(PROJECT_FILE, 1, 1), root, prefix)
        key = _fingerprint(rule, *identity)
        seen[key] += 1  # two findings alike on one object stay two alerts
        out: dict[str, Any] = {
            "ruleId": rule,
            "ruleIndex": rule_ids.index(rule) if rule in rule_ids else -1,
            "level": level,
            "message": {"text": message},
            "locations": [
                {
                    **({"physicalLocation": primary} if primary else {}),
                    "logicalLocations": [{"name": logical, "kind": "object"}] if logical else [],
                }
            ],
            "partialFingerprints": {"aiplaneFinding/v1": f"{key}:{seen[key]}"},
            "properties": properties,
        }
        related = generated and location and _physical(generated, root, prefix)
        if related:
            out["relatedLocations"] = [
                {"id": 1, "physicalLocation": related, "message": {"text": "generated manifest"}}
            ]
        return out

    sarif_results = []
    for p in results.input_errors:
        where = results.problem_location(p)
        sarif_results.append(
            result(
                INPUT_RULE,
                "error",
                f"{p.field + ': ' if p.field else ''}{p.message}",
                where,
                None,
                (where.file, p.field or "", p.message),
                "",
                {},
            )
        )
    for inv in results.invalid:
        f = inv.finding
        sarif_results.append(
            result(
                VALIDATION_RULE,
                "error",
                f"{f.field + ': ' if f.field else ''}{f.message}",
                inv.location,
                inv.generated,
                (f.api_version, f.kind, f.namespace, f.name, f.field, f.message),
                f"{f.kind}/{f.name}",
                {},
            )
        )
    for v in sorted(results.violations, key=_order):
        level = "error" if v.enforcement == "mandatory" else "warning"
        if v.status == "unused-waiver":
            level = "note"
        entry = result(
            v.rule,
            level,
            f"{v.field + ': ' if v.field else ''}{v.message}",
            v.location,
            v.generated,
            (v.api_version, v.kind, v.namespace, v.name, v.field),
            _object(v),
            {"fix": v.fix, "environment": v.environment, "status": v.status}
            if v.fix
            else {"environment": v.environment, "status": v.status},
        )
        if v.status == "waived" and v.waiver is not None:
            entry["suppressions"] = [
                {
                    "kind": "inSource",
                    "status": "accepted",
                    "justification": v.waiver.reason,
                    "properties": {
                        "expires": v.waiver.expires.isoformat(),
                        "approvedBy": v.waiver.approvedBy,
                    },
                }
            ]
        sarif_results.append(entry)

    def descriptor(
        rule_id: str, title: str, help_text: str, severity: str, level: str, page: str
    ) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": rule_id,
            "name": rule_id,
            "shortDescription": {"text": title},
            "help": {"text": f"{help_text} (docs/{page}#{rule_id})"},
            "defaultConfiguration": {"level": level},
            "properties": {
                "security-severity": SECURITY_SEVERITY[severity],
                "severity": severity,
                "tags": ["aiplane"],
            },
        }
        uri = _help_uri(page, rule_id)
        if uri:
            out["helpUri"] = uri
        return out

    driver_rules = [
        descriptor(
            r.id,
            r.title,
            r.fix,
            r.severity,
            "error" if r.enforcement == "mandatory" else "warning",
            "guardrails.md",
        )
        for r in results.rules
    ]
    driver_rules.append(
        descriptor(
            VALIDATION_RULE,
            "Manifest validates against its CRD",
            "run aiplane validate",
            "high",
            "error",
            "findings.md",
        )
    )
    driver_rules.append(
        descriptor(
            INPUT_RULE,
            "Input files are readable and valid",
            "fix the file at the line named",
            "high",
            "error",
            "findings.md",
        )
    )
    return json.dumps(
        {
            "$schema": SARIF_SCHEMA,
            "version": "2.1.0",
            "runs": [
                {
                    "tool": {"driver": {"name": "aiplane", "version": __version__, "rules": driver_rules}},
                    "automationDetails": {"id": "aiplane/check/"},
                    "results": sarif_results,
                }
            ],
        },
        indent=2,
    )
