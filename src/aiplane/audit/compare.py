"""Declared vs live, field by field: drift, weak buckets, blind ethics monitors and short quotas.

Pure functions over the dataclasses of declared.py and live.py. A field where the account is *weaker*
than Git (no KMS encryption, a public-access block off, versioning off, a retention rule missing) is
`bucket-weak`; data capture off is `ethics-blind`; any other difference is `drift`. A node group's
desired size is never compared: the cluster autoscaler owns it after creation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiplane.audit.declared import (
    DeclaredBucket,
    DeclaredEndpoint,
    DeclaredNodeGroup,
    DeclaredQuota,
    LifecycleRule,
    Origin,
)
from aiplane.audit.findings import (
    BUCKET,
    ENDPOINT,
    NODE_GROUP,
    QUOTA,
    Finding,
    FindingKind,
    ResourceRef,
    Unchecked,
)
from aiplane.audit.live import LiveBucket, LiveEndpoint, LiveNodeGroup

# Default encryption from weakest to strongest; an unknown algorithm ranks as none.
SSE_STRENGTH = {None: 0, "AES256": 1, "aws:kms": 2, "aws:kms:dsse": 3}


def _differs(
    kind: FindingKind,
    resource: ResourceRef,
    field: str,
    declared: Any,
    live: Any,
    origin: Origin,
    why: str = "",
) -> Finding:
    message = f"{field}: Git ({origin}) declares {_show(declared)}, AWS has {_show(live)}"
    return Finding(kind, resource, field, declared, live, f"{message}; {why}" if why else message)


def _show(value: Any) -> str:
    return "nothing" if value is None else repr(value)


def _missing(resource: ResourceRef, origin: Origin, where: str) -> Finding:
    return Finding(
        "drift", resource, "exists", True, False, f"declared in Git ({origin}) but not found {where}"
    )


def _tag_drift(
    resource: ResourceRef, declared: Mapping[str, str], live: Mapping[str, str], origin: Origin
) -> list[Finding]:
    return [
        _differs("drift", resource, f"tags[{key}]", value, live.get(key), origin)
        for key, value in sorted(declared.items())
        if live.get(key) != value
    ]


def compare_node_group(
    declared: DeclaredNodeGroup, live: LiveNodeGroup | None, cluster_exists: bool = True
) -> list[Finding]:
    ref = ResourceRef(NODE_GROUP, declared.name)
    if live is None:
        cluster = declared.cluster
        where = f"in cluster {cluster}" if cluster_exists else f"(cluster {cluster} does not exist)"
        return [_missing(ref, declared.origin, where)]
    pairs: list[tuple[str, Any, Any]] = [
        ("instanceTypes", declared.instance_types, live.instance_types),
        ("capacityType", declared.capacity_type, live.capacity_type),
        ("amiType", declared.ami_type, live.ami_type),
        ("scalingConfig.minSize", declared.min_size, live.min_size),
        ("scalingConfig.maxSize", declared.max_size, live.max_size),
    ]
    found = [
        _differs("drift", ref, field, want, have, declared.origin)
        for field, want, have in pairs
        if want is not None and want != have
    ]
    return found + _tag_drift(ref, declared.tags, live.tags, declared.origin)


def compare_bucket(declared: DeclaredBucket, live: LiveBucket | None) -> list[Finding]:
    ref = ResourceRef(BUCKET, declared.name)
    origin = declared.origin
    if live is None:
        return [_missing(ref, origin, "in the account")]
    found: list[Finding] = []
    if declared.sse_algorithm != live.sse_algorithm:
        weaker = SSE_STRENGTH.get(live.sse_algorithm, 0) < SSE_STRENGTH.get(declared.sse_algorithm, 0)
        found.append(
            _differs(
                "bucket-weak" if weaker else "drift",
                ref,
                "serverSideEncryption.sseAlgorithm",
                declared.sse_algorithm,
                live.sse_algorithm,
                origin,
                "default encryption is weaker than declared" if weaker else "",
            )
        )
    if declared.kms_key_id is not None and declared.kms_key_id != live.kms_key_id:
        found.append(
            _differs(
                "drift",
                ref,
                "serverSideEncryption.kmsMasterKeyId",
                declared.kms_key_id,
                live.kms_key_id,
                origin,
            )
        )
    if declared.bucket_key is not None and bool(declared.bucket_key) != bool(live.bucket_key):
        found.append(
            _differs(
                "drift",
                ref,
                "serverSideEncryption.bucketKeyEnabled",
                declared.bucket_key,
                bool(live.bucket_key),
                origin,
            )
        )
    for field, want in sorted(declared.public_access_block.items()):
        have = live.public_access_block.get(field)
        if want and have is not True:
            found.append(
                _differs(
                    "bucket-weak",
                    ref,
                    f"publicAccessBlock.{field}",
                    want,
                    have,
                    origin,
                    "the bucket can be made public",
                )
            )
        elif want != bool(have):
            found.append(_differs("drift", ref, f"publicAccessBlock.{field}", want, have, origin))
    if declared.versioning is not None and declared.versioning != live.versioning:
        weaker = declared.versioning == "Enabled"
        found.append(
            _differs(
                "bucket-weak" if weaker else "drift",
                ref,
                "versioning.status",
                declared.versioning,
                live.versioning,
                origin,
                "overwritten or deleted objects cannot be recovered" if weaker else "",
            )
        )
    found += _compare_lifecycle(ref, declared.lifecycle, live.lifecycle, origin)
    return found + _tag_drift(ref, declared.tags, live.tags, origin)


def _compare_lifecycle(
    ref: ResourceRef, declared: list[LifecycleRule], live: list[LifecycleRule], origin: Origin
) -> list[Finding]:
    live_by_id = {r.id: r for r in live}
    found: list[Finding] = []
    for rule in declared:
        field = f"lifecycle[{rule.id}]"
        have = live_by_id.get(rule.id)
        if have is None or (rule.status == "Enabled" and have.status != "Enabled"):
            found.append(
                _differs(
                    "bucket-weak",
                    ref,
                    f"{field}.status",
                    rule.status,
                    have.status if have else None,
                    origin,
                    "retention and incomplete-upload cleanup do not run",
                )
            )
            continue
        for attr in ("prefix", "expiration_days", "noncurrent_days", "abort_multipart_days"):
            want, got = getattr(rule, attr), getattr(have, attr)
            if want != got:
                found.append(_differs("drift", ref, f"{field}.{_camel(attr)}", want, got, origin))
    return found


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


def compare_endpoint(declared: DeclaredEndpoint, live: LiveEndpoint | None) -> list[Finding]:
    ref = ResourceRef(ENDPOINT, declared.name)
    origin = declared.origin
    if live is None:
        return [_missing(ref, origin, f"in {declared.region}")]
    found: list[Finding] = []
    live_variants = {v.name: v for v in live.variants}
    for variant in declared.variants:
        field = f"productionVariants[{variant.name}]"
        have = live_variants.get(variant.name)
        if have is None:
            found.append(_differs("drift", ref, field, variant.name, None, origin))
            continue
        if variant.instance_type is not None and variant.instance_type != have.instance_type:
            found.append(
                _differs(
                    "drift", ref, f"{field}.instanceType", variant.instance_type, have.instance_type, origin
                )
            )
        if variant.instance_count is not None and variant.instance_count != have.instance_count:
            found.append(
                _differs(
                    "drift",
                    ref,
                    f"{field}.initialInstanceCount",
                    variant.instance_count,
                    have.instance_count,
                    origin,
                )
            )
    if declared.capture_enabled and not live.capture_enabled:
        found.append(
            _differs(
                "ethics-blind",
                ref,
                "dataCaptureConfig.enableCapture",
                True,
                False,
                origin,
                "no traffic is captured, so the ethics monitor evaluates nothing",
            )
        )
    elif declared.capture_enabled:
        if declared.capture_destination != live.capture_destination:
            found.append(
                _differs(
                    "drift",
                    ref,
                    "dataCaptureConfig.destinationS3Uri",
                    declared.capture_destination,
                    live.capture_destination,
                    origin,
                    "the ethics monitor reads the declared location",
                )
            )
        if (
            declared.capture_sampling_percent is not None
            and declared.capture_sampling_percent != live.capture_sampling_percent
        ):
            found.append(
                _differs(
                    "drift",
                    ref,
                    "dataCaptureConfig.initialSamplingPercentage",
                    declared.capture_sampling_percent,
                    live.capture_sampling_percent,
                    origin,
                )
            )
    return found + _tag_drift(ref, declared.tags, live.tags, origin)


def compare_quota(declared: DeclaredQuota, applied: float | None) -> Finding | Unchecked | None:
    ref = ResourceRef(QUOTA, f"{declared.service_code}/{declared.code}@{declared.region}")
    if applied is None:
        return Unchecked(ref, "value", "Service Quotas returned no applied value for this quota")
    if applied < declared.vcpus:
        if declared.service_code == "sagemaker":
            effect = "instances; endpoints cannot run their declared instance count"
        else:
            effect = "vCPUs; node groups cannot reach their declared maximum size"
        unit, consequence = effect.split("; ")
        return Finding(
            "quota-short",
            ref,
            "value",
            declared.vcpus,
            applied,
            f"applied quota is {applied:g} {unit}; Git ({declared.origin}) needs "
            f"{declared.vcpus:g}: {consequence}",
        )
    return None
