"""Kubernetes CronJob schedules, read as the CronJob controller reads them: the standard five fields as
robfig/cron v3's ParseStandard takes them (k8s.io/kubernetes/pkg/apis/batch/validation: validateScheduleFormat).
Here because function-aiplane sizes the fairness alarms' period from the monitor's schedule, and the XRD
checks a rollback monitor's schedule against the bake window, from the same reading."""

from __future__ import annotations

import functools
import itertools

CRON_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    ("month", 1, 12, {m: i + 1 for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"))}),
    ("day of week", 0, 6, {d: i for i, d in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}),
)


def _value(text: str, low: int, high: int, names: dict[str, int], what: str) -> int:
    value = names.get(text.lower())
    if value is None:
        if not text.isdigit():
            raise ValueError(f"{what} {text!r} is not a number")
        value = int(text)
    if not low <= value <= high:
        raise ValueError(f"{what} {value} is outside {low}-{high}")
    return value


def cron_field(text: str, what: str, low: int, high: int, names: dict[str, int]) -> set[int]:
    """The values a field matches (robfig/cron: `*`, `?`, lists, ranges, `/step`; a step on a single value
    runs from it to the field's end)."""
    values: set[int] = set()
    for part in text.split(","):
        span, slash, step = part.partition("/")
        if slash and (not step.isdigit() or int(step) == 0):
            raise ValueError(f"{what} step {step!r} must be a positive number")
        if span in ("*", "?"):
            start, end = low, high
        else:
            first, dash, last = span.partition("-")
            start = _value(first, low, high, names, what)
            end = _value(last, low, high, names, what) if dash else (high if slash else start)
            if start > end:
                raise ValueError(f"{what} range {span!r} starts after it ends")
        values.update(range(start, end + 1, int(step) if slash else 1))
    return values


MINUTES_PER_WEEK = 7 * 24 * 60


@functools.lru_cache(maxsize=256)
def cron_max_gap_minutes(schedule: str) -> int | None:
    """The longest time between two runs of a valid schedule, in minutes; None when the schedule does not
    run every day (a day-of-month or month restriction), where the gap is days or more. Cached: every
    endpoint of every environment is validated with it, mostly with the same few schedules."""
    fields = schedule.split()
    if fields[2] not in ("*", "?") or fields[3] not in ("*", "?"):
        return None
    minutes, hours, _, _, days = (
        cron_field(text, what, low, high, names)
        for text, (what, low, high, names) in zip(fields, CRON_FIELDS, strict=True)
    )
    runs = sorted(day * 1440 + hour * 60 + minute for day in days for hour in hours for minute in minutes)
    gaps = [later - earlier for earlier, later in itertools.pairwise(runs)]
    return max([*gaps, runs[0] + MINUTES_PER_WEEK - runs[-1]])


def cron_problem(schedule: str) -> str | None:
    """What makes a schedule one a Kubernetes CronJob refuses (or one that can never fire), or None."""
    if schedule.upper().startswith(("TZ=", "CRON_TZ=")):
        return "schedule must not set a time zone (TZ= or CRON_TZ=)"
    fields = schedule.split()
    if len(fields) != 5:
        return f"schedule {schedule!r} needs 5 fields (minute hour day-of-month month day-of-week), has {len(fields)}"
    for text, (what, low, high, names) in zip(fields, CRON_FIELDS, strict=True):
        try:
            cron_field(text, what, low, high, names)
        except ValueError as err:
            return f"schedule {schedule!r}: {err}"
    return None
