"""The shape of a guardrail rule and of what it reports (the Checkov shape: one rule per module, with
an id, a title, a severity, the kinds it applies to and a pure check function)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from aiplane.policy.context import Manifest, RuleContext
from aiplane.synthesis.sources import SourceLocation
from aiplane.synthesis.waivers import Waiver

Enforcement = Literal["mandatory", "advisory", "disabled"]
RuleSeverity = Literal["low", "medium", "high", "critical"]
# open: a finding to act on; waived: accepted by a valid waiver; unused-waiver: a waiver for a rule that did
# not fire on its object (reported so stale waivers get removed).
Status = Literal["open", "waived", "unused-waiver"]


@dataclass(frozen=True)
class Violation:
    """One broken rule on one object (or on an environment, for stack rules)."""

    rule: str
    message: str
    enforcement: Enforcement = "mandatory"
    severity: RuleSeverity = "high"
    fix: str = ""
    api_version: str = ""
    kind: str = ""
    name: str = ""
    namespace: str = ""
    environment: str = ""
    field: str = ""
    status: Status = "open"
    waiver: Waiver | None = None
    # Where a person fixes it (the environment file line, the compositions/ module) and the generated file.
    location: SourceLocation | None = None
    generated: SourceLocation | None = None

    @property
    def blocking(self) -> bool:
        return self.enforcement == "mandatory" and self.status == "open"

    def as_json(self) -> dict[str, Any]:
        """camelCase keys, as Kubernetes objects (docs/findings.md#json-output has the schema)."""
        return {
            "rule": self.rule,
            "status": self.status,
            "enforcement": self.enforcement,
            "severity": self.severity,
            "message": self.message,
            "fix": self.fix,
            "apiVersion": self.api_version,
            "kind": self.kind,
            "name": self.name,
            "namespace": self.namespace,
            "environment": self.environment,
            "field": self.field,
            "location": self.location.as_json() if self.location else None,
            "generated": self.generated.as_json() if self.generated else None,
            "waiver": self.waiver.model_dump(mode="json") if self.waiver else None,
        }


@dataclass(frozen=True)
class Finding:
    """What a check function yields: the object, a field path and the message (the engine adds the rest)."""

    obj: Manifest
    message: str
    field: str = ""
    fix: str = ""


ResourceCheck = Callable[[Manifest, RuleContext], Iterable[Finding]]
StackCheck = Callable[[list[Manifest], RuleContext], Iterable[Finding]]


@dataclass(frozen=True)
class Rule:
    """A guardrail. `kinds` selects objects for `check` (`Kind` or `group/Kind`; `*` all); `stack_check`
    sees every object at once, for rules that relate several (quota coverage, environment budget)."""

    id: str
    title: str
    severity: RuleSeverity
    enforcement: Enforcement
    kinds: tuple[str, ...]
    fix: str
    check: ResourceCheck | None = None
    stack_check: StackCheck | None = None
    # Parameters with their defaults; the policy config file (Pulumi --policy-pack-config format) overrides them.
    params: Mapping[str, Any] = field(default_factory=dict)
    # A parameter's type (a pydantic type, validated strictly) when that of its default is not precise
    # enough, e.g. a bounded number or a regular expression; see aiplane.policy.config.
    param_types: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""

    def applies_to(self, obj: Manifest) -> bool:
        kinds = self.kinds
        if "*" in kinds:
            return True
        kind = str(obj.get("kind", ""))
        if kind in kinds:
            return True
        api_version = str(obj.get("apiVersion", ""))
        return "/" in api_version and f"{api_version.split('/')[0]}/{kind}" in kinds
