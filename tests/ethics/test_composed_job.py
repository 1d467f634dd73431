"""End to end, from what the Composition renders: the shipped dev endpoint's XR is rendered through the shipped
ModelEndpoint Composition; its CronJob and ConfigMap say how the evaluator starts (the image's entry point, no
arguments, the ConfigMap's data as the environment). The evaluator is started that way, as a process, against
a moto server on 127.0.0.1 holding captures of a biased and of a fair model in the real Data Capture format;
the composed monitor role is created in moto's IAM (which parses its documents). Checked: exit codes, the
published datapoints, the report in S3, and that the composed alarms watch exactly what was published."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from moto_local import serving_moto

from aiplane.crossplane.render import settle
from aiplane.ethics import job, metrics
from aiplane.project import load_settings

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = load_settings(ROOT).manifests
XR = MANIFESTS / "environments/dev/modelendpoint-sentiment.yaml"
COMPOSITION = MANIFESTS / "platform/apis/composition-modelendpoints-sagemaker.yaml"
DOCKERFILE = ROOT / "images/ethics-monitor/Dockerfile"
CONSOLE_SCRIPTS = Path(sys.executable).parent


@pytest.fixture(scope="module")
def composed() -> dict[str, dict[str, Any]]:
    xr = yaml.safe_load(XR.read_text())
    return {r.name: r.obj for r in settle(xr, yaml.safe_load(COMPOSITION.read_text())).resources}


@pytest.fixture
def moto_server() -> Iterator[str]:
    with serving_moto() as url:
        yield url


def _client(url: str, service: str, region: str) -> Any:
    return boto3.client(service, region_name=region, endpoint_url=url,
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def _entrypoint() -> list[str]:
    """The image's ENTRYPOINT, read from the Dockerfile (exec form)."""
    [line] = [ln for ln in DOCKERFILE.read_text().splitlines() if ln.startswith("ENTRYPOINT")]
    entry: list[str] = json.loads(line.removeprefix("ENTRYPOINT").strip())
    return entry


def _job_process(composed: dict[str, dict[str, Any]], url: str) -> subprocess.Popen[str]:
    """The evaluator exactly as the composed CronJob starts it: the image's entry point with the container's
    args (none), the ConfigMap it names in envFrom as the environment, plus what the cluster adds (Pod
    Identity credentials; here moto's endpoint and fake keys)."""
    container = composed["ethics-monitor"]["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    config = composed["ethics-monitor-config"]
    assert container["envFrom"] == [{"configMapRef": {"name": config["metadata"]["name"]}}]
    command = [*(container.get("command") or _entrypoint()), *(container.get("args") or [])]
    assert command == list(job.ENTRYPOINT)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "AIPLANE_", "MOTO_"))}
    env |= dict(config["data"])
    env |= {
        "AWS_ENDPOINT_URL": url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        "PATH": f"{CONSOLE_SCRIPTS}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _captures(spec: dict[str, Any], rates: dict[str, float], per_group: int, end: datetime) -> list[dict[str, Any]]:
    """Requests as the dev endpoint's spec locates them (JSON features) and scores (JSON `score`), spread over
    the 50 minutes before `end`; `rates` is each gender's share of positive scores."""
    attributes = {a["name"]: a["jsonPath"] for a in spec["sensitiveAttributes"]}
    assert attributes == {"age_band": "features.age_band", "gender": "features.gender"}
    assert spec["prediction"] == {"jsonPath": "score", "scoreThreshold": 0.5, "source": "output"}
    records = []
    total = per_group * len(rates)
    for i in range(total):
        gender = sorted(rates)[i % len(rates)]
        nth = i // len(rates)
        positive = nth % 100 < rates[gender] * 100
        when = end - timedelta(minutes=50) + timedelta(minutes=50) * i / total
        request = {"features": {"gender": gender, "age_band": ("18-35", "36-65")[nth % 2]}, "text": "..."}
        records.append({
            "captureData": {
                "endpointInput": {"observedContentType": "application/json", "mode": "INPUT", "encoding": "JSON",
                                  "data": json.dumps(request)},
                "endpointOutput": {"observedContentType": "application/json", "mode": "OUTPUT",
                                   "encoding": "JSON", "data": json.dumps({"score": 0.9 if positive else 0.1})},
            },
            "eventMetadata": {"eventId": f"evt-{i:06d}",
                              "inferenceTime": when.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"},
            "eventVersion": "0",
        })
    return records


def _seed(s3: Any, uri: str, endpoint: str, records: list[dict[str, Any]]) -> None:
    bucket, prefix = job.parse_s3_uri(uri, "capture")
    s3.create_bucket(Bucket=bucket)
    by_hour: dict[str, list[str]] = {}
    for record in records:
        when = datetime.strptime(record["eventMetadata"]["inferenceTime"], "%Y-%m-%dT%H:%M:%S.%fZ")
        by_hour.setdefault(when.strftime("%Y/%m/%d/%H"), []).append(json.dumps(record))
    for hour, lines in by_hour.items():
        s3.put_object(Bucket=bucket, Key=f"{prefix}/{endpoint}/primary/{hour}/capture-0001.jsonl",
                      Body=("\n".join(lines) + "\n").encode())


def _breach(cloudwatch: Any, endpoint: str, severity: str, since: datetime) -> float | None:
    points = cloudwatch.get_metric_statistics(
        Namespace=metrics.NAMESPACE, MetricName=metrics.FAIRNESS_BREACH.name,
        Dimensions=[{"Name": k, "Value": v} for k, v in metrics.breach_dimensions(endpoint, "primary", severity).items()],
        StartTime=since, EndTime=since + timedelta(hours=2), Period=3600, Statistics=["Maximum"],
    )["Datapoints"]
    return max(p["Maximum"] for p in points) if points else None


@pytest.mark.parametrize(("model", "rates", "expected"), [("biased", {"F": 0.2, "M": 0.6}, 1.0),
                                                           ("fair", {"F": 0.4, "M": 0.4}, 0.0)])
def test_the_composed_job_judges_captured_traffic(
    composed: dict[str, dict[str, Any]], moto_server: str, model: str, rates: dict[str, float], expected: float
) -> None:
    data = composed["ethics-monitor-config"]["data"]
    region, endpoint = data[job.REGION], data[job.ENDPOINT_NAME]
    spec = json.loads(data[job.MONITOR_SPEC])
    s3, cloudwatch, iam = (_client(moto_server, s, region) for s in ("s3", "cloudwatch", "iam"))
    end = datetime.now(UTC).replace(second=0, microsecond=0)
    _seed(s3, data[job.CAPTURE_S3_URI], endpoint, _captures(spec, rates, 200, end))

    # The monitor's role as composed: IAM parses the trust and every inline policy document.
    role = composed["ethics-monitor-role"]["spec"]["forProvider"]
    iam.create_role(RoleName="ethics-monitor", AssumeRolePolicyDocument=role["assumeRolePolicy"])
    for policy in role["inlinePolicy"]:
        iam.put_role_policy(RoleName="ethics-monitor", PolicyName=policy["name"], PolicyDocument=policy["policy"])
    assert sorted(iam.list_role_policies(RoleName="ethics-monitor")["PolicyNames"]) == sorted(
        p["name"] for p in role["inlinePolicy"])

    process = _job_process(composed, moto_server)
    out, err = process.communicate(timeout=180)
    assert process.returncode == 0, err  # a breach is a result, not a failed Job

    since = end - timedelta(hours=1)
    assert _breach(cloudwatch, endpoint, metrics.CRITICAL, since) == expected
    assert _breach(cloudwatch, endpoint, metrics.WARNING, since) == expected
    bucket, _ = job.parse_s3_uri(data[job.REPORT_S3_URI], "reports")
    reports = s3.list_objects_v2(Bucket=bucket, Prefix=f"reports/{endpoint}/primary/")["Contents"]
    [report_key] = [r["Key"] for r in reports]
    report = json.loads(s3.get_object(Bucket=bucket, Key=report_key)["Body"].read())
    assert report["status"] == ("breach" if expected else "ok")
    assert re.search(rf"report: s3://{bucket}/reports/{endpoint}/primary/\d{{8}}T\d{{6}}Z\.json", out)
    # Every granted S3 key is where the job read and wrote: captures under the capture grant, the report under
    # the report grant.
    grants = {p["name"]: json.loads(p["policy"]) for p in role["inlinePolicy"]}
    read = grants["read-captures"]["Statement"][1]["Resource"][0].removeprefix(f"arn:aws:s3:::{bucket}/")
    write = grants["write-reports"]["Statement"][0]["Resource"][0].removeprefix(f"arn:aws:s3:::{bucket}/")
    assert report_key.startswith(write.removesuffix("*"))
    captured = s3.list_objects_v2(Bucket=bucket, Prefix=read.removesuffix("*"))["KeyCount"]
    assert captured >= 1


def test_the_composed_alarms_watch_what_the_evaluator_publishes(composed: dict[str, dict[str, Any]]) -> None:
    """One definition of names and dimensions serves both: each alarm's metric, statistic and dimension names
    are those of a metric the evaluator publishes (aiplane.ethics.metrics), with the endpoint's values."""
    data = composed["ethics-monitor-config"]["data"]
    published = {m.name: m for m in metrics.ALL_METRICS}
    watched = [o for o in composed.values()
               if o["kind"] == "MetricAlarm" and o["spec"]["forProvider"]["namespace"] == metrics.NAMESPACE]
    assert {o["spec"]["forProvider"]["metricName"] for o in watched} == {
        metrics.FAIRNESS_BREACH.name, metrics.ROLLBACK_REQUESTED.name}
    for alarm in watched:
        spec = alarm["spec"]["forProvider"]
        definition = published[spec["metricName"]]
        assert spec["statistic"] == definition.statistic
        assert set(spec["dimensions"]) == set(definition.dimensions)
        assert spec["dimensions"][metrics.ENDPOINT] == data[job.ENDPOINT_NAME]
        assert spec["dimensions"][metrics.VARIANT] == data[job.VARIANT_NAME]
        assert spec["treatMissingData"] == "notBreaching"
        assert "insufficientDataActions" not in spec  # insufficient data pages nobody
    severities = {o["spec"]["forProvider"]["dimensions"].get(metrics.SEVERITY) for o in watched}
    assert severities == {metrics.CRITICAL, metrics.WARNING, None}
