"""validate_object: one object against its kind's schema (after defaults) and its CEL rules."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

import jsonschema_rs

from aiplane.validation.celrules import (
    Outcome,
    RulePlan,
    build_rule_plan,
    check_rules,
    rule_plan_from_json,
    rule_plan_to_json,
)
from aiplane.validation.defaults import DefaultPlan, apply_plan, build_plan, plan_from_json, plan_to_json
from aiplane.validation.findings import Finding, Location, Severity, fails
from aiplane.validation.jsontypes import json_type
from aiplane.validation.kinds import KindSchema, split_api_version
from aiplane.validation.openapi import DNS_SUBDOMAIN, convert, convert_root
from aiplane.validation.pathfmt import format_path
from aiplane.validation.registry import SchemaRegistry, object_meta_schema

_KINDS = jsonschema_rs.ValidationErrorKind
_MAX_MESSAGE = 300
_IN_MEMORY = Location()


@dataclass(frozen=True)
class CompiledKind:
    """What validating one kind needs, built once per KindSchema: the JSON Schema validator, where
    defaults are and where CEL rules are."""

    validator: Any
    defaults: DefaultPlan | None
    rules: RulePlan | None


@cache
def _metadata_schemas(builtin: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """(top-level metadata, embedded-resource metadata) as JSON Schema; custom resource names must be
    DNS subdomains, built-in kinds (e.g. ClusterRole `system:...`) have their own rules."""
    embedded = convert(object_meta_schema())
    top = convert(object_meta_schema())
    if not builtin:
        top["properties"] = {
            **top["properties"],
            "name": {"type": "string", "maxLength": 253, "pattern": DNS_SUBDOMAIN},
        }
    return top, embedded


class SchemaCompileError(Exception):
    """A kind's schema is not usable (e.g. an XRD with a malformed openAPIV3Schema)."""


def compiled_form(ks: KindSchema) -> dict[str, Any]:
    """What compile_kind derives from a kind's schema, as JSON data: the JSON Schema, the defaults plan and
    the CEL rule plan (with static costs). scripts/cache_crds.py stores it beside each shipped CRD; the
    schema walks that produce it were most of the time a check spent validating."""
    top, embedded = _metadata_schemas(ks.builtin)
    return {
        "jsonSchema": convert_root(ks.schema, top, embedded),
        "defaults": plan_to_json(build_plan(ks.schema)),
        "rules": rule_plan_to_json(build_rule_plan(ks.schema)),
    }


def _validator(schema: dict[str, Any]) -> Any:
    return jsonschema_rs.Draft202012Validator(schema, validate_formats=True, ignore_unknown_formats=True)


def compile_kind(ks: KindSchema) -> CompiledKind:
    """The CompiledKind of a KindSchema, cached on it; SchemaCompileError when the schema is unusable."""
    if ks.compiled is None and ks.precompiled is not None:
        form = ks.precompiled
        ks.compiled = CompiledKind(
            _validator(form["jsonSchema"]), plan_from_json(form["defaults"]), rule_plan_from_json(form["rules"])
        )
    if ks.compiled is None:
        top, embedded = _metadata_schemas(ks.builtin)
        try:
            schema = convert_root(ks.schema, top, embedded)
            ks.compiled = CompiledKind(_validator(schema), build_plan(ks.schema), build_rule_plan(ks.schema))
        except (ValueError, TypeError, AttributeError) as err:
            ks.compiled = SchemaCompileError(" ".join(str(err).split())[:_MAX_MESSAGE])
    if isinstance(ks.compiled, SchemaCompileError):
        raise ks.compiled
    compiled: CompiledKind = ks.compiled
    return compiled


def apply_defaults(obj: dict[str, Any], ks: KindSchema) -> dict[str, Any]:
    """`obj` with its schema's defaults, as the API server stores it; `obj` itself is not changed (parts
    of the result are shared with it and with the schema: treat the result as read-only)."""
    plan = compile_kind(ks).defaults
    result: dict[str, Any] = apply_plan(plan, obj) if plan is not None else obj
    return result


def _json_type(value: Any) -> str:
    return json_type(value) or type(value).__name__


def _non_json(value: Any, path: list[str | int]) -> tuple[list[str | int], str] | None:
    """The first value YAML produced that JSON has no type for (dates, timestamps, non-string keys).

    Only called when jsonschema-rs refuses the object: it converts values lazily, so a date inside an
    `x-kubernetes-preserve-unknown-fields` subtree is not looked at (and not reported) at all."""
    if isinstance(value, dict):
        for key, sub in value.items():
            if not isinstance(key, str):
                return [*path, str(key)], f"key of type {type(key).__name__}"
            found = _non_json(sub, [*path, key])
            if found:
                return found
    elif isinstance(value, list):
        for index, sub in enumerate(value):
            found = _non_json(sub, [*path, index])
            if found:
                return found
    elif value is not None and not isinstance(value, (str, int, float, bool)):
        return path, f"value of type {type(value).__name__}"
    return None


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 3] + "..."


def _schema_outcomes(validator: Any, obj: dict[str, Any]) -> list[Outcome]:
    """jsonschema-rs errors as outcomes with Crossplane field paths; unknown and missing fields name the
    field itself, not its parent."""
    out: list[Outcome] = []
    for err in validator.iter_errors(obj):
        path = tuple(err.instance_path)
        kind = err.kind
        if isinstance(kind, _KINDS.AdditionalProperties):
            out.extend((Severity.ERROR, "schema", "unknown field", (*path, key)) for key in kind.unexpected)
        elif isinstance(kind, _KINDS.Required):
            out.append((Severity.ERROR, "schema", "required field is missing", (*path, kind.property)))
        elif isinstance(kind, _KINDS.Type):
            # "null" is noise in the message when a value is present: nullable fields accept it.
            expected = [t for t in kind.types if t != "null"] or list(kind.types)
            out.append(
                (
                    Severity.ERROR,
                    "schema",
                    f"expected {' or '.join(expected)}, got {_json_type(err.instance)}",
                    path,
                )
            )
        elif isinstance(kind, _KINDS.Enum):
            shown = ", ".join(str(o) for o in kind.options)
            out.append((Severity.ERROR, "schema", _short(f"{err.instance!r} is not one of: {shown}"), path))
        else:
            out.append((Severity.ERROR, "schema", _short(err.message), path))
    return out


def _object_outcomes(obj: dict[str, Any], ks: KindSchema) -> list[Outcome]:
    out: list[Outcome] = []
    if ks.deprecated:
        out.append(
            (
                Severity.WARNING,
                "schema",
                ks.deprecation_warning or f"{ks.api_version} {ks.kind} is deprecated",
                ("apiVersion",),
            )
        )
    metadata = obj.get("metadata")
    if not ks.namespaced and isinstance(metadata, dict) and metadata.get("namespace"):
        out.append(
            (
                Severity.WARNING,
                "schema",
                f"{ks.kind} is cluster-scoped; metadata.namespace is ignored",
                ("metadata", "namespace"),
            )
        )
    try:
        compiled = compile_kind(ks)
    except SchemaCompileError as err:
        out.append(
            (
                Severity.ERROR,
                "schema",
                f"cannot validate: the schema of {ks.api_version} {ks.kind} from "
                f"{ks.source} is invalid ({err})",
                (),
            )
        )
        return out
    defaulted = apply_plan(compiled.defaults, obj) if compiled.defaults is not None else obj
    try:
        admitted = compiled.validator.is_valid(defaulted)
        if not admitted:
            out.extend(_schema_outcomes(compiled.validator, defaulted))
    except ValueError:  # jsonschema-rs met a value JSON has no type for; find it to say where
        bad = _non_json(obj, [])
        path, what = bad if bad is not None else ([], "a value")
        out.append(
            (Severity.ERROR, "schema", f"{what} is not valid in a Kubernetes object (quote it)", tuple(path))
        )
        return out
    if compiled.rules is not None:
        # Within the schema's bounds a plan within the runtime limits cannot meet them: no estimates needed.
        estimate = not (admitted and compiled.rules.within_runtime_limits)
        check_rules(compiled.rules, defaulted, [], out, estimate=estimate)
    return out


def _unknown_kind(obj: dict[str, Any], api_version: str, kind: str, reg: SchemaRegistry) -> list[Outcome]:
    group, version = split_api_version(api_version)
    served = reg.versions(group, kind)
    if served:
        listed = ", ".join(sorted(served))
        return [
            (
                Severity.ERROR,
                "schema",
                f"{kind} is not served in version {version!r} (served: {listed})",
                ("apiVersion",),
            )
        ]
    return [
        (Severity.NO_SCHEMA, "schema", f"no schema for {api_version} {kind}: add its CRD with --crds", ())
    ]


def validate_object(
    obj: Any, reg: SchemaRegistry, location: Location = _IN_MEMORY, *, failing_only: bool | None = None
) -> list[Finding]:
    """Schema (after applying defaults) and CEL findings for one object; `obj` is not modified.

    An object of a kind the registry does not know gets one NO_SCHEMA finding. `failing_only`: only the
    findings that fail validation, under --strict (True) or not (False).
    """
    if not isinstance(obj, dict):
        outcomes: list[Outcome] = [
            (Severity.ERROR, "schema", f"a Kubernetes object must be a mapping, not {_json_type(obj)}", ())
        ]
        return _findings(outcomes, {}, location, failing_only)
    api_version, kind = obj.get("apiVersion"), obj.get("kind")
    if not isinstance(api_version, str) or not api_version or not isinstance(kind, str) or not kind:
        missing = [
            k for k, v in (("apiVersion", api_version), ("kind", kind)) if not isinstance(v, str) or not v
        ]
        outcomes = [
            (Severity.ERROR, "schema", "required field is missing or not a string", (k,)) for k in missing
        ]
        return _findings(outcomes, obj, location, failing_only)
    ks = reg.lookup(api_version, kind)
    outcomes = _unknown_kind(obj, api_version, kind, reg) if ks is None else _object_outcomes(obj, ks)
    return _findings(outcomes, obj, location, failing_only)


# An outcome's field path, formatted once per distinct path: every XR of a kind reports its skipped
# transition rules at the same paths (thousands of identical findings in a large environment).
_formatted = lru_cache(maxsize=4096)(format_path)


def _findings(
    outcomes: list[Outcome], obj: dict[str, Any], location: Location, failing_only: bool | None = None
) -> list[Finding]:
    if failing_only is not None:
        # Before any Finding is made: the skipped transition rules of 5,000 XRs were 10,000 findings
        # that `check` made, sorted and dropped (30 ms).
        outcomes = [o for o in outcomes if fails(o[0], o[1], failing_only)]
    metadata = obj.get("metadata")
    meta = metadata if isinstance(metadata, dict) else {}

    def text(value: Any) -> str:
        return value if isinstance(value, str) else ""

    return [
        Finding(
            severity,
            check,
            message,
            path=location.path,
            index=location.index,
            line=location.line,
            api_version=text(obj.get("apiVersion")),
            kind=text(obj.get("kind")),
            name=text(meta.get("name")),
            namespace=text(meta.get("namespace")),
            field=_formatted(field),
        )
        for severity, check, message, field in outcomes
    ]
