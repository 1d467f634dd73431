"""Static checks of one function-patch-and-transform patch: paths resolve, transforms fit the types.

A patch reads a field of one object (the XR, a composed resource or the environment), passes it
through its transforms and writes it into another. We resolve both paths in the schemas we know,
follow the value's JSON type through the transform chain as P&T v0.10 evaluates it, and report a
value that cannot land in its target field (a string patched into an integer without `convert`).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aiplane.validation.fieldpath import WILDCARD, Segment, parse_field_path, resolve_schema
from aiplane.validation.findings import Severity
from aiplane.validation.jsontypes import json_type

COMPOSITE = "composite"
COMPOSED = "composed"
ENVIRONMENT = "environment"

# Which side a patch type reads from and writes to.
PATCH_SIDES: dict[str, tuple[str, str]] = {
    "FromCompositeFieldPath": (COMPOSITE, COMPOSED),
    "ToCompositeFieldPath": (COMPOSED, COMPOSITE),
    "CombineFromComposite": (COMPOSITE, COMPOSED),
    "CombineToComposite": (COMPOSED, COMPOSITE),
    "FromEnvironmentFieldPath": (ENVIRONMENT, COMPOSED),
    "ToEnvironmentFieldPath": (COMPOSED, ENVIRONMENT),
    "CombineFromEnvironment": (ENVIRONMENT, COMPOSED),
    "CombineToEnvironment": (COMPOSED, ENVIRONMENT),
}
PATCH_SET = "PatchSet"
PATCH_TYPES = (*PATCH_SIDES, PATCH_SET)
DEFAULT_PATCH_TYPE = "FromCompositeFieldPath"

# JSON types as openAPI names them; None means "not known statically".
JsonType = str | None
_CONVERT_FIRST = "add a convert transform (toType: {}) first"

# convert transform: toType -> JSON type, and the (from, to, format) pairs P&T can convert.
_CONVERT_TO = {
    "string": "string",
    "int": "integer",
    "int64": "integer",
    "bool": "boolean",
    "float64": "number",
    "object": "object",
    "array": "array",
}
_CONVERSIONS = {
    ("string", "integer", "none"),
    ("string", "boolean", "none"),
    ("string", "number", "none"),
    ("string", "number", "quantity"),
    ("string", "object", "json"),
    ("string", "array", "json"),
    ("integer", "string", "none"),
    ("integer", "boolean", "none"),
    ("integer", "number", "none"),
    ("number", "string", "none"),
    ("number", "integer", "none"),
    ("number", "boolean", "none"),
    ("boolean", "string", "none"),
    ("boolean", "integer", "none"),
    ("boolean", "number", "none"),
}
_CONVERT_HINT = {
    "integer": "int64",
    "number": "float64",
    "string": "string",
    "boolean": "bool",
    "object": "object",
    "array": "array",
}
# String transforms that read their input as text: given a number they silently format it with %v.
_TEXTUAL_STRING_CONVERTS = ("ToUpper", "ToLower", "ToBase64", "FromBase64")


@dataclass(frozen=True)
class Side:
    """One end of a patch: a label for messages and the schema to resolve paths in (None: unchecked)."""

    label: str
    schema: Mapping[str, Any] | None


@dataclass(frozen=True)
class Issue:
    """A problem with a patch; `field` is relative to the patch (`toFieldPath`, `transforms[1]`)."""

    severity: Severity
    message: str
    field: str = ""
    side: str = ""


Outcome = tuple[JsonType, list[Issue]]


def _mapping(value: Any) -> Mapping[str, Any]:
    """The value if it is a mapping, else an empty one: malformed parts are the schema check's business."""
    return value if isinstance(value, Mapping) else {}


def json_type_of_schema(schema: Mapping[str, Any] | None) -> JsonType:
    """The JSON type a schema node demands, or None when it accepts several (int-or-string, untyped)."""
    if schema is None or schema.get("x-kubernetes-int-or-string") is True:
        return None
    typ = schema.get("type")
    return typ if isinstance(typ, str) else None


def json_type_of_value(value: Any) -> JsonType:
    """The JSON type of a literal in a transform (map values, match results); None when unknown."""
    found = json_type(value)
    return None if found == "null" else found


def _common_type(types: Sequence[JsonType]) -> JsonType:
    known = {t for t in types if t is not None}
    if known == {"integer", "number"}:
        return "number"
    return known.pop() if len(known) == 1 and None not in types else None


def _article(typ: str) -> str:
    return f"an {typ}" if typ[0] in "aeiou" else f"a {typ}"


def _transform_output(transform: Mapping[str, Any], in_type: JsonType, field: str) -> Outcome:
    """The type a transform produces from `in_type`, and what cannot work (as P&T v0.10 resolves it)."""
    kind = transform.get("type")
    issues: list[Issue] = []
    if kind == "map":
        if in_type not in (None, "string"):
            issues.append(
                Issue(
                    Severity.ERROR,
                    f"a map transform needs a string input, got "
                    f"{_article(in_type)}; {_CONVERT_FIRST.format('string')}",
                    field,
                )
            )
        pairs = transform.get("map")
        values = list(pairs.values()) if isinstance(pairs, Mapping) else []
        return _common_type([json_type_of_value(v) for v in values]) if values else None, issues
    if kind == "match":
        match = _mapping(transform.get("match"))
        patterns = [p for p in match.get("patterns") or [] if isinstance(p, Mapping)]
        if patterns and in_type not in (None, "string"):
            issues.append(
                Issue(
                    Severity.ERROR,
                    f"a match transform compares strings, got "
                    f"{_article(in_type)}; {_CONVERT_FIRST.format('string')}",
                    field,
                )
            )
        results: list[JsonType] = [json_type_of_value(p.get("result")) for p in patterns]
        if match.get("fallbackTo") == "Input":
            results.append(in_type)
        elif "fallbackValue" in match:
            results.append(json_type_of_value(match["fallbackValue"]))
        return (_common_type(results) if results else None), issues
    if kind == "math":
        if in_type not in (None, "integer", "number"):
            issues.append(
                Issue(
                    Severity.ERROR,
                    f"a math transform needs a number, got {_article(in_type)}; "
                    f"{_CONVERT_FIRST.format('int64 or float64')}",
                    field,
                )
            )
            return None, issues
        return in_type, issues
    if kind == "string":
        return "string", _string_transform_issues(transform, in_type, field)
    if kind == "convert":
        return _convert_output(transform, in_type, field)
    return None, issues  # unknown types are reported by the input's schema validation


def _string_transform_issues(transform: Mapping[str, Any], in_type: JsonType, field: str) -> list[Issue]:
    if in_type in (None, "string"):
        return []
    spec = _mapping(transform.get("string"))
    kind = spec.get("type", "Format")
    textual = kind in ("TrimPrefix", "TrimSuffix", "Regexp") or (
        kind == "Convert" and spec.get("convert") in _TEXTUAL_STRING_CONVERTS
    )
    if not textual:
        return []  # Format and hashing/JSON conversions are meant for any input
    return [
        Issue(
            Severity.WARNING,
            f"string transform {kind} on {_article(in_type)} input: P&T formats the "
            "value with %v first; add a convert transform (toType: string) to make that explicit",
            field,
        )
    ]


def _convert_output(transform: Mapping[str, Any], in_type: JsonType, field: str) -> Outcome:
    spec = _mapping(transform.get("convert"))
    out = _CONVERT_TO.get(str(spec.get("toType")))
    if out is None:
        return None, []  # missing or unknown toType: the input's schema validation reports it
    fmt = str(spec.get("format") or "none")
    if in_type is not None and in_type != out and (in_type, out, fmt) not in _CONVERSIONS:
        return out, [
            Issue(
                Severity.ERROR,
                f"P&T cannot convert {_article(in_type)} to {spec.get('toType')} with format {fmt}",
                field,
            )
        ]
    return out, []


def transform_chain(transforms: Any, in_type: JsonType, prefix: str = "transforms") -> Outcome:
    """Follow a value's type through a list of transforms: the output type and any mismatches."""
    issues: list[Issue] = []
    typ = in_type
    if not isinstance(transforms, list):
        return typ, issues
    for i, transform in enumerate(transforms):
        if not isinstance(transform, Mapping):
            return None, issues
        typ, found = _transform_output(transform, typ, f"{prefix}[{i}]")
        issues.extend(found)
    return typ, issues


def _assignability(value_type: JsonType, target_type: JsonType) -> tuple[Severity, str] | None:
    if value_type is None or target_type is None or value_type == target_type:
        return None
    if (value_type, target_type) == ("integer", "number"):
        return None
    hint = f"add a convert transform (toType: {_CONVERT_HINT.get(target_type, target_type)})"
    if (value_type, target_type) == ("number", "integer"):
        return Severity.WARNING, f"a number may not be whole; {hint}"
    return Severity.ERROR, hint


def _parse(path: Any, field: str) -> tuple[list[Segment] | None, list[Issue]]:
    if not isinstance(path, str) or not path:
        return None, [Issue(Severity.ERROR, f"{field} must be a non-empty string", field)]
    try:
        return parse_field_path(path), []
    except ValueError as err:
        return None, [Issue(Severity.ERROR, f"{field} is not a valid field path: {err}", field)]


def _resolve(path: Any, field: str, side: str, target: Side) -> tuple[JsonType, bool, list[Issue]]:
    """Parse and resolve one path: (type at the path, path usable, issues)."""
    segments, issues = _parse(path, field)
    if segments is None:
        return None, False, issues
    if target.schema is None:
        return None, True, issues
    node = resolve_schema(target.schema, segments)
    if node is None:
        return (
            None,
            False,
            [Issue(Severity.ERROR, f"{field} {path!r} does not exist in {target.label}", field, side)],
        )
    return json_type_of_schema(node), True, issues


def unknown_type_issue(patch_type: Any) -> Issue:
    """A patch type P&T does not know, with the nearest valid spelling."""
    close = difflib.get_close_matches(str(patch_type), PATCH_TYPES, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return Issue(
        Severity.ERROR, f"unknown patch type {patch_type!r}{hint}; valid: {', '.join(PATCH_TYPES)}", "type"
    )


def target_path(patch: Mapping[str, Any]) -> Any:
    """The path a patch writes: field-path patches default `toFieldPath` to their `fromFieldPath`."""
    patch_type = patch.get("type", DEFAULT_PATCH_TYPE)
    if patch.get("toFieldPath") is None and not str(patch_type).startswith("Combine"):
        return patch.get("fromFieldPath")
    return patch.get("toFieldPath")


def check_patch(patch: Mapping[str, Any], sides: Mapping[str, Side]) -> list[Issue]:
    """Everything statically wrong with one (non-PatchSet) patch, given the schemas of its sides."""
    patch_type = patch.get("type", DEFAULT_PATCH_TYPE)
    if patch_type == PATCH_SET:
        return []
    if not isinstance(patch_type, str) or patch_type not in PATCH_SIDES:
        return [unknown_type_issue(patch_type)]
    from_side, to_side = PATCH_SIDES[str(patch_type)]
    source, target = sides[from_side], sides[to_side]
    issues: list[Issue] = []
    if str(patch_type).startswith("Combine"):
        value_type = _combine_type(patch, from_side, source, issues)
    else:
        value_type, _, found = _resolve(patch.get("fromFieldPath"), "fromFieldPath", from_side, source)
        issues.extend(found)
    value_type, found = transform_chain(patch.get("transforms"), value_type)
    issues.extend(found)
    to_path = target_path(patch)
    if to_path is None:
        issues.append(Issue(Severity.ERROR, f"a {patch_type} patch needs toFieldPath", "toFieldPath"))
        return issues
    to_type, usable, found = _resolve(to_path, "toFieldPath", to_side, target)
    issues.extend(found)
    policy = _mapping(patch.get("policy"))
    # Merge and append policies combine the value with what is there; only Replace writes it as is.
    if usable and policy.get("toFieldPath", "Replace") == "Replace":
        verdict = _assignability(value_type, to_type)
        if verdict is not None and to_type is not None and value_type is not None:
            severity, hint = verdict
            issues.append(
                Issue(
                    severity,
                    f"patch writes {_article(value_type)} into {to_path!r}, which is "
                    f"{_article(to_type)} in {target.label}; {hint}",
                    "toFieldPath",
                    to_side,
                )
            )
    return issues


def _combine_type(patch: Mapping[str, Any], from_side: str, source: Side, issues: list[Issue]) -> JsonType:
    combine = patch.get("combine")
    if not isinstance(combine, Mapping):
        issues.append(Issue(Severity.ERROR, f"a {patch.get('type')} patch needs combine", "combine"))
        return None
    variables = combine.get("variables")
    for k, variable in enumerate(variables if isinstance(variables, list) else []):
        if isinstance(variable, Mapping):
            field = f"combine.variables[{k}].fromFieldPath"
            issues.extend(_resolve(variable.get("fromFieldPath"), field, from_side, source)[2])
    # The only strategy, `string`, formats the variables with fmt: the result is a string.
    return "string" if combine.get("strategy") == "string" else None


def writes_composed(patch: Mapping[str, Any]) -> list[Segment] | None:
    """The composed-resource path a patch writes (None when it writes elsewhere, a wildcard or bad syntax)."""
    patch_type = patch.get("type", DEFAULT_PATCH_TYPE)
    if PATCH_SIDES.get(str(patch_type), ("", ""))[1] != COMPOSED:
        return None
    path = target_path(patch)
    if not isinstance(path, str):
        return None
    try:
        segments = parse_field_path(path)
    except ValueError:
        return None
    return None if WILDCARD in segments else segments


def placeholder(schema: Mapping[str, Any] | None) -> Any:
    """A value of the shape a schema wants: what a patch will write there at runtime, for validating a base.

    Objects get their required properties (recursively), arrays one item, enums their first value, and
    numbers and strings are moved inside their bounds. Findings on the placeholder itself are not
    meaningful and are dropped by the caller; this only has to look right to rules *around* it.
    """
    if not schema:
        return "placeholder"
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    if "default" in schema:
        return schema["default"]
    typ = schema.get("type")
    if schema.get("x-kubernetes-int-or-string") is True or typ == "integer":
        return _bounded(schema, 1, int)
    if typ == "number":
        return _bounded(schema, 1.0, float)
    if typ == "boolean":
        return True
    if typ == "array":
        return [placeholder(_mapping(schema.get("items")))]
    if typ == "object" or "properties" in schema:
        props = _mapping(schema.get("properties"))
        return {
            name: placeholder(_mapping(props.get(name)))
            for name in schema.get("required") or []
            if isinstance(name, str)
        }
    if typ == "string":
        return "x" * max(int(schema.get("minLength") or 1), 1)
    return {} if schema.get("x-kubernetes-preserve-unknown-fields") is True else "placeholder"


def _bounded(schema: Mapping[str, Any], value: Any, cast: Any) -> Any:
    low, high = schema.get("minimum"), schema.get("maximum")
    if isinstance(low, int | float) and value < low:
        value = cast(low)
    if isinstance(high, int | float) and value > high:
        value = cast(high)
    return value


def fill_placeholder(
    obj: dict[str, Any], segments: Sequence[Segment], schema: Mapping[str, Any]
) -> list[list[Segment]]:
    """Make `obj` hold a value at `segments` (as a patch would), unless it already does.

    Returns the paths that now hold placeholders (the target, and array items added to reach an
    index); nothing when the base already sets the field or something of another shape is in the way.
    """
    cur: Any = obj
    node: Mapping[str, Any] = schema
    filled: list[list[Segment]] = []
    for i, seg in enumerate(segments):
        child = resolve_schema(node, [seg]) or {}
        last = i == len(segments) - 1
        if isinstance(seg, int):
            if not isinstance(cur, list):
                return filled
            while len(cur) <= seg:
                filled.append([*segments[:i], len(cur)])
                cur.append(placeholder(child))
            if last or (filled and filled[-1] == [*segments[:i], seg]):
                return filled  # already present, or just created whole
        else:
            if not isinstance(cur, dict):
                return filled
            if cur.get(seg) is None:
                if last:
                    cur[seg] = placeholder(child)
                    return [*filled, list(segments)]
                cur[seg] = [] if isinstance(segments[i + 1], int) else {}
            elif last:
                return filled
        cur = cur[seg]
        node = child
    return filled
