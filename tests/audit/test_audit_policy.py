"""docs/audit-readonly-policy.json grants every call the audit makes, and nothing that writes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
from audit_fixtures import PROD_QUOTAS, REGION, StubbedQuotaClients, prod_account, run_instance, seed

from aiplane.audit.declared import DeclaredState
from aiplane.audit.run import run_audit
from aiplane.catalog.instances import load_catalog

POLICY = Path(__file__).resolve().parents[2] / "docs" / "audit-readonly-policy.json"
# API operation → the IAM action that authorizes it, where the names differ.
IAM_ACTION = {
    "s3:HeadBucket": "s3:ListBucket",
    "s3:GetBucketEncryption": "s3:GetEncryptionConfiguration",
    "s3:GetPublicAccessBlock": "s3:GetBucketPublicAccessBlock",
    "s3:GetBucketLifecycleConfiguration": "s3:GetLifecycleConfiguration",
    "resource-groups-tagging-api:GetResources": "tag:GetResources",
    "service-quotas:GetServiceQuota": "servicequotas:GetServiceQuota",
}
READ_ONLY_PREFIXES = ("Get", "List", "Describe")


def policy_actions() -> set[str]:
    document = json.loads(POLICY.read_text(encoding="utf-8"))
    return {action for statement in document["Statement"] if statement["Effect"] == "Allow"
            for action in statement["Action"]}


def test_the_policy_only_reads() -> None:
    assert all(a.split(":", 1)[1].startswith(READ_ONLY_PREFIXES) for a in policy_actions())


def test_the_policy_grants_every_call_of_a_full_audit(aws: Callable[[str], Any], declared: DeclaredState) -> None:
    seed(prod_account(), aws)
    run_instance(aws("ec2"), "g5.xlarge", {})  # an unmanaged instance, so every reader has work to do
    called: set[str] = set()

    def record(model: Any, **_: Any) -> None:
        called.add(f"{model.service_model.service_id.hyphenize()}:{model.name}")

    session = boto3.Session(region_name=REGION)
    session.events.register("before-parameter-build", record)
    run_audit(declared, StubbedQuotaClients(PROD_QUOTAS, session=session), load_catalog())
    needed = {IAM_ACTION.get(op, op) for op in called}
    assert {"eks:DescribeNodegroup", "sagemaker:DescribeEndpointConfig", "tag:GetResources",
            "servicequotas:GetServiceQuota", "s3:GetEncryptionConfiguration"} <= needed
    assert needed <= policy_actions()
