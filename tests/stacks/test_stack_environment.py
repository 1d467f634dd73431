"""aiplane.stacks.environment: the budget split and layering both stacks rely on."""

from __future__ import annotations

import pytest
from shipped import SETTINGS

from aiplane.errors import InputError
from aiplane.stacks.environment import (
    HOURS_PER_MONTH,
    Layer,
    Workload,
    cost_center_budgets,
    layer_of,
    load_stack_environment,
)
from aiplane.synthesis.pipeline import Manifest


def _workload(center: str, worst: float) -> Workload:
    return Workload("GPUNodePool", f"pool-{center}", center, "team", "batch", worst, worst / 2)


def test_budget_shares_follow_worst_case_cost_and_add_up_to_the_environment_budget() -> None:
    env = load_stack_environment("prod", SETTINGS.root).env
    budgets = cost_center_budgets(env, [_workload("a", 30.0), _workload("b", 10.0), _workload("a", 10.0)])
    assert [(b.cost_center, b.share) for b in budgets] == [("a", 0.8), ("b", 0.2)]
    monthly = env.finops.budgetPerHour * HOURS_PER_MONTH
    assert [b.monthly_limit_usd for b in budgets] == [round(monthly * 0.8, 2), round(monthly * 0.2, 2)]


def test_an_environment_without_costed_workloads_budgets_its_own_cost_center() -> None:
    env = load_stack_environment("dev", SETTINGS.root).env
    [budget] = cost_center_budgets(env, [])
    assert budget.cost_center == env.finops.costCenter
    assert budget.monthly_limit_usd == env.finops.budgetPerHour * HOURS_PER_MONTH


def test_stack_environment_holds_the_platform_and_only_its_own_environment() -> None:
    loaded = load_stack_environment("staging", SETTINGS.root)
    folders = {m.path.rpartition("/")[0] for m in loaded.manifests}
    assert folders == {"platform/packages", "platform/apis", "environments/staging"}
    assert {m.obj["kind"] for m in loaded.in_layer(Layer.ENVIRONMENT)} == {"Namespace", "ConfigMap", "ProviderConfig", "Subnet"}
    assert all(m.obj["apiVersion"].startswith(f"{SETTINGS.group}/") for m in loaded.in_layer(Layer.XRS))


def test_flux_objects_are_not_a_stack_layer() -> None:
    flux = Manifest("clusters/dev/kustomization-aiplane-dev.yaml",
                    {"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization"})
    with pytest.raises(InputError, match="not deployed by a stack"):
        layer_of(flux, SETTINGS.group)

