"""Honouring waivers (aiplane.synthesis.waivers): one decision both adapters make alike. A finding of rule R
on an object is waived when the object carries a waiver for R that has a reason, has not expired, expires
at most `maxWaiverDays` ahead and R's config leaves it `waivable`; otherwise the finding stands and the
faulty waiver is itself reported, at the waiver's line."""

from __future__ import annotations

from datetime import UTC, date, datetime

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


def valid_waiver(
    obj: Manifest, rule_id: str, part: RuleConfig, ctx: RuleContext, today: date
) -> Waiver | None:
    """The first waiver on `obj` that waives rule `rule_id`'s findings there, if any."""
    for _, waiver in for_rule(waivers_of(obj, ctx) or [], rule_id):
        if waiver_problem(waiver, part, today) is None:
            return waiver
    return None


def faulty_waivers(
    obj: Manifest, rule_id: str, part: RuleConfig, ctx: RuleContext, today: date
) -> list[tuple[int, str]]:
    """(index, problem) of every waiver for `rule_id` on `obj` that cannot be honoured."""
    out = []
    for index, waiver in for_rule(waivers_of(obj, ctx) or [], rule_id):
        problem = waiver_problem(waiver, part, today)
        if problem is not None:
            out.append((index, problem))
    return out


def today_utc() -> date:
    """The day waivers are judged against (UTC, so CI and laptops agree)."""
    return datetime.now(UTC).date()
