"""Cost of environments by workload and cost-center, from the catalog and the APIs' cost hooks (the
same numbers the max-cost-per-hour guardrail and the XR annotations use), always at each workload's own
region's prices, with the uncertain prices each figure rests on."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from aiplane.catalog.instances import Catalog
from aiplane.synthesis.environment import Environment

HOURS_PER_MONTH = 730  # the Infracost convention (reference finops-and-ethics.md §1)


@dataclass(frozen=True)
class WorkloadCost:
    """One XR that costs money by itself, with its FinOps ownership, region and USD per hour, and the
    uncertain prices (with why) that figure rests on."""

    kind: str
    name: str
    cost_center: str
    owner: str
    tier: str
    worst_case: float
    expected: float
    region: str = ""
    uncertain: tuple[str, ...] = ()
    max_cost_per_hour: float | None = None  # the workload's own spec.finops.maxCostPerHour

    @property
    def over_own_limit(self) -> bool:
        """Worst case above the workload's own maxCostPerHour (what the max-cost-per-hour guardrail refuses)."""
        return self.max_cost_per_hour is not None and self.worst_case > self.max_cost_per_hour


@dataclass(frozen=True)
class EnvironmentCost:
    environment: str
    budget_per_hour: float
    workloads: list[WorkloadCost] = field(default_factory=list)
    region: str = ""

    @property
    def uncertain(self) -> list[str]:
        """Every uncertain price some workload's figure rests on, each once."""
        return list(dict.fromkeys(u for w in self.workloads for u in w.uncertain))

    @property
    def worst_case(self) -> float:
        return sum(w.worst_case for w in self.workloads)

    @property
    def over_budget(self) -> bool:
        return self.worst_case > self.budget_per_hour

    @property
    def expected(self) -> float:
        return sum(w.expected for w in self.workloads)

    def by_cost_center(self) -> dict[str, tuple[float, float]]:
        out: dict[str, tuple[float, float]] = {}
        for w in self.workloads:
            worst, expected = out.get(w.cost_center, (0.0, 0.0))
            out[w.cost_center] = (worst + w.worst_case, expected + w.expected)
        return dict(sorted(out.items()))


def environment_costs(environments: Iterable[Environment], catalog: Catalog) -> list[EnvironmentCost]:
    out = []
    for env in environments:
        workloads = []
        for item in sorted(env.items, key=lambda i: (i.api.kind, i.name)):
            cost = env.cost_of(item, catalog)
            if cost is not None:
                workloads.append(
                    WorkloadCost(
                        item.api.kind,
                        item.name,
                        item.spec.finops.costCenter,
                        item.spec.finops.owner,
                        item.spec.finops.tier,
                        cost.worst_case,
                        cost.expected,
                        cost.region,
                        cost.uncertain,
                        item.spec.finops.maxCostPerHour,
                    )
                )
        out.append(
            EnvironmentCost(env.settings.name, env.settings.finops.budgetPerHour, workloads, env.settings.region)
        )
    return out
