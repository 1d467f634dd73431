"""The JSON Schema (draft 2020-12) of environments/<env>.yaml, for editors (yaml-language-server) and CI.

Built from the very models the loader validates with (aiplane.synthesis.environment): EnvironmentSettings for
the environment-level fields and, per platform API, its spec model for the items under its `environment_key`.
An item may leave out what the environment fills (region, providerConfigRef, finops cost center and owner,
and each API's `optional_in_environment`), so those are not required here; everything else (types, enums,
patterns, bounds, defaults, descriptions, unknown fields) is the model's own.

What the loader refuses beyond this schema (cross-field and cross-file rules) is listed in docs/authoring.md.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel

from aiplane.authoring.api import NAME_PATTERN, PlatformAPI
from aiplane.authoring.xrd import json_schema_inlined
from aiplane.errors import InputError
from aiplane.synthesis.environment import EnvironmentSettings
from aiplane.synthesis.waivers import WAIVERS_KEY, Waiver

DRAFT = "https://json-schema.org/draft/2020-12/schema"
# Where synth writes it, relative to the project root; environment files name it in their header.
SCHEMA_PATH = "schemas/environment.schema.json"
# What the environment fills in every item (synthesis.environment._complete), beside each API's own.
FILLED_IN_EVERY_ITEM = ("region", "providerConfigRef", "finops.costCenter", "finops.owner")


def _without_kubernetes_keys(schema: Any) -> Any:
    """`schema` (refs already inlined: a copy per use, so relaxing one item's required fields cannot leak
    into another's) with property titles and Kubernetes-only keys dropped."""
    if isinstance(schema, list):
        return [_without_kubernetes_keys(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "title" or key.startswith("x-kubernetes-"):
            continue
        if key == "properties":
            out[key] = {name: _without_kubernetes_keys(sub) for name, sub in value.items()}
        else:
            out[key] = _without_kubernetes_keys(value)
    return out


def _model_schema(model: type[BaseModel]) -> dict[str, Any]:
    result: dict[str, Any] = _without_kubernetes_keys(json_schema_inlined(model))
    return result


def _object_at(schema: dict[str, Any], path: list[str]) -> dict[str, Any] | None:
    """The object schema `path` leads to (through Optional's anyOf), or None."""
    current: dict[str, Any] | None = schema
    for part in path:
        if current is None:
            return None
        current = _object_branch(current)
        current = (current or {}).get("properties", {}).get(part)
    return _object_branch(current) if current is not None else None


def _object_branch(schema: dict[str, Any]) -> dict[str, Any] | None:
    if "properties" in schema:
        return schema
    for option in schema.get("anyOf", []):
        if isinstance(option, dict) and "properties" in option:
            return option
    return None


def _not_required(schema: dict[str, Any], paths: Iterable[str], kind: str) -> None:
    for dotted in paths:
        *parents, leaf = dotted.split(".")
        holder = _object_at(schema, parents)
        if holder is None or leaf not in holder.get("properties", {}):
            raise InputError.single(
                f"platform API {kind}", f"optional_in_environment names {dotted!r}, which its spec does not have"
            )
        required = [r for r in holder.get("required", []) if r != leaf]
        if required:
            holder["required"] = required
        else:
            holder.pop("required", None)
        _nothing_required(holder["properties"][leaf])


def _nothing_required(schema: Any) -> None:
    """What the environment merges field by field (an endpoint's thresholds) may be given in part."""
    if isinstance(schema, dict):
        schema.pop("required", None)
        for value in schema.values():
            _nothing_required(value)
    elif isinstance(schema, list):
        for value in schema:
            _nothing_required(value)


def item_schema(api: PlatformAPI) -> dict[str, Any]:
    """One item under the API's environment key: its name, then the spec's fields."""
    schema = _model_schema(api.spec)
    _not_required(schema, (*FILLED_IN_EVERY_ITEM, *api.optional_in_environment), api.kind)
    name = {
        "type": "string",
        "pattern": NAME_PATTERN,
        "maxLength": api.max_name_length,
        "description": f"Name of the {api.kind} XR (a Kubernetes name; at most {api.max_name_length}: "
        f"{api.name_limit}).",
    }
    waivers = {
        "type": "array",
        "description": "Accepted exceptions to guardrails on this item (docs/guardrails.md#waivers); not part of "
        "its spec: they travel on the XR as an annotation.",
        "items": _model_schema(Waiver),
    }
    return {
        "type": "object",
        "description": api.description,
        "properties": {"name": name, **schema.get("properties", {}), WAIVERS_KEY: waivers},
        "required": ["name", *schema.get("required", [])],
        "additionalProperties": False,
    }


def environment_schema(apis: Mapping[str, PlatformAPI]) -> dict[str, Any]:
    """The whole environment file: settings, then one list of items per platform API (by kind)."""
    settings = _model_schema(EnvironmentSettings)
    properties = dict(settings.get("properties", {}))
    for kind in sorted(apis):
        api = apis[kind]
        items: dict[str, Any] = {
            "type": "array",
            "description": f"{api.kind} XRs of this environment.",
            "items": item_schema(api),
        }
        if api.derive_auto is not None:
            items = {
                "description": f"{api.kind} XRs: a list, or `auto` to derive them from the other items.",
                "anyOf": [items, {"const": "auto"}],
            }
        properties[api.environment_key] = items
    return {
        "$schema": DRAFT,
        "title": "aiplane environment file (environments/<env>.yaml)",
        "description": "Generated by `aiplane synth` from the pydantic models of the environment and of the "
        "platform APIs; do not edit. `aiplane synth` and `aiplane check` refuse more than this schema can "
        "express (cross-field rules): see docs/authoring.md.",
        "type": "object",
        "properties": properties,
        "required": settings.get("required", []),
        "additionalProperties": False,
    }


def render(apis: Mapping[str, PlatformAPI]) -> str:
    """The schema file's text: stable (models and kinds in a fixed order), two-space JSON, final newline."""
    return json.dumps(copy.deepcopy(environment_schema(apis)), indent=2, ensure_ascii=False) + "\n"
