"""pydantic spec model → Crossplane v2 CompositeResourceDefinition.

The model is the single source of the XR schema: pydantic's JSON Schema is flattened into the
structural OpenAPI v3 subset Kubernetes accepts ($ref inlined, Optional unwrapped, numeric exclusive
bounds in OpenAPI 3.0 form, no `additionalProperties: false` beside `properties`, no titles).
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from aiplane.authoring.api import PlatformAPI
from aiplane.project import MANAGED_BY, PRUNE_DISABLED, Settings

XRD_API_VERSION = "apiextensions.crossplane.io/v2"

# Keys pydantic emits that have no place (or another meaning) in a Kubernetes structural schema.
_DROPPED_KEYS = {"title", "$defs", "discriminator"}


def inline_refs(schema: Any, defs: Mapping[str, Any]) -> Any:
    """A pydantic JSON schema with every `$ref` replaced by a copy of its definition (keys beside the `$ref`
    win) and `$defs` dropped, recursively: what both the XRD schema and the environment files' JSON Schema
    start from (a copy per use, so changing one place cannot leak into another)."""
    if isinstance(schema, list):
        return [inline_refs(item, defs) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if "$ref" in schema:
        target = defs[schema["$ref"].rsplit("/", 1)[-1]]
        return inline_refs({**target, **{k: v for k, v in schema.items() if k != "$ref"}}, defs)
    return {key: inline_refs(value, defs) for key, value in schema.items() if key != "$defs"}


def _inline(schema: Any) -> Any:
    """Unwrap `anyOf: [X, null]` and convert bounds, recursively (on a schema without $ref)."""
    if isinstance(schema, list):
        return [_inline(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if "anyOf" in schema:
        options = [o for o in schema["anyOf"] if o.get("type") != "null"]
        if len(options) == 1:
            rest = {k: v for k, v in schema.items() if k != "anyOf"}
            if rest.get("default", "absent") is None:
                del rest["default"]
            return _inline({**options[0], **rest})
        raise ValueError(f"cannot express a union of {len(options)} types in a structural schema: {schema}")
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _DROPPED_KEYS:
            continue
        if key == "additionalProperties" and value is False:
            continue  # structural schemas forbid it beside `properties`; unknown fields are pruned
        if key in ("exclusiveMinimum", "exclusiveMaximum") and not isinstance(value, bool):
            out["minimum" if key == "exclusiveMinimum" else "maximum"] = value
            out[key] = True
            continue
        if key == "const":
            out["enum"] = [value]
            continue
        if key == "properties":
            out[key] = {name: _inline(sub) for name, sub in value.items()}
            continue
        out[key] = _inline(value)
    if "enum" in out and "type" not in out:
        first = out["enum"][0]
        out["type"] = (
            "boolean" if isinstance(first, bool) else "integer" if isinstance(first, int) else "string"
        )
    return out


def openapi_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The structural OpenAPI v3 schema of a pydantic model (by alias, validation mode)."""
    result: dict[str, Any] = _inline(json_schema_inlined(model))
    return result


def json_schema_inlined(model: type[BaseModel]) -> dict[str, Any]:
    """pydantic's JSON Schema of the model (by alias, validation mode) with every `$ref` inlined; the
    caller's own copy."""
    return copy.deepcopy(_json_schema_inlined(model))


@functools.cache
def _json_schema_inlined(model: type[BaseModel]) -> dict[str, Any]:
    # Once per model and process: the XRDs, the forcenew-safe rule and the environment schema all ask, and
    # pydantic's JSON Schema generation was a tenth of `aiplane check` and of `synth --check`.
    raw = model.model_json_schema(by_alias=True, mode="validation")
    inlined: dict[str, Any] = inline_refs(raw, raw.get("$defs", {}))
    return inlined


def xrd_name(api: PlatformAPI, settings: Settings) -> str:
    return f"{api.plural}.{settings.group}"


def xr_api_version(settings: Settings, api: PlatformAPI) -> str:
    return f"{settings.group}/{api.version}"


def build_xrd(api: PlatformAPI, settings: Settings, default_composition: str | None = None) -> dict[str, Any]:
    """The XRD of one platform API: Namespaced, one served + referenceable version."""
    root: dict[str, Any] = {
        "type": "object",
        "description": api.description,
        "properties": {"spec": openapi_schema(api.spec)},
        "required": ["spec"],
    }
    if api.status is not None:
        root["properties"]["status"] = openapi_schema(api.status)
    version: dict[str, Any] = {
        "name": api.version,
        "served": True,
        "referenceable": True,
        "schema": {"openAPIV3Schema": root},
    }
    if api.printer_columns:
        version["additionalPrinterColumns"] = [
            {
                "name": c.name,
                "type": c.type,
                "jsonPath": c.json_path.replace("{domain}", settings.domain.replace(".", "\\.")),
                **({"description": c.description} if c.description else {}),
            }
            for c in api.printer_columns
        ]
    spec: dict[str, Any] = {
        "scope": "Namespaced",
        "group": settings.group,
        "names": {"kind": api.kind, "plural": api.plural, "categories": list(api.categories)},
    }
    if default_composition:
        spec["defaultCompositionRef"] = {"name": default_composition}
    spec["versions"] = [version]
    return {
        "apiVersion": XRD_API_VERSION,
        "kind": "CompositeResourceDefinition",
        "metadata": {
            "name": xrd_name(api, settings),
            "labels": dict(MANAGED_BY),
            "annotations": dict(PRUNE_DISABLED),
        },
        "spec": spec,
    }
