"""ModelBucket: `kmsKey.mode` decides whose key encrypts the bucket.

P&T composes a rotating KMS key and an encryption configuration that selects it. `managed` keeps both;
`external` drops the composed key and points the encryption configuration at `kmsKey.keyArn`. A key dropped
this way is orphaned, not deleted (its managementPolicies omit Delete), so objects it encrypted stay
readable.
"""

from __future__ import annotations

from aiplane.function.model import Outcome, Request, get

KIND = "ModelBucket"
KMS_KEY = "kms-key"
ENCRYPTION = "encryption"


def decide(request: Request) -> Outcome:
    desired = dict(request.desired)
    mode = get(request.spec, "kmsKey", "mode") or "managed"
    if mode == "managed":
        return Outcome(desired)
    desired.pop(KMS_KEY, None)
    key_arn = get(request.spec, "kmsKey", "keyArn")
    encryption = desired.get(ENCRYPTION)
    if mode != "external" or not key_arn:
        # Never leave a bucket encrypted with a key nobody named: compose no encryption configuration.
        desired.pop(ENCRYPTION, None)
        problem = f"kmsKey.mode {mode!r} is not managed or external" if mode != "external" else (
            "kmsKey.mode external needs kmsKey.keyArn"
        )
        return Outcome(desired, warnings=[f"{problem}; no encryption configuration composed"])
    if encryption is not None:
        for rule in get(encryption, "spec", "forProvider", "rule") or []:
            by_default = rule.get("applyServerSideEncryptionByDefault")
            if isinstance(by_default, dict):
                by_default.pop("kmsMasterKeyIdSelector", None)
                by_default.pop("kmsMasterKeyIdRef", None)
                by_default["kmsMasterKeyId"] = key_arn
    return Outcome(desired)
