"""One audit: check who the credentials are, read each declared resource and the account's GPU
capacity and endpoints, and collect the findings. AWS errors about credentials, region, endpoint or
permissions become AwsAccessError (one line, exit status 2), never a traceback.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

import botocore.exceptions

from aiplane.audit.compare import compare_bucket, compare_endpoint, compare_node_group, compare_quota
from aiplane.audit.declared import DeclaredState
from aiplane.audit.findings import AuditReport, Finding
from aiplane.audit.leaks import unmanaged_endpoints, unmanaged_instances
from aiplane.audit.live import (
    AwsAccessError,
    Clients,
    DeadlineExceeded,
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
from aiplane.function.revisions import revision_base

TAGGED_TYPES = ["ec2:instance", "sagemaker:endpoint"]


class AccountMismatch(Exception):
    """The credentials belong to another account than the environment declares."""


def live_revision(declared_name: str, live_names: Iterable[str]) -> str | None:
    """The live node group that is the declared one: the same name, else another revision of it (a node
    group created before revisions has no suffix; one mid-rollout has another): function-aiplane names
    every revision `<env>-<pool>-<capacity>-<4 hex>`. A ForceNew difference then shows as field drift."""
    names = set(live_names)
    if declared_name in names:
        return declared_name
    base = revision_base(declared_name)
    return min((n for n in names if revision_base(n) == base), default=None)


def run_audit(declared: DeclaredState, clients: Clients, catalog: Catalog) -> AuditReport:
    try:
        return _audit(declared, clients, catalog)
    except AwsAccessError:
        raise
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as err:
        problem = access_problem(err)
        raise AwsAccessError(problem or one_line(f"AWS error: {err}")) from None
    except Exception as err:  # a parser error on a non-AWS answer, an endpoint that is not a URL, ...
        problem = access_problem(err)
        if problem is None:
            raise
        raise AwsAccessError(problem) from None


def run_audit_within(
    declared: DeclaredState, clients: Clients, catalog: Catalog, seconds: float, started: float | None = None
) -> AuditReport:
    """run_audit, given up after `seconds` (from `started`, a time.monotonic() value) whatever the endpoint
    does — one that accepts and never answers, or answers a byte at a time, included. The audit runs in a
    daemon thread: socket timeouts bound each wait, and the main thread stops waiting at the deadline."""
    start = time.monotonic() if started is None else started
    clients.deadline = start + seconds
    outcome: dict[str, Any] = {}

    def audit() -> None:
        try:
            outcome["report"] = run_audit(declared, clients, catalog)
        except BaseException as err:  # handed to the caller's thread as is
            outcome["error"] = err

    worker = threading.Thread(target=audit, name="aiplane-audit", daemon=True)
    worker.start()
    worker.join(max(0.0, start + seconds - time.monotonic()))
    if worker.is_alive() or isinstance(outcome.get("error"), DeadlineExceeded):
        clients.expire()
        raise DeadlineExceeded(
            f"the audit did not finish within its deadline of {seconds:g} s (AWS, or AWS_ENDPOINT_URL, is "
            "not answering in time); raise it with --deadline or [tool.aiplane] audit-deadline"
        )
    if "error" in outcome:
        raise outcome["error"]
    report: AuditReport = outcome["report"]
    return report


def one_line(text: str, limit: int = 300) -> str:
    """Error text from a server can be a whole HTML page: keep one line, and not too much of it."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def check_account(declared: DeclaredState, clients: Clients) -> str:
    """The credentials' account, which must be the environment's (AccountMismatch otherwise)."""
    account = caller_account(clients, declared.region)
    if account != declared.account_id:
        raise AccountMismatch(
            f"credentials are for account {account}, environment {declared.environment} "
            f"is account {declared.account_id}"
        )
    return account


def _audit(declared: DeclaredState, clients: Clients, catalog: Catalog) -> AuditReport:
    account = check_account(declared, clients)
    report = AuditReport(declared.environment, account, declared.region)
    findings = report.findings

    clusters = sorted(
        {(ng.cluster, ng.region) for ng in declared.node_groups} | {(declared.cluster, declared.region)}
    )
    managed: set[tuple[str, str]] = set()
    for cluster, region in clusters:
        groups = read_node_groups(clients, cluster, region)
        live_groups = groups or {}
        for ng in declared.node_groups:
            if (ng.cluster, ng.region) == (cluster, region):
                live_name = live_revision(ng.name, live_groups)
                # Instances of any revision of a declared node group are Git's, not a cost leak.
                managed.update({(ng.cluster, live_name or ng.name), (ng.cluster, revision_base(ng.name))})
                live = live_groups.get(live_name) if live_name else None
                # Findings name the node group that exists in AWS.
                findings += compare_node_group(replace(ng, name=live_name or ng.name), live, groups is not None)

    for bucket in declared.buckets:
        findings += compare_bucket(bucket, read_bucket(clients, bucket.name, bucket.region))

    regions = sorted({declared.region} | {e.region for e in declared.endpoints})
    for region in regions:
        tags = read_tags(clients, region, TAGGED_TYPES)
        endpoints = read_endpoints(clients, region)
        for endpoint in endpoints.values():
            endpoint.tags = dict(tags.get(endpoint.arn, {}))
        wanted = [e for e in declared.endpoints if e.region == region]
        for endpoint_decl in wanted:
            findings += compare_endpoint(endpoint_decl, endpoints.get(endpoint_decl.name))
        regional = catalog.in_region(region) if region in catalog.regions() else None
        findings += unmanaged_endpoints(endpoints.values(), {e.name for e in wanted}, regional)
        findings += unmanaged_instances(read_instances(clients, region, account), tags, managed, regional)

    for quota in sorted(declared.quotas, key=lambda q: (q.region, q.code)):
        applied = read_applied_quota(clients, quota.service_code, quota.code, quota.region)
        result = compare_quota(quota, applied)
        if isinstance(result, Finding):
            findings.append(result)
        elif result is not None:
            report.unchecked.append(result)
    return report
