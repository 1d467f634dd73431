"""`aiplane audit` as a user runs it: output formats, exit codes, and one clear line for credential,
account and region problems."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import botocore.endpoint
import pytest
from audit_fixtures import ACCOUNT, prod_account, run_instance, seed
from botocore.awsrequest import AWSResponse
from botocore.stub import Stubber
from click.testing import CliRunner, Result
from output_schema import assert_matches

from aiplane.audit.declared import DeclaredState
from aiplane.audit.live import AwsAccessError, Clients, caller_account
from aiplane.audit.run import run_audit
from aiplane.catalog.instances import load_catalog
from aiplane.cli import main

Client = Callable[[str], Any]
ROOT = Path(__file__).resolve().parents[2]
P4D = load_catalog().in_region("us-east-1").ec2_instance("p4d.24xlarge").on_demand_usd_per_hour


def aiplane_audit(*args: str) -> Result:
    return CliRunner().invoke(main, ["audit", "--env", "prod", *args])


@pytest.fixture(autouse=True)
def in_project(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def test_json_report_lists_findings_and_what_moto_cannot_check(aws: Client) -> None:
    account = prod_account()
    account["node_groups"]["prod-fine-tuning-spot"]["maxSize"] = 4
    seed(account, aws)
    [leak] = run_instance(aws("ec2"), "p4d.24xlarge", {})
    result = aiplane_audit("--format", "json")
    assert result.exit_code == 1, result.stderr
    report = json.loads(result.stdout)
    assert_matches(report, "audit")
    assert {k: report[k] for k in ("version", "environment", "account", "region")} == {
        "version": 2, "environment": "prod", "account": ACCOUNT, "region": "us-east-1"}
    assert report["findings"] == [
        {"kind": "cost-leak", "resource": {"type": "ec2:instance",
                                           "name": f"arn:aws:ec2:us-east-1:{ACCOUNT}:instance/{leak}"},
         "field": "tags", "declared": ["cost-center", "owner", "environment", "tier"], "live": [],
         "message": "running on-demand p4d.24xlarge outside any declared node group, missing tags "
                    "cost-center, owner, environment, tier: $21.96/h on demand",
         "usdPerHour": P4D},
        {"kind": "drift", "resource": {"type": "eks:nodegroup", "name": "prod-fine-tuning-spot"},
         "field": "scalingConfig.maxSize", "declared": 2, "live": 4,
         "message": "scalingConfig.maxSize: Git (GPUNodePool/fine-tuning) declares 2, AWS has 4",
         "usdPerHour": None},
    ]
    assert report["summary"] == {
        "findings": 2, "costLeakUsdPerHour": round(P4D, 4), "unchecked": 6,
        "byKind": {"drift": 1, "cost-leak": 1, "ethics-blind": 0, "bucket-weak": 0, "quota-short": 0}}
    # moto answers Service Quotas only for `vpc`: EC2 and SageMaker quotas are reported as not checked.
    assert sorted(u["resource"]["name"] for u in report["unchecked"]) == [
        "ec2/L-1945791B@us-east-1", "ec2/L-3819A6DF@us-east-1", "ec2/L-7212CCBC@us-east-1",
        "ec2/L-DB2E81BA@us-east-1", "sagemaker/L-2F737F8D@us-east-1", "sagemaker/L-9614C779@us-east-1"]


def test_text_report_groups_findings_by_resource(aws: Client) -> None:
    account = prod_account()
    captures = account["buckets"]["prod-captures-777788889999"]
    captures["versioning"] = "Suspended"
    captures["tags"]["owner"] = "nobody"
    seed(account, aws)
    result = aiplane_audit()
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == f"audit of environment prod: account {ACCOUNT}, region us-east-1"
    start = lines.index("s3:bucket prod-captures-777788889999")
    assert lines[start + 1].split()[:2] == ["drift", "tags[owner]:"]
    assert lines[start + 2].split()[:2] == ["bucket-weak", "versioning.status:"]
    assert lines[-1] == "2 finding(s): 1 drift, 1 bucket-weak (6 check(s) could not be made)"


def test_credentials_for_another_account_are_refused(fake_credentials: None, sagemaker_g5: None,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOTO_ACCOUNT_ID", "111122223333")
    from moto import mock_aws

    with mock_aws():
        result = aiplane_audit()
    assert result.exit_code == 2
    assert result.stderr.strip() == ("environments/prod.yaml: accountId: credentials are for account "
                                     "111122223333, environment prod is account 777788889999")
    assert "Traceback" not in result.output


def test_missing_credentials_are_one_clear_line(fake_credentials: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    result = aiplane_audit()
    assert result.exit_code == 2
    assert result.stderr.strip() == ("AWS: no AWS credentials found; set AWS_PROFILE, or AWS_ACCESS_KEY_ID "
                                     "and AWS_SECRET_ACCESS_KEY")


def test_a_region_variable_naming_another_region_is_an_error(fake_credentials: None,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    result = aiplane_audit()
    assert result.exit_code == 2
    assert result.stderr.strip() == ("environments/prod.yaml: region: AWS_REGION is eu-west-1 but environment "
                                     "prod is in us-east-1; unset it or set it to us-east-1")


def test_access_denied_names_the_call_and_the_policy(fake_credentials: None, declared: DeclaredState) -> None:
    clients = Clients()
    with Stubber(clients.client("sts", "us-east-1")) as sts:
        sts.add_client_error("get_caller_identity", "AccessDenied", "not authorized", http_status_code=403)
        with pytest.raises(AwsAccessError) as caught:
            run_audit(declared, clients, load_catalog())
    assert str(caught.value) == ("AWS refused GetCallerIdentity (AccessDenied: not authorized); check the "
                                 "credentials and that they carry docs/audit-readonly-policy.json")


class _Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any) -> Any:
        yield self.data


THROTTLED = (b"<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded"
             b"</Message></Error><RequestId>1</RequestId></ErrorResponse>")


def test_throttling_is_retried_with_backoff(aws: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    sleeps: list[float] = []
    monkeypatch.setattr(botocore.endpoint.time, "sleep", sleeps.append)
    attempts: list[int] = []

    def throttle_twice(request: Any, **_: Any) -> AWSResponse | None:
        attempts.append(1)
        if len(attempts) <= 2:
            return AWSResponse(request.url, 400, {"Content-Type": "text/xml"}, _Body(THROTTLED))
        return None  # on to moto

    clients = Clients()
    # botocore counts max_attempts=10 as ten retries after the first attempt.
    assert clients.client("sts", "us-east-1").meta.config.retries == {"mode": "standard", "total_max_attempts": 11}
    clients.client("sts", "us-east-1").meta.events.register_first("before-send.sts.GetCallerIdentity",
                                                                  throttle_twice)
    assert caller_account(clients, "us-east-1") == ACCOUNT
    assert len(attempts) == 3
    assert len(sleeps) == 2 and all(s > 0 for s in sleeps)


def test_an_unknown_profile_is_one_clear_line(fake_credentials: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    result = aiplane_audit()
    assert result.exit_code == 2
    assert result.stderr.strip() == ("AWS: AWS profile not found: The config profile (no-such-profile) "
                                     "could not be found")
