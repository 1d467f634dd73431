"""End to end: `aiplane ethics evaluate` as a separate process, configured only by the job's environment
variables, against a moto server on 127.0.0.1 (S3 and CloudWatch, reached through AWS_ENDPOINT_URL with fake
credentials): captures in the real Data Capture format of a biased model, a fair one and one with too little
traffic, then the datapoints CloudWatch holds, the reports in S3 and the exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from ethics_traffic import (
    CAPTURE_PREFIX,
    GROUND_TRUTH_PREFIX,
    VARIANT,
    capture_files,
    decisions,
    ground_truth_files,
    monitor_spec,
    traffic,
)
from moto_local import free_port, serving_moto

from aiplane.ethics import job
from aiplane.ethics.metrics import (
    DEMOGRAPHIC_PARITY_DIFFERENCE,
    ENDPOINT,
    EVALUATIONS,
    FAIRNESS_BREACH,
    INSUFFICIENT_DATA,
    NAMESPACE,
    SENSITIVE_ATTRIBUTE,
    SEVERITY,
)
from aiplane.ethics.metrics import VARIANT as VARIANT_DIMENSION

REGION = "us-east-1"
BUCKET = "dev-captures-111122223333"
START = datetime(2025, 3, 1, 13, 0, tzinfo=UTC)
END = START + timedelta(minutes=60)
CONSOLE_SCRIPT = str(Path(sys.executable).parent / "aiplane")


@pytest.fixture
def moto_server() -> Iterator[str]:
    with serving_moto() as url:
        yield url


def aws(url: str, service: str) -> Any:
    return boto3.client(
        service,
        region_name=REGION,
        endpoint_url=url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def seed(s3: Any, endpoint: str, per_group: dict[str, int], rates: dict[str, int]) -> None:
    captures, labels = traffic(decisions(per_group, rates), START, 60)
    files = capture_files(captures, f"{CAPTURE_PREFIX}/{endpoint}/{VARIANT}")
    files |= ground_truth_files(labels, f"{GROUND_TRUTH_PREFIX}/{endpoint}", START + timedelta(minutes=59))
    for key, body in files.items():
        s3.put_object(Bucket=BUCKET, Key=key, Body=body)


def start_job(url: str, endpoint: str) -> subprocess.Popen[str]:
    """The evaluator as the CronJob starts it: its entry point, no arguments but the window, the job's
    environment (here with the window's end fixed, as a test cannot wait for the clock)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "AIPLANE_", "MOTO_"))}
    spec = monitor_spec(groundTruth={"prefix": f"{GROUND_TRUTH_PREFIX}/{endpoint}"})
    env |= {
        job.ENDPOINT_NAME: endpoint,
        job.VARIANT_NAME: VARIANT,
        job.CAPTURE_S3_URI: f"s3://{BUCKET}/{CAPTURE_PREFIX}",
        job.MONITOR_SPEC: json.dumps(spec),
        job.REGION: REGION,
        "AWS_ENDPOINT_URL": url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    command = [CONSOLE_SCRIPT, "ethics", "evaluate", "--window-end", END.strftime("%Y-%m-%dT%H:%M:%SZ")]
    assert command[1:3] == list(job.ENTRYPOINT[1:])
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finished(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=180)
    return process.returncode, out, err


def maximum(cloudwatch: Any, name: str, dimensions: dict[str, str]) -> float | None:
    points = cloudwatch.get_metric_statistics(
        Namespace=NAMESPACE,
        MetricName=name,
        Dimensions=[{"Name": k, "Value": v} for k, v in dimensions.items()],
        StartTime=START,
        EndTime=END + timedelta(minutes=5),
        Period=3600,
        Statistics=["Maximum"],
    )["Datapoints"]
    return max(p["Maximum"] for p in points) if points else None


def report_of(s3: Any, endpoint: str) -> dict[str, Any]:
    key = f"reports/{endpoint}/{VARIANT}/{END:%Y%m%dT%H%M%SZ}.json"
    loaded: dict[str, Any] = json.loads(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())
    return loaded


def test_the_monitor_job_against_a_moto_server(moto_server: str) -> None:
    s3, cloudwatch = aws(moto_server, "s3"), aws(moto_server, "cloudwatch")
    s3.create_bucket(Bucket=BUCKET)
    seed(s3, "dev-biased", {"F": 300, "M": 300}, {"F": 3, "M": 7})
    seed(s3, "dev-fair", {"F": 300, "M": 300}, {"F": 5, "M": 5})
    seed(s3, "dev-sparse", {"F": 300, "M": 20}, {"F": 3, "M": 7})  # M below minGroupSize (30)

    started = {e: start_job(moto_server, e) for e in ("dev-biased", "dev-fair", "dev-sparse")}
    runs = {e: finished(p) for e, p in started.items()}
    assert {e: code for e, (code, _, _) in runs.items()} == {
        "dev-biased": 0,
        "dev-fair": 0,
        "dev-sparse": 0,
    }, {e: err for e, (_, _, err) in runs.items()}

    def breach(endpoint: str, severity: str) -> float | None:
        dims = {ENDPOINT: endpoint, VARIANT_DIMENSION: VARIANT, SEVERITY: severity}
        return maximum(cloudwatch, FAIRNESS_BREACH.name, dims)

    assert (breach("dev-biased", "critical"), breach("dev-biased", "warning")) == (1.0, 1.0)
    assert (breach("dev-fair", "critical"), breach("dev-fair", "warning")) == (0.0, 0.0)
    # Too few records: no breach datum at all (never a 1), and InsufficientData says why.
    assert (breach("dev-sparse", "critical"), breach("dev-sparse", "warning")) == (None, None)
    base = {"dev-sparse": None, "dev-fair": None, "dev-biased": None}
    insufficient = {
        e: maximum(cloudwatch, INSUFFICIENT_DATA.name, {ENDPOINT: e, VARIANT_DIMENSION: VARIANT})
        for e in base
    }
    assert insufficient == {"dev-sparse": 1.0, "dev-fair": 0.0, "dev-biased": 0.0}
    ran = {e: maximum(cloudwatch, EVALUATIONS.name, {ENDPOINT: e, VARIANT_DIMENSION: VARIANT}) for e in base}
    assert ran == {"dev-sparse": 1.0, "dev-fair": 1.0, "dev-biased": 1.0}
    gender = {ENDPOINT: "dev-biased", VARIANT_DIMENSION: VARIANT, SENSITIVE_ATTRIBUTE: "gender"}
    assert maximum(cloudwatch, DEMOGRAPHIC_PARITY_DIFFERENCE.name, gender) == pytest.approx(0.4)
    listed = cloudwatch.list_metrics(Namespace=NAMESPACE, MetricName=FAIRNESS_BREACH.name)["Metrics"]
    assert sorted({d["Value"] for m in listed for d in m["Dimensions"] if d["Name"] == ENDPOINT}) == [
        "dev-biased",
        "dev-fair",
    ]

    biased, fair, sparse = (report_of(s3, e) for e in ("dev-biased", "dev-fair", "dev-sparse"))
    assert (biased["status"], biased["severity"], biased["fairnessBreach"]) == (
        "breach", "critical", {"critical": 1, "warning": 1}
    )  # fmt: skip
    assert biased["records"] == {"files": 2, "captured": 600, "rows": 600, "labeledRows": 600, "skipped": {}}
    assert (fair["status"], fair["severity"]) == ("ok", None)
    assert (sparse["status"], sparse["fairnessBreach"]) == (
        "insufficient-data",
        {"critical": None, "warning": None},
    )
    sparse_gender = next(a for a in sparse["attributes"] if a["name"] == "gender")
    assert [g["group"] for g in sparse_gender["groups"]] == ["F"] and sparse_gender["suppressedGroups"] == 1
    assert (
        f"report: s3://{BUCKET}/reports/dev-biased/{VARIANT}/20250301T140000Z.json" in runs["dev-biased"][1]
    )


def test_an_unreachable_aws_is_exit_1_for_the_job_to_retry(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    code, _, err = finished(start_job(url, "dev-biased"))
    assert code == 1
    assert err.startswith(f"ethics monitor dev-biased/{VARIANT}: listing s3://{BUCKET}/")
