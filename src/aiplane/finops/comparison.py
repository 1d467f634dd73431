"""What a change does to cost: each environment and workload before (at a git revision) and after (the
working tree), marked added, removed, changed or unchanged, with the limits the result breaks — the model
behind `aiplane cost --diff` in every format."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol, TypeVar

from aiplane.finops.costing import EnvironmentCost, WorkloadCost

Status = Literal["added", "removed", "changed", "unchanged"]

# Figures are rounded to 4 decimals in JSON; a smaller difference is float noise, not a change.
_EPSILON = 1e-9


def _status(before: object | None, after: object | None, changed: bool) -> Status:
    if before is None:
        return "added"
    if after is None:
        return "removed"
    return "changed" if changed else "unchanged"


class _Figures(Protocol):
    @property
    def worst_case(self) -> float: ...

    @property
    def expected(self) -> float: ...


_Side = TypeVar("_Side")


def _present(after: _Side | None, before: _Side | None) -> _Side:
    found = after if after is not None else before
    assert found is not None  # a delta always has one side
    return found


class _BeforeAfter:
    """Worst-case and expected $/h on each side of a change (0 on the side where the thing does not exist),
    for a workload and an environment alike."""

    before: _Figures | None
    after: _Figures | None

    @property
    def worst_before(self) -> float:
        return self.before.worst_case if self.before else 0.0

    @property
    def worst_after(self) -> float:
        return self.after.worst_case if self.after else 0.0

    @property
    def expected_before(self) -> float:
        return self.before.expected if self.before else 0.0

    @property
    def expected_after(self) -> float:
        return self.after.expected if self.after else 0.0


@dataclass(frozen=True)
class WorkloadDelta(_BeforeAfter):
    kind: str
    name: str
    before: WorkloadCost | None
    after: WorkloadCost | None


    @property
    def status(self) -> Status:
        moved = (
            abs(self.worst_after - self.worst_before) > _EPSILON
            or abs(self.expected_after - self.expected_before) > _EPSILON
        )
        return _status(self.before, self.after, moved)

    @property
    def current(self) -> WorkloadCost:
        """The workload as it is after the change, or as it was when the change removes it."""
        return _present(self.after, self.before)

    @property
    def over_own_limit(self) -> bool:
        return self.after is not None and self.after.over_own_limit

    @property
    def uncertain(self) -> list[str]:
        sides = [*(self.before.uncertain if self.before else ()), *(self.after.uncertain if self.after else ())]
        return list(dict.fromkeys(sides))


@dataclass(frozen=True)
class EnvironmentDelta(_BeforeAfter):
    name: str
    before: EnvironmentCost | None
    after: EnvironmentCost | None
    workloads: list[WorkloadDelta]

    @property
    def current(self) -> EnvironmentCost:
        return _present(self.after, self.before)


    @property
    def changed_workloads(self) -> list[WorkloadDelta]:
        return [w for w in self.workloads if w.status != "unchanged"]

    @property
    def budget_changed(self) -> bool:
        return (
            self.before is not None
            and self.after is not None
            and abs(self.before.budget_per_hour - self.after.budget_per_hour) > _EPSILON
        )

    @property
    def status(self) -> Status:
        return _status(self.before, self.after, bool(self.changed_workloads) or self.budget_changed)

    @property
    def over_budget(self) -> bool:
        return self.after is not None and self.after.over_budget

    @property
    def uncertain(self) -> list[str]:
        return list(dict.fromkeys(u for w in self.changed_workloads for u in w.uncertain))


@dataclass(frozen=True)
class CostComparison:
    base: str
    environments: list[EnvironmentDelta]

    @property
    def worst_before(self) -> float:
        return sum(e.worst_before for e in self.environments)

    @property
    def worst_after(self) -> float:
        return sum(e.worst_after for e in self.environments)

    @property
    def expected_before(self) -> float:
        return sum(e.expected_before for e in self.environments)

    @property
    def expected_after(self) -> float:
        return sum(e.expected_after for e in self.environments)

    @property
    def changed(self) -> list[EnvironmentDelta]:
        return [e for e in self.environments if e.status != "unchanged"]


def compare(base: str, before: list[EnvironmentCost], after: list[EnvironmentCost]) -> CostComparison:
    """Pair environments by name and workloads by kind and name; totals cover every environment compared."""
    old = {c.environment: c for c in before}
    new = {c.environment: c for c in after}
    environments = []
    for name in sorted(old.keys() | new.keys()):
        was, now = old.get(name), new.get(name)
        was_w = {(w.kind, w.name): w for w in (was.workloads if was else [])}
        now_w = {(w.kind, w.name): w for w in (now.workloads if now else [])}
        workloads = [
            WorkloadDelta(kind, workload, was_w.get((kind, workload)), now_w.get((kind, workload)))
            for kind, workload in sorted(was_w.keys() | now_w.keys())
        ]
        environments.append(EnvironmentDelta(name, was, now, workloads))
    return CostComparison(base, environments)
