"""One audit: check who the credentials are, read each declared resource and the account's GPU
capacity and endpoints, and collect the findings. AWS errors about credentials, region, endpoint or
permissions become AwsAccessError (one line, exit status 2), never a traceback.
"""

from __future__ import annotations

import botocore.exceptions

from aiplane.audit.compare import compare_bucket, compare_endpoint, compare_node_group, compare_quota
from aiplane.audit.declared import DeclaredState
from aiplane.audit.findings import AuditReport, Finding
from aiplane.audit.leaks import unmanaged_endpoints, unmanaged_instances
from aiplane.audit.live import (
    AwsAccessError,
    Clients,
    access_problem,
    caller_account,
    read_applied_quota,
    read_bucket,
    read_endpoints,
    read_instances,
    read_node_groups,
    read_tags,
)
from aiplane.catalog.instances import Catalog

TAGGED_TYPES = ["ec2:instance", "sagemaker:endpoint"]


class AccountMismatch(Exception):
    """The credentials belong to another account than the environment declares."""


def run_audit(declared: DeclaredState, clients: Clients, catalog: Catalog) -> AuditReport:
    try:
        return _audit(declared, clients, catalog)
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as err:
        problem = access_problem(err)
        raise AwsAccessError(problem or one_line(f"AWS error: {err}")) from None


def one_line(text: str, limit: int = 300) -> str:
    """Error text from a server can be a whole HTML page: keep one line, and not too much of it."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _audit(declared: DeclaredState, clients: Clients, catalog: Catalog) -> AuditReport:
    account = caller_account(clients, declared.region)
    if account != declared.account_id:
        raise AccountMismatch(
            f"credentials are for account {account}, environment {declared.environment} "
            f"is account {declared.account_id}"
        )
    report = AuditReport(declared.environment, account, declared.region)
    findings = report.findings

    clusters = sorted(
        {(ng.cluster, ng.region) for ng in declared.node_groups} | {(declared.cluster, declared.region)}
    )
    for cluster, region in clusters:
        live_groups = read_node_groups(clients, cluster, region)
        for ng in declared.node_groups:
            if (ng.cluster, ng.region) == (cluster, region):
                findings += compare_node_group(ng, (live_groups or {}).get(ng.name), live_groups is not None)

    for bucket in declared.buckets:
        findings += compare_bucket(bucket, read_bucket(clients, bucket.name, bucket.region))

    regions = sorted({declared.region} | {e.region for e in declared.endpoints})
    managed = {(ng.cluster, ng.name) for ng in declared.node_groups}
    for region in regions:
        tags = read_tags(clients, region, TAGGED_TYPES)
        endpoints = read_endpoints(clients, region)
        for endpoint in endpoints.values():
            endpoint.tags = dict(tags.get(endpoint.arn, {}))
        wanted = [e for e in declared.endpoints if e.region == region]
        for endpoint_decl in wanted:
            findings += compare_endpoint(endpoint_decl, endpoints.get(endpoint_decl.name))
        findings += unmanaged_endpoints(endpoints.values(), {e.name for e in wanted}, catalog)
        findings += unmanaged_instances(read_instances(clients, region, account), tags, managed, catalog)

    for quota in sorted(declared.quotas, key=lambda q: (q.region, q.code)):
        applied = read_applied_quota(clients, quota.service_code, quota.code, quota.region)
        result = compare_quota(quota, applied)
        if isinstance(result, Finding):
            findings.append(result)
        elif result is not None:
            report.unchecked.append(result)
    return report
