"""ValidationReport: every finding of a run, its counts, the verdict and its text and JSON forms."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiplane.validation.findings import Finding, Severity

JSON_FORMAT_VERSION = 2

# Summary wording per severity, in the order the summary line lists them.
_SUMMARY = (
    (Severity.ERROR, "errors"),
    (Severity.WARNING, "warnings"),
    (Severity.SKIPPED, "skipped"),
    (Severity.NOT_EVALUATED, "not evaluated"),
    (Severity.NO_SCHEMA, "no schema"),
)


def _order(finding: Finding) -> tuple[str, int, str]:
    return finding.path, finding.index, finding.field


@dataclass
class ValidationReport:
    """Findings ordered by file, document index and field (stable for equal keys), and the object count."""

    findings: list[Finding] = field(default_factory=list)
    objects: int = 0
    strict: bool = False

    def __post_init__(self) -> None:
        self.findings = sorted(self.findings, key=_order)

    @property
    def counts(self) -> dict[str, int]:
        """Findings per severity; every severity is present, zero or not."""
        counts = {str(s): 0 for s in Severity}
        for finding in self.findings:
            counts[str(finding.severity)] += 1
        return counts

    @property
    def ok(self) -> bool:
        """No error; under --strict also no "no schema", "skipped" or "not evaluated" (transition rules aside)."""
        return not any(f.fails(self.strict) for f in self.findings)

    def as_json(self) -> dict[str, Any]:
        """The `--format json` document (schema in docs/validate.md)."""
        return {
            "version": JSON_FORMAT_VERSION,
            "objects": self.objects,
            "ok": self.ok,
            "strict": self.strict,
            "counts": {_camel(k): v for k, v in self.counts.items()},
            "findings": [f.as_json() for f in self.findings],
        }

    def summary(self) -> str:
        counts = self.counts
        parts = [f"{self.objects} objects"] + [f"{counts[str(s)]} {label}" for s, label in _SUMMARY]
        return ", ".join(parts)

    def as_text(self) -> str:
        """One line per finding (`file[index] Kind/name field: severity: message`) and the summary line."""
        lines = [format_finding(f) for f in self.findings]
        lines.append(self.summary())
        return "\n".join(lines)


def _camel(key: str) -> str:
    """`no-schema` → `noSchema`: JSON keys are camelCase, as Kubernetes'."""
    head, *rest = key.split("-")
    return head + "".join(part.capitalize() for part in rest)


def format_finding(f: Finding) -> str:
    what = f"{f.kind}/{f.name}" if f.name else (f.kind or "<object>")
    where = f"{f.path}[{f.index}] {what}"
    if f.field:
        where += f" {f.field}"
    return f"{where}: {f.severity}: {f.message}"
