"""ModelBucket on S3: bucket, SSE-KMS with a bucket key, all four public-access blocks, versioning,
lifecycle, and a rotating KMS key. One Composition for both `kmsKey.mode`s: function-aiplane
(aiplane.function.modelbucket) keeps the composed key for `managed`, and for `external` drops it and points
the encryption at the key ARN the XR names.

Every resource orphans on delete (managementPolicies without Delete): removing a bucket from an
environment (a Flux prune) must neither schedule its key for deletion — which would make every object
unreadable after the waiting period — nor strip the public access block or encryption from a bucket
that S3 refuses to delete while it holds objects.
"""

from __future__ import annotations

from typing import Any

from aiplane.authoring.composing import CompositionContext
from aiplane.authoring.pt import (
    KEEP_ON_DELETE,
    ComposedResource,
    convert,
    from_xr,
    managed_resource,
    map_values,
    to_xr,
)
from aiplane.function.modelbucket import ENCRYPTION, KIND, KMS_KEY

DEFAULT_VARIANT = "s3"
S3 = "s3.aws.m.upbound.io/v1beta1"


def kept(api_version: str, kind: str, for_provider: dict[str, Any], **kw: Any) -> dict[str, Any]:
    """A managed resource that orphans on delete (see the module docstring)."""
    return managed_resource(api_version, kind, for_provider, management_policies=KEEP_ON_DELETE, **kw)


def bucket_resources(ctx: CompositionContext) -> list[ComposedResource]:
    """Everything but the key; the encryption selects the composed key (function-aiplane swaps in the
    external key's ARN)."""
    bucket = ctx.aws_resource(
        "bucket",
        kept(S3, "Bucket", {"tags": ctx.aws_tags()}, labels=ctx.part_labels("bucket")),
        from_xr("spec.bucketName", "metadata.annotations[crossplane.io/external-name]", required=True),
        to_xr("status.atProvider.id", "status.bucketName"),
        to_xr("status.atProvider.arn", "status.arn"),
    )
    by_default: dict[str, Any] = {"sseAlgorithm": "aws:kms", "kmsMasterKeyIdSelector": ctx.sibling(KMS_KEY)}
    encryption = ctx.aws_resource(
        ENCRYPTION,
        kept(
            S3,
            "BucketServerSideEncryptionConfiguration",
            {
                "bucketSelector": ctx.sibling("bucket"),
                "rule": [{"applyServerSideEncryptionByDefault": by_default, "bucketKeyEnabled": True}],
            },
        ),
    )
    # All four settings true and not patchable: a ModelBucket is never public.
    public_access = ctx.aws_resource(
        "public-access-block",
        kept(
            S3,
            "BucketPublicAccessBlock",
            {
                "bucketSelector": ctx.sibling("bucket"),
                "blockPublicAcls": True,
                "blockPublicPolicy": True,
                "ignorePublicAcls": True,
                "restrictPublicBuckets": True,
            },
        ),
    )
    versioning = ctx.aws_resource(
        "versioning",
        kept(
            S3,
            "BucketVersioning",
            {
                "bucketSelector": ctx.sibling("bucket"),
                "versioningConfiguration": {"status": "Enabled"},
            },
        ),
        from_xr(
            "spec.versioning",
            "spec.forProvider.versioningConfiguration.status",
            convert("string"),
            map_values({"true": "Enabled", "false": "Suspended"}),
        ),
    )
    lifecycle = ctx.aws_resource(
        "lifecycle",
        kept(
            S3,
            "BucketLifecycleConfiguration",
            {
                "bucketSelector": ctx.sibling("bucket"),
                "rule": [
                    {
                        "id": "aiplane-retention",
                        "status": "Enabled",
                        "filter": [{"prefix": ""}],
                        # Incomplete multipart uploads cost storage and are never useful (Checkov CKV_AWS_300).
                        "abortIncompleteMultipartUpload": [{"daysAfterInitiation": 7}],
                        "noncurrentVersionExpiration": [{"noncurrentDays": 30}],
                    }
                ],
            },
        ),
        from_xr(
            "spec.lifecycle.noncurrentExpireAfterDays",
            "spec.forProvider.rule[0].noncurrentVersionExpiration[0].noncurrentDays",
        ),
        from_xr("spec.lifecycle.expireAfterDays", "spec.forProvider.rule[0].expiration[0].days"),
    )
    return [bucket, encryption, public_access, versioning, lifecycle]


def managed_key(ctx: CompositionContext) -> ComposedResource:
    return ctx.aws_resource(
        KMS_KEY,
        kept(
            "kms.aws.m.upbound.io/v1beta1",
            "Key",
            {
                "description": "aiplane ModelBucket encryption key",
                "enableKeyRotation": True,
                "deletionWindowInDays": 30,
                "tags": ctx.aws_tags(),
            },
            labels=ctx.part_labels(KMS_KEY),
        ),
        to_xr("status.atProvider.arn", "status.kmsKeyArn"),
    )


def compositions(ctx: CompositionContext) -> list[dict[str, Any]]:
    return [ctx.composition(KIND, DEFAULT_VARIANT, [managed_key(ctx), *bucket_resources(ctx)])]
