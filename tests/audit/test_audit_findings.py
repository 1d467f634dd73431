"""One audit per finding type against a moto account seeded as prod, and the clean account itself."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from audit_fixtures import (
    ACCOUNT,
    PROD_QUOTAS,
    StubbedQuotaClients,
    add_endpoint,
    prod_account,
    run_instance,
    seed,
)

from aiplane.audit.declared import DeclaredState
from aiplane.audit.findings import AuditReport, Finding
from aiplane.audit.run import run_audit
from aiplane.catalog.instances import load_catalog

Client = Callable[[str], Any]


def audit(declared: DeclaredState, quotas: dict[str, float | None] | None = None,
          page_size: int | None = None) -> AuditReport:
    clients = StubbedQuotaClients(PROD_QUOTAS if quotas is None else quotas, page_size=page_size)
    report = run_audit(declared, clients, load_catalog())
    for stubber in clients.stubbers:
        stubber.assert_no_pending_responses()
    return report


def rows(findings: list[Finding]) -> list[tuple[str, str, str, Any, Any]]:
    return [(f.kind, f.resource.name, f.field, f.declared, f.live) for f in findings]


def test_an_account_that_matches_prod_exactly_is_clean(aws: Client, declared: DeclaredState) -> None:
    seed(prod_account(), aws)
    report = audit(declared)
    assert report.findings == []
    assert report.unchecked == []
    assert (report.account, report.region, report.exit_code) == (ACCOUNT, "us-east-1", 0)


def declared_name(declared: DeclaredState, base: str) -> str:
    """The node group name Git declares for `base`: `<base>-<4 hex>`."""
    [name] = [ng.name for ng in declared.node_groups if ng.name.rsplit("-", 1)[0] == base]
    return name


def test_live_node_groups_of_another_revision_are_matched_to_the_declared_one() -> None:
    """A node group created before revisions (no suffix) or mid-rollout (another suffix) is the declared one."""
    from aiplane.audit.run import live_revision

    assert live_revision("prod-gpu-spot-1a2b", ["prod-gpu-spot"]) == "prod-gpu-spot"
    assert live_revision("prod-gpu-spot-1a2b", ["prod-gpu-spot-9f9f", "prod-gpu-ondemand"]) == "prod-gpu-spot-9f9f"
    assert live_revision("prod-gpu-spot-1a2b", ["prod-gpu-spot-1a2b", "prod-gpu-spot"]) == "prod-gpu-spot-1a2b"
    assert live_revision("prod-gpu-spot-1a2b", ["prod-gpu-ondemand"]) is None


def test_drift_is_reported_per_field_but_desired_size_is_the_autoscalers(aws: Client,
                                                                       declared: DeclaredState) -> None:
    account = prod_account()
    spot = account["node_groups"]["prod-llm-inference-spot"]
    spot["maxSize"] = 10
    spot["instanceTypes"] = ["g5.12xlarge"]
    spot["tags"]["cost-center"] = "somebody-else"
    account["endpoints"]["prod-fraud-scoring"]["count"] = 3
    account["buckets"]["prod-captures-777788889999"]["lifecycle"][0]["Expiration"] = {"Days": 30}
    del account["node_groups"]["prod-neuron-inference-ondemand"]
    spot["desiredSize"] = 5  # scaled out by the cluster autoscaler: not Git's business
    account["endpoints"]["prod-chat-assistant"]["count"] = 5  # autoscaled: Application Auto Scaling's business
    seed(account, aws)
    report = audit(declared)
    assert rows(report.sorted_findings()) == [
        ("drift", "prod-llm-inference-spot", "instanceTypes", ["g5.12xlarge", "g6.12xlarge"], ["g5.12xlarge"]),
        ("drift", "prod-llm-inference-spot", "scalingConfig.maxSize", 6, 10),
        ("drift", "prod-llm-inference-spot", "tags[cost-center]", "llm-serving", "somebody-else"),
        # Missing from AWS: named as Git would create it now (a revision: `-<4 hex>`).
        ("drift", declared_name(declared, "prod-neuron-inference-ondemand"), "exists", True, False),
        ("drift", "prod-captures-777788889999", "lifecycle[aiplane-retention].expirationDays", 365, 30),
        ("drift", "prod-fraud-scoring", "productionVariants[primary].initialInstanceCount", 2, 3),
    ]
    spot_max = report.sorted_findings()[1]
    assert spot_max.message == ("scalingConfig.maxSize: Git (GPUNodePool/llm-inference) declares 6, AWS has 10")
    assert report.exit_code == 1


def test_untagged_gpu_capacity_outside_git_is_a_priced_cost_leak(aws: Client, declared: DeclaredState) -> None:
    seed(prod_account(), aws)
    ec2 = aws("ec2")
    [leak] = run_instance(ec2, "g5.12xlarge", {"owner": "someone"})  # owner alone is not enough
    [unpriced] = run_instance(ec2, "g4dn.xlarge", {})  # accelerated, but not in the catalog
    run_instance(ec2, "p4d.24xlarge", {"cost-center": "research", "owner": "ana", "environment": "prod",
                                       "tier": "experimental"})  # fully tagged: somebody pays for it
    run_instance(ec2, "m5.large", {})  # not GPU capacity
    # An undeclared node group's node: EKS tags alone do not make it managed.
    [stray] = run_instance(ec2, "g6.12xlarge", {"eks:cluster-name": "ai-prod", "eks:nodegroup-name": "adhoc"})
    add_endpoint_without_tags(aws)
    report = audit(declared)
    leaks = {f.resource.name.rsplit("/", 1)[-1]: f for f in report.sorted_findings()}
    assert set(leaks) == {leak, unpriced, stray, "adhoc-llm"}
    assert all(f.kind == "cost-leak" for f in leaks.values())
    assert leaks[leak].usd_per_hour == 5.672
    assert leaks[leak].resource.name == f"arn:aws:ec2:us-east-1:{ACCOUNT}:instance/{leak}"
    assert "missing tags cost-center, environment, tier: $5.67/h on demand" in leaks[leak].message
    assert leaks[unpriced].usd_per_hour is None
    assert "price unknown (g4dn.xlarge not in the catalog)" in leaks[unpriced].message
    assert leaks["adhoc-llm"].usd_per_hour == 2 * 1.52
    assert "1 x" not in leaks["adhoc-llm"].message and "2 x ml.g5.2xlarge" in leaks["adhoc-llm"].message
    assert report.leaked_usd_per_hour() == round(5.672 + 2 * 1.52 + load_catalog().in_region(
        "us-east-1").ec2_instance("g6.12xlarge").on_demand_usd_per_hour, 4)


def add_endpoint_without_tags(aws: Client) -> None:
    add_endpoint(aws("sagemaker"), "adhoc-llm", {"instanceType": "ml.g5.2xlarge", "count": 2, "tags": {}})


def test_an_endpoint_without_data_capture_blinds_its_ethics_monitor(aws: Client, declared: DeclaredState) -> None:
    account = prod_account()
    account["endpoints"]["prod-chat-assistant"]["capture"] = False
    del account["endpoints"]["prod-fraud-scoring"]["destination"]  # no DataCaptureConfig at all
    seed(account, aws)
    report = audit(declared)
    assert rows(report.sorted_findings()) == [
        ("ethics-blind", "prod-chat-assistant", "dataCaptureConfig.enableCapture", True, False),
        ("ethics-blind", "prod-fraud-scoring", "dataCaptureConfig.enableCapture", True, False),
    ]
    assert "the ethics monitor evaluates nothing" in report.findings[0].message


def test_a_bucket_weaker_than_the_security_rule(aws: Client, declared: DeclaredState) -> None:
    account = prod_account()
    captures = account["buckets"]["prod-captures-777788889999"]
    captures["sse"] = "AES256"
    captures["publicAccessBlock"]["RestrictPublicBuckets"] = False
    captures["versioning"] = "Suspended"
    artifacts = account["buckets"]["prod-artifacts-777788889999"]
    artifacts["publicAccessBlock"] = {}
    artifacts["lifecycle"] = []
    seed(account, aws)
    report = audit(declared)
    assert rows(report.sorted_findings()) == [
        ("bucket-weak", "prod-artifacts-777788889999", "lifecycle[aiplane-retention].status", "Enabled", None),
        ("bucket-weak", "prod-artifacts-777788889999", "publicAccessBlock.blockPublicAcls", True, None),
        ("bucket-weak", "prod-artifacts-777788889999", "publicAccessBlock.blockPublicPolicy", True, None),
        ("bucket-weak", "prod-artifacts-777788889999", "publicAccessBlock.ignorePublicAcls", True, None),
        ("bucket-weak", "prod-artifacts-777788889999", "publicAccessBlock.restrictPublicBuckets", True, None),
        ("bucket-weak", "prod-captures-777788889999", "publicAccessBlock.restrictPublicBuckets", True, False),
        ("bucket-weak", "prod-captures-777788889999", "serverSideEncryption.sseAlgorithm", "aws:kms", "AES256"),
        ("bucket-weak", "prod-captures-777788889999", "versioning.status", "Enabled", "Suspended"),
    ]


def test_a_quota_below_the_declared_need(aws: Client, declared: DeclaredState) -> None:
    seed(prod_account(), aws)
    quotas = {**PROD_QUOTAS, "L-3819A6DF": 64.0, "L-DB2E81BA": 128.0, "L-7212CCBC": None}
    report = audit(declared, quotas)
    assert rows(report.findings) == [("quota-short", "ec2/L-3819A6DF@us-east-1", "value", 288.0, 64.0)]
    assert report.findings[0].message.startswith(
        "applied quota is 64 vCPUs; Git (AcceleratorQuota/g-spot-us-east-1) needs 288")
    # No applied value is reported as not checked, never as passed.
    assert [(u.resource.name, u.reason) for u in report.unchecked] == [
        ("ec2/L-7212CCBC@us-east-1", "Service Quotas returned no applied value for this quota")]


def test_an_endpoint_quota_below_the_declared_instances(aws: Client, declared: DeclaredState) -> None:
    seed(prod_account(), aws)
    report = audit(declared, {**PROD_QUOTAS, "sagemaker/L-9614C779": 1.0})
    assert rows(report.findings) == [("quota-short", "sagemaker/L-9614C779@us-east-1", "value", 6.0, 1.0)]
    assert report.findings[0].message == (
        "applied quota is 1 instances; Git (AcceleratorQuota/endpoint-ml-g5-2xlarge-us-east-1) needs 6: "
        "endpoints cannot run their declared instance count")


def test_listings_are_read_across_pages(aws: Client, declared: DeclaredState) -> None:
    seed(prod_account(), aws)
    # One reservation each: moto pages describe_instances by reservation.
    ids = [i for _ in range(12) for i in run_instance(aws("ec2"), "g5.xlarge", {})]
    owned = {"cost-center": "a", "owner": "b", "environment": "prod", "tier": "batch"}
    tagged = [i for _ in range(7) for i in run_instance(aws("ec2"), "g5.2xlarge", owned)]
    pages: dict[str, int] = {}

    def count(event_name: str, **_: Any) -> None:
        operation = event_name.rsplit(".", 1)[-1]
        pages[operation] = pages.get(operation, 0) + 1

    clients = StubbedQuotaClients(PROD_QUOTAS, page_size=5)
    for service in ("ec2", "resourcegroupstaggingapi"):
        clients.client(service, "us-east-1").meta.events.register("after-call", count)
    report = run_audit(declared, clients, load_catalog())
    leaked = {f.resource.name.rsplit("/", 1)[-1] for f in report.findings}
    assert leaked == set(ids)  # all 12, none of the 7 tagged ones
    assert not leaked & set(tagged)
    assert pages["DescribeInstances"] >= 5  # 21 instances, 5 a page
    assert pages["GetResources"] >= 3  # 7 tagged instances + 2 endpoints, 5 a page


def test_an_empty_account_misses_everything_git_declares(aws: Client, declared: DeclaredState) -> None:
    report = audit(declared)
    groups = ["prod-fine-tuning-spot", "prod-llm-inference-ondemand", "prod-llm-inference-spot",
              "prod-neuron-inference-ondemand"]
    assert sorted((f.resource.type, f.resource.name) for f in report.findings if f.field == "exists") == [
        *(("eks:nodegroup", declared_name(declared, g)) for g in groups),
        ("s3:bucket", f"prod-artifacts-{ACCOUNT}"), ("s3:bucket", f"prod-captures-{ACCOUNT}"),
        ("sagemaker:endpoint", "prod-chat-assistant"), ("sagemaker:endpoint", "prod-fraud-scoring"),
    ]
    assert len(report.findings) == 8
    assert "(cluster ai-prod does not exist)" in report.sorted_findings()[0].message
