"""What the audit reports: findings (drift, cost leaks, blind ethics monitors, weak buckets, short
quotas) and checks it could not make, so nothing unverifiable is passed silently."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

FindingKind = Literal["drift", "cost-leak", "ethics-blind", "bucket-weak", "quota-short"]
FINDING_KINDS: tuple[FindingKind, ...] = ("drift", "cost-leak", "ethics-blind", "bucket-weak", "quota-short")

# Resource types, spelled as the Resource Groups Tagging API spells them.
NODE_GROUP = "eks:nodegroup"
ENDPOINT = "sagemaker:endpoint"
BUCKET = "s3:bucket"
QUOTA = "servicequotas:quota"
INSTANCE = "ec2:instance"


@dataclass(frozen=True, order=True)
class ResourceRef:
    """A live AWS resource: its type and its name (or ARN when it has no name of its own)."""

    type: str
    name: str

    def __str__(self) -> str:
        return f"{self.type} {self.name}"


@dataclass(frozen=True)
class Finding:
    """One difference between Git and the account. `declared`/`live` are JSON values; None is absent."""

    kind: FindingKind
    resource: ResourceRef
    field: str
    declared: Any
    live: Any
    message: str
    usd_per_hour: float | None = None

    def sort_key(self) -> tuple[str, str, int, str]:
        return (self.resource.type, self.resource.name, FINDING_KINDS.index(self.kind), self.field)


@dataclass(frozen=True)
class Unchecked:
    """A check the audit could not make (the account or the API does not expose the value)."""

    resource: ResourceRef
    field: str
    reason: str


@dataclass
class AuditReport:
    """Everything one audit run found, for one environment in one account and region."""

    environment: str
    account: str
    region: str
    findings: list[Finding] = field(default_factory=list)
    unchecked: list[Unchecked] = field(default_factory=list)

    def sorted_findings(self) -> list[Finding]:
        return sorted(self.findings, key=Finding.sort_key)

    def counts(self) -> dict[str, int]:
        by_kind = Counter(f.kind for f in self.findings)
        return {kind: by_kind.get(kind, 0) for kind in FINDING_KINDS}

    def leaked_usd_per_hour(self) -> float:
        """Known hourly cost of the cost leaks (those with an unknown price are not added as zero)."""
        return round(sum(f.usd_per_hour or 0.0 for f in self.findings if f.kind == "cost-leak"), 4)

    @property
    def exit_code(self) -> int:
        return 1 if self.findings else 0
