"""What the Pulumi stacks (stacks/platform, stacks/aws-foundation) share: one environment synthesized in
process by the same code as `aiplane synth`, its objects by deployment layer, its workloads' costs, the
per-cost-center budget split and the FinOps tags.

Pure data and no Pulumi imports, so `aiplane` itself never needs the Pulumi SDK and the numbers a stack
deploys are the numbers `aiplane synth` writes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import Any

from aiplane.errors import InputError
from aiplane.finops.costing import HOURS_PER_MONTH, EnvironmentCost, WorkloadCost, environment_costs
from aiplane.project import MANAGER, Settings, display_path, load_settings
from aiplane.synthesis.environment import Environment, EnvironmentSettings
from aiplane.synthesis.pipeline import Manifest, synthesize
from aiplane.synthesis.platform import AWS_MR_SUFFIX, composed_bases

# Shared foundation (provider role, budgets, key) serves production and non-production alike; it is
# tagged with the most protective non-critical tier so guardrails never treat it as disposable.
FOUNDATION_TIER = "production"


class Layer(IntEnum):
    """Deployment order: a kind must exist before its instances (the Flux Kustomization chain)."""

    PACKAGES = 0
    XRDS = 1
    COMPOSITIONS = 2
    ENVIRONMENT = 3  # the environment's Namespace, record ConfigMap, ProviderConfig and observed Subnets
    XRS = 4


# The stack's workloads are aiplane cost's: one computation (aiplane.finops.costing) for every figure.
Workload = WorkloadCost


@dataclass(frozen=True)
class CostCenterBudget:
    """A cost center's slice of the environment budget: share = its worst case ÷ the environment's."""

    cost_center: str
    worst_case_usd_per_hour: float
    share: float
    monthly_limit_usd: float


@dataclass(frozen=True)
class StackEnvironment:
    """Everything a stack deploys for one environment."""

    settings: Settings
    environment: Environment
    manifests: list[Manifest]
    workloads: list[Workload]

    @property
    def env(self) -> EnvironmentSettings:
        return self.environment.settings

    def layer_of(self, manifest: Manifest) -> Layer:
        return layer_of(manifest, self.settings.group)

    def in_layer(self, layer: Layer) -> list[Manifest]:
        return [m for m in self.manifests if self.layer_of(m) is layer]

    def worst_case_usd_per_hour(self) -> float:
        return sum(w.worst_case for w in self.workloads)

    def expected_usd_per_hour(self) -> float:
        return sum(w.expected for w in self.workloads)

    def budgets(self) -> list[CostCenterBudget]:
        return cost_center_budgets(self.env, self.workloads)

    def finops_tags(self) -> dict[str, str]:
        return foundation_tags(self.env)


def load_stack_environment(env_name: str, start: Path | None = None) -> StackEnvironment:
    """Synthesize the platform and one environment of the project around `start` (as `aiplane synth
    --env <name>` would) and return what a stack registers: platform then environment objects."""
    settings = load_settings(start)
    synthesis = synthesize(settings, [env_name])
    environment = next((e for e in synthesis.environments if e.settings.name == env_name), None)
    if environment is None:  # load_environments already refuses unknown names; keep mypy and readers sure
        raise InputError.single(display_path(settings.environments), f"no environment named {env_name}")
    workloads = environment_costs([environment], synthesis.project.catalog)[0].workloads
    return StackEnvironment(settings, environment, synthesis.for_environment(env_name), workloads)


def layer_of(manifest: Manifest, group: str) -> Layer:
    """The layer of a synthesized object, from the manifests/ folder it is written to."""
    folder = manifest.path.rpartition("/")[0]
    if folder == "platform/packages":
        return Layer.PACKAGES
    if folder == "platform/apis":
        kind = manifest.obj["kind"]
        if kind == "CompositeResourceDefinition":
            return Layer.XRDS
        if kind == "Composition":
            return Layer.COMPOSITIONS
        raise InputError.single(manifest.path, f"unexpected {kind} among the platform APIs")
    if folder.startswith("environments/"):
        api_group = str(manifest.obj["apiVersion"]).rpartition("/")[0]
        return Layer.XRS if api_group == group else Layer.ENVIRONMENT
    raise InputError.single(manifest.path, "not deployed by a stack (only platform/ and environments/ are)")


def cost_center_budgets(env: EnvironmentSettings, workloads: Iterable[Workload]) -> list[CostCenterBudget]:
    """Split the environment's monthly budget (budgetPerHour × 730 h) by each cost center's share of the
    worst-case $/h; with no costed workload the environment's own cost center gets all of it."""
    cost = EnvironmentCost(env.name, env.finops.budgetPerHour, list(workloads))
    by_center = {center: worst for center, (worst, _) in cost.by_cost_center().items()}
    total = sum(by_center.values())
    if total <= 0:
        by_center, total = {env.finops.costCenter: 1.0}, 1.0
    monthly = env.finops.budgetPerHour * HOURS_PER_MONTH
    return [
        CostCenterBudget(center, worst, worst / total, round(monthly * worst / total, 2))
        for center, worst in sorted(by_center.items())
    ]


def foundation_tags(env: EnvironmentSettings) -> dict[str, str]:
    """AWS tags of every shared foundation resource of an environment."""
    return {
        "cost-center": env.finops.costCenter,
        "owner": env.finops.owner,
        "environment": env.name,
        "tier": FOUNDATION_TIER,
        "managed-by": MANAGER,
    }


def stack_tags(env: EnvironmentSettings) -> dict[str, str]:
    """The `pulumi:tags` a stack of this environment must carry (CrossGuard reads them as stack tags)."""
    return {"cost-center": env.finops.costCenter, "owner": env.finops.owner, "environment": env.name}


def composed_aws_kinds(manifests: Iterable[Manifest]) -> dict[str, list[dict[str, Any]]]:
    """The AWS managed resources the provider will manage, by provider service (`s3`, `eks`...): the bases
    the Compositions compose, and the managed resources written directly (an environment's observe-only
    Subnets)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for m in manifests:
        objs = composed_bases(m.obj) if m.obj.get("kind") == "Composition" else [m.obj]
        for obj in objs:
            group = str(obj.get("apiVersion", "")).split("/")[0]
            if group.endswith(AWS_MR_SUFFIX):
                out.setdefault(group.removesuffix(AWS_MR_SUFFIX), []).append(obj)
    return dict(sorted(out.items()))
