"""Apply a schema's `default`s the way the API server does before validating.

Without this, MR fields such as `managementPolicies` (default `["*"]`) are absent and the provider's
CEL "required parameter" rules, which test them, never fire. The schema is walked once into a plan that
keeps only branches containing defaults; applying it copies only the dicts and lists it changes, so
the input object is never mutated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

_MISSING: Any = object()


@dataclass(frozen=True)
class DefaultPlan:
    """Where defaults live below one schema node: per property (default, nullable, child plan), per
    array element and per map value."""

    props: tuple[tuple[str, Any, bool, DefaultPlan | None], ...] = ()
    items: DefaultPlan | None = None
    values: DefaultPlan | None = None


def build_plan(node: Any) -> DefaultPlan | None:
    """The plan for a schema node, or None when nothing below it has a default."""
    if not isinstance(node, dict):
        return None
    props: list[tuple[str, Any, bool, DefaultPlan | None]] = []
    properties = node.get("properties")
    for name, sub in properties.items() if isinstance(properties, dict) else ():
        if not isinstance(sub, dict):
            continue
        child = build_plan(sub)
        default = sub.get("default", _MISSING)
        if default is not _MISSING or child is not None:
            props.append((name, default, bool(sub.get("nullable")), child))
    items = build_plan(node.get("items"))
    values = build_plan(node.get("additionalProperties"))
    if not props and items is None and values is None:
        return None
    return DefaultPlan(tuple(props), items, values)


def plan_to_json(plan: DefaultPlan | None) -> Any:
    """A plan as JSON data (the compiled form cached beside the shipped CRDs, aiplane.validation.crdcache)."""
    if plan is None:
        return None
    return {
        "props": [
            [name, nullable, plan_to_json(child), *([] if default is _MISSING else [default])]
            for name, default, nullable, child in plan.props
        ],
        "items": plan_to_json(plan.items),
        "values": plan_to_json(plan.values),
    }


def plan_from_json(data: Any) -> DefaultPlan | None:
    """The plan `plan_to_json` wrote."""
    if data is None:
        return None
    props = tuple(
        (entry[0], entry[3] if len(entry) > 3 else _MISSING, bool(entry[1]), plan_from_json(entry[2]))
        for entry in data["props"]
    )
    return DefaultPlan(props, plan_from_json(data["items"]), plan_from_json(data["values"]))


def apply_plan(plan: DefaultPlan, value: Any) -> Any:
    """`value` with defaults filled in; the same object when nothing changed (treat the result as
    read-only: defaults are shared, not copied)."""
    if isinstance(value, dict):
        return _apply_map(plan, value)
    if isinstance(value, list) and plan.items is not None:
        new_items = [apply_plan(plan.items, item) for item in value]
        if any(a is not b for a, b in zip(new_items, value, strict=True)):
            return new_items
    return value


def _apply_map(plan: DefaultPlan, value: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] | None = None
    for name, default, nullable, child in plan.props:
        current = value.get(name, _MISSING)
        # A null in a non-nullable field is treated as absent, as the API server's defaulting does.
        if default is not _MISSING and (current is _MISSING or (current is None and not nullable)):
            new = apply_plan(child, default) if child is not None else default
        elif child is not None and current is not _MISSING and current is not None:
            new = apply_plan(child, current)
            if new is current:
                continue
        else:
            continue
        if out is None:
            out = dict(value)
        out[name] = new
    if plan.values is not None:
        for key, item in value.items():
            new = apply_plan(plan.values, item)
            if new is not item:
                if out is None:
                    out = dict(value)
                out[key] = new
    return out if out is not None else value
