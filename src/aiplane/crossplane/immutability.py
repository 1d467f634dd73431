"""Which XR fields can never change once the XR exists: a composed resource may take a ForceNew field from
them without ever meeting an update the provider refuses.

- `metadata.name`, `metadata.namespace`, `metadata.uid`: Kubernetes never changes them;
- spec fields whose XRD schema carries the transition rule `self == oldSelf` (the API server refuses a
  change; aiplane.authoring.api.immutable);
- the environment label: aiplane sets it from the environment's file name, and the XR lives in that
  environment's namespace, so moving an XR between environments deletes it and creates another.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from typing import Any

IMMUTABLE_RULE = "self == oldSelf"
FIXED_METADATA = ("metadata.name", "metadata.namespace", "metadata.uid")


def immutable_paths(schema: Mapping[str, Any], prefix: str = "spec") -> Iterator[str]:
    """Paths under `prefix` whose schema (an OpenAPI v3 object schema) carries `self == oldSelf`."""
    rules = [r.get("rule") for r in schema.get("x-kubernetes-validations") or [] if isinstance(r, Mapping)]
    if IMMUTABLE_RULE in rules:
        yield prefix
        return
    for name, prop in sorted((schema.get("properties") or {}).items()):
        if isinstance(prop, Mapping):
            yield from immutable_paths(prop, f"{prefix}.{name}")


def is_immutable(path: str, spec_schema: Mapping[str, Any], environment_label: str) -> bool:
    """Whether the XR field at `path` (a P&T fromFieldPath) can never change after the XR is created."""
    return is_fixed(path, tuple(immutable_paths(spec_schema)), environment_label)


def is_fixed(path: str, immutable: Collection[str], environment_label: str) -> bool:
    """is_immutable, given the schema's immutable paths (walk the schema once, ask for many paths)."""
    if path in FIXED_METADATA or path == f"metadata.labels[{environment_label}]":
        return True
    return any(path == p or path.startswith(f"{p}.") or path.startswith(f"{p}[") for p in immutable)
