"""Honouring waivers (aiplane.synthesis.waivers): one decision both adapters make alike. A finding of rule R
on an object is waived when the object carries a waiver for R that has a reason, has not expired, expires
at most `maxWaiverDays` ahead and R's config leaves it `waivable`; otherwise the finding stands and the
faulty waiver is itself reported, at the waiver's line."""

from __future__ import annotations

from datetime import date

from aiplane.policy.config import RuleConfig
from aiplane.policy.context import Manifest, RuleContext
from aiplane.synthesis.waivers import WAIVERS_KEY, Waiver, waivers_in


def waivers_of(obj: Manifest, ctx: RuleContext) -> list[Waiver] | None:
    """The waivers on an object (None: the annotation is unreadable)."""
    return waivers_in(obj, ctx.label(WAIVERS_KEY))


def waiver_problem(waiver: Waiver, rule_config: RuleConfig, today: date) -> str | None:
    """Why `waiver` cannot be honoured, or None when it can."""
    if not rule_config.waivable:
        return f"rule {waiver.rule} is not waivable (policy config: waivable false); the finding stands"
    if not waiver.reason.strip():
        return "has no reason; the finding stands"
    if waiver.expires < today:
        return f"expired on {waiver.expires.isoformat()}; the finding stands"
    ahead = (waiver.expires - today).days
    if ahead > rule_config.max_waiver_days:
        return (
            f"expires {waiver.expires.isoformat()}, {ahead} days ahead; at most {rule_config.max_waiver_days} "
            "(policy config: maxWaiverDays); the finding stands"
        )
    return None


def waiver_field(index: int) -> str:
    """The field a waiver's own problems are reported on (located at the waiver in the environment file)."""
    return f"waivers[{index}]"


def for_rule(waivers: list[Waiver], rule_id: str) -> list[tuple[int, Waiver]]:
    return [(i, w) for i, w in enumerate(waivers) if w.rule == rule_id]
