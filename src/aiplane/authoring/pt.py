"""Typed helpers for function-patch-and-transform input, so a composition module reads like the
infrastructure it describes. Every helper returns the plain dict P&T expects
(pt.fn.crossplane.io/v1beta1 Resources; reference crossplane.md §5).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from aiplane.function.model import FUNCTION_NAME as FUNCTION_AIPLANE

PT_INPUT_API_VERSION = "pt.fn.crossplane.io/v1beta1"
FUNCTION_PATCH_AND_TRANSFORM = "crossplane-contrib-function-patch-and-transform"
FUNCTION_AUTO_READY = "crossplane-contrib-function-auto-ready"

# managementPolicies that orphan on delete (no `Delete`): for what must outlive its XR or a Flux prune
# (granted quotas, buckets and the keys that decrypt them).
KEEP_ON_DELETE = ("Observe", "Create", "Update", "LateInitialize")

ConvertType = Literal["string", "int", "int64", "bool", "float64", "object", "array"]
Patch = dict[str, Any]
Transform = dict[str, Any]


# Transforms ---------------------------------------------------------------------------------------


def map_values(mapping: Mapping[str, Any]) -> Transform:
    """Replace a string input by its value in `mapping` (P&T `map`)."""
    return {"type": "map", "map": dict(mapping)}


def convert(to_type: ConvertType) -> Transform:
    return {"type": "convert", "convert": {"toType": to_type}}


def string_format(fmt: str) -> Transform:
    """Format the input into `fmt` (Go fmt verbs, e.g. `%s-monitor`)."""
    return {"type": "string", "string": {"type": "Format", "fmt": fmt}}


def regexp(match: str, group: int = 0) -> Transform:
    """The `group`th submatch of `match` in the input (P&T string Regexp; Go RE2 syntax)."""
    return {"type": "string", "string": {"type": "Regexp", "regexp": {"match": match, "group": group}}}


def trim_prefix(prefix: str) -> Transform:
    return {"type": "string", "string": {"type": "TrimPrefix", "trim": prefix}}


def to_json() -> Transform:
    """Serialize the input (a list or object) as a JSON string."""
    return {"type": "string", "string": {"type": "Convert", "convert": "ToJson"}}


def multiply(factor: int | float) -> Transform:
    return {"type": "math", "math": {"type": "Multiply", "multiply": factor}}


# Patches ------------------------------------------------------------------------------------------


def _with(patch: Patch, transforms: Sequence[Transform], required: bool) -> Patch:
    if transforms:
        patch["transforms"] = list(transforms)
    if required:
        patch["policy"] = {"fromFieldPath": "Required"}
    return patch


def from_xr(from_path: str, to_path: str, *transforms: Transform, required: bool = False) -> Patch:
    """Copy an XR field into the composed resource."""
    return _with(
        {"type": "FromCompositeFieldPath", "fromFieldPath": from_path, "toFieldPath": to_path},
        transforms,
        required,
    )


def to_xr(from_path: str, to_path: str, *transforms: Transform) -> Patch:
    """Copy an observed field of the composed resource back into the XR (usually its status)."""
    return _with(
        {"type": "ToCompositeFieldPath", "fromFieldPath": from_path, "toFieldPath": to_path},
        transforms,
        False,
    )


def combine_from_xr(
    fmt: str, from_paths: Iterable[str], to_path: str, *transforms: Transform, required: bool = True
) -> Patch:
    """Format several XR fields into one composed field (`fmt` takes one %s / %v per path)."""
    patch: Patch = {
        "type": "CombineFromComposite",
        "combine": {
            "variables": [{"fromFieldPath": p} for p in from_paths],
            "strategy": "string",
            "string": {"fmt": fmt},
        },
        "toFieldPath": to_path,
    }
    return _with(patch, transforms, required)


def use_patch_set(name: str) -> Patch:
    return {"type": "PatchSet", "patchSetName": name}


# Resources and the Composition ---------------------------------------------------------------------


@dataclass
class ComposedResource:
    """One entry of the P&T `resources` list: a stable name, a base manifest and its patches."""

    name: str
    base: dict[str, Any]
    patches: list[Patch] = field(default_factory=list)
    readiness_checks: list[dict[str, Any]] | None = None

    def to_input(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "base": self.base}
        if self.patches:
            out["patches"] = self.patches
        if self.readiness_checks is not None:
            out["readinessChecks"] = self.readiness_checks
        return out


@dataclass
class PatchSet:
    name: str
    patches: list[Patch]

    def to_input(self) -> dict[str, Any]:
        return {"name": self.name, "patches": self.patches}


def managed_resource(
    api_version: str,
    kind: str,
    for_provider: dict[str, Any],
    *,
    init_provider: dict[str, Any] | None = None,
    management_policies: Sequence[str] | None = None,
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Base of a provider-upjet-aws v2 namespaced MR. No namespace (the XR's is used), no
    deletionPolicy (v2 MRs use managementPolicies), providerConfigRef patched from the XR."""
    metadata: dict[str, Any] = {}
    if labels:
        metadata["labels"] = dict(labels)
    if annotations:
        metadata["annotations"] = dict(annotations)
    spec: dict[str, Any] = {"forProvider": for_provider}
    if init_provider:
        spec["initProvider"] = init_provider
    if management_policies is not None:
        spec["managementPolicies"] = list(management_policies)
    base: dict[str, Any] = {"apiVersion": api_version, "kind": kind}
    if metadata:
        base["metadata"] = metadata
    base["spec"] = spec
    return base


def pipeline_composition(
    name: str,
    composite_api_version: str,
    composite_kind: str,
    resources: Sequence[ComposedResource],
    patch_sets: Sequence[PatchSet],
    labels: Mapping[str, str],
) -> dict[str, Any]:
    """A Pipeline Composition: function-patch-and-transform composes every resource the API can need,
    function-aiplane lets the XR's spec decide which exist and how (aiplane.function), function-auto-ready
    last."""
    return {
        "apiVersion": "apiextensions.crossplane.io/v1",
        "kind": "Composition",
        "metadata": {"name": name, "labels": dict(labels)},
        "spec": {
            "compositeTypeRef": {"apiVersion": composite_api_version, "kind": composite_kind},
            "mode": "Pipeline",
            "pipeline": [
                {
                    "step": "patch-and-transform",
                    "functionRef": {"name": FUNCTION_PATCH_AND_TRANSFORM},
                    "input": {
                        "apiVersion": PT_INPUT_API_VERSION,
                        "kind": "Resources",
                        "patchSets": [p.to_input() for p in patch_sets],
                        "resources": [r.to_input() for r in resources],
                    },
                },
                {"step": "spec-decides", "functionRef": {"name": FUNCTION_AIPLANE}},
                {"step": "auto-ready", "functionRef": {"name": FUNCTION_AUTO_READY}},
            ],
        },
    }
