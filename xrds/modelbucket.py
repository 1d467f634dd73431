"""ModelBucket: an encrypted, private, versioned S3 bucket for model artifacts, datasets or captures."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from aiplane.authoring.api import CommonSpec, PlatformAPI, PrinterColumn, Spec, immutable
from aiplane.authoring.formats import S3BucketName

# S3 bucket naming rules (3-63 chars, lowercase letters, digits, dots, hyphens) as far as the XRD carries
# them; S3BucketName checks the rest (no '..', not IP-like, reserved prefixes and suffixes).
BUCKET_NAME_PATTERN = r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"
KMS_KEY_ARN_PATTERN = r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:(key|alias)/.+$"


class KmsKey(Spec):
    """Which KMS key encrypts the bucket (SSE-KMS with an S3 bucket key)."""

    mode: Literal["managed", "external"] = "managed"
    """managed: compose a dedicated key with rotation; external: use keyArn."""
    keyArn: str | None = Field(default=None, pattern=KMS_KEY_ARN_PATTERN)
    """ARN of an existing key (external mode)."""

    model_config = Spec.model_config | {
        "json_schema_extra": {
            "x-kubernetes-validations": [
                {
                    "rule": "self.mode != 'external' || has(self.keyArn)",
                    "message": "kmsKey mode external needs keyArn",
                },
            ]
        }
    }

    @model_validator(mode="after")
    def _external_needs_arn(self) -> KmsKey:
        if self.mode == "external" and not self.keyArn:
            raise ValueError("kmsKey mode external needs keyArn")
        return self


class Lifecycle(Spec):
    """Object expiry; incomplete multipart uploads are always aborted after 7 days."""

    expireAfterDays: int | None = Field(default=None, ge=1, le=36500)
    """Delete current objects this many days after creation (omit to keep them)."""
    noncurrentExpireAfterDays: int = Field(default=30, ge=1, le=36500)
    """Delete noncurrent versions this many days after they became noncurrent."""


class ModelBucketSpec(CommonSpec):
    """An S3 bucket with SSE-KMS, all four public-access blocks, versioning and lifecycle rules."""

    bucketName: S3BucketName = Field(
        pattern=BUCKET_NAME_PATTERN, json_schema_extra=immutable("the bucket holds data; a new name is a new bucket")
    )
    """Globally unique S3 bucket name (aiplane synth derives it from environment, item and account)."""
    purpose: Literal["artifacts", "datasets", "captures"]
    """What the bucket holds; captures receive SageMaker data capture for the ethics monitor."""
    kmsKey: KmsKey = Field(default_factory=KmsKey)
    """Encryption key."""
    versioning: bool = True
    """Keep object versions (required by the bucket-security guardrail)."""
    lifecycle: Lifecycle = Field(default_factory=Lifecycle)
    """Expiry rules."""


class ModelBucketStatus(BaseModel):
    """The bucket as AWS reports it."""

    bucketName: str | None = None
    arn: str | None = None
    kmsKeyArn: str | None = None


def complete(item: dict[str, Any], env: Any) -> dict[str, Any]:
    """Bucket names are global: derive a stable one from environment, item and account."""
    item.setdefault("bucketName", f"{env.name}-{item['name']}-{env.accountId}")
    return item


API = PlatformAPI(
    kind="ModelBucket",
    plural="modelbuckets",
    spec=ModelBucketSpec,
    status=ModelBucketStatus,
    description="A private S3 bucket for model artifacts, datasets or inference captures: SSE-KMS, "
    "public access blocked, versioned, with lifecycle rules.",
    environment_key="buckets",
    # S3 names `<env>-<name>-<12-digit account>` (at most 63) with an environment name of at most 20.
    max_name_length=29,
    name_limit="its S3 bucket is named <environment>-<name>-<account id>, at most 63",
    printer_columns=(
        PrinterColumn("BUCKET", ".spec.bucketName"),
        PrinterColumn("PURPOSE", ".spec.purpose"),
        PrinterColumn("KMS", ".spec.kmsKey.mode"),
    ),
    complete=complete,
    optional_in_environment=("bucketName",),
    identity=lambda spec: (spec.bucketName,),
)
