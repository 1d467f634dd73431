"""What Git declares for an environment, as AWS should hold it: the environment's XRs rendered through
the Compositions they select (aiplane.crossplane.render), then read off the composed managed resources.

Names, tags and settings come from the rendered MRs, never re-derived here, so a change to a
Composition changes what the audit expects. Resources are recognised by their MR kind, not by the XR
kind that composed them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiplane.crossplane.render import RenderedResource, select_composition, settle

# The audit's bucket-weak finding is "weaker than the bucket-security rule": the rule's settings.
from aiplane.policy.rules.bucket_security import PUBLIC_ACCESS_SETTINGS
from aiplane.synthesis.environment import EnvironmentSettings
from aiplane.synthesis.pipeline import Synthesis

EXTERNAL_NAME = "crossplane.io/external-name"
NODE_GROUP_KIND = ("eks.aws.m.upbound.io", "NodeGroup")
BUCKET_KIND = ("s3.aws.m.upbound.io", "Bucket")
SSE_KIND = ("s3.aws.m.upbound.io", "BucketServerSideEncryptionConfiguration")
PAB_KIND = ("s3.aws.m.upbound.io", "BucketPublicAccessBlock")
VERSIONING_KIND = ("s3.aws.m.upbound.io", "BucketVersioning")
LIFECYCLE_KIND = ("s3.aws.m.upbound.io", "BucketLifecycleConfiguration")
ENDPOINT_KIND = ("sagemaker.aws.m.upbound.io", "Endpoint")
SCALABLE_TARGET_KIND = ("appautoscaling.aws.m.upbound.io", "Target")
ENDPOINT_CONFIG_KIND = ("sagemaker.aws.m.upbound.io", "EndpointConfiguration")
QUOTA_KIND = ("servicequotas.aws.m.upbound.io", "ServiceQuota")


@dataclass(frozen=True)
class Origin:
    """The XR a declared resource comes from, for messages that point back to Git."""

    kind: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind}/{self.name}"


@dataclass(frozen=True)
class DeclaredNodeGroup:
    name: str
    cluster: str
    region: str
    origin: Origin
    instance_types: list[str]
    capacity_type: str | None
    min_size: int | None
    max_size: int | None
    ami_type: str | None
    tags: dict[str, str]


@dataclass(frozen=True)
class LifecycleRule:
    """One S3 lifecycle rule in the fields aiplane sets (None: the rule does not set it)."""

    id: str
    status: str
    prefix: str | None
    expiration_days: int | None
    noncurrent_days: int | None
    abort_multipart_days: int | None


@dataclass(frozen=True)
class DeclaredBucket:
    name: str
    region: str
    origin: Origin
    sse_algorithm: str | None
    kms_key_id: str | None  # None when the key is composed alongside (its ARN is only known live)
    bucket_key: bool | None
    public_access_block: dict[str, bool]
    versioning: str | None
    lifecycle: list[LifecycleRule]
    tags: dict[str, str]


@dataclass(frozen=True)
class DeclaredVariant:
    name: str
    instance_type: str | None
    instance_count: int | None


@dataclass(frozen=True)
class DeclaredEndpoint:
    name: str
    region: str
    origin: Origin
    variants: list[DeclaredVariant]
    capture_enabled: bool
    capture_destination: str | None
    capture_sampling_percent: int | None
    tags: dict[str, str]


@dataclass(frozen=True)
class DeclaredQuota:
    service_code: str
    code: str
    region: str
    origin: Origin
    vcpus: float  # the quota's value Git asks for: vCPUs (ec2), instances (sagemaker endpoint quotas)


@dataclass
class DeclaredState:
    """One environment's declared AWS resources and where its account lives."""

    environment: str
    account_id: str
    region: str
    cluster: str
    source: str
    node_groups: list[DeclaredNodeGroup] = field(default_factory=list)
    buckets: list[DeclaredBucket] = field(default_factory=list)
    endpoints: list[DeclaredEndpoint] = field(default_factory=list)
    quotas: list[DeclaredQuota] = field(default_factory=list)


def from_synthesis(synthesis: Synthesis, environment: str, group: str) -> DeclaredState:
    """Declared state of one synthesized environment (`group`: the platform APIs' API group)."""
    env = next(e for e in synthesis.environments if e.settings.name == environment)
    prefix = f"environments/{environment}/"
    objects = [m.obj for m in synthesis.manifests]
    xrs = [
        m.obj
        for m in synthesis.manifests
        if m.path.startswith(prefix) and str(m.obj.get("apiVersion", "")).startswith(f"{group}/")
    ]
    compositions = [o for o in objects if o.get("kind") == "Composition"]
    return declared_state(env.settings, env.source, xrs, compositions)


def declared_state(
    settings: EnvironmentSettings,
    source: str,
    xrs: Sequence[Mapping[str, Any]],
    compositions: Sequence[Mapping[str, Any]],
) -> DeclaredState:
    """Render every XR through its Composition and collect the AWS resources the audit reads."""
    state = DeclaredState(settings.name, settings.accountId, settings.region, settings.clusterName, source)
    for xr in xrs:
        origin = Origin(str(xr["kind"]), str(xr["metadata"]["name"]))
        # The steady state: what the XR ends up with once its rollouts have completed.
        composed = settle(xr, select_composition(xr, compositions)).resources
        by_kind: dict[tuple[str, str], list[RenderedResource]] = {}
        for resource in composed:
            group = str(resource.obj.get("apiVersion", "")).split("/")[0]
            by_kind.setdefault((group, str(resource.obj.get("kind"))), []).append(resource)
        region = str((xr.get("spec") or {}).get("region") or settings.region)
        state.node_groups += [
            _node_group(r, origin, settings, region) for r in by_kind.get(NODE_GROUP_KIND, [])
        ]
        state.buckets += [_bucket(r, by_kind, origin, region) for r in by_kind.get(BUCKET_KIND, [])]
        state.endpoints += [_endpoint(r, by_kind, origin, region) for r in by_kind.get(ENDPOINT_KIND, [])]
        # One quota per XR: the composed ServiceQuotas (the observer, and the request while the account is
        # short) name the same quota; the value Git asks for is the XR's.
        quotas = {(r.for_provider.get("serviceCode"), r.for_provider.get("quotaCode")): r for r in by_kind.get(QUOTA_KIND, [])}
        spec = xr.get("spec") or {}
        wanted = spec.get("instances") if spec.get("service") == "sagemaker" else spec.get("vcpus")
        state.quotas += [_quota(r, origin, region, wanted) for r in quotas.values()]
    return state


def _name(resource: RenderedResource, origin: Origin) -> str:
    name = resource.external_name
    if not name:
        raise ValueError(
            f"{origin}: composed {resource.obj.get('kind')} {resource.name!r} has no "
            f"{EXTERNAL_NAME} annotation, so its AWS name is not known"
        )
    return name


def _tags(for_provider: Mapping[str, Any]) -> dict[str, str]:
    return {str(k): str(v) for k, v in (for_provider.get("tags") or {}).items()}


def _node_group(
    resource: RenderedResource, origin: Origin, settings: EnvironmentSettings, region: str
) -> DeclaredNodeGroup:
    fp = resource.for_provider
    scaling = fp.get("scalingConfig") or {}
    # desiredSize is deliberately not read: after creation the cluster autoscaler owns it.
    return DeclaredNodeGroup(
        name=_name(resource, origin),
        cluster=str(fp.get("clusterName") or settings.clusterName),
        region=str(fp.get("region") or region),
        origin=origin,
        instance_types=[str(t) for t in fp.get("instanceTypes") or []],
        capacity_type=fp.get("capacityType"),
        min_size=scaling.get("minSize"),
        max_size=scaling.get("maxSize"),
        ami_type=fp.get("amiType"),
        tags=_tags(fp),
    )


def _sibling(
    by_kind: Mapping[tuple[str, str], list[RenderedResource]], kind: tuple[str, str]
) -> dict[str, Any]:
    """forProvider of the one sibling of that kind composed by the same XR ({} if none)."""
    found = by_kind.get(kind) or []
    return found[0].for_provider if found else {}


def _bucket(
    resource: RenderedResource,
    by_kind: Mapping[tuple[str, str], list[RenderedResource]],
    origin: Origin,
    region: str,
) -> DeclaredBucket:
    sse_rules = _sibling(by_kind, SSE_KIND).get("rule") or [{}]
    by_default = sse_rules[0].get("applyServerSideEncryptionByDefault") or {}
    pab = _sibling(by_kind, PAB_KIND)
    versioning = (_sibling(by_kind, VERSIONING_KIND).get("versioningConfiguration") or {}).get("status")
    return DeclaredBucket(
        name=_name(resource, origin),
        region=str(resource.for_provider.get("region") or region),
        origin=origin,
        sse_algorithm=by_default.get("sseAlgorithm"),
        kms_key_id=by_default.get("kmsMasterKeyId"),
        bucket_key=sse_rules[0].get("bucketKeyEnabled"),
        public_access_block={f: bool(pab[f]) for f in PUBLIC_ACCESS_SETTINGS if f in pab},
        versioning=versioning,
        lifecycle=[_lifecycle_rule(r) for r in _sibling(by_kind, LIFECYCLE_KIND).get("rule") or []],
        tags=_tags(resource.for_provider),
    )


def _first(blocks: Any, key: str) -> Any:
    """Upjet renders nested blocks as one-element lists: `[{"days": 365}]` → 365."""
    if isinstance(blocks, list) and blocks and isinstance(blocks[0], dict):
        return blocks[0].get(key)
    return None


def _lifecycle_rule(rule: Mapping[str, Any]) -> LifecycleRule:
    return LifecycleRule(
        id=str(rule.get("id", "")),
        status=str(rule.get("status", "Enabled")),
        prefix=_first(rule.get("filter"), "prefix"),
        expiration_days=_first(rule.get("expiration"), "days"),
        noncurrent_days=_first(rule.get("noncurrentVersionExpiration"), "noncurrentDays"),
        abort_multipart_days=_first(rule.get("abortIncompleteMultipartUpload"), "daysAfterInitiation"),
    )


def _endpoint(
    resource: RenderedResource,
    by_kind: Mapping[tuple[str, str], list[RenderedResource]],
    origin: Origin,
    region: str,
) -> DeclaredEndpoint:
    config = _sibling(by_kind, ENDPOINT_CONFIG_KIND)
    capture = config.get("dataCaptureConfig") or {}
    # An autoscaled variant's instance count is Application Auto Scaling's to change: not compared.
    autoscaled = bool(by_kind.get(SCALABLE_TARGET_KIND))
    variants = [
        DeclaredVariant(str(v.get("variantName", "")), v.get("instanceType"),
                        None if autoscaled else v.get("initialInstanceCount"))
        for v in config.get("productionVariants") or []
    ]
    return DeclaredEndpoint(
        name=_name(resource, origin),
        region=str(resource.for_provider.get("region") or region),
        origin=origin,
        variants=variants,
        capture_enabled=bool(capture.get("enableCapture", False)),
        capture_destination=capture.get("destinationS3Uri"),
        capture_sampling_percent=capture.get("initialSamplingPercentage"),
        tags=_tags(resource.for_provider),
    )


def _quota(resource: RenderedResource, origin: Origin, region: str, wanted: Any) -> DeclaredQuota:
    fp = resource.for_provider
    value = fp.get("value", wanted)
    if not fp.get("quotaCode") or not isinstance(value, int | float):
        raise ValueError(f"{origin}: composed ServiceQuota {resource.name!r} has no quotaCode or value")
    return DeclaredQuota(
        service_code=str(fp.get("serviceCode", "ec2")),
        code=str(fp["quotaCode"]),
        region=str(fp.get("region") or region),
        origin=origin,
        vcpus=float(value),
    )
