"""Rules never pass a known violation because a number is NaN or infinite: NaN compares false with every
bound and infinity beats all, so each rule that compares numbers refuses a value that is not finite —
whatever spelling reached it (YAML `.inf`, `'nan'`, a float from a Pulumi Struct)."""

from __future__ import annotations

import math
from typing import Any

from conftest import fixture
from hypothesis import given, settings
from hypothesis import strategies as st

from aiplane.policy import RuleContext, run_rules

NON_FINITE_TEXT = st.sampled_from(["nan", "NaN", "-nan", "inf", "+inf", "-inf", "Infinity", "-Infinity",
                                   "INF", "1e999", "-1e999"])
NON_FINITE = st.sampled_from([math.nan, math.inf, -math.inf])
THRESHOLDS = ["demographicParityDifference", "equalizedOddsDifference", "demographicParityRatio"]


def blocking(objects: list[dict[str, Any]], ctx: RuleContext, rule: str) -> list[Any]:
    return [v for v in run_rules(objects, ctx, {}) if v.rule == rule and v.blocking]


@settings(max_examples=30, deadline=None)
@given(budget=NON_FINITE_TEXT)
def test_an_environment_budget_that_is_not_finite_blocks(budget: str, rule_ctx: RuleContext) -> None:
    objects = fixture("max-cost-per-hour", "pass.yaml")
    record = next(o for o in objects if o["kind"] == "ConfigMap" and "budgetPerHour" in o.get("data", {}))
    record["data"]["budgetPerHour"] = budget
    found = blocking(objects, rule_ctx, "max-cost-per-hour")
    assert [v.field for v in found] == ["data.budgetPerHour"], found
    assert "not a finite number" in found[0].message


@settings(max_examples=30, deadline=None)
@given(ceiling=NON_FINITE)
def test_a_workload_ceiling_that_is_not_finite_blocks(ceiling: float, rule_ctx: RuleContext) -> None:
    objects = fixture("max-cost-per-hour", "pass.yaml")
    xr = next(o for o in objects if (o.get("spec") or {}).get("finops", {}).get("maxCostPerHour"))
    xr["spec"]["finops"]["maxCostPerHour"] = ceiling
    found = blocking(objects, rule_ctx, "max-cost-per-hour")
    # The API model refuses it (the rule cannot evaluate the spec) or the rule does: either way it blocks.
    assert any(v.name == xr["metadata"]["name"] for v in found), found


@settings(max_examples=30, deadline=None)
@given(name=st.sampled_from(THRESHOLDS), value=NON_FINITE)
def test_a_fairness_threshold_that_is_not_finite_blocks(name: str, value: float, rule_ctx: RuleContext) -> None:
    objects = fixture("ethics-monitor-attached", "pass.yaml")
    endpoint = next(o for o in objects if o["kind"] == "ModelEndpoint")
    endpoint["spec"]["ethicsMonitor"]["thresholds"]["critical"][name] = value
    found = blocking(objects, rule_ctx, "ethics-monitor-attached")
    assert [v.field for v in found] == [f"spec.ethicsMonitor.thresholds.critical.{name}"], found


@settings(max_examples=10, deadline=None)
@given(value=NON_FINITE)
def test_a_sampling_rate_that_is_not_finite_blocks(value: float, rule_ctx: RuleContext) -> None:
    objects = fixture("ethics-monitor-attached", "pass.yaml")
    endpoint = next(o for o in objects if o["kind"] == "ModelEndpoint")
    endpoint["spec"].setdefault("dataCapture", {})["samplingPercent"] = value
    assert blocking(objects, rule_ctx, "ethics-monitor-attached")
