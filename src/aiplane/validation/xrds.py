"""Semantic checks of CompositeResourceDefinitions that the XRD CRD's own schema and CEL rules miss.

The XRD object itself is schema- and CEL-validated elsewhere; here we check what Crossplane enforces
in its webhook or controller: the XR schema is structural, Crossplane's reserved fields are left
alone, `metadata.name` is `<plural>.<group>`, exactly one version is referenceable, and v2 XRDs
carry no claim or connection-secret settings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aiplane.validation.fieldpath import Segment
from aiplane.validation.findings import Finding, Location, Severity
from aiplane.validation.pathfmt import format_path

XRD_GROUP = "apiextensions.crossplane.io"
V1 = f"{XRD_GROUP}/v1"
V2 = f"{XRD_GROUP}/v2"

_TYPES = frozenset({"object", "array", "string", "integer", "number", "boolean"})
# Keywords Kubernetes rejects in CRD schemas (apiextensions validation), whatever the node.
_FORBIDDEN_KEYWORDS = (
    "$ref",
    "$schema",
    "definitions",
    "dependencies",
    "patternProperties",
    "additionalItems",
)
_JUNCTORS = ("allOf", "anyOf", "oneOf")
# Inside allOf/anyOf/oneOf/not a structural schema may only restate validations, not shape or defaults.
_NOT_IN_JUNCTOR = ("type", "description", "default", "additionalProperties", "nullable")
# Crossplane owns these parts of every XR; an XRD that declares them is rejected.
_RESERVED = (("spec", "crossplane"), ("status", "crossplane"), ("status", "conditions"))

Problems = list[tuple[list[Segment], str]]


def _mapping(value: Any) -> Mapping[str, Any]:
    """The value if it is a mapping, else an empty one: malformed parts are the schema check's business."""
    return value if isinstance(value, Mapping) else {}


def _finding(
    obj: Mapping[str, Any], location: Location, severity: Severity, message: str, field: str = ""
) -> Finding:
    meta = _mapping(obj.get("metadata"))
    return Finding(
        severity=severity,
        check="xrd",
        message=message,
        path=location.path,
        index=location.index,
        line=location.line,
        api_version=str(obj.get("apiVersion", "")),
        kind=str(obj.get("kind", "")),
        name=str(meta.get("name", "")),
        namespace=str(meta.get("namespace", "")),
        field=field,
    )


def structural_problems(schema: Any) -> Problems:
    """Where an openAPIV3Schema breaks Kubernetes's structural-schema rules, as (segments, message).

    Covers the rules that matter in practice: every node typed (unless int-or-string or
    preserve-unknown-fields), arrays with `items`, `properties` and `additionalProperties` exclusive,
    no shape or defaults inside logical junctors, and no keywords Kubernetes forbids.
    """
    problems: Problems = []
    if not isinstance(schema, Mapping):
        return [([], "the schema must be an object")]
    if schema.get("type") != "object":
        problems.append(([], "the root of the schema must be 'type: object'"))
    _check_node(schema, [], problems)
    meta = _mapping(schema.get("properties")).get("metadata")
    if isinstance(meta, Mapping):
        _check_root_metadata(meta, problems)
    return problems


def _check_node(node: Any, segs: list[Segment], problems: Problems) -> None:
    if not isinstance(node, Mapping):
        problems.append((segs, "a schema node must be an object"))
        return
    int_or_string = node.get("x-kubernetes-int-or-string") is True
    preserve = node.get("x-kubernetes-preserve-unknown-fields")
    typ = node.get("type")
    if preserve is not None and preserve is not True:
        problems.append((segs, "x-kubernetes-preserve-unknown-fields must be true or absent"))
    if typ is None and not int_or_string and preserve is not True:
        problems.append(
            (
                segs,
                "has no 'type' (required unless x-kubernetes-int-or-string or "
                "x-kubernetes-preserve-unknown-fields is true)",
            )
        )
    elif typ is not None and (not isinstance(typ, str) or typ not in _TYPES):
        problems.append((segs, f"'type: {typ}' is not one of {', '.join(sorted(_TYPES))}"))
    if int_or_string and typ is not None:
        problems.append((segs, "x-kubernetes-int-or-string nodes must not set 'type'"))
    if "properties" in node and "additionalProperties" in node:
        problems.append((segs, "'properties' and 'additionalProperties' are mutually exclusive"))
    if node.get("additionalProperties") is False:
        problems.append((segs, "'additionalProperties: false' is not allowed; unknown fields are pruned"))
    if typ == "array" and "items" not in node:
        problems.append((segs, "'type: array' needs 'items'"))
    if node.get("uniqueItems") is True:
        problems.append((segs, "'uniqueItems: true' is not allowed (quadratic cost in the API server)"))
    problems.extend(
        (segs, f"'{key}' is not supported in CRD schemas") for key in _FORBIDDEN_KEYWORDS if key in node
    )

    props = node.get("properties")
    if isinstance(props, Mapping):
        for name, sub in props.items():
            _check_node(sub, [*segs, "properties", str(name)], problems)
    additional = node.get("additionalProperties")
    if isinstance(additional, Mapping):
        _check_node(additional, [*segs, "additionalProperties"], problems)
    items = node.get("items")
    if isinstance(items, Mapping):
        _check_node(items, [*segs, "items"], problems)
    elif items is not None:
        problems.append(([*segs, "items"], "'items' must be a single schema"))
    for junctor_segs, sub in _junctor_parts(node, segs):
        _check_junctor(sub, node, junctor_segs, int_or_string, problems)


def _junctor_parts(node: Mapping[str, Any], segs: list[Segment]) -> list[tuple[list[Segment], Any]]:
    parts: list[tuple[list[Segment], Any]] = []
    for key in _JUNCTORS:
        value = node.get(key)
        if isinstance(value, Sequence) and not isinstance(value, str):
            parts.extend(([*segs, key, i], sub) for i, sub in enumerate(value))
    if "not" in node:
        parts.append(([*segs, "not"], node["not"]))
    return parts


def _check_junctor(
    sub: Any, outer: Mapping[str, Any], segs: list[Segment], int_or_string: bool, problems: Problems
) -> None:
    """A junctor branch may only restate validations of fields that the outer schema defines."""
    if not isinstance(sub, Mapping):
        problems.append((segs, "a schema node must be an object"))
        return
    for key in _NOT_IN_JUNCTOR:
        # The one exception: `anyOf: [{type: integer}, {type: string}]` under int-or-string.
        if key in sub and not (key == "type" and int_or_string):
            problems.append((segs, f"'{key}' must not be set inside allOf/anyOf/oneOf/not"))
    problems.extend(
        (segs, f"'{key}' must not be set inside allOf/anyOf/oneOf/not")
        for key in sub
        if str(key).startswith("x-kubernetes-")
    )
    outer_props = _mapping(outer.get("properties"))
    props = sub.get("properties")
    if isinstance(props, Mapping):
        for name, psub in props.items():
            psegs: list[Segment] = [*segs, "properties", str(name)]
            if name not in outer_props:
                problems.append(
                    (psegs, f"property '{name}' inside a junctor must also be defined outside it")
                )
            elif isinstance(outer_props[name], Mapping):
                _check_junctor(psub, outer_props[name], psegs, False, problems)
    if "items" in sub:
        outer_items = outer.get("items")
        if not isinstance(outer_items, Mapping):
            problems.append(([*segs, "items"], "'items' inside a junctor must also be defined outside it"))
        else:
            _check_junctor(sub["items"], outer_items, [*segs, "items"], False, problems)
    for nested_segs, nested in _junctor_parts(sub, segs):
        _check_junctor(nested, outer, nested_segs, int_or_string, problems)


def _check_root_metadata(meta: Mapping[str, Any], problems: Problems) -> None:
    # Kubernetes only lets a CRD restrict metadata.name and metadata.generateName.
    extra = [str(k) for k in meta if k not in ("type", "properties", "description")]
    extra += [
        f"properties.{k}" for k in _mapping(meta.get("properties")) if k not in ("name", "generateName")
    ]
    if extra:
        found = ", ".join(sorted(extra))
        problems.append(
            (["properties", "metadata"], f"metadata may only restrict name and generateName (found {found})")
        )


def _reserved_problems(schema: Mapping[str, Any]) -> Problems:
    problems: Problems = []
    for top, sub in _RESERVED:
        top_schema = _mapping(_mapping(schema.get("properties")).get(top))
        if sub in _mapping(top_schema.get("properties")):
            problems.append(
                (
                    ["properties", top, "properties", sub],
                    f"{top}.{sub} is reserved for Crossplane's own fields; remove it from the schema",
                )
            )
    return problems


def _check_versions(obj: Mapping[str, Any], spec: Mapping[str, Any], location: Location) -> list[Finding]:
    findings: list[Finding] = []
    versions = spec.get("versions")
    if not isinstance(versions, list) or not versions:
        return [_finding(obj, location, Severity.ERROR, "an XRD needs at least one version", "spec.versions")]
    referenceable = [
        v.get("name", i)
        for i, v in enumerate(versions)
        if isinstance(v, Mapping) and v.get("referenceable") is True
    ]
    if len(referenceable) != 1:
        names = ", ".join(str(n) for n in referenceable) or "none"
        findings.append(
            _finding(
                obj,
                location,
                Severity.ERROR,
                f"exactly one version must be referenceable: true (found {names})",
                "spec.versions",
            )
        )
    for i, version in enumerate(versions):
        if not isinstance(version, Mapping):
            continue
        base: list[Segment] = ["spec", "versions", i, "schema", "openAPIV3Schema"]
        schema = _mapping(version.get("schema")).get("openAPIV3Schema")
        if schema is None:
            findings.append(
                _finding(
                    obj,
                    location,
                    Severity.WARNING,
                    f"version {version.get('name', i)} has no schema: its XRs accept no spec fields",
                    format_path(base[:3]),
                )
            )
            continue
        problems = structural_problems(schema)
        if isinstance(schema, Mapping):
            problems += _reserved_problems(schema)
        findings.extend(
            _finding(
                obj,
                location,
                Severity.ERROR,
                f"schema is not valid: {msg}",
                format_path([*base, *segs]),
            )
            for segs, msg in problems
        )
    return findings


def check_xrd(obj: dict[str, Any], location: Location) -> list[Finding]:
    """Semantic findings for one CompositeResourceDefinition (v1 gets a deprecation warning)."""
    findings: list[Finding] = []
    api_version = obj.get("apiVersion")
    if api_version == V1:
        findings.append(
            _finding(
                obj,
                location,
                Severity.WARNING,
                "CompositeResourceDefinition v1 is deprecated and will be removed in a "
                f"future release; use {V2}",
                "apiVersion",
            )
        )
    spec = obj.get("spec")
    if not isinstance(spec, Mapping):
        return [*findings, _finding(obj, location, Severity.ERROR, "an XRD needs a spec", "spec")]
    if api_version == V2:
        findings.extend(
            _finding(obj, location, Severity.ERROR, message, f"spec.{key}")
            for key, message in (
                ("claimNames", f"claims are not supported in {V2}; remove spec.claimNames"),
                (
                    "connectionSecretKeys",
                    f"XR connection secrets are not supported in {V2}; remove spec.connectionSecretKeys",
                ),
            )
            if key in spec
        )
    group = spec.get("group")
    plural = _mapping(spec.get("names")).get("plural")
    meta = _mapping(obj.get("metadata"))
    if isinstance(group, str) and isinstance(plural, str):
        expected = f"{plural}.{group}"
        if meta.get("name") != expected:
            findings.append(
                _finding(
                    obj,
                    location,
                    Severity.ERROR,
                    f"metadata.name must be <plural>.<group> = {expected!r} (is {meta.get('name')!r})",
                    "metadata.name",
                )
            )
    findings.extend(_check_versions(obj, spec, location))
    return findings
