"""Weekly Application Auto Scaling schedules: the `cron(...)` expressions a ModelEndpoint's
`autoscaling.schedule` takes, when they fire in the week, and the minimum capacity they leave in force.

Application Auto Scaling's cron has six fields, `cron(Minutes Hours Day-of-month Month Day-of-week Year)`,
one of day-of-month and day-of-week being `?`; day-of-week is 1-7 (SUN=1) or SUN-SAT (Application Auto
Scaling User Guide, "Schedule recurring scaling actions using Application Auto Scaling"; the Amazon
EventBridge cron expressions reference it points to). aiplane takes the weekly subset: one minute, one
hour, every day of month and month and year, days of the week as `*`, `?`, names, numbers, lists and
ranges. Why only that: a scheduled action sets the minimum until the next one fires, so the minimum in force
is only knowable — for the cost model, the backtest and a reviewer — when the pattern repeats every week.
A one-off `at(...)` action would leave its minimum for good. Times are UTC (the scheduled action's default
time zone), the same hours the utilization history is read in.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

MINUTES_PER_WEEK = 7 * 24 * 60
HOURS_PER_WEEK = 7 * 24
# Python's weekday numbering (Monday 0) is the hour-of-week axis everywhere in aiplane: hour_of_week =
# weekday * 24 + hour. AWS numbers days SUN=1 .. SAT=7.
DAY_NAMES = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
_AWS_NUMBER = {1: 6, 2: 0, 3: 1, 4: 2, 5: 3, 6: 4, 7: 5}  # AWS 1-7 (SUN=1) → Python weekday
WEEKLY_CRON = re.compile(r"^cron\((\d{1,2}) (\d{1,2}) ([*?]) \* ([A-Za-z0-9*?,-]+) \*\)$")
WEEKLY_CRON_PATTERN = WEEKLY_CRON.pattern


def _day(text: str) -> int:
    upper = text.upper()
    if upper in DAY_NAMES:
        return DAY_NAMES.index(upper)
    if text.isdigit() and int(text) in _AWS_NUMBER:
        return _AWS_NUMBER[int(text)]
    raise ValueError(f"day of week {text!r} is not SUN-SAT or 1-7")


def _days(field: str) -> list[int]:
    """Python weekdays a day-of-week field names (ranges in AWS order, SUN..SAT, may not wrap)."""
    if field in ("*", "?"):
        return list(range(7))
    out: set[int] = set()
    for part in field.split(","):
        first, dash, last = part.partition("-")
        start = _day(first)
        if not dash:
            out.add(start)
            continue
        end = _day(last)
        order = [6, 0, 1, 2, 3, 4, 5]  # SUN first, as AWS counts
        i, j = order.index(start), order.index(end)
        if i > j:
            raise ValueError(f"day-of-week range {part!r} starts after it ends (SUN..SAT)")
        out.update(order[i : j + 1])
    return sorted(out)


@dataclass(frozen=True)
class WeeklyCron:
    minute: int
    hour: int
    days: tuple[int, ...]  # Python weekdays, Monday 0

    @property
    def minutes_of_week(self) -> list[int]:
        return [d * 1440 + self.hour * 60 + self.minute for d in self.days]


@functools.lru_cache(maxsize=4096)
def parse_weekly_cron(expression: str) -> WeeklyCron:
    """A weekly `cron(...)` expression, or ValueError saying what is wrong with it (cached: the value is
    immutable, and validation and pricing ask for the same few expressions again and again)."""
    match = WEEKLY_CRON.match(expression)
    if match is None:
        raise ValueError(
            f"{expression!r} is not a weekly Application Auto Scaling cron expression: "
            "cron(<minute> <hour> ? * <days of week> *), e.g. cron(0 7 ? * MON-FRI *), or "
            "cron(<minute> <hour> * * ? *) for every day"
        )
    minute, hour, day_of_month, day_of_week = match.groups()
    if not 0 <= int(minute) <= 59 or not 0 <= int(hour) <= 23:
        raise ValueError(f"{expression!r}: minute must be 0-59 and hour 0-23")
    if (day_of_month == "?") == (day_of_week == "?"):
        raise ValueError(f"{expression!r}: exactly one of day-of-month and day-of-week must be '?'")
    return WeeklyCron(int(minute), int(hour), tuple(_days(day_of_week)))


def weekly_cron(hour_of_week: int) -> str:
    """The expression firing once a week at the start of that hour (Monday 00:00 UTC is hour 0)."""
    day, hour = divmod(hour_of_week % HOURS_PER_WEEK, 24)
    return f"cron(0 {hour} ? * {DAY_NAMES[day]} *)"


class Step(NamedTuple):
    """One scheduled action: from `schedule` on, the minimum is `min_instances`. A plain
    `(schedule, min_instances)` pair is one too: pricing builds, hashes and compares a pair per step of every
    autoscaled endpoint (the weighted-minimum cache key), which tuples do in C."""

    schedule: str
    min_instances: int


def minimum_by_minute(base: int, steps: Sequence[tuple[str, int]]) -> list[int]:
    """The minimum in force in each minute of a week that repeats: each action sets it until the next fires;
    the week starts with what the last action of the week before left (`base` when there is none)."""
    firings = sorted((m, minimum) for schedule, minimum in steps for m in parse_weekly_cron(schedule).minutes_of_week)
    if not firings:
        return [base] * MINUTES_PER_WEEK
    current = firings[-1][1]
    out = []
    index = 0
    for minute in range(MINUTES_PER_WEEK):
        while index < len(firings) and firings[index][0] == minute:
            current = firings[index][1]
            index += 1
        out.append(current)
    return out


def minimum_by_hour(base: int, steps: Sequence[tuple[str, int]]) -> list[int]:
    """The largest minimum in force during each hour of the week (what an hour must pay for)."""
    minutes = minimum_by_minute(base, steps)
    return [max(minutes[h * 60 : h * 60 + 60]) for h in range(HOURS_PER_WEEK)]


def weighted_minimum(base: int, steps: Sequence[tuple[str, int]]) -> float:
    """The week's time-weighted minimum instance count."""
    return _weighted_minimum(base, tuple(steps))


@functools.lru_cache(maxsize=1024)
def _weighted_minimum(base: int, steps: tuple[tuple[str, int], ...]) -> float:
    # Cached: every rule that prices an autoscaled endpoint asks again, and the week is 10,080 minutes.
    minutes = minimum_by_minute(base, steps)
    return sum(minutes) / len(minutes)
