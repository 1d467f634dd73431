"""An offline function-patch-and-transform renderer: what a composite resource (XR) composes.

The audit, `plan` and the tests need the exact AWS names, tags and settings each XR ends up with. Deriving
them by hand again would be a second source; rendering the Compositions' P&T input is the one source. The real
engine judges this renderer: the conformance suite (conformance/) renders every shipped XR, and generated
ones, with Crossplane's core and P&T v0.10.7 built from source and requires the same composed resources.

Semantics follow P&T v0.10.7 (fn.go, patches.go, transforms.go): XR numbers are Go float64 (see
aiplane.crossplane.gosemantics); a `policy.fromFieldPath: Required` input that is missing skips that
composed resource when it does not exist yet (and the XR is then not Ready) and only the patch when it does;
an optional missing input skips the patch. Scope: PatchSets, FromCompositeFieldPath, CombineFromComposite
(`string` strategy), and the map, convert, string (Format, TrimPrefix, TrimSuffix, Convert ToJson/ToUpper/
ToLower/ToBase64/FromBase64) and math (Multiply, ClampMin, ClampMax) transforms. ToCompositeFieldPath and
environment patches need observed state and are skipped. Anything else (merge policies on toFieldPath, `[*]`
paths, other transforms) raises RenderError rather than rendering something P&T would not.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiplane.crossplane.composed import expand_patches
from aiplane.crossplane.gosemantics import (
    GoValueError,
    as_go_input,
    format_float_f,
    go_type,
    json_marshal,
    parse_bool,
    parse_float,
    parse_int,
    sprint_v,
    sprintf,
)
from aiplane.function.logic import run as run_function_aiplane
from aiplane.function.model import FUNCTION_NAME as FUNCTION_AIPLANE
from aiplane.function.model import Request
from aiplane.validation.fieldpath import get_path, parse_field_path, set_path

PT_FUNCTION_INPUT = "pt.fn.crossplane.io/v1beta1"
# Patch types that read observed state or the environment: nothing to render offline.
IGNORED_PATCH_TYPES = frozenset(
    {
        "ToCompositeFieldPath",
        "CombineToComposite",
        "FromEnvironmentFieldPath",
        "ToEnvironmentFieldPath",
        "CombineFromEnvironment",
        "CombineToEnvironment",
    }
)


class RenderError(ValueError):
    """A Composition this renderer cannot apply (unsupported patch or transform, bad input)."""


class RequiredFieldMissing(RenderError):
    """A patch with `policy.fromFieldPath: Required` found no value in the XR."""

    def __init__(self, resource: str, path: str) -> None:
        super().__init__(f"composed resource {resource!r}: required XR field {path} is missing")
        self.resource = resource
        self.path = path


@dataclass(frozen=True)
class RenderedResource:
    """One composed resource: its name in the Composition and the manifest P&T would produce."""

    name: str
    obj: dict[str, Any]

    @property
    def external_name(self) -> str | None:
        annotations = (self.obj.get("metadata") or {}).get("annotations") or {}
        value = annotations.get("crossplane.io/external-name")
        return value if isinstance(value, str) else None

    @property
    def for_provider(self) -> dict[str, Any]:
        value = (self.obj.get("spec") or {}).get("forProvider") or {}
        return value if isinstance(value, dict) else {}


# Composition selection ------------------------------------------------------------------------------


def select_composition(xr: Mapping[str, Any], compositions: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The Composition Crossplane would pick for `xr`: same composite type, then `compositionRef` or
    `compositionSelector.matchLabels`. The XRD's default is not known here, so exactly one must match."""
    api_version, kind = xr.get("apiVersion"), xr.get("kind")
    type_ref = {"apiVersion": api_version, "kind": kind}
    candidates = [c for c in compositions if (c.get("spec") or {}).get("compositeTypeRef") == type_ref]
    crossplane = (xr.get("spec") or {}).get("crossplane") or {}
    ref = (crossplane.get("compositionRef") or {}).get("name")
    wanted: Mapping[str, Any] = (crossplane.get("compositionSelector") or {}).get("matchLabels") or {}
    if ref:
        candidates = [c for c in candidates if c["metadata"]["name"] == ref]
    else:
        candidates = [
            c
            for c in candidates
            if all((c["metadata"].get("labels") or {}).get(k) == v for k, v in wanted.items())
        ]
    name = (xr.get("metadata") or {}).get("name")
    if len(candidates) != 1:
        found = ", ".join(sorted(c["metadata"]["name"] for c in candidates)) or "none"
        raise ValueError(
            f"{kind} {name}: expected exactly one matching Composition "
            f"(ref {ref!r}, labels {dict(wanted)}), found {found}"
        )
    return dict(candidates[0])


# Rendering ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SkippedResource:
    """A composed resource P&T leaves out of the desired state: it does not exist yet and a Required input
    is missing (P&T then reports the XR not Ready)."""

    name: str
    path: str


@dataclass(frozen=True)
class Rendering:
    resources: list[RenderedResource]
    skipped: list[SkippedResource]
    # XR status fields and warnings from function-aiplane's step.
    status: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    # Custom XR status conditions function-aiplane sets (type, status, reason, message).
    conditions: list[dict[str, str]] = field(default_factory=list)


def render(xr: Mapping[str, Any], composition: Mapping[str, Any]) -> list[RenderedResource]:
    """Every resource the Composition's pipeline composes on the first apply."""
    return render_composition(xr, composition).resources


def render_composition(
    xr: Mapping[str, Any],
    composition: Mapping[str, Any],
    existing: Collection[str] = (),
    observed: Mapping[str, Mapping[str, Any]] | None = None,
) -> Rendering:
    """The pipeline's steps in order: each P&T step adds its resources (a deep copy of the base with the
    patches applied), a function-aiplane step runs aiplane.function on what the steps before it want, the
    other functions (function-auto-ready) change nothing composed. `existing` names the composed resources
    that already exist (for which a missing Required input skips only the patch); `observed` gives them
    with their status, which function-aiplane reads (e.g. a quota's current value)."""
    observed = observed or {}
    existing = {*existing, *observed}
    desired: dict[str, dict[str, Any]] = {}
    skipped: list[SkippedResource] = []
    status: dict[str, Any] = {}
    warnings: list[str] = []
    conditions: list[dict[str, str]] = []
    for step in (composition.get("spec") or {}).get("pipeline") or []:
        fn_input = step.get("input") or {}
        if ((step.get("functionRef") or {}).get("name")) == FUNCTION_AIPLANE:
            outcome = run_function_aiplane(Request(xr, desired, observed))
            desired, status, warnings = outcome.desired, {**status, **outcome.status}, [*warnings, *outcome.warnings]
            conditions = [*conditions, *outcome.conditions]
            continue
        if fn_input.get("apiVersion") != PT_FUNCTION_INPUT:
            continue
        patch_sets = {ps["name"]: ps.get("patches") or [] for ps in fn_input.get("patchSets") or []}
        for resource in fn_input.get("resources") or []:
            name = resource["name"]
            obj = _copied(resource.get("base") or {})
            missing: RequiredFieldMissing | None = None
            for patch in _expand(resource.get("patches") or [], patch_sets, name):
                try:
                    _apply(patch, xr, obj, name)
                except RequiredFieldMissing as err:
                    # An existing resource keeps the patches that did apply; P&T ignores Required for it.
                    if name not in existing:
                        missing = err
                        break
            if missing is not None:
                skipped.append(SkippedResource(name, missing.path))
                continue
            desired[name] = obj
    resources = [RenderedResource(name, obj) for name, obj in desired.items()]
    return Rendering(resources, skipped, status, warnings, conditions)


def settle(
    xr: Mapping[str, Any],
    composition: Mapping[str, Any],
    max_rounds: int = 8,
    live: Mapping[str, Mapping[str, Any]] | None = None,
) -> Rendering:
    """What the XR composes once every composed resource has become Ready: render, then render again with
    the previous round's resources observed Ready (the provider reporting back what it was asked for), until
    nothing changes. Rollouts that wait for readiness (function-aiplane: a new EndpointConfiguration only once
    its Model is Ready, the Endpoint only once its configuration is) end in their steady state, which is what
    the audit and the checks compare with AWS. `live`: composed resources that exist already (by composition
    resource name, as another revision of the Composition made them), observed Ready at the start — what
    `plan` starts from, so adopted and replaced resources are told apart."""
    observed: dict[str, dict[str, Any]] = {n: _as_observed_ready(o) for n, o in (live or {}).items()}
    rendering = render_composition(xr, composition, observed=observed or None)
    for _ in range(max_rounds):
        now = {r.name: _as_observed_ready(r.obj) for r in rendering.resources}
        if now == observed:
            return rendering
        observed = now
        rendering = render_composition(xr, composition, observed=observed)
    raise RenderError(f"composition {composition.get('metadata', {}).get('name')!r} does not settle")


def _as_observed_ready(obj: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = _copied(dict(obj))
    spec = out.get("spec") or {}
    at_provider = {**(spec.get("initProvider") or {}), **(spec.get("forProvider") or {})}
    out["status"] = {
        "conditions": [{"type": "Ready", "status": "True"}, {"type": "Synced", "status": "True"}],
        "atProvider": at_provider,
    }
    return out


def _expand(
    patches: Sequence[Mapping[str, Any]], patch_sets: Mapping[str, Sequence[Mapping[str, Any]]], resource: str
) -> list[Mapping[str, Any]]:
    """Patches in order, each PatchSet reference replaced by that set's patches; unknown sets are errors."""
    expanded, missing = expand_patches(patches, patch_sets)
    if missing:
        raise RenderError(f"composed resource {resource!r}: unknown patch set {missing[0]!r}")
    return expanded


def _required(patch: Mapping[str, Any]) -> bool:
    return ((patch.get("policy") or {}).get("fromFieldPath") or "Optional") == "Required"


def _lookup(obj: Mapping[str, Any], path: str, resource: str) -> tuple[bool, Any]:
    """The XR value at `path` as P&T sees it (numbers float64), and whether it exists."""
    if "[*]" in path:
        raise RenderError(f"composed resource {resource!r}: wildcard path {path} is not rendered offline")
    try:
        # as_go_input builds new lists and mappings: the XR's own are never shared with the result.
        return True, as_go_input(get_path(obj, parse_field_path(path)))
    except KeyError:
        return False, None


def _apply(patch: Mapping[str, Any], xr: Mapping[str, Any], obj: dict[str, Any], resource: str) -> None:
    kind = patch.get("type") or "FromCompositeFieldPath"
    if kind in IGNORED_PATCH_TYPES:
        return
    merge = (patch.get("policy") or {}).get("toFieldPath")
    if merge not in (None, "Replace"):
        raise RenderError(f"composed resource {resource!r}: policy.toFieldPath {merge} is not rendered offline")
    if kind == "FromCompositeFieldPath":
        source = patch["fromFieldPath"]
        found, value = _lookup(xr, source, resource)
        if not found:
            if _required(patch):
                raise RequiredFieldMissing(resource, source)
            return
    elif kind == "CombineFromComposite":
        value = _combine(patch, xr, resource)
        if value is None:
            return
    else:
        raise RenderError(f"composed resource {resource!r}: unsupported patch type {kind!r}")
    for transform in patch.get("transforms") or []:
        try:
            value = apply_transform(transform, value)
        except RenderError as err:
            raise RenderError(f"composed resource {resource!r}: {err}") from None
    target = patch.get("toFieldPath") or patch.get("fromFieldPath")
    if not target:
        raise RenderError(f"composed resource {resource!r}: {kind} patch without toFieldPath")
    if "[*]" in target:
        raise RenderError(f"composed resource {resource!r}: wildcard path {target} is not rendered offline")
    try:
        set_path(obj, parse_field_path(target), _as_json_number(value))
    except ValueError as err:
        raise RenderError(f"composed resource {resource!r}: cannot set {target}: {err}") from None


def _copied(value: Any) -> Any:
    """A copy of a JSON value (mappings, lists, scalars): what copy.deepcopy makes of one, at a third of
    the cost (no memo of shared objects, which JSON values do not have)."""
    if isinstance(value, dict):
        return {k: _copied(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copied(v) for v in value]
    return value


def _as_json_number(value: Any) -> Any:
    """What the composed resource holds once P&T's value went through JSON: a whole float64 is the integer."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, list):
        return [_as_json_number(v) for v in value]
    if isinstance(value, dict):
        return {k: _as_json_number(v) for k, v in value.items()}
    return value


def _combine(patch: Mapping[str, Any], xr: Mapping[str, Any], resource: str) -> str | None:
    """CombineFromComposite with the `string` strategy; None when an optional input is missing."""
    combine = patch.get("combine") or {}
    if combine.get("strategy") != "string":
        raise RenderError(
            f"composed resource {resource!r}: unsupported combine strategy {combine.get('strategy')!r}"
        )
    values = []
    for variable in combine.get("variables") or []:
        found, value = _lookup(xr, variable["fromFieldPath"], resource)
        if not found:
            if _required(patch):
                raise RequiredFieldMissing(resource, variable["fromFieldPath"])
            return None
        values.append(value)
    try:
        return sprintf(combine["string"]["fmt"], values)
    except GoValueError as err:
        raise RenderError(f"composed resource {resource!r}: {err}") from None


# Transforms --------------------------------------------------------------------------------------------


def apply_transform(transform: Mapping[str, Any], value: Any) -> Any:
    """One P&T transform applied to `value` (a Go value, see gosemantics); RenderError when P&T fails."""
    kind = transform.get("type")
    try:
        if kind == "map":
            return _map_transform(transform.get("map") or {}, value)
        if kind == "convert":
            return convert_value(value, (transform.get("convert") or {}).get("toType", ""))
        if kind == "string":
            return _string_transform(transform.get("string") or {}, value)
        if kind == "math":
            return _math_transform(transform.get("math") or {}, value)
    except GoValueError as err:
        raise RenderError(f"{kind} transform: {err}") from None
    raise RenderError(f"unsupported transform type {kind!r}")


def _map_transform(mapping: Mapping[str, Any], value: Any) -> Any:
    if not isinstance(value, str):
        raise RenderError(f"map transform: input type {go_type(value)} is not supported")
    if value not in mapping:
        raise RenderError(f"map transform: key {value!r} is not in the map")
    # P&T decodes the map's JSON value: its numbers are float64 too.
    return as_go_input(mapping[value])


# Go's regexp (RE2) and Python's re agree on leftmost-first matching of plain patterns with ASCII classes;
# what they do differently (lookarounds and backreferences RE2 lacks, `$` before a final newline, `\Z`)
# is refused rather than approximated.
_REGEXP_NOT_MODELLED = re.compile(r"\(\?[=!<]|\\[1-9Z]|(?<!\\)\$")


def _regexp_transform(spec: Mapping[str, Any], value: Any) -> str:
    """P&T string Regexp: FindStringSubmatch on %v of the input, group `group` (default 0)."""
    pattern, group = spec.get("match", ""), int(spec.get("group") or 0)
    if _REGEXP_NOT_MODELLED.search(pattern):
        raise RenderError(f"string Regexp {pattern!r}: lookarounds, backreferences and $ are not rendered offline")
    try:
        compiled = re.compile(pattern, re.ASCII)
    except re.error as err:
        raise RenderError(f"string Regexp: could not compile regexp: {err}") from None
    found = compiled.search(sprint_v(value))
    if found is None or group > compiled.groups:
        raise RenderError(f"string Regexp: regexp {pattern!r} had no matches for group {group}")
    return found.group(group) or ""  # Go returns "" for a group that did not take part


def _string_transform(spec: Mapping[str, Any], value: Any) -> Any:
    kind = spec.get("type") or "Format"
    if kind == "Format":
        return sprintf(spec["fmt"], [value])
    if kind == "Regexp":
        return _regexp_transform(spec.get("regexp") or {}, value)
    if kind in ("TrimPrefix", "TrimSuffix"):
        text, trim = sprint_v(value), spec.get("trim", "")
        return text.removeprefix(trim) if kind == "TrimPrefix" else text.removesuffix(trim)
    if kind == "Convert":
        how = spec.get("convert")
        if how == "ToJson":
            return json_marshal(value)
        text = sprint_v(value)
        if how == "ToUpper":
            return text.upper()
        if how == "ToLower":
            return text.lower()
        if how == "ToBase64":
            return base64.b64encode(text.encode()).decode()
        if how == "FromBase64":
            try:
                return base64.b64decode(text.encode(), validate=True).decode()
            except (ValueError, UnicodeDecodeError) as err:
                raise RenderError(f"string Convert FromBase64: {err}") from None
        raise RenderError(f"unsupported string Convert {how!r}")
    raise RenderError(f"unsupported string transform {kind!r}")


def _math_transform(spec: Mapping[str, Any], value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise RenderError(f"math transform: input is required to be a number, got {go_type(value)}")
    kind = spec.get("type") or "Multiply"
    if kind == "Multiply":
        factor = spec["multiply"]
        return value * factor if isinstance(value, int) else value * float(factor)
    if kind in ("ClampMin", "ClampMax"):
        # P&T compares the int64 truncation and returns the bound (int64) or the input unchanged.
        bound, truncated = spec["clampMin" if kind == "ClampMin" else "clampMax"], int(value)
        if (kind == "ClampMin" and truncated < bound) or (kind == "ClampMax" and truncated > bound):
            return int(bound)
        return value
    raise RenderError(f"unsupported math transform {kind!r}")


_CONVERSIONS: dict[tuple[str, str], Callable[[Any], Any]] = {
    ("string", "int64"): parse_int,
    ("string", "bool"): parse_bool,
    ("string", "float64"): parse_float,
    ("int64", "string"): str,
    ("int64", "bool"): lambda v: v == 1,
    ("int64", "float64"): float,
    ("bool", "string"): lambda v: "true" if v else "false",
    ("bool", "int64"): int,
    ("bool", "float64"): float,
    ("float64", "string"): format_float_f,
    ("float64", "int64"): int,
    ("float64", "bool"): lambda v: v == 1,
}


def convert_value(value: Any, to_type: str) -> Any:
    """P&T `convert` (no `format`): the from-type is the Go type of the value; same type is the identity."""
    source = go_type(value)
    if source not in ("string", "int64", "bool", "float64"):
        raise RenderError(f"convert transform: input type {source} is not supported")
    target = "int64" if to_type == "int" else to_type
    if target == source:
        return value
    conversion = _CONVERSIONS.get((source, target))
    if conversion is None:
        raise RenderError(f"convert transform: conversion from {source} to {to_type} is not supported")
    try:
        return conversion(value)
    except (GoValueError, OverflowError, ValueError) as err:
        raise RenderError(f"convert transform: {err}") from None
