"""Read-only boto3 readers of the live account: EKS node groups, S3 buckets, SageMaker endpoints,
Service Quotas, EC2 instances and the Resource Groups Tagging API.

Every listing goes through a paginator; every client retries throttling with backoff (botocore
standard mode); boto3 honours AWS_ENDPOINT_URL, so the same code reads a local moto server. Only
Describe/Get/List calls are made: docs/audit-readonly-policy.json is the complete list.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3
import botocore.exceptions
import botocore.parsers
from botocore.config import Config

from aiplane.audit.declared import LifecycleRule

RETRY_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})
# ClientError codes that mean "these credentials cannot do this here", not "the resource is wrong".
ACCESS_ERROR_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "ExpiredToken",
        "ExpiredTokenException",
        "SignatureDoesNotMatch",
        "AuthFailure",
        "InvalidAccessKeyId",
        "UnrecognizedClient",
        "OptInRequired",
    }
)
LIVE_STATES = ["pending", "running"]


class AwsAccessError(Exception):
    """The account cannot be read as asked (credentials, region, endpoint, permissions): exit status 2."""


class DeadlineExceeded(AwsAccessError):
    """The audit's overall deadline passed: no further AWS call is made."""


def error_code(err: botocore.exceptions.ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


def access_problem(err: Exception) -> str | None:
    """One clear line for errors that are about credentials, region or endpoint; None for others."""
    if isinstance(err, botocore.exceptions.NoCredentialsError):
        return "no AWS credentials found; set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
    if isinstance(err, botocore.exceptions.PartialCredentialsError):
        return f"incomplete AWS credentials: {err}"
    if isinstance(err, botocore.exceptions.ProfileNotFound):
        return f"AWS profile not found: {err}"
    if isinstance(err, botocore.exceptions.NoRegionError):
        return "no AWS region; the environment's region should have been used (please report this)"
    if isinstance(
        err, (botocore.exceptions.EndpointConnectionError, botocore.exceptions.ConnectTimeoutError)
    ):
        return f"cannot reach AWS: {err}"
    if isinstance(err, botocore.exceptions.ConfigParseError):
        return f"cannot read the AWS config file (AWS_CONFIG_FILE): {_one_line(err)}"
    if isinstance(err, (botocore.exceptions.ReadTimeoutError, botocore.exceptions.ConnectionClosedError)):
        return f"AWS did not answer: {_one_line(err)}"
    if isinstance(err, botocore.parsers.ResponseParserError):
        return (
            "the AWS endpoint answered with something that is not an AWS response (check "
            f"AWS_ENDPOINT_URL): {_one_line(err)}"
        )
    if isinstance(err, ValueError) and str(err).startswith("Invalid endpoint"):
        return f"AWS_ENDPOINT_URL is not a URL: {_one_line(err)}"
    if isinstance(err, botocore.exceptions.ClientError) and error_code(err) in ACCESS_ERROR_CODES:
        operation = getattr(err, "operation_name", "a call")
        message = err.response.get("Error", {}).get("Message", "")
        return (
            f"AWS refused {operation} ({error_code(err)}: {message}); check the credentials and that "
            f"they carry docs/audit-readonly-policy.json"
        )
    return None


def _one_line(err: BaseException, limit: int = 300) -> str:
    flat = " ".join(str(err).split()) or type(err).__name__
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class Clients:
    """boto3 clients per (service, region) with retries, and pagination with an optional page size.

    With a `deadline` (a time.monotonic() value), no request is sent after it, and no single connect or
    read waits longer than what is left of it; `run_audit_within` enforces the whole deadline."""

    def __init__(self, session: Any = None, page_size: int | None = None, deadline: float | None = None) -> None:
        self.session = session if session is not None else boto3.Session()
        self.page_size = page_size
        self.deadline = deadline
        self._clients: dict[tuple[str, str], Any] = {}

    def client(self, service: str, region: str) -> Any:
        key = (service, region)
        if key not in self._clients:
            config = RETRY_CONFIG
            if self.deadline is not None:
                left = max(0.1, self.deadline - time.monotonic())
                config = config.merge(Config(connect_timeout=min(60.0, left), read_timeout=min(60.0, left)))
            client = self.session.client(service, region_name=region, config=config)
            if self.deadline is not None:
                client.meta.events.register("before-send", self._refuse_after_deadline)
            self._clients[key] = client
        return self._clients[key]

    def expire(self) -> None:
        """Make every later request fail at once (the caller has given up waiting)."""
        self.deadline = time.monotonic()

    def _refuse_after_deadline(self, **_: Any) -> None:
        if self.deadline is not None and time.monotonic() >= self.deadline:
            raise DeadlineExceeded("the audit deadline passed")

    def pages(self, service: str, region: str, operation: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        paginator = self.client(service, region).get_paginator(operation)
        config = {"PageSize": self.page_size} if self.page_size else {}
        yield from paginator.paginate(**kwargs, PaginationConfig=config)


def caller_account(clients: Clients, region: str) -> str:
    return str(clients.client("sts", region).get_caller_identity()["Account"])


# EKS -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LiveNodeGroup:
    name: str
    instance_types: list[str]
    capacity_type: str | None
    min_size: int | None
    max_size: int | None
    desired_size: int | None
    ami_type: str | None
    tags: dict[str, str]


def read_node_groups(clients: Clients, cluster: str, region: str) -> dict[str, LiveNodeGroup] | None:
    """Every node group of the cluster by name; None when the cluster does not exist."""
    eks = clients.client("eks", region)
    # Asked first because listing a missing cluster's node groups is an internal error in moto.
    try:
        eks.describe_cluster(name=cluster)
    except eks.exceptions.ResourceNotFoundException:
        return None
    names = [
        n
        for page in clients.pages("eks", region, "list_nodegroups", clusterName=cluster)
        for n in page.get("nodegroups", [])
    ]
    out: dict[str, LiveNodeGroup] = {}
    for name in names:
        ng = eks.describe_nodegroup(clusterName=cluster, nodegroupName=name)["nodegroup"]
        scaling = ng.get("scalingConfig") or {}
        out[name] = LiveNodeGroup(
            name=name,
            instance_types=list(ng.get("instanceTypes") or []),
            capacity_type=ng.get("capacityType"),
            min_size=scaling.get("minSize"),
            max_size=scaling.get("maxSize"),
            desired_size=scaling.get("desiredSize"),
            ami_type=ng.get("amiType"),
            tags=dict(ng.get("tags") or {}),
        )
    return out


# S3 --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LiveBucket:
    name: str
    sse_algorithm: str | None
    kms_key_id: str | None
    bucket_key: bool | None
    public_access_block: dict[str, bool]  # {} when the bucket has none
    versioning: str | None  # None when versioning was never enabled
    lifecycle: list[LifecycleRule]
    tags: dict[str, str]


_PAB_FIELDS = {
    "BlockPublicAcls": "blockPublicAcls",
    "BlockPublicPolicy": "blockPublicPolicy",
    "IgnorePublicAcls": "ignorePublicAcls",
    "RestrictPublicBuckets": "restrictPublicBuckets",
}


def _s3_get(s3: Any, operation: str, name: str, absent_codes: Iterable[str]) -> dict[str, Any] | None:
    """Call a bucket Get*; None when the bucket has no such configuration."""
    try:
        result: dict[str, Any] = getattr(s3, operation)(Bucket=name)
    except botocore.exceptions.ClientError as err:
        if error_code(err) in absent_codes:
            return None
        raise
    return result


def read_bucket(clients: Clients, name: str, region: str) -> LiveBucket | None:
    """Security settings and tags of one bucket; None when it does not exist."""
    s3 = clients.client("s3", region)
    try:
        s3.head_bucket(Bucket=name)
    except botocore.exceptions.ClientError as err:
        if error_code(err) in ("404", "NoSuchBucket", "NotFound"):
            return None
        raise
    sse = _s3_get(s3, "get_bucket_encryption", name, ["ServerSideEncryptionConfigurationNotFoundError"]) or {}
    rules = (sse.get("ServerSideEncryptionConfiguration") or {}).get("Rules") or [{}]
    by_default = rules[0].get("ApplyServerSideEncryptionByDefault") or {}
    pab = _s3_get(s3, "get_public_access_block", name, ["NoSuchPublicAccessBlockConfiguration"]) or {}
    pab_config = pab.get("PublicAccessBlockConfiguration") or {}
    versioning = s3.get_bucket_versioning(Bucket=name).get("Status")
    lifecycle = (
        _s3_get(s3, "get_bucket_lifecycle_configuration", name, ["NoSuchLifecycleConfiguration"]) or {}
    )
    tagging = _s3_get(s3, "get_bucket_tagging", name, ["NoSuchTagSet"]) or {}
    return LiveBucket(
        name=name,
        sse_algorithm=by_default.get("SSEAlgorithm"),
        kms_key_id=by_default.get("KMSMasterKeyID"),
        bucket_key=rules[0].get("BucketKeyEnabled"),
        public_access_block={
            ours: bool(pab_config[theirs]) for theirs, ours in _PAB_FIELDS.items() if theirs in pab_config
        },
        versioning=versioning,
        lifecycle=[_lifecycle_rule(r) for r in lifecycle.get("Rules") or []],
        tags={t["Key"]: t["Value"] for t in tagging.get("TagSet") or []},
    )


def _lifecycle_rule(rule: Mapping[str, Any]) -> LifecycleRule:
    filter_ = rule.get("Filter") or {}
    prefix = filter_.get("Prefix", rule.get("Prefix"))
    return LifecycleRule(
        id=str(rule.get("ID", "")),
        status=str(rule.get("Status", "")),
        prefix=prefix,
        expiration_days=(rule.get("Expiration") or {}).get("Days"),
        noncurrent_days=(rule.get("NoncurrentVersionExpiration") or {}).get("NoncurrentDays"),
        abort_multipart_days=(rule.get("AbortIncompleteMultipartUpload") or {}).get("DaysAfterInitiation"),
    )


# SageMaker -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LiveVariant:
    name: str
    instance_type: str | None
    instance_count: int | None


@dataclass
class LiveEndpoint:
    name: str
    arn: str
    status: str
    config_name: str | None
    variants: list[LiveVariant]
    capture_enabled: bool
    capture_destination: str | None
    capture_sampling_percent: int | None
    tags: dict[str, str] = field(default_factory=dict)


def read_endpoints(clients: Clients, region: str) -> dict[str, LiveEndpoint]:
    """Every endpoint of the region with its configuration (tags come from read_tags)."""
    sm = clients.client("sagemaker", region)
    out: dict[str, LiveEndpoint] = {}
    for page in clients.pages("sagemaker", region, "list_endpoints"):
        for summary in page.get("Endpoints", []):
            name = summary["EndpointName"]
            described = sm.describe_endpoint(EndpointName=name)
            config_name = described.get("EndpointConfigName")
            config: dict[str, Any] = {}
            if config_name:
                try:
                    config = sm.describe_endpoint_config(EndpointConfigName=config_name)
                except botocore.exceptions.ClientError as err:
                    # The configuration can be deleted while the endpoint keeps running on it.
                    if error_code(err) != "ValidationException":
                        raise
            capture = config.get("DataCaptureConfig") or described.get("DataCaptureConfig") or {}
            out[name] = LiveEndpoint(
                name=name,
                arn=summary["EndpointArn"],
                status=str(summary.get("EndpointStatus", "")),
                config_name=config_name,
                variants=[
                    LiveVariant(
                        v.get("VariantName", ""), v.get("InstanceType"), v.get("InitialInstanceCount")
                    )
                    for v in config.get("ProductionVariants") or []
                ],
                capture_enabled=bool(capture.get("EnableCapture", False)),
                capture_destination=capture.get("DestinationS3Uri"),
                capture_sampling_percent=capture.get("InitialSamplingPercentage"),
            )
    return out


# Tagging API and EC2 ---------------------------------------------------------------------------------


def read_tags(clients: Clients, region: str, resource_types: list[str]) -> dict[str, dict[str, str]]:
    """Tags by ARN of every tagged resource of those types (untagged resources are not returned)."""
    out: dict[str, dict[str, str]] = {}
    for page in clients.pages(
        "resourcegroupstaggingapi", region, "get_resources", ResourceTypeFilters=resource_types
    ):
        for mapping in page.get("ResourceTagMappingList", []):
            out[mapping["ResourceARN"]] = {t["Key"]: t["Value"] for t in mapping.get("Tags") or []}
    return out


@dataclass(frozen=True)
class LiveInstance:
    id: str
    arn: str
    instance_type: str
    state: str
    lifecycle: str  # on-demand, spot or scheduled
    tags: dict[str, str]


def read_instances(clients: Clients, region: str, account: str) -> list[LiveInstance]:
    """Pending and running EC2 instances. The type is filtered by the caller: EC2 filters accept
    wildcards (`g*`), but moto does not, and the family rule lives in the catalog anyway."""
    out: list[LiveInstance] = []
    partition = clients.session.get_partition_for_region(region)
    for page in clients.pages(
        "ec2", region, "describe_instances", Filters=[{"Name": "instance-state-name", "Values": LIVE_STATES}]
    ):
        for reservation in page.get("Reservations", []):
            for instance in reservation.get("Instances", []):
                instance_id = instance["InstanceId"]
                out.append(
                    LiveInstance(
                        id=instance_id,
                        arn=f"arn:{partition}:ec2:{region}:{account}:instance/{instance_id}",
                        instance_type=instance["InstanceType"],
                        state=instance["State"]["Name"],
                        lifecycle=instance.get("InstanceLifecycle", "on-demand"),
                        tags={t["Key"]: t["Value"] for t in instance.get("Tags") or []},
                    )
                )
    return out


# Service Quotas --------------------------------------------------------------------------------------


def read_applied_quota(clients: Clients, service_code: str, quota_code: str, region: str) -> float | None:
    """The applied value of a quota; None when Service Quotas has no applied value for it."""
    sq = clients.client("service-quotas", region)
    try:
        quota = sq.get_service_quota(ServiceCode=service_code, QuotaCode=quota_code)["Quota"]
    except sq.exceptions.NoSuchResourceException:
        return None
    value = quota.get("Value")
    return float(value) if value is not None else None
