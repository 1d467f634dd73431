"""Observed state for a second render: every composed resource exists, is Ready and Synced, and carries
plausible `status.atProvider` values typed by its CRD, so that status patches (ToCompositeFieldPath),
readiness (function-auto-ready) and `Required` on existing resources are exercised by the real engine.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

ACCOUNT = "111122223333"
TIME = "2024-01-01T00:00:00Z"
CONDITIONS = [
    {"type": "Ready", "status": "True", "reason": "Available", "lastTransitionTime": TIME},
    {"type": "Synced", "status": "True", "reason": "ReconcileSuccess", "lastTransitionTime": TIME},
]


def _scalar(kind: str, name: str, prop: str, schema: Mapping[str, Any], region: str) -> Any:
    """A value of the schema's type that reads like what the provider reports for `prop`."""
    typ = schema.get("type")
    if typ == "boolean":
        return True
    if typ in ("integer", "number"):
        return 1
    if prop == "arn":
        return f"arn:aws:{kind.lower()}:{region}:{ACCOUNT}:{kind.lower()}/{name}"
    if prop in ("id", "name"):
        return name
    if prop == "status":
        return "ACTIVE"
    return f"{name}-{prop}"


def _merged(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(dict(base))
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merged(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def at_provider(obj: Mapping[str, Any], crd_schema: Mapping[str, Any] | None) -> dict[str, Any]:
    """Top-level scalar fields of the CRD's `status.atProvider`, plus initProvider and forProvider echoed back
    (the provider reports the settings it applied), with the external name as `id`."""
    spec = obj.get("spec") or {}
    # What the provider reports: the settings it was given, initProvider's included (upjet late-initializes).
    out: dict[str, Any] = _merged(spec.get("initProvider") or {}, spec.get("forProvider") or {})
    meta = obj.get("metadata") or {}
    name = (meta.get("annotations") or {}).get("crossplane.io/external-name") or meta.get("name") or "x"
    region = str(out.get("region") or "us-east-1")
    props = (
        (((crd_schema or {}).get("properties") or {}).get("status") or {}).get("properties", {}).get("atProvider", {})
    ).get("properties") or {}
    for prop, schema in props.items():
        if prop not in out and schema.get("type") in ("string", "integer", "number", "boolean"):
            out[prop] = _scalar(str(obj.get("kind")), str(name), prop, schema, region)
    return out


def observed_from(composed: Sequence[Mapping[str, Any]], schemas: Mapping[tuple[str, str], Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The first render's composed resources as they would be observed once the provider made them Ready.

    `schemas` maps (apiVersion, kind) to the served version's openAPIV3Schema. Kinds without one are core
    Kubernetes objects (ConfigMap, ServiceAccount, CronJob): they exist but never report a Ready condition,
    so the Composition's readiness checks must decide for them.
    """
    out = []
    for obj in composed:
        observed = copy.deepcopy(dict(obj))
        key = (str(obj.get("apiVersion")), str(obj.get("kind")))
        if key in schemas:
            observed["status"] = {"conditions": copy.deepcopy(CONDITIONS), "atProvider": at_provider(obj, schemas[key])}
        out.append(observed)
    return out
