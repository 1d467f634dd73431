"""Rollback that can fire: the monitor must report inside the bake window under `action: rollback`, which
needs the longest gap between the schedule's runs; and the XR fields a ForceNew field may come from."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from aiplane.authoring.formats import cron_max_gap_minutes
from aiplane.crossplane.immutability import immutable_paths, is_immutable
from aiplane.project import load_settings
from aiplane.synthesis.discovery import discover

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = load_settings(ROOT)
ENDPOINT = SETTINGS.manifests / "environments/prod/modelendpoint-fraud-scoring.yaml"


@pytest.mark.parametrize(
    ("schedule", "gap"),
    [
        ("0 * * * *", 60),
        ("*/10 * * * *", 10),
        # 0, 7, …, 56, then 0 again: the hour boundary gap is 4, the longest 7.
        ("*/7 * * * *", 7),
        ("5,35 * * * *", 30),
        ("0 */5 * * *", 300),  # 20:00 → 00:00 is 240, the others 300
        ("0 9 * * 1-5", 3 * 24 * 60),  # Friday 09:00 → Monday 09:00
        ("* * * * *", 1),
        ("30 2 * * sun", 7 * 24 * 60),
        ("0 * 1 * *", None),  # not every day
        ("0 * * jan *", None),
    ],
)
def test_the_longest_gap_between_runs(schedule: str, gap: int | None) -> None:
    assert cron_max_gap_minutes(schedule) == gap


def _spec(**changes: Any) -> dict[str, Any]:
    spec: dict[str, Any] = yaml.safe_load(ENDPOINT.read_text())["spec"]
    spec.pop("crossplane")
    for path, value in changes.items():
        *parents, leaf = path.split("__")
        node = spec
        for key in parents:
            node = node[key]
        node[leaf] = value
    return spec


def _model() -> Any:
    return discover(SETTINGS).apis["ModelEndpoint"].spec


def test_the_shipped_rollback_endpoint_reports_inside_its_bake_window() -> None:
    spec = _model().model_validate(_spec())
    assert spec.ethicsMonitor.action == "rollback"
    gap = cron_max_gap_minutes(spec.ethicsMonitor.schedule)
    assert gap is not None and gap * 60 + 60 <= spec.rollout.bakeSeconds


def test_an_hourly_monitor_cannot_roll_back_within_a_ten_minute_bake_and_the_message_says_what_fits() -> None:
    with pytest.raises(ValidationError) as err:
        _model().model_validate(_spec(ethicsMonitor__schedule="0 * * * *", rollout__bakeSeconds=600))
    message = str(err.value)
    assert "up to 60 min apart" in message and "'*/9 * * * *'" in message and "action alert" in message


@pytest.mark.parametrize("action", ["alert", "block-promotion"])
def test_other_actions_take_any_schedule(action: str) -> None:
    _model().model_validate(_spec(ethicsMonitor__schedule="0 * * * *", ethicsMonitor__action=action))


def test_a_disabled_monitor_is_not_held_to_the_bake_window() -> None:
    _model().model_validate(_spec(ethicsMonitor__schedule="0 3 * * *", ethicsMonitor__enabled=False))


def test_the_bake_window_leaves_room_for_the_fast_alarms() -> None:
    with pytest.raises(ValidationError):
        _model().model_validate(_spec(rollout__bakeSeconds=300))
    with pytest.raises(ValidationError):
        _model().model_validate(_spec(rollout__bakeSeconds=3601))


SCHEMA = {
    "properties": {
        "region": {"type": "string", "x-kubernetes-validations": [{"rule": "self == oldSelf"}]},
        "bucketRef": {"type": "object", "properties": {
            "name": {"type": "string"},
            "bucketName": {"type": "string", "x-kubernetes-validations": [{"rule": "self == oldSelf"}]},
        }},
        "image": {"type": "string"},
    }
}


def test_immutable_paths_are_found_at_any_depth() -> None:
    assert list(immutable_paths(SCHEMA)) == ["spec.bucketRef.bucketName", "spec.region"]


@pytest.mark.parametrize(
    ("path", "immutable"),
    [
        ("metadata.name", True),
        ("metadata.namespace", True),
        ("metadata.labels[aiplane.io/environment]", True),
        ("metadata.labels[aiplane.io/owner]", False),
        ("spec.region", True),
        ("spec.bucketRef.bucketName", True),
        ("spec.bucketRef.name", False),
        ("spec.image", False),
        ("spec.regionality", False),
    ],
)
def test_which_xr_fields_never_change(path: str, immutable: bool) -> None:
    assert is_immutable(path, SCHEMA, "aiplane.io/environment") is immutable
