"""spot-savings-opportunity (advisory): a spot-eligible, non-production pool running on-demand, with
the USD per hour spot would save at the catalog's observed discount in the pool's region."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from aiplane.policy.context import Manifest, RuleContext
from aiplane.policy.model import Finding, Rule

NON_PRODUCTION = ("batch", "experimental")


def check(obj: Manifest, ctx: RuleContext) -> Iterator[Finding]:
    if ctx.api_of(obj) is None:
        return
    spec: Any = ctx.spec_of(obj)  # a GPUNodePool's (kinds below)
    finops = spec.finops
    if spec.capacity != "onDemand" or not finops.spotEligible or finops.tier not in NON_PRODUCTION:
        return
    types = [ctx.catalog.in_region(spec.region).ec2_instance(t) for t in spec.instanceTypes]
    discounts = [t.expected_spot_discount for t in types if t.expected_spot_discount is not None]
    shaky = [f"{t.name}: {t.spot.notes}" for t in types if t.spot is not None and t.spot.uncertain]
    if not discounts:
        yield Finding(
            obj,
            f"spot-eligible {finops.tier} pool runs on-demand (the catalog has no spot price "
            "to estimate the saving)",
            "spec.capacity",
            fix="capacity: spot",
        )
        return
    priciest = max(t.on_demand_usd_per_hour for t in types)
    saving = spec.scaling.maxSize * priciest * min(discounts)
    yield Finding(
        obj,
        f"spot-eligible {finops.tier} pool runs on-demand; spot would save about "
        f"${saving:.2f}/h at max scale ({min(discounts):.0%} catalog discount in {spec.region})"
        + (f"; uncertain spot price: {'; '.join(shaky)}" if shaky else ""),
        "spec.capacity",
        fix="capacity: spot",
    )


RULE = Rule(
    id="spot-savings-opportunity",
    title="Spot-eligible non-production pools on on-demand capacity",
    severity="low",
    enforcement="advisory",
    kinds=("GPUNodePool",),
    fix="capacity: spot",
    check=check,
)
