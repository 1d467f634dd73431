"""The ModelEndpoint autoscaling API: what it refuses (bounds that contradict each other, schedules the cost
model cannot read) and what it costs (worst case at maxInstances, expected at the week's schedule-weighted
minimum)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from aiplane.authoring.api import priced_hourly_cost
from aiplane.finops.weekly import Step, minimum_by_hour, parse_weekly_cron, weighted_minimum
from aiplane.project import load_settings
from aiplane.synthesis.discovery import discover

SETTINGS = load_settings(Path(__file__).resolve().parents[2])
PROJECT = discover(SETTINGS)
API = PROJECT.apis["ModelEndpoint"]
XR = yaml.safe_load((SETTINGS.manifests / "environments/prod/modelendpoint-chat-assistant.yaml").read_text())


def spec(**autoscaling: Any) -> Any:
    data = {k: v for k, v in XR["spec"].items() if k != "crossplane"}
    data["autoscaling"] = {**data["autoscaling"], "schedule": [], **autoscaling}
    return API.spec.model_validate(data)


@pytest.mark.parametrize(("change", "message"), [
    ({"minInstances": 4, "maxInstances": 3}, "minInstances 4 is above maxInstances 3"),
    ({"minInstances": 3}, r"instanceCount 2 lies outside autoscaling \[3, 6\]"),
    ({"schedule": [{"schedule": "cron(0 8 ? * MON *)", "minInstances": 7}]}, "must lie within"),
    ({"schedule": [{"schedule": "cron(0 8 ? * MON *)", "minInstances": 3, "maxInstances": 2}]}, "must lie within"),
    ({"schedule": [{"schedule": "at(2026-12-24T08:00:00)", "minInstances": 3}]}, "not a weekly"),
    ({"schedule": [{"schedule": "cron(0 8 1 * MON *)", "minInstances": 3}]}, "not a weekly"),
    ({"schedule": [{"schedule": "cron(0 8 * * MON *)", "minInstances": 3}]}, "exactly one of"),
    ({"schedule": [{"schedule": "cron(0 25 ? * MON *)", "minInstances": 3}]}, "hour 0-23"),
    ({"schedule": [{"schedule": "cron(0 8 ? * MON *)", "minInstances": 3},
                   {"schedule": "cron(0 8 ? * MON *)", "minInstances": 2}]}, "same time"),
])
def test_contradicting_autoscaling_is_refused_with_its_reason(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        spec(**change)


def test_aws_day_numbers_and_names_read_alike() -> None:
    # AWS counts SUN=1 .. SAT=7; MON-FRI is 2-6.
    assert parse_weekly_cron("cron(30 6 ? * 2-6 *)") == parse_weekly_cron("cron(30 6 ? * MON-FRI *)")
    assert parse_weekly_cron("cron(0 0 ? * SUN,SAT *)").days == (5, 6)
    assert parse_weekly_cron("cron(0 7 * * ? *)").days == tuple(range(7))


def test_the_minimum_holds_until_the_next_action_and_wraps_the_week() -> None:
    steps = [Step("cron(0 8 ? * MON-FRI *)", 4), Step("cron(0 18 ? * MON-FRI *)", 1)]
    hours = minimum_by_hour(1, steps)
    assert hours[8] == hours[17] == 4 and hours[18] == 1 and hours[7] == 1
    assert hours[5 * 24 + 12] == 1  # Saturday noon: Friday 18:00 lowered it
    # 10 hours at 4 on 5 days, 1 otherwise: (50 × 4 + 118 × 1) / 168
    assert weighted_minimum(1, steps) == pytest.approx((50 * 4 + 118) / 168)
    # A raise without a lower keeps the minimum raised all week.
    assert weighted_minimum(1, [Step("cron(0 8 ? * MON *)", 3)]) == 3


def test_cost_worst_case_is_max_instances_and_expected_the_weighted_minimum() -> None:
    def cost(endpoint: Any) -> Any:
        return priced_hourly_cost(API, endpoint, PROJECT.catalog, 0.5)

    plain = spec()
    price = 1.52  # ml.g5.2xlarge in us-east-1, the shipped catalog
    scheduled = spec(schedule=[{"schedule": "cron(0 8 ? * MON-FRI *)", "minInstances": 4},
                               {"schedule": "cron(0 18 ? * MON-FRI *)", "minInstances": 1}])
    assert cost(plain).worst_case == pytest.approx(6 * price)
    assert cost(plain).expected == pytest.approx(1 * price)
    assert cost(scheduled).worst_case == pytest.approx(6 * price)
    assert cost(scheduled).expected == pytest.approx((50 * 4 + 118) / 168 * price)
