"""The schema Crossplane serves for a composite resource (XR), built from its XRD.

Crossplane generates a CRD per XRD: the XRD's own `spec`/`status` schema plus the machinery fields it
adds (under `spec.crossplane` for v2 XRs, at the top of `spec` for v1 LegacyCluster XRs), standard
metadata and `status.conditions`. Validating XRs needs that generated schema, not the XRD's alone.
"""

from __future__ import annotations

from typing import Any

from aiplane.validation.kinds import KindSchema, served_versions

_STRING = {"type": "string"}
_NAME_REF = {"type": "object", "required": ["name"], "properties": {"name": _STRING}}
_LABEL_SELECTOR = {
    "type": "object",
    "required": ["matchLabels"],
    "properties": {"matchLabels": {"type": "object", "additionalProperties": _STRING}},
}
_RESOURCE_REFS = {
    "type": "array",
    "x-kubernetes-list-type": "atomic",
    "items": {
        "type": "object",
        "required": ["apiVersion", "kind"],
        "properties": {"apiVersion": _STRING, "kind": _STRING, "name": _STRING, "namespace": _STRING},
    },
}
_CONDITIONS = {
    "type": "array",
    "x-kubernetes-list-type": "map",
    "x-kubernetes-list-map-keys": ["type"],
    "items": {
        "type": "object",
        "required": ["lastTransitionTime", "reason", "status", "type"],
        "properties": {
            "type": _STRING,
            "status": _STRING,
            "reason": _STRING,
            "message": _STRING,
            "lastTransitionTime": {"type": "string", "format": "date-time"},
            "observedGeneration": {"type": "integer", "format": "int64"},
        },
    },
}


def _machinery(update_policy_default: str | None) -> dict[str, Any]:
    policy: dict[str, Any] = {"type": "string", "enum": ["Automatic", "Manual"]}
    if update_policy_default:
        policy["default"] = update_policy_default
    return {
        "compositionRef": _NAME_REF,
        "compositionSelector": _LABEL_SELECTOR,
        "compositionRevisionRef": _NAME_REF,
        "compositionRevisionSelector": _LABEL_SELECTOR,
        "compositionUpdatePolicy": policy,
        "resourceRefs": _RESOURCE_REFS,
    }


def _legacy_spec_fields() -> dict[str, Any]:
    ref = {
        "type": "object",
        "properties": {"apiVersion": _STRING, "kind": _STRING, "name": _STRING, "namespace": _STRING},
    }
    secret = {
        "type": "object",
        "required": ["name", "namespace"],
        "properties": {"name": _STRING, "namespace": _STRING},
    }
    return {"claimRef": ref, "writeConnectionSecretToRef": secret}


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _with_props(node: Any, extra: dict[str, Any]) -> dict[str, Any]:
    base = dict(_mapping(node))
    base.setdefault("type", "object")
    base["properties"] = {**_mapping(base.get("properties")), **extra}
    return base


def xr_schema(
    version_schema: dict[str, Any], *, legacy: bool, update_policy_default: str | None
) -> dict[str, Any]:
    """The generated XR CRD's openAPIV3Schema for one XRD version schema."""
    props = _mapping(version_schema.get("properties"))
    if legacy:
        spec = _with_props(props.get("spec"), {**_machinery(update_policy_default), **_legacy_spec_fields()})
        status_extra: dict[str, Any] = {
            "conditions": _CONDITIONS,
            "connectionDetails": {
                "type": "object",
                "properties": {"lastPublishedTime": {"type": "string", "format": "date-time"}},
            },
        }
    else:
        spec = _with_props(
            props.get("spec"),
            {"crossplane": {"type": "object", "properties": _machinery(update_policy_default)}},
        )
        status_extra = {
            "conditions": _CONDITIONS,
            "crossplane": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        }
    root = {k: v for k, v in version_schema.items() if k not in ("properties", "required")}
    root["type"] = "object"
    root["properties"] = {
        **props,
        "apiVersion": _STRING,
        "kind": _STRING,
        "metadata": {"type": "object"},
        "spec": spec,
        "status": _with_props(props.get("status"), status_extra),
    }
    required = version_schema.get("required")
    root["required"] = (
        sorted({*(str(r) for r in required), "spec"}) if isinstance(required, list) else ["spec"]
    )
    return root


def xr_kind_schemas(xrd: dict[str, Any], source: str) -> list[KindSchema]:
    """One KindSchema per served version of the XR kind an XRD (apiextensions.crossplane.io v1 or v2) defines.

    Raises ValueError when the XRD lacks what is needed to know the kind (group, names.kind, versions).
    """
    spec, group, kind, served = served_versions(xrd, "XRD")
    is_v1 = str(xrd.get("apiVersion", "")).endswith("/v1")
    scope = spec.get("scope") or ("LegacyCluster" if is_v1 else "Namespaced")
    policy = spec.get("defaultCompositionUpdatePolicy")
    out: list[KindSchema] = []
    for version in served:
        raw = _mapping(_mapping(version.get("schema")).get("openAPIV3Schema"))
        out.append(
            KindSchema(
                group=group,
                version=version["name"],
                kind=kind,
                schema=xr_schema(
                    raw,
                    legacy=scope == "LegacyCluster",
                    update_policy_default=policy if isinstance(policy, str) else None,
                ),
                deprecated=bool(version.get("deprecated")),
                deprecation_warning=warning
                if isinstance(warning := version.get("deprecationWarning"), str)
                else None,
                namespaced=scope == "Namespaced",
                source=source,
            )
        )
    return out
