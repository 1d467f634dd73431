"""An offline function-patch-and-transform renderer: what a composite resource (XR) composes.

The audit and the tests need the exact AWS names, tags and settings each XR ends up with. Deriving them
by hand again would be a second source; rendering the Compositions' P&T input is the one source.

Scope (what aiplane's Compositions use): PatchSets, FromCompositeFieldPath, CombineFromComposite
(`string` strategy), fromFieldPath policy Optional/Required, and the map, convert, string
(Format, TrimPrefix, TrimSuffix, Convert ToJson/ToUpper/ToLower/ToBase64/FromBase64) and math
(Multiply, ClampMin, ClampMax) transforms. ToCompositeFieldPath and environment patches need observed
state and are skipped. A Required input that is missing raises RequiredFieldMissing (the resource is
not rendered at all, as it would not be composed), and anything unsupported raises RenderError rather
than being silently passed over.
"""

from __future__ import annotations

import base64
import copy
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aiplane.crossplane.composed import expand_patches
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
_GO_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_GO_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})
_GO_INT = re.compile(r"[+-]?[0-9]+")
_GO_VERB = re.compile(r"%(?:%|[-+# 0]*\d*(?:\.\d+)?[a-zA-Z])")


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


def render(xr: Mapping[str, Any], composition: Mapping[str, Any]) -> list[RenderedResource]:
    """Every P&T resource of the Composition's pipeline: a deep copy of its base with patches applied."""
    out: list[RenderedResource] = []
    for step in (composition.get("spec") or {}).get("pipeline") or []:
        fn_input = step.get("input") or {}
        if fn_input.get("apiVersion") != PT_FUNCTION_INPUT:
            continue
        patch_sets = {ps["name"]: ps.get("patches") or [] for ps in fn_input.get("patchSets") or []}
        for resource in fn_input.get("resources") or []:
            name = resource["name"]
            obj = copy.deepcopy(resource.get("base") or {})
            for patch in _expand(resource.get("patches") or [], patch_sets, name):
                _apply(patch, xr, obj, name)
            out.append(RenderedResource(name, obj))
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


def _lookup(obj: Mapping[str, Any], path: str) -> tuple[bool, Any]:
    try:
        return True, copy.deepcopy(get_path(obj, parse_field_path(path)))
    except KeyError:
        return False, None


def _apply(patch: Mapping[str, Any], xr: Mapping[str, Any], obj: dict[str, Any], resource: str) -> None:
    kind = patch.get("type") or "FromCompositeFieldPath"
    if kind in IGNORED_PATCH_TYPES:
        return
    if kind == "FromCompositeFieldPath":
        source = patch["fromFieldPath"]
        found, value = _lookup(xr, source)
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
    try:
        set_path(obj, parse_field_path(target), value)
    except ValueError as err:
        raise RenderError(f"composed resource {resource!r}: cannot set {target}: {err}") from None


def _combine(patch: Mapping[str, Any], xr: Mapping[str, Any], resource: str) -> str | None:
    """CombineFromComposite with the `string` strategy; None when an optional input is missing."""
    combine = patch.get("combine") or {}
    if combine.get("strategy") != "string":
        raise RenderError(
            f"composed resource {resource!r}: unsupported combine strategy {combine.get('strategy')!r}"
        )
    values = []
    for variable in combine.get("variables") or []:
        found, value = _lookup(xr, variable["fromFieldPath"])
        if not found:
            if _required(patch):
                raise RequiredFieldMissing(resource, variable["fromFieldPath"])
            return None
        values.append(value)
    try:
        return go_format(combine["string"]["fmt"], values)
    except RenderError as err:
        raise RenderError(f"composed resource {resource!r}: {err}") from None


# Transforms --------------------------------------------------------------------------------------------


def apply_transform(transform: Mapping[str, Any], value: Any) -> Any:
    """One P&T transform applied to `value`; RenderError when it does not apply."""
    kind = transform.get("type")
    if kind == "map":
        if not isinstance(value, str):
            raise RenderError(f"map transform needs a string input, got {_go_type(value)}")
        mapping = transform.get("map") or {}
        if value not in mapping:
            raise RenderError(f"map transform: key {value!r} is not in the map")
        return copy.deepcopy(mapping[value])
    if kind == "convert":
        return convert_value(value, (transform.get("convert") or {}).get("toType", ""))
    if kind == "string":
        return _string_transform(transform.get("string") or {}, value)
    if kind == "math":
        return _math_transform(transform.get("math") or {}, value)
    raise RenderError(f"unsupported transform type {kind!r}")


def _string_transform(spec: Mapping[str, Any], value: Any) -> Any:
    kind = spec.get("type") or "Format"
    if kind == "Format":
        return go_format(spec["fmt"], [value])
    if kind in ("TrimPrefix", "TrimSuffix"):
        if not isinstance(value, str):
            raise RenderError(f"string {kind} needs a string input, got {_go_type(value)}")
        trim = spec.get("trim", "")
        return value.removeprefix(trim) if kind == "TrimPrefix" else value.removesuffix(trim)
    if kind == "Convert":
        how = spec.get("convert")
        if how == "ToJson":
            return json.dumps(value, separators=(",", ":"), sort_keys=True)
        if not isinstance(value, str):
            raise RenderError(f"string Convert {how} needs a string input, got {_go_type(value)}")
        if how == "ToUpper":
            return value.upper()
        if how == "ToLower":
            return value.lower()
        if how == "ToBase64":
            return base64.b64encode(value.encode()).decode()
        if how == "FromBase64":
            return base64.b64decode(value.encode()).decode()
        raise RenderError(f"unsupported string Convert {how!r}")
    raise RenderError(f"unsupported string transform {kind!r}")


def _math_transform(spec: Mapping[str, Any], value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise RenderError(f"math transform needs a number, got {_go_type(value)}")
    kind = spec.get("type") or "Multiply"
    if kind == "Multiply":
        return value * spec["multiply"]
    if kind == "ClampMin":
        return max(value, spec["clampMin"])
    if kind == "ClampMax":
        return min(value, spec["clampMax"])
    raise RenderError(f"unsupported math transform {kind!r}")


def convert_value(value: Any, to_type: str) -> Any:
    """P&T `convert`: between string, int/int64, float64 and bool, as Go's strconv would."""
    if to_type == "string":
        return go_string(value)
    if to_type in ("int", "int64"):
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, (int, float)):
            return int(value)
        if isinstance(value, str) and _GO_INT.fullmatch(value):
            return int(value, 10)
        raise RenderError(f"cannot convert {_go_type(value)} {value!r} to {to_type}")
    if to_type == "float64":
        if isinstance(value, (bool, int, float)):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
        raise RenderError(f"cannot convert {_go_type(value)} {value!r} to float64")
    if to_type == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and (value in _GO_TRUE or value in _GO_FALSE):
            return value in _GO_TRUE
        raise RenderError(f"cannot convert {_go_type(value)} {value!r} to bool")
    raise RenderError(f"cannot convert {_go_type(value)} to {to_type!r}")


def go_string(value: Any) -> str:
    """How Go's fmt `%v` prints a JSON value: true/false, 2 for 2.0, [a b], map[k:v]."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e21 else repr(value)
    if value is None:
        return "<nil>"
    if isinstance(value, list):
        return "[" + " ".join(go_string(v) for v in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_string(value[k])}" for k in sorted(value)) + "]"
    return str(value)


def go_format(fmt: str, args: Sequence[Any]) -> str:
    """Go's fmt.Sprintf for the verbs compositions use (%s, %v, %d, %%); a count mismatch is an error."""
    out: list[str] = []
    pos = 0
    index = 0
    for match in _GO_VERB.finditer(fmt):
        out.append(fmt[pos : match.start()])
        pos = match.end()
        verb = match.group()
        if verb == "%%":
            out.append("%")
            continue
        if index >= len(args):
            raise RenderError(f"format {fmt!r} has more verbs than the {len(args)} input(s)")
        arg = args[index]
        index += 1
        if verb[-1] == "v" or (verb[-1] == "s" and isinstance(arg, str)):
            out.append(go_string(arg))
        elif verb[-1] == "d" and isinstance(arg, int) and not isinstance(arg, bool):
            out.append(str(arg))
        else:
            raise RenderError(f"format verb {verb} does not apply to {_go_type(arg)} {arg!r}")
    out.append(fmt[pos:])
    if index != len(args):
        raise RenderError(f"format {fmt!r} uses {index} of {len(args)} input(s)")
    return "".join(out)


def _go_type(value: Any) -> str:
    for py, name in (
        (bool, "bool"),
        (int, "int64"),
        (float, "float64"),
        (str, "string"),
        (list, "array"),
        (dict, "object"),
    ):
        if isinstance(value, py):
            return name
    return "null"
