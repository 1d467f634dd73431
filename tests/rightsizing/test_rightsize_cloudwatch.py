"""The CloudWatch reader against a moto server on 127.0.0.1 (reached through AWS_ENDPOINT_URL and fake
credentials), fed generated metrics with put_metric_data: SageMaker endpoint metrics normalised per GPU and
vCPU, node group sizes from the node group's Auto Scaling group, and the account check."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import CliRunner
from histories import hours
from moto_local import free_port, offline_aws, serving_moto

from aiplane.cli import main

REGION = "us-east-1"
DEV_ACCOUNT = "111122223333"


@pytest.fixture
def moto_url(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    offline_aws(monkeypatch, tmp_path, DEV_ACCOUNT)
    with serving_moto() as url:
        monkeypatch.setenv("AWS_ENDPOINT_URL", url)
        yield url


def put(cloudwatch: Any, namespace: str, name: str, dimensions: dict[str, str], values: list[float]) -> None:
    data = [
        {"MetricName": name, "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()],
         "Timestamp": at + timedelta(minutes=30), "Value": value}
        for at, value in zip(hours(14), values, strict=False)
    ]
    for start in range(0, len(data), 500):
        cloudwatch.put_metric_data(Namespace=namespace, MetricData=data[start : start + 500])


def seed_dev(url: str) -> None:
    """dev's node group (as Git names it) and 14 days of generated metrics for it and for dev-sentiment."""
    client = lambda service: boto3.client(service, region_name=REGION, endpoint_url=url)  # noqa: E731
    eks, cloudwatch = client("eks"), client("cloudwatch")
    eks.create_cluster(name="ai-dev", roleArn=f"arn:aws:iam::{DEV_ACCOUNT}:role/eks",
                       resourcesVpcConfig={"subnetIds": ["subnet-0a1b2c3d4e5f60718"]})
    eks.create_nodegroup(clusterName="ai-dev", nodegroupName="dev-experiments-spot-1440",
                         nodeRole=f"arn:aws:iam::{DEV_ACCOUNT}:role/node", subnets=["subnet-0a1b2c3d4e5f60718"])
    group = eks.describe_nodegroup(clusterName="ai-dev", nodegroupName="dev-experiments-spot-1440")["nodegroup"]
    (asg,) = [a["name"] for a in group["resources"]["autoScalingGroups"]]
    n = len(hours(14))
    # The pool: 1 node, 2 at its busiest hour.
    put(cloudwatch, "AWS/AutoScaling", "GroupInServiceInstances", {"AutoScalingGroupName": asg},
        [2.0 if i == 50 else 1.0 for i in range(n)])
    dims = {"EndpointName": "dev-sentiment", "VariantName": "primary"}
    # ml.g5.xlarge: 1 GPU, 4 vCPUs; CloudWatch sums per core, so 120 % is 30 % of the instance.
    put(cloudwatch, "AWS/SageMaker", "Invocations", dims, [100.0] * n)
    put(cloudwatch, "/aws/sagemaker/Endpoints", "CPUUtilization", dims, [120.0] * n)
    put(cloudwatch, "/aws/sagemaker/Endpoints", "GPUUtilization", dims, [40.0] * n)
    put(cloudwatch, "/aws/sagemaker/Endpoints", "GPUMemoryUtilization", dims, [50.0] * n)


def evidence(out: str, name: str) -> dict[str, dict[str, Any]]:
    rec = next(r for r in json.loads(out)["recommendations"] if r["name"] == name)
    return {e["metric"]: e for e in rec["evidence"]}


def test_cloudwatch_history_of_dev_read_from_a_moto_server(moto_url: str) -> None:
    seed_dev(moto_url)
    result = CliRunner().invoke(main, ["rightsize", "--env", "dev", "--format", "json"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["source"] == "cloudwatch"
    pool = evidence(result.stdout, "experiments")
    assert (pool["instances"]["max"], pool["instances"]["p50"]) == (2, 1)
    assert pool["instances"]["samples"] >= 330  # 14 days of hours (the window ends at the current hour)
    experiments = next(r for r in answer["recommendations"] if r["name"] == "experiments")
    assert {"field": "scaling.maxSize", "from": 4, "to": 3} in experiments["changes"]
    endpoint = evidence(result.stdout, "sentiment")
    assert endpoint["cpu_utilization"]["max"] == pytest.approx(30.0)
    assert endpoint["gpu_utilization"]["max"] == pytest.approx(40.0)
    # 50 % of one A10G's 22.35 GiB
    assert endpoint["gpu_memory_used_gib"]["max"] == pytest.approx(22.3515625 / 2, abs=0.001)  # JSON: 3 decimals


def test_credentials_of_another_account_are_refused(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOTO_ACCOUNT_ID", "777788889999")
    result = CliRunner().invoke(main, ["rightsize", "--env", "dev"])
    assert result.exit_code == 2
    assert "credentials are for account 777788889999, environment dev is account 111122223333" in result.stderr


def test_an_unreachable_endpoint_is_exit_2(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    result = CliRunner().invoke(main, ["rightsize", "--env", "dev"])
    assert result.exit_code == 2
    assert "AWS" in result.stderr
