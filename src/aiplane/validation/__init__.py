"""Validation of Kubernetes objects against the real schemas: CRD/XRD/built-in structural schemas with
Kubernetes semantics, CEL `x-kubernetes-validations` rules, and the Crossplane checks (Composition pipelines,
patch paths against the XRD and managed-resource schemas, XRD rules), with Crossplane's field-path syntax
(fieldpath). It judges any object, however it was made, so it knows nothing of how aiplane synthesizes;
what most callers need is re-exported here. May import: `aiplane`, `aiplane.errors`, `aiplane.yamlio`."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aiplane.validation.checker import apply_defaults, validate_object
    from aiplane.validation.documents import validate_documents
    from aiplane.validation.findings import Finding, Location, Severity
    from aiplane.validation.kinds import KindSchema
    from aiplane.validation.registry import SchemaRegistry
    from aiplane.validation.report import ValidationReport

# Re-exported on first use: importing a light submodule (e.g. pathfmt, which the environment loader uses)
# must not load the schema engines (jsonschema-rs, CEL) that `aiplane cost` never needs.
_EXPORTS = {
    "apply_defaults": "checker",
    "validate_object": "checker",
    "validate_documents": "documents",
    "Finding": "findings",
    "Location": "findings",
    "Severity": "findings",
    "KindSchema": "kinds",
    "SchemaRegistry": "registry",
    "ValidationReport": "report",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "Finding",
    "KindSchema",
    "Location",
    "SchemaRegistry",
    "Severity",
    "ValidationReport",
    "apply_defaults",
    "validate_documents",
    "validate_object",
]
