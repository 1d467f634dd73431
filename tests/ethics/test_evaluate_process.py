"""`aiplane ethics evaluate` as the image runs it: the installed console script in its own process, configured
only by environment variables, on a local copy of the capture bucket (`--captures`, `--dry-run`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from ethics_traffic import (
    CAPTURE_PREFIX,
    ENDPOINT,
    GROUND_TRUTH_PREFIX,
    VARIANT,
    capture_files,
    decisions,
    ground_truth_files,
    monitor_spec,
    traffic,
    write_tree,
)

from aiplane.errors import InputError
from aiplane.ethics import job

# The console script installed beside this interpreter (.venv/bin/aiplane), as the image installs it.
CONSOLE_SCRIPT = str(Path(sys.executable).parent / "aiplane")
START = datetime(2025, 3, 1, 13, 0, tzinfo=UTC)
END = "2025-03-01T14:00:00Z"


def environment(spec: dict[str, Any], **extra: str) -> dict[str, str]:
    """The job's variables and nothing of this machine's AWS setup."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "AIPLANE_"))}
    env.update(
        {
            job.ENDPOINT_NAME: ENDPOINT,
            job.VARIANT_NAME: VARIANT,
            job.CAPTURE_S3_URI: f"s3://dev-captures-111122223333/{CAPTURE_PREFIX}",
            job.MONITOR_SPEC: json.dumps(spec),
            job.REGION: "us-east-1",
        }
    )
    env.update(extra)
    return env


def evaluate(env: dict[str, str], *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CONSOLE_SCRIPT, "ethics", "evaluate", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def bucket_copy(root: Path, rates: dict[str, int], per_group: int = 200) -> Path:
    captures, labels = traffic(decisions({"F": per_group, "M": per_group}, rates), START, 60)
    write_tree(root, capture_files(captures, f"{CAPTURE_PREFIX}/{ENDPOINT}/{VARIANT}"))
    write_tree(root, ground_truth_files(labels, GROUND_TRUTH_PREFIX, START))
    return root


def test_a_dry_run_over_a_local_copy_prints_the_verdict_and_the_report(tmp_path: Path) -> None:
    root = bucket_copy(tmp_path / "bucket", {"F": 3, "M": 7})
    spec = monitor_spec(groundTruth={"prefix": GROUND_TRUTH_PREFIX})
    # The image's settings: HOME and TMPDIR on the /tmp volume, no bytecode written.
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = environment(spec, HOME=str(scratch), TMPDIR=str(scratch), PYTHONDONTWRITEBYTECODE="1")
    done = evaluate(env, "--captures", str(root), "--window-end", END, "--dry-run", cwd=scratch)
    assert done.returncode == 0, done.stderr  # a breach is reported through metrics, not a failed Job
    assert list(scratch.iterdir()) == []  # nothing written, not even to the writable volume
    lines = done.stdout.splitlines()
    assert (
        lines[0]
        == f"ethics monitor {ENDPOINT}/{VARIANT}, window 2025-03-01T13:00:00Z – {END}: breach (critical)"
    )
    assert (
        lines[1] == "records: 400 captured in the window, 400 rows judged, 400 labelled, 0 skipped (2 files)"
    )
    assert lines[-1] == "dry run: no report written, 13 datapoints not published"
    report = json.loads("\n".join(lines[lines.index("{") : -1]))
    assert report["equalizedOddsWindow"] == {"start": "2025-03-01T13:00:00Z", "end": END}
    # Per gender TPR (r-1)/r and FPR 1/(10-r): F 2/3 and 1/7, M 6/7 and 1/3 → gaps 4/21 and 4/21.
    gender = next(a for a in report["attributes"] if a["name"] == "gender")
    eo = next(m for m in gender["metrics"] if m["name"] == "equalizedOddsDifference")
    assert eo["value"] == pytest.approx(4 / 21, abs=1e-6)
    # Nothing printed names a group: logs end up in the cluster's log store.
    head = "\n".join(lines[: lines.index("{")])
    assert " F" not in head and " M" not in head and "18-35" not in head


def test_missing_and_wrong_variables_are_exit_2_naming_each(tmp_path: Path) -> None:
    env = environment(monitor_spec(minGroupSize=0))
    del env[job.ENDPOINT_NAME]
    env[job.CAPTURE_S3_URI] = "captures/sentiment"
    done = evaluate(env)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"{job.ENDPOINT_NAME}: not set",
        f"{job.MONITOR_SPEC}: minGroupSize: Input should be greater than or equal to 1",
        f"{job.CAPTURE_S3_URI}: 'captures/sentiment' is not an S3 URI (s3://<bucket>[/<prefix>])",
    ]


def test_a_disabled_monitor_evaluates_nothing(tmp_path: Path) -> None:
    done = evaluate(environment(monitor_spec(enabled=False)), "--captures", str(tmp_path))
    assert done.returncode == 0
    assert "disabled" in done.stdout


def test_job_config_defaults_and_fallbacks() -> None:
    env = environment(monitor_spec())
    del env[job.REGION]
    env[job.DEFAULT_REGION] = "eu-west-1"
    config = job.job_config(env)
    assert (config.capture_bucket, config.capture_prefix) == ("dev-captures-111122223333", CAPTURE_PREFIX)
    assert (config.report_bucket, config.report_prefix, config.region) == (
        "dev-captures-111122223333",
        "reports",
        "eu-west-1",
    )
    env[job.REPORT_S3_URI] = "s3://audit-bucket/ethics/"
    assert (job.job_config(env).report_bucket, job.job_config(env).report_prefix) == (
        "audit-bucket",
        "ethics",
    )
    env[job.VARIANT_NAME] = "../../etc"
    with pytest.raises(InputError, match="is not a SageMaker name"):
        job.job_config(env)
