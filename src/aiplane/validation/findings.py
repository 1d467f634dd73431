"""What validation reports: one Finding per problem, with where it is and how serious."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

# The `check` of findings about CEL transition rules, which need the previous object.
TRANSITION_CHECK = "cel-transition"


class Severity(StrEnum):
    """`error` fails validation; the three "could not check" kinds fail it only under --strict."""

    ERROR = "error"
    WARNING = "warning"
    NO_SCHEMA = "no-schema"
    SKIPPED = "skipped"
    NOT_EVALUATED = "not-evaluated"

    @property
    def fails(self) -> bool:
        return self is Severity.ERROR

    @property
    def fails_strict(self) -> bool:
        return self in (Severity.ERROR, Severity.NO_SCHEMA, Severity.SKIPPED, Severity.NOT_EVALUATED)


def fails(severity: Severity, check: str, strict: bool) -> bool:
    """Whether a finding of this severity from this check fails validation. Transition rules (`oldSelf`)
    never do: Kubernetes evaluates them only on update, so a new object cannot violate them; they stay
    visible as skipped."""
    if check == TRANSITION_CHECK:
        return False
    return severity.fails_strict if strict else severity.fails


@dataclass(frozen=True)
class Location:
    """Where a document came from: file, 0-based document index, 1-based first line (None in memory)."""

    path: str = "<memory>"
    index: int = 0
    line: int | None = None


@dataclass(frozen=True)
class Finding:
    """A problem (or an unchecked part) of one object.

    `path`/`index`/`line` locate the YAML document (`<memory>` for synthesized objects), `field` is the
    field path inside the object in Crossplane's syntax (`spec.forProvider.scalingConfig.maxSize`),
    `check` names the check that produced it (schema, cel, composition, patch, xrd).
    """

    severity: Severity
    check: str
    message: str
    path: str = "<memory>"
    index: int = 0
    line: int | None = None
    api_version: str = ""
    kind: str = ""
    name: str = ""
    namespace: str = ""
    field: str = ""

    def fails(self, strict: bool) -> bool:
        """Whether this finding fails validation (see `fails`)."""
        return fails(self.severity, self.check, strict)

    def as_json(self) -> dict[str, Any]:
        """camelCase keys, as Kubernetes objects (docs/validate.md)."""
        return {
            "severity": str(self.severity),
            "check": self.check,
            "message": self.message,
            "path": self.path,
            "index": self.index,
            "line": self.line,
            "apiVersion": self.api_version,
            "kind": self.kind,
            "name": self.name,
            "namespace": self.namespace,
            "field": self.field,
        }
