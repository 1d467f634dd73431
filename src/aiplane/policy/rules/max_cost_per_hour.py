"""max-cost-per-hour: a workload's worst-case cost stays under its maxCostPerHour, an environment's
under its budgetPerHour. Worst case = max scale, on-demand prices (spot can fall back to on-demand);
expected = spot capacity at a discount. Prices come from the one catalog, at the XR's own region; an
unknown type, or a region or type the catalog cannot price there, is an error, and a finding whose figure
rests on an uncertain price says which."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from aiplane.authoring.api import HourlyCost
from aiplane.policy.config import Fraction, finite
from aiplane.policy.context import Manifest, RuleContext
from aiplane.policy.model import Finding, Rule
from aiplane.synthesis.environment import DEFAULT_SPOT_DISCOUNT
from aiplane.synthesis.environment_record import is_environment_record


def uncertain_note(cost: HourlyCost) -> str:
    """What a finding adds when its figure rests on uncertain prices (empty when it does not)."""
    if not cost.uncertain:
        return ""
    return f"; the figure rests on uncertain price(s): {'; '.join(cost.uncertain)}"


def _expected_note(obj: Manifest, ctx: RuleContext) -> str:
    """The expected figure as `aiplane cost` shows it: synth annotates each XR with the expected cost at
    its environment's spot discount, which a resource check cannot read; without the annotation the
    rule's defaultSpotDiscount is used and named."""
    discount = ctx.params["defaultSpotDiscount"]
    cost = ctx.hourly_cost(obj, discount)
    if cost is None:
        return ""
    if cost.expected >= cost.worst_case:
        return " (no spot capacity: expected cost is the same)"
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    annotated = annotations.get(ctx.label("expected-usd-per-hour"))
    if annotated is not None:
        return f" (expected ${float(annotated):.2f}/h at the environment's spot discount)"
    return f" (expected ${cost.expected:.2f}/h with spot at {discount:.0%} off)"


def check(obj: Manifest, ctx: RuleContext) -> Iterator[Finding]:
    # The comparison reads the worst case only, which no spot discount changes.
    cost = ctx.worst_case_cost(obj, ctx.params["defaultSpotDiscount"])
    if cost is None:
        return
    ceiling = ctx.spec_of(obj).finops.maxCostPerHour
    if ceiling is None:
        if ctx.params["requireMaxCostPerHour"]:
            yield Finding(
                obj,
                f"no spec.finops.maxCostPerHour (worst case ${cost.worst_case:.2f}/h){uncertain_note(cost)}",
                "spec.finops.maxCostPerHour",
            )
        return
    if not finite(ceiling) or not finite(cost.worst_case):
        # NaN compares false with every cost and inf is no ceiling: fail closed.
        yield Finding(
            obj,
            f"maxCostPerHour {ceiling!r} is not a finite number (worst case ${cost.worst_case:.2f}/h)",
            "spec.finops.maxCostPerHour",
            fix="set a finite ceiling in $/h",
        )
        return
    if cost.worst_case > ceiling:
        yield Finding(
            obj,
            f"worst case ${cost.worst_case:.2f}/h exceeds maxCostPerHour ${ceiling:.2f}/h"
            + _expected_note(obj, ctx)
            + uncertain_note(cost),
            "spec.finops.maxCostPerHour",
            fix="lower scaling.maxSize or instanceCount, pick a cheaper type, or raise the ceiling",
        )


def stack_check(objects: list[Manifest], ctx: RuleContext) -> Iterator[Finding]:
    """Σ worst case of each environment's workloads ≤ its budgetPerHour."""
    records = ctx.environment_records()
    worst: dict[str, float] = defaultdict(float)
    expected: dict[str, float] = defaultdict(float)
    uncertain: dict[str, list[str]] = defaultdict(list)
    for obj in ctx.xrs():
        namespace = str(obj["metadata"].get("namespace", ""))
        record = records.get(namespace)
        discount = record.spot_expected_discount if record else ctx.params["defaultSpotDiscount"]
        cost = ctx.hourly_cost(obj, discount)
        if cost is not None:
            worst[namespace] += cost.worst_case
            expected[namespace] += cost.expected
            uncertain[namespace] += cost.uncertain
    # One pass for the records' objects (a scan per namespace made this quadratic at thousands of them).
    anchors: dict[str, Manifest] = {}
    for o in objects:
        if is_environment_record(o):
            anchors.setdefault(str(o["metadata"].get("namespace", "")), o)
    for namespace, total in sorted(worst.items()):
        record = records.get(namespace)
        if record is None:
            continue  # no environment record: no budget to compare with (the gate always has one)
        anchor = anchors[namespace]
        if not finite(record.budget_per_hour) or not finite(total):
            # NaN compares false with every total and inf is no budget: fail closed.
            yield Finding(
                anchor,
                f"environment {record.name}: budgetPerHour {record.budget_per_hour!r} is not a finite number "
                f"(worst case ${total:.2f}/h)",
                "data.budgetPerHour",
                fix="set finops.budgetPerHour to a finite amount in $/h",
            )
        elif total > record.budget_per_hour:
            yield Finding(
                anchor,
                f"environment {record.name}: worst case ${total:.2f}/h exceeds budgetPerHour "
                f"${record.budget_per_hour:.2f}/h (expected ${expected[namespace]:.2f}/h)"
                + uncertain_note(HourlyCost(total, expected[namespace], tuple(dict.fromkeys(uncertain[namespace])))),
                "data.budgetPerHour",
                fix="shrink the pools or endpoints, or raise finops.budgetPerHour",
            )


RULE = Rule(
    id="max-cost-per-hour",
    title="Worst-case cost within each workload's ceiling and each environment's budget",
    severity="high",
    enforcement="mandatory",
    kinds=("*",),
    fix="reduce max scale or raise the ceiling",
    check=check,
    stack_check=stack_check,
    params={"defaultSpotDiscount": DEFAULT_SPOT_DISCOUNT, "requireMaxCostPerHour": False},
    param_types={"defaultSpotDiscount": Fraction},
)
