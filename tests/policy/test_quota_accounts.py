"""EC2 quotas belong to the account: environments sharing one add up, and cannot both own a quota."""

from __future__ import annotations

import copy
from typing import Any

from aiplane.policy import RuleContext, run_rules
from aiplane.synthesis.pipeline import Synthesis


def environment_objects(synthesis: Synthesis, name: str) -> list[dict[str, Any]]:
    return [copy.deepcopy(m.obj) for m in synthesis.manifests if m.path.startswith(f"environments/{name}/")]


def quota_violations(objects: list[dict[str, Any]], ctx: RuleContext) -> list[str]:
    return [v.message for v in run_rules(objects, ctx, {}) if v.rule == "accelerator-quota-coverage"]


def test_environments_in_separate_accounts_are_judged_separately(synthesis: Synthesis, ctx: RuleContext) -> None:
    objects = environment_objects(synthesis, "dev") + environment_objects(synthesis, "staging")
    assert quota_violations(objects, ctx) == []


def test_two_environments_owning_the_same_quota_in_one_account_are_refused(synthesis: Synthesis,
                                                                          ctx: RuleContext) -> None:
    dev, staging = environment_objects(synthesis, "dev"), environment_objects(synthesis, "staging")
    record = next(o for o in staging if o["kind"] == "ConfigMap")
    record["data"]["accountId"] = "111122223333"  # staging moved into dev's account
    found = quota_violations(dev + staging, ctx)
    # Both declare the g-class spot quota (auto): the two requests overwrite each other, and the smaller
    # of them (dev's 32 vCPUs) cannot cover dev's 4 × 8 plus staging's 3 × 48 + 2 × 48 spot vCPUs.
    assert any("2 AcceleratorQuotas set the same quota in 111122223333 us-east-1" in m for m in found), found
    assert any("g-class spot quota (L-3819A6DF) requested 32 vCPUs, node pools need 272" in m for m in found), found
