"""Predictive scaling through `aiplane rightsize`: a generated diurnal endpoint history (known answer: five
instances from 09:00 to 12:00 UTC on weekdays, one otherwise) gets scheduled minimums raised ahead of its
peaks, written into the environment file byte for byte; too little history gets no schedule and says why; the
backtest reports the three strategies and writes its plot."""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner
from histories import hours, write_csv
from output_schema import assert_matches

from aiplane.cli import main
from aiplane.finops.weekly import DAY_NAMES
from aiplane.rightsizing.schedule import LEAD_MINUTES

QUIET, PEAK = 80 * 60, 450 * 60  # invocations per hour: 1 instance, and 5 at 100 per instance-minute


def diurnal(days: float) -> list:
    return [(at, "chat-assistant", "ModelEndpoint", "invocations",
             PEAK if at.weekday() < 5 and 9 <= at.hour < 12 else QUIET) for at in hours(days)]


def rightsize(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["rightsize", "--env", "prod", *args])
    return result.exit_code, result.stdout, result.stderr


def chat(output: str) -> dict:
    return next(r for r in json.loads(output)["recommendations"] if r["name"] == "chat-assistant")


# The known answer: on each weekday, the minimum rises to 5 LEAD_MINUTES before 09:00 and falls back at 12:00.
EXPECTED = sorted(
    [{"schedule": f"cron({60 - LEAD_MINUTES} 8 ? * {day} *)", "minInstances": 5} for day in DAY_NAMES[:5]]
    + [{"schedule": f"cron(0 12 ? * {day} *)", "minInstances": 1} for day in DAY_NAMES[:5]],
    key=lambda e: (DAY_NAMES.index(e["schedule"].split()[4][:3]), int(e["schedule"].split()[1]))
)


def test_a_diurnal_endpoint_gets_scheduled_minimums_before_its_peaks(project: Path) -> None:
    history = write_csv(project / "prod.csv", diurnal(21))
    code, out, _ = rightsize("--source", str(history), "--days", "21", "--format", "json")
    assert code == 0
    [change] = [c for c in chat(out)["changes"] if c["field"] == "autoscaling.schedule"]
    assert change["from"] != EXPECTED and change["to"] == EXPECTED


# The shipped prod schedule (filled from the example history): a block of one-line entries.
SHIPPED_SCHEDULE = re.compile(r"      schedule:\n(?:        - \{.*\}\n)+")
ENTRIES = "".join(f'        - {{schedule: "{e["schedule"]}", minInstances: {e["minInstances"]}}}\n' for e in EXPECTED)


def _write_twice(project: Path) -> tuple[str, int]:
    history = write_csv(project / "prod.csv", diurnal(21))
    code, _, err = rightsize("--source", str(history), "--days", "21", "--write")
    assert code == 0, err
    written = (project / "environments" / "prod.yaml").read_bytes()
    code, _, _ = rightsize("--source", str(history), "--days", "21", "--write")
    assert code == 0 and (project / "environments" / "prod.yaml").read_bytes() == written, "not byte-stable"
    return written.decode(), code


def test_write_replaces_the_schedule_byte_for_byte_and_a_second_run_changes_nothing(project: Path) -> None:
    env_file = project / "environments" / "prod.yaml"
    before = env_file.read_text(encoding="utf-8")
    assert len(SHIPPED_SCHEDULE.findall(before)) == 1
    written, _ = _write_twice(project)
    assert written == SHIPPED_SCHEDULE.sub(lambda _: "      schedule:\n" + ENTRIES, before)


def test_write_adds_a_missing_schedule_after_the_last_autoscaling_key(project: Path) -> None:
    env_file = project / "environments" / "prod.yaml"
    without = SHIPPED_SCHEDULE.sub("", env_file.read_text(encoding="utf-8"))
    env_file.write_text(without, encoding="utf-8")
    written, _ = _write_twice(project)
    anchor = "      targetInvocationsPerInstance: 100\n"
    assert written == without.replace(anchor, anchor + "      schedule:\n" + ENTRIES)


def test_too_little_history_gets_no_schedule_and_says_why(project: Path) -> None:
    history = write_csv(project / "prod.csv", diurnal(10))
    code, out, _ = rightsize("--source", str(history), "--days", "21", "--format", "json")
    assert code == 0
    rec = chat(out)
    assert not [c for c in rec["changes"] if c["field"] == "autoscaling.schedule"]
    assert any("autoscaling.schedule kept: too little data: 240 hourly invocation samples" in r
               and "needs 336" in r for r in rec["reasons"])


def test_backtest_reports_three_strategies_and_writes_the_plot(project: Path) -> None:
    history = write_csv(project / "prod.csv", diurnal(28))
    plot = project / "backtest.png"
    code, out, err = rightsize("--source", str(history), "--days", "28", "--backtest", "--format", "json",
                               "--plot", str(plot))
    assert code == 0, err
    document = json.loads(out)
    assert_matches(document, "rightsize-backtest")
    [result] = document["backtests"]
    outcome = {s["strategy"]: s for s in result["strategies"]}
    # Today's two static instances cannot serve the peaks; the forecast raises the minimum before they come,
    # so it misses no SLO hour where target tracking alone reacts late every weekday.
    assert outcome["static"]["sloMissHours"] == 15
    assert outcome["forecast"]["sloMissHours"] == 0 < outcome["reactive"]["sloMissHours"]
    assert result["mape"]["holt-winters"] < 5
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_backtest_on_too_little_history_says_why(project: Path) -> None:
    history = write_csv(project / "prod.csv", diurnal(14))
    code, out, _ = rightsize("--source", str(history), "--days", "14", "--backtest")
    assert code == 0
    assert "ModelEndpoint/chat-assistant: not backtested: too little data: 336 hourly invocation samples" in out


def test_a_schedule_stays_within_its_action_count_and_never_below_the_forecast() -> None:
    from datetime import UTC, datetime

    from aiplane.finops.weekly import HOURS_PER_WEEK
    from aiplane.rightsizing.forecast import Forecast
    from aiplane.rightsizing.schedule import instances_needed, plan_schedule, schedule_minimum_by_hour

    monday = datetime(2026, 11, 30, tzinfo=UTC)
    # Two peaks a weekday (10:00 needs 5, 15:00 needs 3), 1 otherwise: 20 changes of need a week.
    values = tuple(float(PEAK if h % 24 == 10 and h < 120 else 200 * 60 if h % 24 == 15 and h < 120 else QUIET)
                   for h in range(HOURS_PER_WEEK))
    prediction = Forecast("holt-winters", monday, values)
    needed = [min(max(instances_needed(v, 100), 1), 6) for v in values]
    for limit in (4, 10, 20):
        plan = plan_schedule(prediction, 1, 6, 100, max_actions=limit)
        assert 2 <= len(plan.entries) <= limit
        kept = schedule_minimum_by_hour(1, plan.entries)
        assert all(k >= n for k, n in zip(kept, needed, strict=True))
    assert len(plan_schedule(prediction, 1, 6, 100, max_actions=20).entries) == 20
    assert "merged" in " ".join(plan_schedule(prediction, 1, 6, 100, max_actions=4).reasons)
