"""Kubernetes structural OpenAPI v3 schema -> JSON Schema (draft 2020-12) with the API server's semantics.

A CRD schema read as plain JSON Schema is too lenient: Kubernetes prunes unknown fields (kubectl's
`--validate=strict` rejects them), knows `x-kubernetes-int-or-string`, `nullable`, embedded resources and
OpenAPI 3.0's boolean `exclusiveMaximum`. The conversion makes those explicit, once per served version.
"""

from __future__ import annotations

from typing import Any

JSONSchema = dict[str, Any]

# Only formats whose JSON Schema meaning matches Kubernetes'; int32/int64/byte/duration etc. are not
# checked (the JSON Schema `duration` is ISO 8601, Kubernetes' is Go's), so they never falsely fail.
_CHECKED_FORMATS = frozenset({"date-time", "date", "uuid", "ipv4", "ipv6"})

# Value-validation keywords copied as they are.
_PLAIN = (
    "required",
    "pattern",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "minProperties",
    "maxProperties",
    "multipleOf",
    "uniqueItems",
)

# DNS-1123 subdomain: what the API server requires of custom resource names.
DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"


def _types(node: dict[str, Any]) -> list[str] | None:
    if node.get("x-kubernetes-int-or-string"):
        types = ["integer", "string"]
    elif isinstance(node.get("type"), str):
        types = [node["type"]]
    else:
        return None
    if node.get("nullable"):
        types.append("null")
    return types


def convert(node: Any, *, junctor: bool = False, metadata: JSONSchema | None = None) -> JSONSchema:
    """Convert one schema node (recursively).

    `junctor` marks sub-schemas of allOf/anyOf/oneOf/not, which in a structural schema only add value
    checks and must not close objects. `metadata` is the (already converted) schema used for the
    `metadata` of embedded resources.
    """
    if not isinstance(node, dict):
        return {}
    out: JSONSchema = {}
    types = _types(node)
    if types is not None:
        out["type"] = types[0] if len(types) == 1 else types
    for key in _PLAIN:
        if key in node:
            out[key] = node[key]
    if isinstance(node.get("enum"), list):
        out["enum"] = list(node["enum"]) + (
            [None] if node.get("nullable") and None not in node["enum"] else []
        )
    for bound, exclusive in (("maximum", "exclusiveMaximum"), ("minimum", "exclusiveMinimum")):
        if bound in node:
            out[exclusive if node.get(exclusive) is True else bound] = node[bound]
    if node.get("format") in _CHECKED_FORMATS and node.get("type") == "string":
        out["format"] = node["format"]
    if "x-kubernetes-list-type" in node and node["x-kubernetes-list-type"] == "set":
        out["uniqueItems"] = True
    for key in ("allOf", "anyOf", "oneOf"):
        if isinstance(node.get(key), list):
            out[key] = [convert(sub, junctor=True, metadata=metadata) for sub in node[key]]
    if isinstance(node.get("not"), dict):
        out["not"] = convert(node["not"], junctor=True, metadata=metadata)
    if isinstance(node.get("items"), dict):
        out["items"] = convert(node["items"], junctor=junctor, metadata=metadata)
    _convert_object(node, out, junctor=junctor, metadata=metadata)
    return out


def _convert_object(
    node: dict[str, Any], out: JSONSchema, *, junctor: bool, metadata: JSONSchema | None
) -> None:
    props = node.get("properties")
    is_object = node.get("type") == "object" or isinstance(props, dict)
    if not is_object:
        return
    converted: dict[str, JSONSchema] = {}
    if node.get("x-kubernetes-embedded-resource"):
        converted["apiVersion"] = {"type": "string"}
        converted["kind"] = {"type": "string"}
        converted["metadata"] = metadata if metadata is not None else {"type": "object"}
    if isinstance(props, dict):
        for name, sub in props.items():
            converted[str(name)] = convert(sub, junctor=junctor, metadata=metadata)
    if converted:
        out["properties"] = converted
    extra = node.get("additionalProperties")
    if isinstance(extra, dict):
        out["additionalProperties"] = convert(extra, junctor=junctor, metadata=metadata)
    elif extra is False or (
        extra is None and not junctor and not node.get("x-kubernetes-preserve-unknown-fields")
    ):
        # Structural pruning drops what the schema does not declare; strict validation calls it unknown.
        out["additionalProperties"] = False
        # With `properties` present jsonschema-rs names the unexpected keys (else it reports the parent).
        out.setdefault("properties", {})


def convert_root(schema: dict[str, Any], metadata: JSONSchema, embedded_metadata: JSONSchema) -> JSONSchema:
    """Convert a kind's openAPIV3Schema; top-level `metadata` gets `metadata` (CRDs just say `type: object`),
    and `apiVersion`/`kind` are required as for any object sent to the API server."""
    out = convert(schema, metadata=embedded_metadata)
    out.setdefault("type", "object")
    props = out.setdefault("properties", {})
    props["metadata"] = metadata
    props.setdefault("apiVersion", {"type": "string"})
    props.setdefault("kind", {"type": "string"})
    if "additionalProperties" not in out and not schema.get("x-kubernetes-preserve-unknown-fields"):
        out["additionalProperties"] = False
    out["required"] = sorted({*out.get("required", []), "apiVersion", "kind"})
    return out
