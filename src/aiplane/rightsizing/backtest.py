"""`aiplane rightsize --backtest`: replay the held-out last week of an endpoint's invocation history against
three ways of sizing it, minute by minute, and report what each would have cost and where it fell short.

- static: today's `instanceCount`, all week;
- reactive: target tracking alone on SageMakerVariantInvocationsPerInstance within [minInstances, maxInstances];
- forecast: the same target tracking, plus the scheduled minimums planned from a forecast of the weeks before.

The simulation (docs/rightsizing.md, "Backtest", states the same):
- demand: the hour's invocations spread evenly over its minutes (the history is hourly);
- an instance serves at most target × (1 + HEADROOM) invocations a minute within the latency SLO (the target
  keeps HEADROOM below that); a minute with more demand than the instances in service serve is an SLO miss;
- target tracking scales out when the load per instance was above the target for 3 consecutive one-minute
  datapoints, and in when it was below 90 % of the target for 15 (the alarms Application Auto Scaling creates
  for a target-tracking policy: Application Auto Scaling User Guide, "How target tracking scaling works"), to
  the capacity that brings the load to the target, at most once per cooldown
  (SCALE_OUT/SCALE_IN_COOLDOWN_SECONDS, the composed policy's);
- a scheduled action raises the minimum at its minute; instances it or a scale-out adds serve
  INSTANCE_START_MINUTES later and cost from the moment they are asked for; a scale-in removes at once;
- cost is instance-minutes at the catalog's on-demand price.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from aiplane.finops.weekly import HOURS_PER_WEEK
from aiplane.function.modelendpoint import SCALE_IN_COOLDOWN_SECONDS, SCALE_OUT_COOLDOWN_SECONDS
from aiplane.rightsizing.forecast import (
    DEFAULT_METHOD,
    METHODS,
    MIN_HOURS,
    Forecast,
    TooLittleHistory,
    forecast,
    hourly,
    mape,
)
from aiplane.rightsizing.history import Sample
from aiplane.rightsizing.recommend import HEADROOM
from aiplane.rightsizing.schedule import INSTANCE_START_MINUTES, Plan, plan_schedule

HOLDOUT_HOURS = HOURS_PER_WEEK
SCALE_OUT_DATAPOINTS = 3
SCALE_IN_DATAPOINTS = 15
SCALE_IN_THRESHOLD = 0.9
STRATEGIES = ("static", "reactive", "forecast")


@dataclass(frozen=True)
class Outcome:
    strategy: str
    cost_usd: float
    instance_hours: float
    under_provisioned_hours: int  # hours with some minute below the capacity the load needs at the target
    slo_miss_hours: int  # hours with some minute of more demand than the instances in service serve
    slo_miss_minutes: int
    in_service: list[int] = field(repr=False, default_factory=list)  # per minute


@dataclass
class Backtest:
    endpoint: str
    start: datetime  # first held-out hour
    actual: list[float]  # invocations per held-out hour
    forecasts: dict[str, Forecast]
    errors: dict[str, float]  # MAPE per method, percent
    under_forecast_hours: dict[str, int]  # hours the forecast fell short of the actual, per method
    plan: Plan
    outcomes: list[Outcome]
    price_per_hour: float
    target: float


def _simulate(
    strategy: str, demand: Sequence[float], minimum_by_minute: Sequence[int], maximum: int, target: float,
    static: int,
) -> tuple[list[int], list[int]]:
    """Instances in service and instances paid for, per minute."""
    if strategy == "static":
        return [static] * len(demand), [static] * len(demand)
    serving_at: list[tuple[int, int]] = []  # (minute it serves from, count) of instances starting
    desired = min(max(minimum_by_minute[0], math.ceil(demand[0] / target - 1e-9), 1), maximum)
    in_service = desired
    above = below = 0
    last_out = last_in = -10**9
    served, paid = [], []
    for t, load in enumerate(demand):
        while serving_at and serving_at[0][0] <= t:
            in_service += serving_at.pop(0)[1]
        floor = minimum_by_minute[t]
        if floor > desired:
            serving_at.append((t + INSTANCE_START_MINUTES, floor - desired))
            desired = floor
        per_instance = load / max(in_service, 1)
        above = above + 1 if per_instance > target else 0
        below = below + 1 if per_instance < SCALE_IN_THRESHOLD * target else 0
        wanted = min(max(math.ceil(load / target - 1e-9), floor, 1), maximum)
        if above >= SCALE_OUT_DATAPOINTS and wanted > desired and t - last_out >= SCALE_OUT_COOLDOWN_SECONDS // 60:
            serving_at.append((t + INSTANCE_START_MINUTES, wanted - desired))
            desired, last_out, above = wanted, t, 0
        elif below >= SCALE_IN_DATAPOINTS and wanted < desired and t - last_in >= SCALE_IN_COOLDOWN_SECONDS // 60 \
                and not serving_at:
            in_service -= desired - wanted
            desired, last_in, below = wanted, t, 0
        served.append(in_service)
        paid.append(desired)
    return served, paid


def _outcome(strategy: str, demand: Sequence[float], served: Sequence[int], paid: Sequence[int], target: float,
             price: float) -> Outcome:
    capacity = target * (1 + HEADROOM)
    under_hours, miss_hours, miss_minutes = set(), set(), 0
    for t, load in enumerate(demand):
        if served[t] < math.ceil(load / target - 1e-9):
            under_hours.add(t // 60)
        if load > served[t] * capacity + 1e-9:
            miss_hours.add(t // 60)
            miss_minutes += 1
    instance_hours = sum(paid) / 60
    return Outcome(strategy, instance_hours * price, instance_hours, len(under_hours), len(miss_hours),
                   miss_minutes, list(served))


def run_backtest(
    endpoint: str, samples: Sequence[Sample], instance_count: int, minimum: int, maximum: int, target: float,
    price_per_hour: float,
) -> Backtest:
    """Hold out the last week; forecast it from the weeks before with every method; simulate the three ways."""
    if len(samples) < MIN_HOURS + HOLDOUT_HOURS:
        raise TooLittleHistory(
            f"{len(samples)} hourly invocation samples; the backtest holds out the last {HOLDOUT_HOURS} and "
            f"forecasts them from at least {MIN_HOURS} before ({MIN_HOURS + HOLDOUT_HOURS} in all)"
        )
    start, values = hourly(samples)
    cut = len(values) - HOLDOUT_HOURS
    train = [Sample(start + timedelta(hours=i), v) for i, v in enumerate(values[:cut])]
    actual = values[cut:]
    forecasts = {m: forecast(train, HOLDOUT_HOURS, m) for m in METHODS}
    errors = {m: mape(actual, f.values) for m, f in forecasts.items()}
    short = {m: sum(1 for a, p in zip(actual, f.values, strict=True) if p < a) for m, f in forecasts.items()}
    chosen = forecasts[DEFAULT_METHOD]
    plan = plan_schedule(chosen, minimum, maximum, target)
    demand = [values[cut + t // 60] / 60 for t in range(HOLDOUT_HOURS * 60)]
    from aiplane.finops.weekly import Step, minimum_by_minute

    hold_start = start + timedelta(hours=cut)
    offset = (hold_start.weekday() * 24 + hold_start.hour) * 60
    week = minimum_by_minute(minimum, [Step(e["schedule"], e["minInstances"]) for e in plan.entries])
    scheduled = [week[(offset + t) % len(week)] for t in range(len(demand))]
    floors = {"static": [instance_count] * len(demand), "reactive": [minimum] * len(demand), "forecast": scheduled}
    outcomes = []
    for strategy in STRATEGIES:
        served, paid = _simulate(strategy, demand, floors[strategy], maximum, target, instance_count)
        outcomes.append(_outcome(strategy, demand, served, paid, target, price_per_hour))
    return Backtest(endpoint, hold_start, actual, forecasts, errors, short, plan, outcomes, price_per_hour, target)


def as_table(result: Backtest, markdown: bool = False) -> str:
    """The forecast error and the three strategies side by side."""
    lines = [f"Backtest of ModelEndpoint/{result.endpoint}: held-out week from {result.start:%Y-%m-%d %H:%M} UTC, "
             f"${result.price_per_hour:.3f}/h per instance, target {result.target:g} invocations/instance/min"]
    lines.append("")
    rows = [("forecast method", "MAPE %", "hours under actual")] + [
        (m + (" (used)" if m == DEFAULT_METHOD else ""), f"{result.errors[m]:.1f}", str(result.under_forecast_hours[m]))
        for m in METHODS
    ]
    lines += _table(rows, markdown)
    lines.append("")
    rows2 = [("strategy", "cost $/week", "instance-hours", "under-provisioned h", "SLO-miss h", "SLO-miss min")] + [
        (o.strategy, f"{o.cost_usd:.2f}", f"{o.instance_hours:.1f}", str(o.under_provisioned_hours),
         str(o.slo_miss_hours), str(o.slo_miss_minutes)) for o in result.outcomes
    ]
    lines += _table(rows2, markdown)
    if result.plan.entries:
        lines.append("")
        lines.append(f"forecast schedule: {len(result.plan.entries)} scheduled actions; " + "; ".join(result.plan.reasons))
    return "\n".join(lines)


def _table(rows: Sequence[Sequence[str]], markdown: bool) -> list[str]:
    if markdown:
        head, *body = rows
        return ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)] + ["| " + " | ".join(r) + " |" for r in body]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]


def plot(result: Backtest, path: Path) -> None:
    """A PNG: the held-out invocations and the forecasts (top), instances in service per strategy (bottom)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    hours = list(range(len(result.actual)))
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(11, 6.5), sharex=True)
    top.plot(hours, [v / 60 for v in result.actual], color="black", linewidth=1.4, label="actual")
    for method, prediction in result.forecasts.items():
        top.plot(hours, [v / 60 for v in prediction.values], linewidth=1, linestyle="--", label=f"{method} forecast")
    top.set_ylabel("invocations / min")
    top.legend(loc="upper right", fontsize=8)
    top.set_title(f"ModelEndpoint/{result.endpoint}: held-out week from {result.start:%Y-%m-%d} (UTC)")
    needed = [max(math.ceil(v / 60 / result.target - 1e-9), 1) for v in result.actual]
    bottom.step(hours, needed, where="post", color="black", linewidth=1.2, label="needed at target")
    for outcome in result.outcomes:
        per_hour = [min(outcome.in_service[h * 60 : h * 60 + 60]) for h in hours]
        bottom.step(hours, per_hour, where="post", linewidth=1,
                    label=f"{outcome.strategy} (${outcome.cost_usd:.0f}, {outcome.slo_miss_hours} SLO-miss h)")
    bottom.set_ylabel("instances in service (hour's least)")
    bottom.set_xlabel("hour of the held-out week")
    bottom.legend(loc="upper right", fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=90, metadata={"Software": None})
    plt.close(figure)
