"""From a forecast of invocations per hour of the week to `autoscaling.schedule`: scheduled actions that raise
the variant's minimum ahead of each forecast peak and lower it back after, so the instances are in service
when the traffic arrives instead of after target tracking has noticed it.

- an hour needs the instances that serve its forecast invocations per minute at the target
  (targetInvocationsPerInstance), within [minInstances, maxInstances]. No further headroom: the target already
  sits below what an instance serves (rightsizing.backtest), and target tracking still scales out above the
  scheduled minimum when the forecast falls short;
- consecutive hours of equal need form runs; while there are more runs than `max_actions`, the two neighbours
  whose merge adds the fewest instance-hours merge at the higher level (never below the forecast in any hour);
- each run is one scheduled action: a rise fires `lead_minutes` (LEAD_MINUTES) early, because an instance takes
  INSTANCE_START_MINUTES to come into service; a fall fires when the need ends.

MAX_ACTIONS and the absence of headroom were chosen on the shipped example history (docs/rightsizing.md,
"Backtest"): 14 actions cost 25 % more than 42 for the same SLO misses, and 20 % headroom 9 % more.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from aiplane.finops.weekly import DAY_NAMES, HOURS_PER_WEEK, MINUTES_PER_WEEK
from aiplane.rightsizing.forecast import Forecast

# Model assumption, not an AWS figure: minutes from a capacity change to a new SageMaker instance serving
# (launch, container pull, model load, health check). SageMaker documents no bound ("several minutes");
# the backtest uses the same value, and LEAD_MINUTES covers it.
INSTANCE_START_MINUTES = 10
LEAD_MINUTES = 15
# The most entries a recommended schedule has: six changes a day, reviewable in a diff, far below
# Application Auto Scaling's 200 scheduled actions per scalable target.
MAX_ACTIONS = 42


def instances_needed(invocations_per_hour: float, target_per_instance_minute: float) -> int:
    """Instances that serve an hour's invocations at the target load."""
    return max(math.ceil(invocations_per_hour / 60 / target_per_instance_minute - 1e-9), 1)


@dataclass
class Plan:
    entries: list[dict[str, Any]] = field(default_factory=list)  # autoscaling.schedule items
    minimum_by_hour: list[int] = field(default_factory=list)  # per hour of week, what the schedule keeps
    needed_by_hour: list[int] = field(default_factory=list)  # per hour of week, what the forecast needs
    reasons: list[str] = field(default_factory=list)


def _cron(minute_of_week: int) -> str:
    minute_of_week %= MINUTES_PER_WEEK
    day, rest = divmod(minute_of_week, 1440)
    hour, minute = divmod(rest, 60)
    return f"cron({minute} {hour} ? * {DAY_NAMES[day]} *)"


def plan_schedule(
    prediction: Forecast, minimum: int, maximum: int, target: float, max_actions: int = MAX_ACTIONS,
    lead_minutes: int = LEAD_MINUTES,
) -> Plan:
    """Scheduled minimums for the week `prediction` covers (at least one week of forecast hours)."""
    if len(prediction.values) < HOURS_PER_WEEK:
        raise ValueError("the forecast must cover a week")
    if max_actions < 2:
        raise ValueError("a schedule needs at least 2 actions (raise and lower back)")
    needed = [minimum] * HOURS_PER_WEEK
    for index, value in enumerate(prediction.values[:HOURS_PER_WEEK]):
        needed[prediction.hour_of_week(index)] = min(max(instances_needed(value, target), minimum), maximum)
    out = Plan(needed_by_hour=needed)
    above = [h for h in range(HOURS_PER_WEEK) if needed[h] > minimum]
    if not above:
        out.minimum_by_hour = [minimum] * HOURS_PER_WEEK
        out.reasons.append(f"the forecast never needs more than minInstances {minimum}: no scheduled action")
        return out
    if len(above) == HOURS_PER_WEEK:
        out.minimum_by_hour = [minimum] * HOURS_PER_WEEK
        out.reasons.append(f"the forecast needs more than minInstances {minimum} in every hour of the week: raise "
                           f"autoscaling.minInstances to {min(needed)} rather than schedule it")
        return out
    # Runs of equal need on the week's circle, starting from an hour at the minimum; merging two neighbours
    # keeps the higher level, so the pair whose merge adds the fewest instance-hours goes first.
    origin = next(h for h in range(HOURS_PER_WEEK) if needed[h] == minimum and needed[h - 1] != minimum)
    runs: list[list[int]] = []  # [level, hours]
    for offset in range(HOURS_PER_WEEK):
        level = needed[(origin + offset) % HOURS_PER_WEEK]
        if runs and runs[-1][0] == level:
            runs[-1][1] += 1
        else:
            runs.append([level, 1])
    found = len(runs)
    while len(runs) > max_actions:
        def added(i: int) -> int:
            (a, n), (b, m) = runs[i], runs[(i + 1) % len(runs)]
            return (max(a, b) - a) * n + (max(a, b) - b) * m
        i = min(range(len(runs) - 1), key=added)  # the run wrapping the origin stays the first
        runs[i] = [max(runs[i][0], runs[i + 1][0]), runs[i][1] + runs[i + 1][1]]
        del runs[i + 1]
    if len(runs) < found:
        out.reasons.append(f"{found} changes of the forecast need merged into {len(runs)} to stay within "
                           f"{max_actions} scheduled actions (a merge keeps the higher minimum)")
    kept: list[int] = []
    actions: list[tuple[int, int]] = []  # (minute of week, minInstances)
    at = origin
    previous = runs[-1][0]
    for level, length in runs:
        # A rise fires ahead, so the instances serve when the hour begins; a fall when the need ends.
        minute = at * 60 - (lead_minutes if level > previous else 0)
        actions.append((minute % MINUTES_PER_WEEK, level))
        kept += [level] * length
        previous, at = level, at + length
    out.minimum_by_hour = [kept[(h - origin) % HOURS_PER_WEEK] for h in range(HOURS_PER_WEEK)]
    out.entries = [{"schedule": _cron(m), "minInstances": level} for m, level in sorted(actions)]
    out.reasons.append(
        f"scheduled minimums up to {max(needed)} instance(s) ahead of the forecast peaks ({prediction.method} "
        f"forecast, {target:g} invocations per instance per minute); each rise {lead_minutes} min ahead"
    )
    return out


def schedule_minimum_by_hour(minimum: int, entries: Sequence[dict[str, Any]]) -> list[int]:
    """What a written schedule keeps per hour of week (the cost model's reading, aiplane.finops.weekly)."""
    from aiplane.finops.weekly import Step, minimum_by_hour

    return minimum_by_hour(minimum, [Step(e["schedule"], int(e["minInstances"])) for e in entries])
