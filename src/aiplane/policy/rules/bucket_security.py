"""bucket-security: composed S3 buckets are encrypted with SSE-KMS, block all public access (all four
settings) and keep versions (Checkov CKV_AWS_19/145, CKV2_AWS_6, CKV_AWS_53-56, CKV_AWS_21 in
Crossplane's split-resource form)."""

from __future__ import annotations

from collections.abc import Iterator

from aiplane.crossplane.composed import ComposedView, composed_resources
from aiplane.policy.context import Manifest, RuleContext
from aiplane.policy.model import Finding, Rule

PUBLIC_ACCESS_SETTINGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")


def _encryption_ok(res: ComposedView) -> bool:
    rules = res.base_value("spec.forProvider.rule") or []
    return any(
        (r.get("applyServerSideEncryptionByDefault") or {}).get("sseAlgorithm") in ("aws:kms", "aws:kms:dsse")
        for r in rules
        if isinstance(r, dict)
    )


def _check_composition(obj: Manifest) -> Iterator[Finding]:
    resources = list(composed_resources(obj))
    if not any(r.kind == "Bucket" and r.api_version.startswith("s3.") for r in resources):
        return
    by_kind: dict[str, list[ComposedView]] = {}
    for r in resources:
        by_kind.setdefault(r.kind, []).append(r)
    sse = by_kind.get("BucketServerSideEncryptionConfiguration", [])
    if not sse:
        yield Finding(
            obj, "composes a Bucket without BucketServerSideEncryptionConfiguration", "spec.pipeline"
        )
    for res in sse:
        rules = res.base_value("spec.forProvider.rule") or [{}]
        algorithm = "spec.forProvider.rule[{}].applyServerSideEncryptionByDefault.sseAlgorithm"
        if any(res.writes(algorithm.format(i)) for i in range(len(rules))):
            yield Finding(
                obj,
                f"{res.name!r}: a patch may change sseAlgorithm; keep SSE-KMS fixed in the base",
                f"{res.field_prefix}.base.spec.forProvider.rule",
            )
        if not _encryption_ok(res):
            yield Finding(
                obj,
                f"{res.name!r} does not use SSE-KMS (aws:kms)",
                f"{res.field_prefix}.base.spec.forProvider.rule",
            )
    pab = by_kind.get("BucketPublicAccessBlock", [])
    if not pab:
        yield Finding(obj, "composes a Bucket without BucketPublicAccessBlock", "spec.pipeline")
    for res in pab:
        for setting in PUBLIC_ACCESS_SETTINGS:
            path = f"spec.forProvider.{setting}"
            if res.base_value(path) is not True or res.writes(path):
                yield Finding(
                    obj,
                    f"{res.name!r}: {setting} must be true and not patchable",
                    f"{res.field_prefix}.base.{path}",
                )
    versioning = by_kind.get("BucketVersioning", [])
    if not versioning:
        yield Finding(obj, "composes a Bucket without BucketVersioning", "spec.pipeline")
    for res in versioning:
        status = res.base_value("spec.forProvider.versioningConfiguration.status")
        if status != "Enabled" and not res.writes("spec.forProvider.versioningConfiguration.status"):
            yield Finding(
                obj,
                f"{res.name!r}: versioning is not Enabled",
                f"{res.field_prefix}.base.spec.forProvider.versioningConfiguration.status",
            )


def check(obj: Manifest, ctx: RuleContext) -> Iterator[Finding]:
    if obj.get("kind") == "Composition":
        yield from _check_composition(obj)
    elif ctx.api_of(obj) is not None and (obj.get("spec") or {}).get("versioning") is False:
        yield Finding(obj, "versioning is off", "spec.versioning", fix="versioning: true")


RULE = Rule(
    id="bucket-security",
    title="Buckets are encrypted with KMS, private and versioned",
    severity="high",
    enforcement="mandatory",
    kinds=("Composition", "ModelBucket"),
    fix="SSE-KMS, all four public access blocks true, versioning Enabled",
    check=check,
)
