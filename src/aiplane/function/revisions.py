"""Content-addressed revisions of a composed resource, for the create-before-destroy rollouts of
function-aiplane: a resource whose ForceNew fields change is a new composition resource (`<base>-<hash>`,
and a new AWS name), created while the old one keeps serving, which goes once the new one is Ready."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Mapping
from typing import Any

from aiplane.function.model import Object, get

EXTERNAL_NAME = "crossplane.io/external-name"
# Hex digits of the content hash in composition resource and AWS names.
HASH_LENGTH = 4


def _canonical(value: Any) -> Any:
    """JSON numbers as Kubernetes means them: the gRPC face sees every number as a float (protobuf Struct),
    the renderer in process sees ints, and both must hash alike (1.0 and 1 are the same replica count)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    return value


def content_hash(obj: Mapping[str, Any], in_place: Collection[str] = ("tags",)) -> str:
    """A hash of what the object asks the provider for: `spec.forProvider` without the fields that change in
    place (`in_place`), so only a change the provider would refuse to update makes a new revision."""
    for_provider = {k: v for k, v in (get(obj, "spec", "forProvider") or {}).items() if k not in in_place}
    text = json.dumps(_canonical(for_provider), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:HASH_LENGTH]


def ready(obj: Mapping[str, Any] | None) -> bool:
    conditions = get(obj, "status", "conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions if isinstance(c, Mapping))


def external_name(obj: Mapping[str, Any] | None) -> str | None:
    name = get(obj, "metadata", "annotations", EXTERNAL_NAME)
    return name if isinstance(name, str) else None


def kept(observed: Mapping[str, Any]) -> Object:
    """An observed composed resource as desired state: what it is, unchanged (so Crossplane keeps it)."""
    metadata = observed.get("metadata") or {}
    out: Object = {"apiVersion": observed["apiVersion"], "kind": observed["kind"], "metadata": {}}
    for key in ("labels", "annotations"):
        if metadata.get(key):
            out["metadata"][key] = dict(metadata[key])
    out["spec"] = json.loads(json.dumps(observed.get("spec") or {}))
    return out


def is_revision(name: str, base: str) -> bool:
    """`base` itself (the single resource of releases before rollouts) or `base-<hash>`."""
    return name == base or (name.startswith(f"{base}-") and len(name) == len(base) + 1 + HASH_LENGTH)


def revision_base(aws_name: str) -> str:
    """An AWS name without its revision suffix (`-<4 hex>`), if it has one: what every revision shares."""
    head, _, tail = aws_name.rpartition("-")
    if head and len(tail) == HASH_LENGTH and all(c in "0123456789abcdef" for c in tail):
        return head
    return aws_name


def superseded(observed: Mapping[str, Mapping[str, Any]], base: str, current: str) -> dict[str, Object]:
    """Every observed revision of `base` other than `current`, as desired state that keeps it."""
    return {name: kept(obj) for name, obj in observed.items() if name != current and is_revision(name, base)}
